"""DaskExecutor on a real two-worker LocalCluster: same counts, progress, cancel, pause."""

from __future__ import annotations

import time

import pytest

from qmon_jupyter.engine import prepare, run
from qmon_jupyter.executors import Batch, Executor
from qmon_jupyter.executors.dask import DaskExecutor

pytestmark = pytest.mark.timeout(120)


def batches_of(plan, shots: int, batch_size: int) -> list[Batch]:
    return [Batch(i, n) for i, n in enumerate(plan.batch_sizes(shots, batch_size))]


def local_counts(plan, batches, seed: int) -> dict[str, int]:
    """What the local executor sums: the same batches run here, one after another."""
    total: dict[str, int] = {}
    for batch in batches:
        for key, value in plan.run_batch(batch.index, batch.shots, seed).items():
            total[key] = total.get(key, 0) + value
    return total


def test_dask_executor_implements_the_executor_protocol(dask_executor):
    assert isinstance(dask_executor, Executor)
    assert dask_executor.name == "dask"


@pytest.mark.parametrize("circuit", ["trajectory_circuit", "sample_circuit"])
def test_counts_equal_the_local_executor_for_the_same_seed_and_batch_size(
    kit, dask_executor, circuit
):
    plan = prepare(getattr(kit, circuit)())
    batches = batches_of(plan, 3000, 250)
    control = kit.RecordingControl()

    dask_executor.run_batches(plan, batches, 1234, control)

    assert control.counts == local_counts(plan, batches, 1234)
    assert control.counts == run(plan.circuit, 3000, seed=1234, batch_size=250)


def test_a_different_seed_gives_different_counts(kit, dask_executor):
    plan = prepare(kit.trajectory_circuit())
    batches = batches_of(plan, 2000, 200)
    first, second = kit.RecordingControl(), kit.RecordingControl()

    dask_executor.run_batches(plan, batches, 1, first)
    dask_executor.run_batches(plan, batches, 2, second)

    assert first.counts != second.counts


def test_every_batch_is_reported_once_with_its_shots(kit, dask_executor):
    plan = prepare(kit.trajectory_circuit())
    batches = batches_of(plan, 1050, 100)  # ten of 100 and one of 50
    control = kit.RecordingControl()

    dask_executor.run_batches(plan, batches, 7, control)

    assert sorted(control.reported) == list(range(11))


def test_resuming_from_a_batch_runs_only_the_rest(kit, dask_executor):
    plan = prepare(kit.trajectory_circuit())
    batches = batches_of(plan, 2000, 200)
    head, tail = kit.RecordingControl(), kit.RecordingControl()

    dask_executor.run_batches(plan, batches[:4], 99, head)
    dask_executor.run_batches(plan, batches[4:], 99, tail)

    assert sorted(tail.reported) == list(range(4, 10))
    total = dict(head.counts)
    for key, value in tail.counts.items():
        total[key] = total.get(key, 0) + value
    assert total == local_counts(plan, batches, 99)


def test_cancel_withdraws_pending_batches_from_the_cluster(kit, dask_executor):
    plan = prepare(kit.slow_circuit())
    batches = batches_of(plan, 200 * 40, 200)
    control = kit.RecordingControl(cancel_after=1)
    client = dask_executor.client

    run = kit.Runner(lambda: dask_executor.run_batches(plan, batches, 5, control))

    assert run.join() is None
    assert control.reported_count() < len(batches)
    # pending batches are cancelled and running ones are dropped: the
    # scheduler forgets every one of them
    kit.wait_until(lambda: not kit.scheduler_keys(client), what="the batches to be forgotten")
    assert not any(keys for keys in client.processing().values())


def test_pause_submits_nothing_until_resume(kit, dask_executor):
    plan = prepare(kit.slow_circuit())
    batches = batches_of(plan, 200 * 30, 200)
    control = kit.RecordingControl(pause_after=1)
    client = dask_executor.client

    run = kit.Runner(lambda: dask_executor.run_batches(plan, batches, 11, control))
    kit.wait_until(control.blocked.is_set, what="the executor to wait on the pause")
    # what was in flight when the pause came finishes and is reported
    kit.wait_until(lambda: not kit.scheduler_keys(client), what="the batches in flight")
    reported = control.reported_count()
    time.sleep(0.5)

    assert not kit.scheduler_keys(client)
    assert control.reported_count() == reported < len(batches)

    control.resume()
    assert run.join() is None
    assert control.counts == local_counts(plan, batches, 11)


def test_batches_in_flight_stay_within_twice_the_cluster_threads(kit, dask_executor):
    plan = prepare(kit.slow_circuit())
    batches = batches_of(plan, 200 * 20, 200)
    client = dask_executor.client
    seen: list[int] = []
    control = kit.RecordingControl()
    original = control.batch_done

    def batch_done(index, shots, counts):
        # submitted and not finished yet (finished ones wait to be collected)
        unfinished = ("released", "waiting", "queued", "no-worker", "processing")
        seen.append(len(kit.scheduler_keys(client, unfinished)))
        original(index, shots, counts)

    control.batch_done = batch_done
    dask_executor.run_batches(plan, batches, 3, control)

    threads = sum(client.nthreads().values())
    assert max(seen) <= 2 * threads


def test_cluster_info_reports_address_workers_threads_and_memory(dask_executor, cluster):
    info = dask_executor.cluster_info()

    assert info["name"] == "dask"
    assert info["address"] == cluster.scheduler_address
    assert info["status"] == "running"
    assert info["workers"] == 2
    assert info["threads"] == 2
    assert info["memory_bytes"] > 0


def test_executor_info_names_the_scheduler_and_the_worker_count(dask_executor, cluster):
    dask_executor.check_workers()

    assert dask_executor.info() == {
        "name": "dask",
        "address": cluster.scheduler_address,
        "workers": 2,
    }


def test_an_existing_client_is_used_and_left_open(cluster):
    import distributed

    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        executor = DaskExecutor(client)
        executor.close()
        assert client.status == "running"
        assert executor.address == cluster.scheduler_address


def test_an_error_in_a_batch_propagates_with_its_own_type(kit, dask_executor):
    from qmon_jupyter.engine import ShotsError

    plan = prepare(kit.trajectory_circuit())

    with pytest.raises(ShotsError):
        dask_executor.run_batches(plan, [Batch(0, 10), Batch(1, 0)], 1, kit.RecordingControl())
    kit.wait_until(lambda: not kit.scheduler_keys(dask_executor.client), what="a clean cluster")


def test_the_dask_executor_imports_first_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = "from qmon_jupyter.executors.dask import DaskExecutor; print(DaskExecutor.name)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "dask"
