"""Routing and failover: each request goes to the owner of its path, then to the next owners when a worker fails, as
the C# client does (``docs/protocol.md``, "Implementation notes"). Connections are pooled per worker; a forked child
(a PyTorch DataLoader worker) drops the parent's connections and opens its own."""

from __future__ import annotations

import os
import ssl
import threading
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence, TypeVar

from . import _membership, _protocol as p
from ._connection import Connection, ReadRequest
from .errors import WorkerUnavailable

T = TypeVar("T")

_clients: "List[DoraClient]" = []


def _after_fork_in_child() -> None:
    for client in list(_clients):
        client._forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class DoraClient:
    """Reads, stats and listings from the owners of paths over the page stream."""

    #: Workers tried per request: the owner and two more, as the C# client's default.
    MAX_WORKER_ATTEMPTS = 3
    #: Idle connections kept per worker.
    MAX_IDLE_PER_WORKER = 8
    #: How often the membership is checked for changes while requests are made.
    REFRESH_SECONDS = 10.0

    def __init__(self, registry: Optional[str] = None, token: Optional[str] = None, tls_ca: Optional[str] = None,
                 timeout: float = 30.0):
        self._seeds = _membership.seed_urls(registry)
        self._token = token if token is not None else _first_token(os.environ.get("DORA_TOKEN"))
        self._tls = ssl.create_default_context(cafile=tls_ca)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._idle: Dict[str, List[Connection]] = {}
        self._membership = _membership.fetch(self._seeds, self._token, self._tls, timeout)
        self._checked = time.monotonic()
        _clients.append(self)

    @property
    def token(self) -> Optional[str]:
        """The token presented to the workers (never printed)."""
        return self._token

    # -- membership --------------------------------------------------------------------------------------------------

    @property
    def membership(self) -> _membership.Membership:
        if time.monotonic() - self._checked > self.REFRESH_SECONDS:
            self.refresh()
        return self._membership

    def refresh(self) -> None:
        """Asks the workers for the membership again (also done after a worker fails)."""
        urls = [w.http_uri for w in self._membership.workers] + self._seeds
        try:
            self._membership = _membership.fetch(list(dict.fromkeys(urls)), self._token, self._tls, self._timeout)
        except WorkerUnavailable:
            pass  # keep routing by what was known; the request's own failover reports the failure
        self._checked = time.monotonic()

    def owners(self, path: str) -> List[_membership.Worker]:
        ring = self.membership.ring
        return [self._membership.worker(m.id) for m in ring.owners_of(path, self.MAX_WORKER_ATTEMPTS)]

    # -- connections -------------------------------------------------------------------------------------------------

    @contextmanager
    def _connection(self, worker: _membership.Worker) -> Iterator[Connection]:
        with self._lock:
            idle = self._idle.get(worker.id)
            connection = idle.pop() if idle else None
        if connection is None or connection.pid != os.getpid():
            connection = Connection(worker.id, worker.host, worker.stream_port, self._token,
                                    self._tls if worker.tls else None, self._timeout)
        try:
            yield connection
        finally:
            if not connection.broken:
                with self._lock:
                    pool = self._idle.setdefault(worker.id, [])
                    if len(pool) < self.MAX_IDLE_PER_WORKER:
                        pool.append(connection)
                        connection = None
                if connection is not None:
                    connection.close()

    def _forget_connections(self) -> None:
        # In a forked child the sockets are the parent's: never write to them, just let go.
        self._lock = threading.Lock()
        self._idle = {}

    def close(self) -> None:
        with self._lock:
            pools, self._idle = self._idle, {}
        for pool in pools.values():
            for connection in pool:
                connection.close()
        if self in _clients:
            _clients.remove(self)

    # -- failover ----------------------------------------------------------------------------------------------------

    def on_owner(self, path: str, call: Callable[[Connection], T]) -> T:
        """Runs ``call`` on a connection to the path's owner, then the next owners while workers fail transiently."""
        failures = []
        for attempt in range(2):
            for worker in self.owners(path):
                try:
                    with self._connection(worker) as connection:
                        return call(connection)
                except WorkerUnavailable as e:
                    failures.append(str(e))
            # Every owner failed: the membership may have changed under us; look again once.
            self.refresh()
            if attempt == 0 and not self._membership.workers:
                break
        raise WorkerUnavailable(f"no worker could serve '{path}': " + "; ".join(failures[-6:]))

    # -- requests ----------------------------------------------------------------------------------------------------

    def stat(self, path: str) -> dict:
        return self.on_owner(path, lambda c: c.query(path, lambda rid: p.stat(rid, path)))

    def list_page(self, path: str, after: Optional[str], limit: int = 1000) -> dict:
        return self.on_owner(path, lambda c: c.query(path, lambda rid: p.listing(rid, path, after, limit)))

    def read_into(self, path: str, offset: int, into: memoryview, version: Optional[str] = None) -> int:
        """Reads ``len(into)`` bytes of ``path`` from ``offset`` (fewer at the end of the file); returns the count."""
        request = ReadRequest(path, offset, len(into), into, version)
        self.read_many([request])
        return request.received

    def read_many(self, requests: Sequence[ReadRequest]) -> None:
        """Reads ranges of one path (or of paths with one owner) pipelined on one connection. A broken connection moves
        the unfinished ranges to the next owner; a range a worker answered with a transient error is asked again."""
        remaining = [r for r in requests if not r.done]
        last: Optional[Exception] = None
        for _ in range(self.MAX_WORKER_ATTEMPTS):
            if not remaining:
                return
            batch = remaining
            self.on_owner(batch[0].path, lambda connection: connection.read(batch))
            for r in batch:
                if r.error is not None and not isinstance(r.error, WorkerUnavailable):
                    raise r.error
            remaining = [r for r in batch if r.error is not None]
            for r in remaining:
                last, r.error = r.error, None
        if remaining:
            raise last or WorkerUnavailable(f"reading '{remaining[0].path}' kept failing")


def _first_token(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    return value.split(",")[0].strip() or None
