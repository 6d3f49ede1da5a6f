"""Zero-code tracking: every provider job made in the kernel goes on the dashboard.

``qmon.autotrack(True)`` (and ``%load_ext qmon_jupyter``) wraps the few
library functions where provider jobs are born, and hands each new job to
:func:`~qmon_jupyter.providers.track`. Neither Qiskit nor Braket has a
"job created" hook, so these are wrappers, each one function on one class:

- ``AerBackend.run`` (``AerSimulator``, and the fake backends that run on it),
  ``BasicSimulator.run``: the ``JobV1`` they return;
- ``PrimitiveJob._submit``: every job of Qiskit's own primitives
  (``StatevectorSampler``, ``BackendSamplerV2``..., Aer's ``SamplerV2``);
  the one place they all start, so the only private name patched;
- qiskit-ibm-runtime's ``SamplerV2.run``/``EstimatorV2.run`` and
  ``Executor.run`` (the new client-side ``Sampler`` runs through it): their
  ``RuntimeJobV2``, or ``LocalRuntimeJob`` in local mode;
- Braket's ``LocalSimulator.run`` and ``AwsQuantumTask.create`` (which
  ``AwsDevice.run`` and batches go through): their task;
- qiskit-ibm-runtime's ``Session.__enter__``/``__exit__`` (``Batch`` inherits
  them): the jobs of its ``with`` block are one qmon session
  (:mod:`._runtime_session`).

A library imported later is wrapped as it is imported (an import hook on
``sys.meta_path``), so turning autotrack on imports nothing. ``autotrack(False)``
puts every original back, exactly as it was.

A job made while another one is being made or run (the ``AerJob`` a
``BackendSamplerV2`` job runs, the ``PrimitiveJob`` inside a
``LocalRuntimeJob``) is part of that job and not tracked apart; qmon's own
jobs (``QmonBackend``, ``QmonSampler``) are on the dashboard already; a job is
tracked once (the monitor knows it: see ``StatusMonitor.track``). Tracking
never breaks the user's job: a failure is logged.

What a hook sees goes to the job's adapter (``observe()``): when the job's
work ran, timed where it runs (the true run time of a job whose provider keeps
none), and the call that made it (the PUBs of a ``RuntimeJobV2``, which has
none locally: its name and shots).
"""

from __future__ import annotations

import functools
import importlib.abc
import logging
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._detect import adapter_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    from .monitor import StatusMonitor

