"""dorafs: Dora as an fsspec file system (``dora://``), reading from the owner worker over the page stream.

Installed with pip, fsspec finds the ``dora`` protocol through the package's entry point; importing ``dorafs``
registers it too (for a checkout used without installing).
"""

import fsspec

from ._load import load
from .core import DoraFile, DoraFileSystem
from .errors import DoraError, VersionChanged, WorkerUnavailable

fsspec.register_implementation("dora", DoraFileSystem, clobber=True)

__all__ = ["DoraFile", "DoraFileSystem", "DoraError", "VersionChanged", "WorkerUnavailable", "load"]
__version__ = "0.1.0"
