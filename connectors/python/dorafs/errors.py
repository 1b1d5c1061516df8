"""Exceptions: page stream errors as the Python exceptions file-system users expect."""

from __future__ import annotations

from . import _protocol


class DoraError(OSError):
    """An error a worker reported; ``code`` is the page stream's error name (``docs/protocol.md``)."""

    def __init__(self, message: str, code: str = "Internal", worker: str = "", transient: bool = False):
        super().__init__(message)
        self.code = code
        self.worker = worker
        self.transient = transient


class WorkerUnavailable(DoraError, ConnectionError):
    """A worker could not be reached or answered that the request may succeed elsewhere (transient)."""

    def __init__(self, message: str, code: str = "Unavailable", worker: str = ""):
        super().__init__(message, code, worker, transient=True)


class InvalidRangeError(ValueError):
    """A read that starts past the end of the file."""


class VersionChanged(DoraError):
    """The file changed while it was being read: open it again to read the new version whole."""


def from_error_frame(code: int, message: str, worker: str, path: str) -> Exception:
    """The exception for a worker's ERROR on a request about ``path``."""
    name = _protocol.ERROR_NAMES.get(code, f"code {code}")
    text = f"{message} (worker {worker}, {name})"
    if code == 5:
        return FileNotFoundError(2, text, path)
    if code == 4:
        if "directory" in message:
            return IsADirectoryError(21, text, path)
        return ValueError(f"invalid Dora path '{path}': {text}")
    if code == 6:
        return InvalidRangeError(f"invalid range of '{path}': {text}")
    if code == 3:
        return PermissionError(13, f"the worker refused the token: {text}", path)
    if code == 13:
        return VersionChanged(text, name, worker)
    if code in _protocol.TRANSIENT_CODES:
        return WorkerUnavailable(text, name, worker)
    return DoraError(text, name, worker)
