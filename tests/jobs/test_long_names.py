"""A job's name is data of any length: the snapshot keeps it whole, every view caps it."""

from __future__ import annotations

import pytest

from qmon_jupyter.core.text import NAME_MAX, format_seconds, short_name
from qmon_jupyter.core.vocabulary import vocabulary
from qmon_jupyter.widget._compact import compact_snapshot

from .._support import BELL
from .conftest import TIMEOUT

LONG = "<b>RB sequence</b> " + "x" * 5000


def test_short_name_caps_with_an_ellipsis_and_leaves_short_names_alone():
    assert short_name("bell pair") == "bell pair"
    assert short_name("a" * NAME_MAX) == "a" * NAME_MAX
    cut = short_name("a" * (NAME_MAX + 1))
    assert len(cut) == NAME_MAX
    assert cut.endswith("…")
    assert short_name("abcdef", 4) == "abc…"


def test_the_renderer_reads_the_cap_from_the_vocabulary():
    assert vocabulary()["name_max"] == NAME_MAX


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0123, "12 ms"),
        (0.0, "0 ms"),
        (4.26, "4.3 s"),
        (42, "42 s"),
        (125, "2m 05s"),
        (3 * 3600 + 120, "3h 02m"),
        (3 * 86400 + 4 * 3600, "3d 04h"),
    ],
)
def test_durations_read_as_the_renderer_writes_them(seconds, text):
    assert format_seconds(seconds) == text


def test_a_long_name_stays_whole_in_the_snapshot_and_is_capped_in_every_view(manager):
    job = manager.submit(BELL, shots=2000, seed=1, name=LONG)
    assert job.wait(TIMEOUT)
    assert job.snapshot()["name"] == LONG
    assert len(compact_snapshot(job.snapshot())["name"]) == NAME_MAX
    assert short_name(LONG) in repr(job)
    assert LONG not in repr(job)
    (note,) = [n for n in manager.notifications.list() if n.job_id == job.id]
    assert note.title == f"{short_name(LONG)} completed"
    # a fast run says how fast, not "2000 shots in 0.0 s"
    assert note.message.startswith("2000 shots in ")
    assert "in 0.0 s" not in note.message