__all__ = ["HOOKS", "Hook", "autotrack", "autotracking"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    """One wrapped function: ``module.owner.attr``.

    ``makes`` is ``"result"`` when the function returns the new job, ``"self"``
    when it starts the job it is called on, ``"group"`` when it opens or
    closes a group of jobs (a runtime ``Session``). ``synchronous`` functions return a
    job that has already ended (their call is its run).
    """

    module: str
    owner: str
    attr: str
    makes: str = "result"
    synchronous: bool = False


HOOKS: tuple[Hook, ...] = (
    Hook("qiskit_aer.backends.aerbackend", "AerBackend", "run"),
    Hook(
        "qiskit.providers.basic_provider.basic_simulator", "BasicSimulator", "run", synchronous=True
    ),
    Hook("qiskit.primitives.primitive_job", "PrimitiveJob", "_submit", makes="self"),
    Hook("qiskit_ibm_runtime.sampler", "SamplerV2", "run"),
    Hook("qiskit_ibm_runtime.estimator", "EstimatorV2", "run"),
    Hook("qiskit_ibm_runtime.executor.executor", "Executor", "run"),
    Hook("braket.devices.local_simulator", "LocalSimulator", "run", synchronous=True),
    Hook("braket.aws.aws_quantum_task", "AwsQuantumTask", "create"),
    Hook("qiskit_ibm_runtime.session", "Session", "__enter__", makes="group"),
    Hook("qiskit_ibm_runtime.session", "Session", "__exit__", makes="group"),
)

_MISSING = object()

# Guards _enabled, _installed, _monitor and the import hook's place on sys.meta_path
# (hooks read _enabled without it: a stale read only tracks or skips one call).
_lock = threading.RLock()
_enabled = False
_installed: dict[Hook, tuple[type, Any, Any]] = {}  # hook -> (class, original, wrapper)
_monitor: StatusMonitor | None = None
# Depth of hooked calls (or hooked jobs' work) on this thread: a job made inside is part of it;
# and the _Timing of the outermost one.
_inside = threading.local()


def autotrack(enabled: bool = True, *, monitor: StatusMonitor | None = None) -> bool:
    """Track every Qiskit job and Braket task made from now on (``False``: stop).

    ``monitor`` receives the jobs (default: the process-wide one,
    ``get_monitor()``). Returns whether autotrack was on before.
    """
    global _enabled, _monitor  # noqa: PLW0603 - one autotrack per process, like its monitor
    with _lock:
        was_on = _enabled
        _enabled = bool(enabled)
        if enabled:
            _monitor = monitor
            if _FINDER not in sys.meta_path:
                sys.meta_path.insert(0, _FINDER)
            for hook in HOOKS:
                if hook.module in sys.modules:
                    _install(hook)
        else:
            if _FINDER in sys.meta_path:
                sys.meta_path.remove(_FINDER)
            for hook in list(_installed):
                _uninstall(hook)
            _monitor = None
    return was_on


def autotracking() -> bool:
    """Whether autotrack is on."""
    return _enabled


# ------------------------------------------------------------------ patching
def _install(hook: Hook) -> None:
    if hook in _installed:
        return
    try:
        owner = getattr(sys.modules[hook.module], hook.owner)
        original = owner.__dict__.get(hook.attr, _MISSING)
        if original is _MISSING:  # this version moved it: better untracked than wrong
            log.warning(
                "qmon autotrack: %s.%s has no %s; not hooked", hook.module, hook.owner, hook.attr
            )
            return
        wrapper = _wrap(hook, original)
        setattr(owner, hook.attr, wrapper)
    except Exception:
        log.exception("qmon autotrack: could not hook %s.%s.%s", hook.module, hook.owner, hook.attr)
        return
    _installed[hook] = (owner, original, wrapper)


def _uninstall(hook: Hook) -> None:
    owner, original, wrapper = _installed.pop(hook)
    if owner.__dict__.get(hook.attr) is wrapper:
        setattr(owner, hook.attr, original)
    else:  # someone wrapped it again after us: taking ours out would drop theirs
        log.warning(
            "qmon autotrack: %s.%s was replaced since; left as it is", hook.owner, hook.attr
        )


def _wrap(hook: Hook, original: Any) -> Any:
    # staticmethod/classmethod: wrap the function inside, keep the descriptor's kind.
    kind = type(original) if isinstance(original, staticmethod | classmethod) else None
    function = original.__func__ if kind is not None else original
    if hook.makes == "group":
        from ._runtime_session import wrap_session_method

        wrapped = wrap_session_method(hook.attr, function, _tracking_manager)
        return kind(wrapped) if kind is not None else wrapped
    wrapped = _starts_self(function) if hook.makes == "self" else _returns_job(function, hook)
    return kind(wrapped) if kind is not None else wrapped


def _returns_job(function: Callable, hook: Hook) -> Callable:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if _nested() or not autotracking():  # off: a wrapper someone wrapped again
            return function(*args, **kwargs)
        timing = _Timing(time.monotonic(), call=(args, kwargs))
        with _part_of_a_job(timing):
            job = function(*args, **kwargs)
        if hook.synchronous and timing.finished is None:
            timing.finished = time.monotonic()
        _follow(job, timing)
        return job

    return run


def _starts_self(function: Callable) -> Callable:
    @functools.wraps(function)
    def submit(primitive_job: Any, *args: Any, **kwargs: Any) -> Any:
        # Inside a hooked call (a LocalRuntimeJob's run()): this work is that job's run.
        timing = getattr(_inside, "timing", None) if _nested() else None
        timing = timing or _Timing()
        work = getattr(primitive_job, "_function", None)
        if not callable(work) or not autotracking():
            return function(primitive_job, *args, **kwargs)
        # The primitive_job's work runs on a thread of its own: mark it, so the jobs it makes
        # are part of this one. Only for the submit call: the primitive_job keeps its function.
        try:
            primitive_job._function = timing.around(work)
        except Exception:  # a primitive_job that refuses it runs unmarked (and untimed)
            log.debug("qmon autotrack: cannot mark the work of %r", primitive_job, exc_info=True)
            outcome = function(primitive_job, *args, **kwargs)
        else:
            try:
                outcome = function(primitive_job, *args, **kwargs)
            finally:
                primitive_job._function = work
        if not _nested():
            _follow(primitive_job, timing)
        return outcome

    return submit


class _Timing:
    """What a hook saw of a job: what an adapter's ``observe()`` is given.

    ``started``/``finished``: when it ran (``time.monotonic()``; None: not
    yet, or unseen), from the hooked call, or the job's work once it is timed;
    ``call``: the hooked call's ``(args, kwargs)`` (dropped once observed).
    """

    def __init__(self, started: float | None = None, call: tuple | None = None) -> None:
        self.started = started
        self.finished: float | None = None
        self.call = call
        self._timed = False

    def around(self, work: Callable) -> Callable:
        @functools.wraps(work)
        def timed(*args: Any, **kwargs: Any) -> Any:
            mine = not self._timed  # the first work timed is the job's run; any inside, part of it
            self._timed = True
            if mine:
                self.started, self.finished = time.monotonic(), None
            try:
                with _part_of_a_job(self):
                    return work(*args, **kwargs)
            finally:
                if mine:
                    self.finished = time.monotonic()

        return timed


def _nested() -> bool:
    return getattr(_inside, "depth", 0) > 0


@contextmanager
def _part_of_a_job(timing: _Timing) -> Iterator[None]:
    depth = getattr(_inside, "depth", 0)
    outer = getattr(_inside, "timing", None)
    _inside.depth, _inside.timing = depth + 1, outer if depth else timing
    try:
        yield
    finally:
        _inside.depth, _inside.timing = depth, outer


# ------------------------------------------------------------------ tracking
def _follow(job: Any, timing: _Timing) -> None:
    """Track ``job`` unless it is qmon's own or tracked already; never raise."""
    try:
        if job is None or _is_qmon_job(job):
            return
        adapter = adapter_for(job)
        observe = getattr(adapter, "observe", None)
        if callable(observe):
            observe(timing)
        timing.call = None  # read: the job does not keep its inputs alive through it
        _tracking_monitor().track(adapter, name=getattr(adapter, "name", None))
    except Exception:
        log.exception("qmon autotrack: could not track %r (it runs on, untracked)", job)


def _tracking_monitor() -> StatusMonitor:
    monitor = _monitor
    if monitor is None:
        from .monitor import get_monitor

        monitor = get_monitor()
    return monitor


def _tracking_manager() -> Any:
    # Where the jobs autotrack follows now go (None while it is off).
    return _tracking_monitor().manager if autotracking() else None


def _is_qmon_job(job: Any) -> bool:
    module = type(job).__module__ or ""
    return module.startswith("qmon_jupyter.") or hasattr(job, "qmon_job")


# ------------------------------------------------------------------ import hook
class _HookOnImport(importlib.abc.MetaPathFinder):
    """Wraps a hooked library's function when its module is imported."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in _MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookingLoader(spec.loader)
                return spec
        return None


class _HookingLoader(importlib.abc.Loader):
    """The module's own loader, then the hooks; it gives the module its loader back."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        with _lock:
            if _enabled:
                for hook in HOOKS:
                    if hook.module == module.__name__:
                        _install(hook)


_FINDER = _HookOnImport()
_MODULES = frozenset(hook.module for hook in HOOKS)
