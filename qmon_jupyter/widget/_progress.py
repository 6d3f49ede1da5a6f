"""``qmon.progress``: a monitored loop shown in its cell as a compact bar, like tqdm.notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qmon_jupyter.kernel.session import kernel_shell
from qmon_jupyter.kernel.session import progress as monitored_loop

from ._job import JobWidget

if TYPE_CHECKING:
    from collections.abc import Iterable

    from qmon_jupyter.jobs import JobManager, MonitoredLoop

__all__ = ["progress"]

_CLEARED = {"text/plain": ""}  # what a leave=False loop's cell output becomes


def progress(
    iterable: Iterable | None = None,
    name: str | None = None,
    total: float | None = None,
    *,
    desc: str | None = None,
    unit: str = "iterations",
    leave: bool = True,
    display: bool = True,
    manager: JobManager | None = None,
) -> MonitoredLoop:
    """Wrap a loop as a monitored ``analysis`` job: a drop-in for ``tqdm.notebook.tqdm``.

    In a kernel the loop shows in its own cell at once as a compact bar
    (status, name, bar, ETA, cancel / pause), and on the dashboard.
    ``leave=False`` clears the bar when the loop ends; ``display=False``
    leaves it to the dashboard. ``desc``, ``total``, ``unit``, ``update(n)``,
    ``set_postfix(...)`` and ``close()`` are tqdm's. See
    :func:`qmon_jupyter.kernel.progress` and :class:`~qmon_jupyter.jobs.MonitoredLoop`.
    """
    handles: list[Any] = []  # the cell's display, once shown

    def clear(_job: object) -> None:
        for handle in handles:
            handle.update(_CLEARED, raw=True)

    loop = monitored_loop(
        iterable,
        name,
        total,
        desc=desc,
        unit=unit,
        manager=manager,
        on_end=None if leave else clear,
    )
    if display and kernel_shell() is not None:
        from IPython.display import display as show

        handles.append(show(JobWidget(loop.job, compact=True), display_id=True))
    return loop
