"""Map-style datasets for PyTorch ``DataLoader``s over files (or fixed-size records) under a Dora prefix.

The classes need nothing from torch (a map-style dataset is ``__len__`` and ``__getitem__``), so this module imports
without it. Each DataLoader worker process gets the file system by pickling, without its connections, and opens its own.

>>> from torch.utils.data import DataLoader
>>> from dorafs.torch import FileDataset
>>> loader = DataLoader(FileDataset("/images/train", registry="http://127.0.0.1:8817", suffix=".jpg"), num_workers=4)
"""

from __future__ import annotations

import bisect
from typing import Any, Callable, List, Optional, Tuple

from .core import DoraFileSystem


def _file_system(fs: Optional[DoraFileSystem], **options: Any) -> DoraFileSystem:
    return fs if fs is not None else DoraFileSystem(**options)


class FileDataset:
    """One sample per file under ``prefix`` (in path order): ``transform(bytes)``, or ``(path, bytes)`` without one."""

    def __init__(self, prefix: str, fs: Optional[DoraFileSystem] = None, suffix: str = "",
                 transform: Optional[Callable[[bytes], Any]] = None, **options: Any):
        self.fs = _file_system(fs, **options)
        self.paths: List[str] = [p for p in self.fs.find(prefix) if p.endswith(suffix)]
        if not self.paths:
            raise FileNotFoundError(2, f"no files{' ending in ' + suffix if suffix else ''} under {prefix}", prefix)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Any:
        path = self.paths[index]
        data = self.fs.cat_file(path)
        return self.transform(data) if self.transform else (path, data)


class RecordDataset:
    """Fixed-size records of ``record_bytes`` laid end to end in the files under ``prefix`` (a trailing partial record
    of a file is dropped): sample ``i`` is one byte range read from the owner, never the whole file."""

    def __init__(self, prefix: str, record_bytes: int, fs: Optional[DoraFileSystem] = None,
                 transform: Optional[Callable[[bytes], Any]] = None, **options: Any):
        if record_bytes <= 0:
            raise ValueError(f"record_bytes must be at least 1, not {record_bytes}")
        self.fs = _file_system(fs, **options)
        self.record_bytes = record_bytes
        self.files: List[Tuple[str, int]] = []
        self.starts: List[int] = []
        total = 0
        for path, info in sorted(self.fs.find(prefix, detail=True).items()):
            records = info["size"] // record_bytes
            if records:
                self.starts.append(total)
                self.files.append((path, records))
                total += records
        self.count = total
        self.transform = transform

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(f"record {index} of {self.count}")
        f = bisect.bisect_right(self.starts, index) - 1
        path, _ = self.files[f]
        offset = (index - self.starts[f]) * self.record_bytes
        data = self.fs.cat_file(path, offset, offset + self.record_bytes)
        return self.transform(data) if self.transform else data
