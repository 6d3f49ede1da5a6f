"""The exceptions qmon_jupyter raises on purpose.

Every error a user can cause has a type here and a message that names the
problem; nothing else escapes the public API as a bare Python exception.
"""

from __future__ import annotations

__all__ = [
    "JobCancelled",
    "JobFailed",
    "JobStateError",
    "QasmError",
    "QmonError",
    "ResourceError",
]


class QmonError(Exception):
    """Base class of every error qmon_jupyter raises on purpose."""


class QasmError(QmonError, ValueError):
    """An OpenQASM 2 program that cannot be read.

    Attributes
    ----------
    line, column
        1-based position of the offending token (``None`` when unknown).
    filename
        Where the text came from, when known (used in ``file:line:column``).
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        filename: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.filename = filename
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.filename or "<qasm>"
        if self.line is None:
            return f"{where}: {self.message}"
        return f"{where}:{self.line}:{self.column}: {self.message}"


class ResourceError(QmonError, MemoryError):
    """A job that cannot fit in the memory available.

    Attributes
    ----------
    needed_bytes, available_bytes
        The estimate for the job and what the machine has free.
    """

    def __init__(self, message: str, needed_bytes: int, available_bytes: int) -> None:
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes
        super().__init__(message)


class JobCancelled(QmonError):  # noqa: N818 - the contract's name
    """Raised by ``Job.result()`` for a job that was cancelled."""

    def __init__(self, job_id: str, reason: str | None = None) -> None:
        self.job_id = job_id
        self.reason = reason
        tail = f": {reason}" if reason else ""
        super().__init__(f"job {job_id} was cancelled{tail}")


class JobFailed(QmonError):  # noqa: N818 - the contract's name
    """Raised by ``Job.result()`` for a job that failed; ``__cause__`` is the error."""

    def __init__(
        self, job_id: str, error_type: str, message: str, traceback: str | None = None
    ) -> None:
        self.job_id = job_id
        self.error_type = error_type
        self.error_message = message
        self.traceback = traceback
        super().__init__(f"job {job_id} failed: {error_type}: {message}")


class JobStateError(QmonError):
    """An action the job's state or backend forbids (pause a finished job, ...).

    The job's state is unchanged when this is raised (REST answers 409).
    """
