"""A real Jupyter server with the qmon extension, and helpers to fill its store."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User

# pytest-jupyter's server fixtures and its runner for async tests (jp_fetch, jp_serverapp,
# ...), for this folder only: ``pytest_plugins`` would load them, with their autouse event
# loop, for every test of the suite, and pytest refuses it outside the top-level conftest.
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from qmon_jupyter.store import Store

HERE = Path(__file__).resolve().parent
KERNEL_SCRIPT = HERE / "_kernel_process.py"


class AliceIdentityProvider(IdentityProvider):
    """Token holders are "alice" (Jupyter would invent a new anonymous name per request)."""

    def generate_anonymous_user(self, handler: Any) -> User:
        return User(username="alice", name="Alice")


@pytest.fixture
def jp_server_config() -> Config:
    """The extension enabled, nothing reachable without a token, fast background checks."""
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"qmon_jupyter": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": AliceIdentityProvider,
            },
            "QmonConfig": {
                "liveness_interval": 0.25,
                "kernel_timeout": 1.5,
                "poll_interval": 0.05,
                "sse_heartbeat": 0.5,
            },
        }
    )


@pytest.fixture
def store() -> Store:
    """The store at this test's ``QMON_DB`` (the one the server reads)."""
    s = Store()
    yield s
    s.close()


def body(response: Any) -> Any:
    """A response's JSON body."""
    return json.loads(response.body.decode())


async def fetch_error(jp_fetch: Any, *parts: str, **kwargs: Any) -> tuple[int, Any]:
    """``(status, JSON body)`` of a request that must fail."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    response = info.value.response
    return info.value.code, json.loads(response.body.decode()) if response.body else None


def token() -> str:
    """The running test server's token."""
    from jupyter_server.serverapp import ServerApp

    return ServerApp.instance().identity_provider.token


def iso(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def snapshot(job_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A schema-1 snapshot with sensible defaults (what a kernel would write)."""
    now = iso()
    snap = {
        "schema": 1,
        "id": job_id or uuid.uuid4().hex[:12],
        "name": "bell",
        "type": "simulation",
        "status": "running",
        "progress": 0.5,
        "done": 512,
        "total": 1024,
        "unit": "shots",
        "stage": None,
        "message": None,
        "rate": 1000.0,
        "eta_s": 0.5,
        "queue_position": None,
        "backend": "local",
        "executor": "local",
        "owner": "tester",
        "kernel_id": "k-test",
        "created_at": now,
        "started_at": now,
        "finished_at": None,
        "elapsed_s": 0.5,
        "error": None,
        "result_summary": None,
        "capabilities": {"cancel": True, "pause": True, "queue_position": False, "eta": True},
        "provider": None,
        "seed": 7,
        "updated_at": now,
        "executor_info": None,
    }
    snap.update(fields)
    return snap


class FakeKernel:
    """Writes jobs and heartbeats into the store as a kernel's StoreWriter would."""

    def __init__(self, store: Store, kernel_id: str = "k-test", pid: int | None = None) -> None:
        self.store = store
        self.kernel_id = kernel_id
        self.pid = os.getpid() if pid is None else pid
        self.beat()

    def beat(self, state: str = "alive") -> None:
        self.store.heartbeat(
            self.kernel_id,
            pid=self.pid,
            host=socket.gethostname(),
            proc_start=None,
            started_at=iso(),
            state=state,
        )

    def add(self, job_id: str | None = None, **fields: Any) -> dict[str, Any]:
        snap = snapshot(job_id, kernel_id=self.kernel_id, **fields)
        self.store.write_batch(
            self.kernel_id,
            jobs=[snap],
            events=[(iso(), snap["id"], "job.status", "tester", None, {"snapshot": snap})],
        )
        return snap

    def notify(self, note_id: str | None = None, **fields: Any) -> dict[str, Any]:
        note = {
            "id": note_id or uuid.uuid4().hex[:12],
            "level": "info",
            "title": "Job done",
            "message": "bell completed",
            "job_id": None,
            "kind": "job",
            "created_at": iso(),
            "ttl_s": None,
            "dismissed": False,
        }
        note.update(fields)
        self.store.write_batch(
            self.kernel_id,
            notifications=[note],
            events=[(iso(), None, "notification.created", None, None, {"notification": note})],
        )
        return note


@pytest.fixture
def page_server():
    """The standalone server (REST and the /qmon/ page) on a free loopback port."""
    from qmon_jupyter.server import start_dashboard_server

    srv = start_dashboard_server(0, token="page-token")
    yield srv
    srv.stop()


@pytest.fixture
def kernel(store: Store) -> FakeKernel:
    """A live fake kernel (its pid is this test process)."""
    return FakeKernel(store)


def kernel_command(*args: str) -> list[str]:
    """Command line of the helper process that plays a kernel (manager + StoreWriter)."""
    return [sys.executable, str(KERNEL_SCRIPT), *args]


@pytest.fixture
def make_kernel(store: Store):
    """Factory of fake kernels: ``make_kernel("k2", pid=...)``."""
    return lambda kernel_id="k-other", pid=None: FakeKernel(store, kernel_id, pid)


@pytest.fixture
def kernel_cmd():
    """``kernel_cmd("busy", "10")``: argv of the process that plays a kernel."""
    return kernel_command
