"""What every qmon widget shares: the heartbeat, the sync hooks, actions from the front end."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from qmon_jupyter.core.actions import ACTIONS

from ._sync import get_publisher

__all__ = ["QmonWidget", "esm_source"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"

_MISSING = """
export default { render({ el }) {
  el.textContent = "qmon_jupyter's front end is not built: run "
    + "`npm install && npm run build` in js/, or reinstall with `pip install .`.";
} };
"""


def esm_source(name: str) -> Path | str:
    """Return the built ES module ``static/<name>``, or a module saying it is missing."""
    path = STATIC / name
    return path if path.is_file() else _MISSING


class QmonWidget(anywidget.AnyWidget):
    """Base of the qmon widgets: heartbeat, coalesced updates, front-end actions.

    Subclasses compute their traits in ``_qmon_state()`` and react to
    ``_qmon_on_event(event)``; the publisher thread calls ``_qmon_flush()`` at
    most ten times a second.
    """

    #: Ticked by the kernel; the front end shows "disconnected" when it stops.
    heartbeat = traitlets.Int(0).tag(sync=True)
    #: How long the front end waits for a heartbeat before saying so.
    stale_after_ms = traitlets.Int(6500).tag(sync=True)

    #: Job actions the front end may ask for (each a method of the job and of the manager).
    ACTIONS: ClassVar[frozenset[str]] = frozenset(ACTIONS)

    #: Update messages sent, their total and largest size in bytes (JSON of the state).
    update_count = 0
    bytes_sent = 0
    max_update_bytes = 0
    _closed_qmon = False
    _flushing = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._on_front_end_msg)

    # -- sync hooks (called by the publisher) ---------------------------------------
    def _qmon_start(self, events: Any | None, job_id: str | None = None) -> None:
        get_publisher().register(self, events, job_id)

    def _qmon_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _qmon_on_event(self, event: dict) -> bool:  # noqa: ARG002 - subclasses use it
        return False

    def _qmon_wants_heartbeat(self) -> bool:
        return True

    def _qmon_flush(self) -> None:
        if self._closed_qmon or self.comm is None:
            return
        state = self._qmon_state()
        changed = {k: v for k, v in state.items() if getattr(self, k) != v}
        self._flushing = True
        try:
            with self.hold_sync():
                for key, value in changed.items():
                    setattr(self, key, value)
                self.heartbeat += 1
        finally:
            self._flushing = False

    def _qmon_heartbeat(self) -> None:
        if not self._closed_qmon and self.comm is not None:
            self.heartbeat += 1

    def _send(self, msg: dict, buffers: list | None = None) -> None:
        # Count the coalesced updates that go over the comm (not the first full
        # state, which carries the ES module): the sync-discipline tests read
        # update_count, bytes_sent and max_update_bytes.
        if self._flushing and msg.get("method") == "update":
            # json.dumps' default separators, as jupyter_client's packer uses.
            size = len(json.dumps(msg.get("state", {}), default=str))
            self.update_count += 1
            self.bytes_sent += size
            self.max_update_bytes = max(self.max_update_bytes, size)
        super()._send(msg, buffers)

    # -- actions from the front end --------------------------------------------------
    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or "action" not in content:
            return
        try:
            message = self._qmon_action(content)
        except Exception as exc:  # reported to the view, never raised into the kernel
            self.send({"type": "action_result", "ok": False, "message": str(exc), **_ids(content)})
            return
        self.send({"type": "action_result", "ok": True, "message": message or "", **_ids(content)})

    def _qmon_action(self, content: dict) -> str | None:
        raise NotImplementedError

    def close(self) -> None:
        """Close the widget and stop its updates (unsubscribes from job events)."""
        if not self._closed_qmon:
            self._closed_qmon = True
            get_publisher().unregister(self)
        layout = getattr(self, "layout", None)
        super().close()
        if layout is not None:
            # DOMWidget's Layout is a widget of its own, kept open by
            # ipywidgets' registry: close it too, or every view leaks one.
            layout.close()


def _ids(content: dict) -> dict:
    return {k: content[k] for k in ("action", "job_id", "notification_id") if k in content}
