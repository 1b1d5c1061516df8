"""dorafs: Dora as an fsspec file system (``dora://``), reading from the owner worker over the page stream."""

from .core import DoraFile, DoraFileSystem
from .errors import DoraError, VersionChanged, WorkerUnavailable

__all__ = ["DoraFile", "DoraFileSystem", "DoraError", "VersionChanged", "WorkerUnavailable"]
__version__ = "0.1.0"
