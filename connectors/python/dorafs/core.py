"""``DoraFileSystem``: Dora as an fsspec file system for ``dora://`` URLs."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Dict, List, Optional

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from ._client import DoraClient
from ._connection import ReadRequest
from .errors import InvalidRangeError

_WRITE_REFUSAL = ("dora:// is read-only: write through the S3 gateway of any worker (docs/s3.md), e.g. "
                  "s3fs or boto3 with endpoint_url=http://WORKER:8814")


class DoraFileSystem(AbstractFileSystem):
    """Reads a Dora cluster: every byte from the owner worker's cache over the page stream.

    ``registry``: a worker's HTTP URL, the path of a ``.dora/cluster.json``, or None for ``$DORA_REGISTRY`` or the
    nearest ``.dora/cluster.json``. ``token``: the cluster token (default: the first of ``$DORA_TOKEN``). ``tls_ca``: a
    CA file for clusters with TLS (default: the system store).
    """

    protocol = "dora"
    root_marker = "/"
    #: Bytes fetched per miss by files opened for reading: large enough that a sequential reader streams.
    DEFAULT_BLOCK_SIZE = 4 << 20
    #: Ranges and files fetched at once by ``cat_ranges`` and ``cat``.
    MAX_CONCURRENCY = 8

    def __init__(self, registry: Optional[str] = None, token: Optional[str] = None, tls_ca: Optional[str] = None,
                 timeout: float = 30.0, **kwargs: Any):
        super().__init__(**kwargs)
        self._settings = (registry, token, tls_ca, timeout)
        self._client_lock = threading.Lock()
        self._client: Optional[DoraClient] = None

    @property
    def client(self) -> DoraClient:
        """The page stream client (created on first use, so an instance can be pickled to DataLoader workers)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = DoraClient(*self._settings)
        return self._client

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_client"] = None
        state["_client_lock"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._client_lock = threading.Lock()

    # -- paths -------------------------------------------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        if path.startswith("dora://"):
            path = path[len("dora://"):]
        elif path.startswith("dora:"):
            path = path[len("dora:"):]
        path = "/" + path.lstrip("/")
        return path.rstrip("/") or "/"

    def unstrip_protocol(self, name: str) -> str:
        return "dora://" + name.lstrip("/")

    # -- metadata ----------------------------------------------------------------------------------------------------

    @staticmethod
    def _entry(path: str, status: Dict[str, Any]) -> Dict[str, Any]:
        directory = bool(status.get("isDirectory"))
        modified = status.get("lastModified")
        return {
            "name": path,
            "size": 0 if directory else int(status.get("length", 0)),
            "type": "directory" if directory else "file",
            "mtime": datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp() if modified else None,
            "etag": status.get("eTag", status.get("etag")),
            "cached_bytes": status.get("cachedBytes"),
        }

    def info(self, path, **kwargs):
        path = self._strip_protocol(path)
        return self._entry(path, self.client.stat(path))

    def ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path)
        # Only this directory's own listing is reused: fsspec's parent-listing shortcut would answer a directory with
        # its own entry instead of its children.
        cached = None if kwargs.get("refresh") else self.dircache.get(path)
        if cached is None:
            info = self.info(path)
            if info["type"] != "directory":
                return [info] if detail else [info["name"]]
            cached = []
            after = None
            base = path.rstrip("/")
            while True:
                page = self.client.list_page(path, after)
                cached += [self._entry(f"{base}/{e['name']}", e) for e in page["entries"]]
                after = page.get("next")
                if not after:
                    break
            self.dircache[path] = cached
        return cached if detail else [e["name"] for e in cached]

    def checksum(self, path):
        """A number that changes whenever the file does: from its version (fingerprint) as the workers report it."""
        version = self.info(path)["etag"] or ""
        return int(hashlib.sha256(version.encode("utf-8")).hexdigest()[:16], 16)

    def ukey(self, path):
        return self.info(path)["etag"]

    def invalidate_cache(self, path=None):
        if path is None:
            self.dircache.clear()
        else:
            path = self._strip_protocol(path)
            self.dircache.pop(path, None)
            while path != "/":
                path = path.rsplit("/", 1)[0] or "/"
                self.dircache.pop(path, None)

    # -- reads -------------------------------------------------------------------------------------------------------

    def cat_file(self, path, start=None, end=None, **kwargs):
        path = self._strip_protocol(path)
        size = None
        if start is None or start < 0 or end is None or end < 0:
            size = self.info(path)["size"]
        start = 0 if start is None else (max(0, size + start) if start < 0 else start)
        end = size if end is None else (max(0, size + end) if end < 0 else end)
        if end <= start:
            return b""
        buffer = bytearray(end - start)
        try:
            count = self.client.read_into(path, start, memoryview(buffer))
        except InvalidRangeError:
            return b""  # a range past the end is empty, as a slice of bytes is
        return bytes(buffer) if count == len(buffer) else bytes(buffer[:count])

    def cat_ranges(self, paths, starts, ends, max_gap=None, on_error="return", **kwargs):
        """Many ranges, fetched at once: ranges of one owner pipelined on one connection, owners in parallel."""
        if not (len(paths) == len(starts) == len(ends)):
            raise ValueError("cat_ranges needs as many starts and ends as paths")
        results: List[Any] = [None] * len(paths)
        groups: Dict[str, List[int]] = {}
        requests: List[Optional[ReadRequest]] = [None] * len(paths)
        for i, (path, start, end) in enumerate(zip(paths, starts, ends)):
            path = self._strip_protocol(path)
            if start is None or end is None or start < 0 or end < 0:
                results[i] = self.cat_file(path, start, end)
                continue
            buffer = bytearray(max(0, end - start))
            requests[i] = ReadRequest(path, start, len(buffer), memoryview(buffer))
            results[i] = buffer
            groups.setdefault(self.client.owners(path)[0].id, []).append(i)

        def fetch(indexes: List[int]) -> None:
            for i in indexes:
                if requests[i].length == 0:
                    requests[i].done = True
            by_path: Dict[str, List[ReadRequest]] = {}
            for i in indexes:
                by_path.setdefault(requests[i].path, []).append(requests[i])
            for batch in by_path.values():
                try:
                    self.client.read_many(batch)
                except Exception as e:  # noqa: BLE001 - reported per range below
                    for r in batch:
                        r.error = r.error or e

        with ThreadPoolExecutor(max_workers=min(self.MAX_CONCURRENCY, max(1, len(groups)))) as pool:
            list(pool.map(fetch, groups.values()))
        for i, request in enumerate(requests):
            if request is None:
                continue
            if request.error is not None:
                if on_error != "return":
                    raise request.error
                results[i] = request.error
            else:
                results[i] = bytes(results[i][:request.received])
        return results

    def cat(self, path, recursive=False, on_error="raise", **kwargs):
        paths = self.expand_path(path, recursive=recursive)
        if len(paths) > 1 or isinstance(path, list) or paths[0] != self._strip_protocol(path):
            def one(p):
                try:
                    return p, self.cat_file(p)
                except Exception as e:  # noqa: BLE001
                    if on_error == "raise":
                        raise
                    return p, e
            with ThreadPoolExecutor(max_workers=self.MAX_CONCURRENCY) as pool:
                out = dict(pool.map(one, paths))
            if on_error == "omit":
                out = {k: v for k, v in out.items() if not isinstance(v, Exception)}
            return out
        return self.cat_file(paths[0])

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None, **kwargs):
        if "r" not in mode or "+" in mode:
            raise NotImplementedError(_WRITE_REFUSAL)
        return DoraFile(self, path, mode, block_size=block_size or self.DEFAULT_BLOCK_SIZE,
                        cache_type=kwargs.pop("cache_type", "readahead"), cache_options=cache_options, **kwargs)

    # -- writes ------------------------------------------------------------------------------------------------------

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError(_WRITE_REFUSAL)

    mkdir = makedirs = rm = rm_file = rmdir = mv = cp_file = put_file = touch = pipe_file = _refuse


class DoraFile(AbstractBufferedFile):
    """A file opened for reading: seekable, buffered, every fetch pinned to the version seen at open."""

    def __init__(self, fs: DoraFileSystem, path: str, mode: str = "rb", **kwargs: Any):
        super().__init__(fs, path, mode, **kwargs)
        self.version = self.details.get("etag")

    def _fetch_range(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if end <= start:
            return b""
        buffer = bytearray(end - start)
        count = self.fs.client.read_into(self.path, start, memoryview(buffer), self.version)
        return bytes(buffer) if count == len(buffer) else bytes(buffer[:count])
