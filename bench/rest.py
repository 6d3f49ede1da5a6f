"""REST latency and throughput with 10,000 stored jobs while simulations keep the cores busy.

Usage: ``python bench/rest.py [--jobs 10000] [--seconds 10] [--clients 16] [--out bench/rest.md]``

1. Fills a fresh store with ``--jobs`` job snapshots (several kernels, every
   status), notifications and events.
2. Starts the standalone server (``python -m qmon_jupyter serve``) on 127.0.0.1.
3. Starts one busy simulation process per core (statevector evolutions in a loop).
4. Measures p50/p95/p99 of ``GET jobs`` and ``GET dashboard`` from one client,
   then requests/s (and latency) from ``--clients`` concurrent clients for
   ``--seconds`` seconds each.
5. Prints a Markdown table and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

TOKEN = "bench-token"

BUSY = r"""
import sys, time
from qmon_jupyter.circuits import parse_qasm
from qmon_jupyter.engine import simulate_statevector
n = 18
lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', f'qreg q[{n}];']
for layer in range(4):
    lines += [f'h q[{i}];' for i in range(n)]
    lines += [f'cx q[{i}],q[{(i + 1) % n}];' for i in range(n)]
    lines += [f'rz({0.1 * (layer + 1)}) q[{i}];' for i in range(n)]
circuit = parse_qasm("\n".join(lines))
end = time.monotonic() + float(sys.argv[1])
runs = 0
while time.monotonic() < end:
    simulate_statevector(circuit)
    runs += 1
