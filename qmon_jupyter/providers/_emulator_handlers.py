"""HTTP handlers of the emulated QPU (see :mod:`qmon_jupyter.providers.emulator`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

import tornado.web

from ._qpu import CANCELLING, COMPLETED, FAILED, TERMINAL

if TYPE_CHECKING:
    from collections.abc import Callable

    from qmon_jupyter.circuits.ir import Circuit

    from ._qpu import EmulatedJob
    from .emulator import EmulatedQPU

_MAX_SHOTS = 1_000_000


class _Refused(Exception):  # noqa: N818 - an internal signal, not an error type
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


class _QPUHandler(tornado.web.RequestHandler):
    #: Route kind, for the request counters.
    kind = "?"

    @property
    def qpu(self) -> EmulatedQPU:
        return self.application.settings["qpu"]

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")

    def reply(self, status: int, payload: Any) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload))

    def refuse(self, status: int, message: str) -> None:
        self.reply(status, {"error": message, "status": status})

    def write_error(self, status_code: int, **_kwargs: Any) -> None:
        self.finish(json.dumps({"error": self._reason, "status": status_code}))

    def on_finish(self) -> None:
        with self.qpu._stats_lock:
            self.qpu._request_log.append(
                (time.monotonic(), self.request.method or "", self.request.path, self.get_status())
            )

    def _drop(self) -> None:
        with self.qpu._stats_lock:
            self.qpu._request_log.append(
                (time.monotonic(), self.request.method or "", self.request.path, 0)
            )
        self.request.connection.detach().close()
        self._finished = True  # nothing more may be written: the client sees a dropped connection

    def _take_fault(self) -> tuple[str | None, float]:
        """Consume the fault this request suffers: ``(action, delay)``."""
        faults = self.qpu._faults
        action = None
        if time.monotonic() < faults.outage_until:
            action = "outage"
        elif faults.drop_count > 0:
            faults.drop_count -= 1
            action = "drop"
        elif faults.hang_count > 0:
            faults.hang_count -= 1
            action = "hang"
        elif faults.error_count > 0:
            faults.error_count -= 1
            action = "error"
        delay = 0.0
        if faults.slow_s > 0 and (faults.slow_count is None or faults.slow_count > 0):
            delay = faults.slow_s
            if faults.slow_count is not None:
                faults.slow_count -= 1
        return action, delay

    async def prepare(self) -> None:
        qpu = self.qpu
        with qpu._stats_lock:
            qpu._requests[self.kind] += 1
        with qpu._lock:
            action, delay = self._take_fault()
            error_status, hang_s, token = qpu._faults.error_status, qpu._faults.hang_s, qpu._token
        if action == "outage":
            self.set_header("Retry-After", "1")
            self.refuse(503, "service unavailable: the emulated QPU is down for maintenance")
        elif action == "drop":
            self._drop()
        elif action == "hang":
            stopping = qpu._stopping
            assert stopping is not None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), hang_s)
            self._drop()
        elif action == "error":
            self.refuse(error_status, f"injected server error {error_status}")
        else:
            if delay:
                await asyncio.sleep(delay)
            authorization = self.request.headers.get("Authorization", "")
            if token is not None and authorization != f"Bearer {token}":
                self.refuse(401, "invalid or missing API token")

    def answer(self, status: int, work: Callable[..., Any], *args: Any) -> None:
        """Reply ``work(*args)`` (run under the QPU's lock), or the refusal it raises."""
        try:
            with self.qpu._lock:
                self.qpu._state.advance()
                payload = work(*args)
        except _Refused as refused:
            self.refuse(refused.status, refused.message)
            return
        if payload is not None:
            self.reply(status, payload)

    def find_job(self, job_id: str) -> EmulatedJob:
        job = self.qpu._state.jobs.get(job_id)
        if job is None:
            raise _Refused(404, f"unknown job id {job_id!r}")
        return job

    def job_view(self, job: EmulatedJob) -> dict[str, Any]:
        view = job.view(*self.qpu._state.position(job))
        price = self.qpu._state.devices[job.device].price_per_shot
        view["cost"] = {"amount": round(job.shots * price, 6), "unit": "USD"}
        return view


class DevicesHandler(_QPUHandler):
    kind = "GET devices"

    def get(self) -> None:
        self.answer(200, lambda: {"devices": [d.view() for d in self.qpu._state.devices.values()]})


class SubmitHandler(_QPUHandler):
    kind = "POST submit"

    def post(self) -> None:
        self.answer(201, self._submit)

    def _submit(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise _Refused(400, "request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "request body must be a JSON object")
        circuit = _read_circuit(body)
        shots = _read_int(body, "shots", 1024, 1, _MAX_SHOTS)
        seed = None if body.get("seed") is None else _read_int(body, "seed", 0, 0, 2**63 - 1)
        name = str(body.get("name") or circuit.name or "job")[:200]
        devices = self.qpu._state.devices
        device = body.get("device") or next(iter(devices))
        if device not in devices:
            raise _Refused(404, f"unknown device {device!r}; devices: {', '.join(devices)}")
        width = devices[device].num_qubits
        if circuit.num_qubits > width:
            message = f"circuit needs {circuit.num_qubits} qubits; device {device!r} has {width}"
            raise _Refused(400, message)
        return self.job_view(self.qpu._state.submit(device, circuit, shots, seed, name))


class JobHandler(_QPUHandler):
    kind = "GET job"

    def get(self, job_id: str) -> None:
        self.answer(200, self._job, job_id)

    def _job(self, job_id: str) -> dict[str, Any] | None:
        view = self.job_view(self.find_job(job_id))
        faults = self.qpu._faults
        if faults.nonsense_count <= 0:
            return view
        faults.nonsense_count -= 1
        if faults.nonsense_kind == "invalid_json":
            self.set_status(200)
            self.finish('{"id": "' + job_id + '", "status": QUEUED, <html>oops')
            return None
        if faults.nonsense_kind == "unknown_status":
            view["status"] = "WIBBLING"
        else:
            view["status"] = "QUEUED"
            view["queue_position"] = "-3"
        return view


class CancelHandler(_QPUHandler):
    kind = "POST cancel"

    def post(self, job_id: str) -> None:
        self.answer(200, self._cancel, job_id)

    def _cancel(self, job_id: str) -> dict[str, Any]:
        job = self.find_job(job_id)
        if job.status in TERMINAL:
            raise _Refused(409, f"job {job_id} has already ended ({job.status})")
        if job.status != CANCELLING:
            self.qpu._state.cancel(job)
        return self.job_view(job)


class ResultHandler(_QPUHandler):
    kind = "GET result"

    def get(self, job_id: str) -> None:
        self.answer(200, self._result, job_id)

    def _result(self, job_id: str) -> dict[str, Any]:
        job = self.find_job(job_id)
        if job.status == FAILED:
            raise _Refused(409, f"job {job_id} failed: {job.fail_reason}")
        if job.status != COMPLETED:
            raise _Refused(409, f"job {job_id} is {job.status}; no result yet")
        return {
            "id": job.id,
            "device": job.device,
            "counts": job.counts,
            "shots": job.shots,
            "seed": job.seed,
        }


class NotFoundHandler(_QPUHandler):
    kind = "other"

    def prepare(self) -> None:  # type: ignore[override]
        self.refuse(404, f"no route {self.request.method} {self.request.path}")


def _read_int(body: dict, key: str, default: int, lo: int, hi: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _Refused(400, f"{key} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _read_circuit(body: dict) -> Circuit:
    if "circuit" in body:
        from qmon_jupyter.circuits.ir import circuit_from_dict

        try:
            return circuit_from_dict(body["circuit"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _Refused(400, f"circuit is not a valid qmon circuit: {exc!r}") from None
    if "qasm" in body:
        from qmon_jupyter.circuits import parse_qasm  # type: ignore[attr-defined]
        from qmon_jupyter.errors import QasmError

        try:
            return parse_qasm(str(body["qasm"]))
        except QasmError as exc:
            raise _Refused(400, f"qasm: {exc}") from None
    raise _Refused(400, "request needs a 'circuit' (qmon circuit dict) or 'qasm' (OpenQASM 2 text)")


def routes() -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """Return the emulated QPU's URL routes."""
    return [
        (r"/v1/devices", DevicesHandler),
        (r"/v1/jobs", SubmitHandler),
        (r"/v1/jobs/([^/]+)", JobHandler),
        (r"/v1/jobs/([^/]+)/cancel", CancelHandler),
        (r"/v1/jobs/([^/]+)/result", ResultHandler),
        (r".*", NotFoundHandler),
    ]
