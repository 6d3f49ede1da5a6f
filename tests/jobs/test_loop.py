"""``progress(iterable)``: loops as monitored analysis jobs."""

from __future__ import annotations

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
    assert loop.job.status is S.RUNNING
    assert list(loop) == [0, 1, 2, 3, 4]
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


def test_leaving_a_loop_early_completes_it_with_a_message(manager):
    loop = progress(range(10), name="b", manager=manager)
    for i in loop:
        if i == 3:
            break
    assert loop.job.status is S.COMPLETED
    assert loop.job.snapshot()["message"] == "loop left after 3 of 10 iterations"


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