print(runs)
"""


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def fill_store(path: Path, n_jobs: int) -> None:
    os.environ["QMON_DB"] = str(path)
    from qmon_jupyter.store import Store

    store = Store(path)
    rng = random.Random(7)
    statuses = ["completed"] * 70 + ["failed"] * 8 + ["cancelled"] * 7 + ["running"] * 5
    statuses += ["queued"] * 5 + ["paused"] * 2 + ["pending"] * 3
    kernels = [f"kernel-{uuid.UUID(int=rng.getrandbits(128))}" for _ in range(8)]
    t0 = time.time() - 86400
    batch = []
    for i in range(n_jobs):
        status = rng.choice(statuses)
        created = t0 + i * 8.0
        elapsed = rng.uniform(0.1, 60)
        jid = f"{rng.getrandbits(48):012x}"
        batch.append(
            {
                "schema": 1,
                "id": jid,
                "name": f"qft-{rng.randint(4, 24)} #{i}",
                "type": rng.choice(["simulation"] * 8 + ["hardware", "optimization"]),
                "status": status,
                "progress": 1.0 if status == "completed" else rng.random(),
                "done": 8192,
                "total": 8192,
                "unit": "shots",
                "stage": "sample",
                "message": None,
                "rate": rng.uniform(1e3, 1e6) if status == "running" else None,
                "eta_s": rng.uniform(1, 100) if status == "running" else None,
                "queue_position": rng.randint(1, 5) if status == "queued" else None,
                "backend": "local",
                "executor": "local",
                "owner": "bench",
                "kernel_id": rng.choice(kernels),
                "created_at": iso(created),
                "started_at": iso(created + 0.1),
                "finished_at": iso(created + elapsed)
                if status in ("completed", "failed", "cancelled")
                else None,
                "elapsed_s": elapsed,
                "error": {"type": "ValueError", "message": "bad"} if status == "failed" else None,
                "result_summary": {"top": [["0" * 10, 4100], ["1" * 10, 4092]], "shots": 8192}
                if status == "completed"
                else None,
                "capabilities": {
                    "cancel": True,
                    "pause": True,
                    "queue_position": True,
                    "eta": True,
                },
                "provider": None,
                "seed": i,
                "updated_at": iso(created + elapsed),
            }
        )
        if len(batch) == 1000:
            kid = batch[0]["kernel_id"]
            events = [
                (s["updated_at"], s["id"], "job.status", "bench", None, {"snapshot": s})
                for s in batch
            ]
            store.write_batch(kid, jobs=batch, events=events)
            batch = []
    if batch:
        store.write_batch(batch[0]["kernel_id"], jobs=batch)
    notes = [
        {
            "id": uuid.uuid4().hex[:12],
            "level": "success",
            "title": "done",
            "message": f"job {i}",
            "job_id": None,
            "kind": "job",
            "created_at": iso(t0 + i),
            "ttl_s": None,
            "dismissed": False,
        }
        for i in range(100)
    ]
    store.write_batch(kernels[0], notifications=notes)
    for k in kernels:
        store.heartbeat(k, pid=os.getpid(), host="bench", proc_start=None, started_at=iso(t0))
    store.close()


def start_server(path: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qmon_jupyter",
            "serve",
            "--port",
            str(port),
            "--token",
            TOKEN,
            "--db",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for _ in range(3):
        line = proc.stdout.readline()
        if "REST API" in line:
            return proc
    raise RuntimeError("server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> float:
        start = time.perf_counter()
        self.conn.request("GET", path, headers={"Authorization": f"token {TOKEN}"})
        response = self.conn.getresponse()
        body = response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        return took


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def sequential(port: int, path: str, n: int) -> list[float]:
    client = Client(port)
    for _ in range(10):
        client.get(path)  # warm up
    return [client.get(path) for _ in range(n)]


def concurrent(port: int, path: str, clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    end = time.monotonic() + seconds

    def run(i: int) -> None:
        client = Client(port)
        while time.monotonic() < end:
            latencies[i].append(client.get(path))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [x for lat in latencies for x in lat]
    return len(flat), flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--requests", type=int, default=300, help="sequential requests per endpoint"
    )
    parser.add_argument("--out", default=str(Path(__file__).with_name("rest.md")))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qmon-bench-"))
    db = tmp / "qmon.sqlite"
    t = time.perf_counter()
    fill_store(db, args.jobs)
    size_mb = db.stat().st_size / 1e6
    print(f"filled {args.jobs} jobs in {time.perf_counter() - t:.1f} s ({size_mb:.1f} MB)")
    port = free_port()
    server = start_server(db, port)
    cores = os.cpu_count() or 2
    budget = 2 * args.seconds + 60
    busy = [
        subprocess.Popen(
            [sys.executable, "-c", BUSY, str(budget)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(cores)
    ]
    rows = []
    load_before = os.getloadavg()[0]
    try:
        time.sleep(1.0)  # let the simulations get going
        for name, path in (
            ("GET jobs", "/api/qmon/jobs"),
            ("GET dashboard", "/api/qmon/dashboard"),
        ):
            lat = sequential(port, path, args.requests)
            count, conc = concurrent(port, path, args.clients, args.seconds)
            rows.append(
                {
                    "endpoint": name,
                    "p50": pct(lat, 50),
                    "p95": pct(lat, 95),
                    "p99": pct(lat, 99),
                    "rps": count / args.seconds,
                    "c_p50": pct(conc, 50),
                    "c_p95": pct(conc, 95),
                    "c_p99": pct(conc, 99),
                }
            )
    finally:
        for p in busy:
            p.kill()
        for p in busy:
            p.communicate()
        server.terminate()
        server.communicate(timeout=10)
    cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    lines = [
        (
            f"REST benchmark (`python bench/rest.py`): {args.jobs:,} jobs in the store, {cores} "
            f"busy simulation processes (18-qubit statevector loops) on {cpu} cores, standalone "
            f"server on 127.0.0.1; single-client latency over {args.requests} requests, then "
            f"{args.clients} concurrent clients for {args.seconds:.0f} s. Times in ms. "
            f"(1-min load average before the busy processes started: {load_before:.1f}; "
            "the client threads share the same cores.)"
        ),
        "",
        "| endpoint | p50 | p95 | p99 | req/s (16 clients) | p50 / p95 / p99 under load |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['endpoint']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['rps']:.0f} | "
        f"{r['c_p50']:.0f} / {r['c_p95']:.0f} / {r['c_p99']:.0f} |"
        for r in rows
    ]
    target = next(r for r in rows if r["endpoint"] == "GET jobs")["p95"]
    lines += [
        "",
        (
            f"Target: `GET jobs` p95 ≤ 50 ms — measured {target:.1f} ms "
            f"({'met' if target <= 50 else 'NOT met'})."
        ),
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    Path(args.out).write_text(table)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
