"""The client of the emulated QPU, speaking HTTP as to a cloud provider.

A small blocking client (stdlib ``urllib``, a timeout on every request, no
proxies: the service is on loopback) meant to be called from the status
monitor's thread. Every failure becomes a
:class:`~qmon_jupyter.providers.base.ProviderError` with a readable message.
"""

from __future__ import annotations

import json
import math
import socket
import urllib.error
import urllib.request
from http.client import HTTPException
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from .base import (
    BRAKET_STATUS,
    Capabilities,
    ProviderAuthError,
    ProviderError,
    ProviderJobNotFound,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderUnavailable,
    StatusUpdate,
    normalize_status,
    parse_queue_position,
)

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob

    from .monitor import Budget, StatusMonitor

__all__ = ["EmulatorJob", "EmulatorProvider", "ProviderStateError"]

_SNIPPET = 120


class ProviderStateError(ProviderRejectedError):
    """The provider refused an action in the job's current state (HTTP 409)."""


def _snippet(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


class EmulatorProvider:
    """Client of an :class:`~qmon_jupyter.providers.emulator.EmulatedQPU` at ``url``.

    Parameters
    ----------
    url
        The service's base URL (what ``EmulatedQPU.start()`` returns).
    token
        API token, sent as ``Authorization: Bearer ...``.
    timeout
        Seconds to wait for any one answer.
    poll_interval
        Seconds between status polls of this provider's jobs (default 1).
    monitor
        The :class:`~qmon_jupyter.providers.monitor.StatusMonitor` that tracks
        submitted jobs (default: the process-wide one).
    """

    name = "emulator"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        poll_interval: float = 1.0,
        monitor: StatusMonitor | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._monitor = monitor
        # An empty ProxyHandler: the service is on loopback, never behind the
        # environment's HTTP proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"EmulatorProvider({self.url!r})"

    @property
    def key(self) -> str:
        """The provider's identity for health and polling."""
        return f"emulator@{self.url}"

    # -- HTTP ---------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; the decoded answer, or a ProviderError naming the problem."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        where = f"{method} {self.url}{path}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)  # noqa: S310 - the URL is the user's provider
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, where) from None
        except TimeoutError:
            raise ProviderUnavailable(
                f"no answer from the provider within {self.timeout:g} s ({where})"
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise ProviderUnavailable(
                    f"no answer from the provider within {self.timeout:g} s ({where})"
                ) from None
            raise ProviderUnavailable(f"cannot reach the provider ({where}): {reason}") from None
        except (ConnectionError, HTTPException, OSError) as exc:
            raise ProviderUnavailable(
                f"the provider dropped the connection ({where}): {type(exc).__name__}: {exc}"
            ) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise ProviderResponseError(
                f"the provider answered with invalid JSON ({where}): {_snippet(raw)!r}"
            ) from None

    @staticmethod
    def _http_error(exc: urllib.error.HTTPError, where: str) -> ProviderError:
        try:
            body = exc.read()
        except OSError:
            body = b""
        finally:
            exc.close()  # the error holds the response's socket
        try:
            detail = json.loads(body).get("error") or _snippet(body)
        except (ValueError, AttributeError):
            detail = _snippet(body) or exc.reason
        code = exc.code
        if code in {401, 403}:
            return ProviderAuthError(
                f"the provider refused the credentials (HTTP {code}): {detail}"
            )
        if code == 404:
            return ProviderJobNotFound(f"not found at the provider (HTTP 404, {where}): {detail}")
        if code == 409:
            return ProviderStateError(f"the provider refused (HTTP 409): {detail}")
        if code >= 500 or code == 429:
            return ProviderUnavailable(f"the provider is failing (HTTP {code}, {where}): {detail}")
        return ProviderRejectedError(
            f"the provider rejected the request (HTTP {code}, {where}): {detail}"
        )

    # -- provider API -----------------------------------------------------
    def devices(self) -> list[dict[str, Any]]:
        """Return the provider's devices: name, num_qubits, rate_per_minute, queue_depth, ..."""
        answer = self.request("GET", "/v1/devices")
        devices = answer.get("devices") if isinstance(answer, dict) else None
        if not isinstance(devices, list):
            raise ProviderResponseError(
                f"the provider's device list makes no sense: {_snippet(str(answer))!r}"
            )
        return devices

    def create_job(
        self,
        circuit: Any,
        *,
        shots: int = 1024,
        device: str | None = None,
        seed: int | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Submit without tracking: the provider's view of the new job."""
        from qmon_jupyter.circuits.ir import Circuit, circuit_to_dict

        if not isinstance(circuit, Circuit):
            from qmon_jupyter.circuits import to_circuit  # type: ignore[attr-defined]

            circuit = to_circuit(circuit)
        body: dict[str, Any] = {"circuit": circuit_to_dict(circuit), "shots": shots, "seed": seed}
        if device is not None:
            body["device"] = device
        if name is not None:
            body["name"] = name
        view = self.request("POST", "/v1/jobs", body)
        if not isinstance(view, dict) or not isinstance(view.get("id"), str):
            raise ProviderResponseError(
                f"the provider's answer to a submission has no job id: {view!r}"
            )
        return view

    def submit(
        self,
        circuit: Any,
        shots: int = 1024,
        device: str | None = None,
        *,
        name: str | None = None,
        seed: int | None = None,
        poll_interval: float | None = None,
        budget: Budget | dict | None = None,
    ) -> ExecutionJob:
        """Submit ``circuit`` to ``device`` and return its job, already tracked.

        A submission the provider refuses (bad credentials, unknown device,
        circuit too wide, provider down) gives a job that failed with the
        provider's reason as a readable message.
        """
        monitor = self._get_monitor()
        monitor.check_open()  # before a remote job exists that nobody would follow
        try:
            view = self.create_job(circuit, shots=shots, device=device, seed=seed, name=name)
        except ProviderError as exc:
            return monitor.failed_submission(self, exc, name=name, device=device, shots=shots)
        handle = EmulatorJob(self, view["id"], device=view.get("device") or device, shots=shots)
        return monitor.track(
            handle, name=name or view.get("name"), poll_interval=poll_interval, budget=budget
        )

    def job(self, job_id: str) -> dict[str, Any]:
        """Return the provider's view of a job."""
        view = self.request("GET", f"/v1/jobs/{quote(job_id, safe='')}")
        if not isinstance(view, dict):
            raise ProviderResponseError(
                f"the provider's job answer is not an object: {_snippet(str(view))!r}"
            )
        return view

    def status(self, job_id: str) -> str:
        """Return the job's raw status string."""
        return str(self.job(job_id).get("status"))

    def queue_position(self, job_id: str) -> tuple[int | None, str | None]:
        """``(position, display)``; ``(None, None)`` once it left the queue."""
        return parse_queue_position(self.job(job_id).get("queue_position"))

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Ask the provider to cancel the job; its view afterwards."""
        return self.request("POST", f"/v1/jobs/{quote(job_id, safe='')}/cancel")

    def result(self, job_id: str) -> dict[str, Any]:
        """Return ``{"counts", "shots", "seed", ...}`` of a completed job."""
        answer = self.request("GET", f"/v1/jobs/{quote(job_id, safe='')}/result")
        if not isinstance(answer, dict) or not isinstance(answer.get("counts"), dict):
            raise ProviderResponseError(
                f"the provider's result has no counts: {_snippet(str(answer))!r}"
            )
        return answer

    def _get_monitor(self) -> StatusMonitor:
        if self._monitor is None:
            from .monitor import get_monitor

            self._monitor = get_monitor()
        return self._monitor


class EmulatorJob:
    """One emulated-QPU job, as the status monitor follows it (a provider adapter)."""

    provider_name = "emulator"
    capabilities = Capabilities(cancel=True, pause=False, queue_position=True, eta=True, cost=True)

    def __init__(
        self, provider: EmulatorProvider, job_id: str, *, device: str | None, shots: int
    ) -> None:
        self.provider = provider
        self._job_id = job_id
        self._device = device
        self.shots = shots
        self.provider_key = provider.key
        self.default_poll_interval = provider.poll_interval

    def __repr__(self) -> str:
        return f"EmulatorJob({self._job_id!r}, device={self._device!r})"

    @property
    def job_id(self) -> str:
        """The provider's id of the job."""
        return self._job_id

    @property
    def device(self) -> str | None:
        """The device the job was submitted to."""
        return self._device

    def locator(self) -> dict[str, Any]:
        """Where to find the job again (``qmon.reattach()``): the service's URL, never its token."""
        parts = urlsplit(self.provider.url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        return {
            "kind": "emulator",
            "url": url,
            "job_id": self._job_id,
            "device": self._device,
            "shots": self.shots,
        }

    def poll(self) -> StatusUpdate:
        """Ask the provider where the job is; nonsense raises ProviderResponseError."""
        view = self.provider.job(self._job_id)
        raw = view.get("status")
        if not isinstance(raw, str):
            raise ProviderResponseError(
                f"the provider's job answer has no status: {_snippet(str(view))!r}"
            )
        status = normalize_status(raw, BRAKET_STATUS)
        position, shown = parse_queue_position(view.get("queue_position"))
        wait = view.get("estimated_wait_s")
        if wait is not None and (
            isinstance(wait, bool)
            or not isinstance(wait, int | float)
            or not math.isfinite(wait)
            or wait < 0
        ):
            raise ProviderResponseError(
                f"the provider reported an impossible wait estimate {wait!r}"
            )
        cost = view.get("cost") if isinstance(view.get("cost"), dict) else None
        self._device = view.get("device") or self._device
        return StatusUpdate(
            raw_status=raw,
            status=status,
            queue_position=position,
            queue_position_display=shown,
            provider_eta_s=None if wait is None else float(wait),
            cost=cost,
            device=self._device,
        )

    def cancel(self) -> str | None:
        """Cancel on the provider; its status after (a job that already ended raises)."""
        status = self.provider.cancel(self._job_id).get("status")
        return status if isinstance(status, str) else None

    def counts(self) -> tuple[dict[str, int], int]:
        """Return the counts and shots of the completed job."""
        answer = self.provider.result(self._job_id)
        counts = {str(k): int(v) for k, v in answer["counts"].items()}
        return counts, int(answer.get("shots") or sum(counts.values()))

    def error_message(self) -> str | None:
        """Return the device's failure reason."""
        reason = self.provider.job(self._job_id).get("failure_reason")
        return None if reason is None else str(reason)
