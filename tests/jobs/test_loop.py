"""``progress(iterable)``: loops as monitored analysis jobs."""

from __future__ import annotations

import gc
import threading

import pytest

from qmon_jupyter import JobCancelled
from qmon_jupyter.jobs import JobStatus
from qmon_jupyter.kernel import progress

from .._support import wait_until
from .conftest import TIMEOUT

S = JobStatus


def test_a_loop_becomes_an_analysis_job_that_completes(manager):
    loop = progress(range(5), name="scan", manager=manager)
    assert loop.job.status is S.PENDING  # made, not yet iterated: it does not claim to run
    seen = []
    for i in loop:
        seen.append((i, loop.job.status))
    assert seen == [(i, S.RUNNING) for i in range(5)]
    snap = loop.job.snapshot()
    assert snap["type"] == "analysis"
    assert snap["status"] == "completed"
    assert (snap["done"], snap["total"], snap["unit"]) == (5, 5, "iterations")


def test_a_generator_without_len_is_counted(manager):
    loop = progress((i * i for i in range(7)), name="gen", manager=manager)
    assert loop.job.tracker.total is None
    assert sum(loop) == sum(i * i for i in range(7))
    assert loop.job.status is S.COMPLETED
    assert loop.job.snapshot()["done"] == 7


def test_cancel_makes_the_loop_raise_job_cancelled_at_the_next_iteration(manager):
    seen = []

    def scan():
        for i in progress(range(100), name="c", manager=manager):
            seen.append(i)
            if i == 3:
                manager.jobs()[-1].cancel()

    with pytest.raises(JobCancelled):
        scan()
    assert seen == [0, 1, 2, 3]
    assert manager.jobs()[-1].status is S.CANCELLED


def test_pause_blocks_the_loop_until_resumed(manager):
    loop = progress(range(10), name="p", manager=manager)
    seen = []
    paused_at = threading.Event()

    def body():
        for i in loop:
            seen.append(i)
            if i == 2:
                loop.job.pause()
                paused_at.set()

    thread = threading.Thread(target=body)
    thread.start()
    assert paused_at.wait(TIMEOUT)
    assert not wait_until(lambda: len(seen) > 3, timeout=0.2)
    loop.job.resume()
    thread.join(TIMEOUT)
    assert seen == list(range(10))
    assert loop.job.status is S.COMPLETED


def test_leaving_a_loop_early_cancels_it_saying_where_it_stopped(manager):
    loop = progress(range(10), name="b", manager=manager)
    for i in loop:
        if i == 3:
            break
    snap = loop.job.snapshot()
    assert snap["status"] == "cancelled"
    assert snap["message"] == "not iterated to the end: stopped after 3 of 10 iterations"
    assert snap["done"] == 3  # not a completed 10 / 10


def test_tqdm_style_manual_updates_postfix_and_close(manager):
    bar = progress(total=100, desc="sweep", manager=manager)
    assert bar.job.name == "sweep"
    assert bar.job.status is S.PENDING
    bar.update(30)
    assert bar.job.status is S.RUNNING
    bar.set_postfix({"loss": 0.123456}, step=3)
    assert bar.job.snapshot()["message"] == "loss=0.1235, step=3"
    bar.update(70)
    bar.close()
    snap = bar.job.snapshot()
    assert (snap["status"], snap["done"], snap["total"]) == ("completed", 100, 100)
    bar.close()  # a second close changes nothing
    assert bar.job.status is S.COMPLETED
    with pytest.raises(TypeError, match="no iterable"):
        iter(bar)


def test_update_on_a_cancelled_bar_raises_job_cancelled(manager):
    with progress(total=10, manager=manager) as bar:
        bar.update(1)
        bar.job.cancel()
        with pytest.raises(JobCancelled):
            bar.update(1)
    assert bar.job.status is S.CANCELLED


def test_name_and_desc_disagreeing_is_refused(manager):
    with pytest.raises(TypeError, match="name='a' and desc='b'"):
        progress(range(3), name="a", desc="b", manager=manager)


def test_an_exception_in_the_body_fails_the_job_inside_with(manager):
    loop = progress(range(10), name="w", manager=manager)

    def scan():
        with loop:
            for i in loop:
                if i == 2:
                    raise ValueError("bad item")

    with pytest.raises(ValueError, match="bad item"):
        scan()
    assert loop.job.status is S.FAILED
    assert loop.job.error["message"] == "bad item"


def test_keyboard_interrupt_inside_with_cancels_the_job(manager):
    loop = progress(range(10), manager=manager)

    def scan():
        with loop:
            for _ in loop:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan()
    assert loop.job.status is S.CANCELLED


def test_a_loop_never_iterated_is_cancelled_when_it_is_dropped(manager):
    loop = progress(range(10), name="forgotten", manager=manager)
    job = loop.job
    assert job.status is S.PENDING
    del loop
    gc.collect()
    assert job.status is S.CANCELLED
    assert "not iterated to the end: stopped after 0 of 10" in job.snapshot()["message"]


def test_a_pending_loop_can_be_cancelled_and_then_raises_when_iterated(manager):
    loop = progress(range(10), name="c", manager=manager)
    assert loop.job.cancel()
    assert loop.job.status is S.CANCELLED
    with pytest.raises(JobCancelled):
        list(loop)
    assert loop.job.status is S.CANCELLED  # ended once


def test_a_with_block_that_never_iterates_is_cancelled_not_completed(manager):
    with progress(range(10), name="w", manager=manager) as loop:
        pass
    assert loop.job.status is S.CANCELLED
    assert loop.job.snapshot()["done"] == 0
    assert "not iterated to the end" in loop.job.snapshot()["message"]
