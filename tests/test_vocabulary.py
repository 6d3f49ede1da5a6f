"""Statuses, types and actions are typed out once, in qmon_jupyter.core; JS gets them generated."""

from __future__ import annotations

import json
import re
from pathlib import Path

from qmon_jupyter.core.actions import ACTIONS
from qmon_jupyter.core.order import ACTIVE_RANK
from qmon_jupyter.core.states import JobStatus, JobType
from qmon_jupyter.core.vocabulary import write_module

ROOT = Path(__file__).resolve().parents[1]
# two names of one vocabulary side by side in a literal: a list typed out again
# (the action names are also capability names: core's snapshot schema lists those)
_LISTS = [
    re.compile(rf"""["']({names})["'],\s*["']({names})["']""")
    for names in (
        "|".join(s.value for s in JobStatus),
        "|".join(t.value for t in JobType),
        "|".join(ACTIONS),
    )
]
# still to be moved onto qmon_jupyter.core (owned elsewhere for now)
#: store/_store.py: its "('pending', 'running')" are the states of a command, not of a job.
_NOT_YET = {"store/_store.py"}


def _matches(text):
    return [m for pattern in _LISTS for m in pattern.finditer(text)]


def test_the_generated_js_vocabulary_is_the_python_one(tmp_path):
    out = tmp_path / "vocabulary.js"
    write_module(out)
    text = out.read_text(encoding="utf-8")
    vocab = json.loads(text[text.index("export default ") + len("export default ") : -2])
    assert vocab["statuses"] == [s.value for s in JobStatus]
    assert vocab["types"] == [t.value for t in JobType]
    assert [a["name"] for a in vocab["actions"]] == list(ACTIONS)
    assert vocab["active_rank"] == ACTIVE_RANK
    froms = {a["name"]: a["from"] for a in vocab["actions"]}
    assert froms == {
        "cancel": ["pending", "queued", "running", "paused"],
        "pause": ["running"],
        "resume": ["paused"],
    }


def test_no_js_source_types_out_a_list_of_statuses_types_or_actions():
    sources = [p for p in (ROOT / "js" / "src").rglob("*.js") if "generated" not in p.parts]
    assert sources
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in _matches(p.read_text())]
    assert found == []


def test_no_python_module_outside_core_types_out_a_list_of_statuses_types_or_actions():
    package = ROOT / "qmon_jupyter"
    found = []
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel.startswith("core/") or rel in _NOT_YET:
            continue
        found += [f"{rel}: {m.group(0)}" for m in _matches(path.read_text())]
    assert found == []
