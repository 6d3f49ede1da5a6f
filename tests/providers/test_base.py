"""The provider protocol: status tables, queue positions, capabilities."""

from __future__ import annotations

import pytest

from qmon_jupyter.jobs import JobStatus
from qmon_jupyter.providers import (
    BRAKET_STATUS,
    IBM_RUNTIME_STATUS,
    Capabilities,
    HardwareJobInfo,
    ProviderResponseError,
    normalize_status,
    parse_queue_position,
)

S = JobStatus


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("INITIALIZING", S.PENDING),
        ("QUEUED", S.QUEUED),
        ("RUNNING", S.RUNNING),
        ("DONE", S.COMPLETED),
        ("ERROR", S.FAILED),
        ("CANCELLED", S.CANCELLED),
    ],
)
def test_ibm_runtime_statuses_map_onto_job_states(raw, expected):
    assert normalize_status(raw, IBM_RUNTIME_STATUS) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CREATED", S.PENDING),
        ("QUEUED", S.QUEUED),
        ("RUNNING", S.RUNNING),
        ("CANCELLING", None),  # no change until the provider confirms
        ("CANCELLED", S.CANCELLED),
        ("COMPLETED", S.COMPLETED),
        ("FAILED", S.FAILED),
    ],
)
def test_braket_statuses_map_onto_job_states(raw, expected):
    assert normalize_status(raw, BRAKET_STATUS) is expected


def test_an_unknown_status_is_a_readable_error_naming_it():
    with pytest.raises(ProviderResponseError, match="unknown status 'WIBBLING'"):
        normalize_status("WIBBLING", BRAKET_STATUS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, (None, None)),
        ("None", (None, None)),
        ("", (None, None)),
        ("7", (7, "7")),
        (3, (3, "3")),
        (">2000", (2001, ">2000")),
        ("0", (0, "0")),
    ],
)
def test_queue_positions_are_read_as_numbers_keeping_the_providers_text(raw, expected):
    assert parse_queue_position(raw) == expected


@pytest.mark.parametrize(
    ("raw", "match"), [("-3", "negative"), (-1, "negative"), ("soon", "not a number")]
)
def test_impossible_queue_positions_are_readable_errors(raw, match):
    with pytest.raises(ProviderResponseError, match=match):
        parse_queue_position(raw)


def test_an_absent_capability_shows_as_not_available_never_an_error():
    caps = Capabilities(cancel=True, queue_position=False)
    assert caps.show("cancel", "yes") == "yes"
    assert caps.show("queue_position", 4) == "n/a"
    assert caps.show("eta", None) == "n/a"
    assert caps.to_dict() == {
        "cancel": True,
        "pause": False,
        "queue_position": False,
        "eta": False,
        "cost": False,
    }


def test_hardware_job_info_shows_not_available_for_what_the_provider_cannot_tell():
    info = HardwareJobInfo(
        job_id="abc",
        provider="ibm-runtime/x",
        provider_job_id="d0",
        device="x",
        capabilities=Capabilities(cancel=True, eta=True),
        raw_status="QUEUED",
        eta_range_s=(1.0, 3.0),
    )
    view = info.to_dict()
    assert view["queue_position"] == "n/a"
    assert view["queue_position_display"] == "n/a"
    assert view["eta_range_s"] == [1.0, 3.0]
    assert view["status"] == "QUEUED"
