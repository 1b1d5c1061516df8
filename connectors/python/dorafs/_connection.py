"""One page stream connection: HELLO, then requests pipelined up to the worker's ``maxInFlight``.

A connection is used by one thread at a time (the pool hands it out and takes it back), and every call on it is a
batch: all of a batch's READs are sent before their DATA is read, so a batch of ranges costs one round trip, and the
DATA payloads are received straight into the caller's buffers. A connection whose stream is in an unknown state
(a socket error, a frame it cannot parse) is closed and never reused.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from . import _protocol as p
from .errors import WorkerUnavailable, from_error_frame

_OFFSET = struct.Struct("<q")


@dataclass
class ReadRequest:
    """One range of one file, read into ``into`` (a writable buffer of at least ``length`` bytes)."""

    path: str
    offset: int
    length: int
    into: memoryview
    version: Optional[str] = None
    received: int = 0
    error: Optional[Exception] = field(default=None, repr=False)
    request_id: int = 0
    done: bool = False


class Connection:
    """A HELLO'd connection to one worker."""

    def __init__(self, worker_id: str, host: str, port: int, token: Optional[str], tls: Optional[ssl.SSLContext],
                 timeout: float, client_name: str = "dorafs"):
        self.worker_id = worker_id
        self.pid = os.getpid()
        self.broken = False
        self._in_frame = False
        self._next_id = 1
        try:
            raw = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise WorkerUnavailable(f"cannot connect to worker {worker_id} at {host}:{port}: {e}", worker=worker_id) from e
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self._sock = tls.wrap_socket(raw, server_hostname=host) if tls is not None else raw
        except ssl.SSLError as e:
            raw.close()
            raise PermissionError(13, f"TLS with worker {worker_id} at {host}:{port} failed, so no token was sent: {e}") from e
        except OSError as e:
            raw.close()
            raise WorkerUnavailable(f"cannot connect to worker {worker_id} at {host}:{port}: {e}", worker=worker_id) from e
        self._header = bytearray(p.HEADER_SIZE)
        self._header_view = memoryview(self._header)
        try:
            self._sock.sendall(p.hello(token, client_name))
            kind, _, _, payload = self._read_frame()
        except (OSError, ValueError) as e:
            self.close()
            raise WorkerUnavailable(f"worker {worker_id} did not answer HELLO: {e}", worker=worker_id) from e
        if kind == p.ERROR:
            code, message = p.parse_error(payload)
            self.close()
            if code == 3:
                raise PermissionError(13, f"worker {worker_id} refused the token: {message}")
            raise from_error_frame(code, message, worker_id, "")
        if kind != p.HELLO_OK:
            self.close()
            raise WorkerUnavailable(f"worker {worker_id} answered HELLO with frame type {kind:#x}", worker=worker_id)
        info = p.parse_hello_ok(payload)
        self.max_in_flight = max(1, info["max_in_flight"])
        self.page_size = info["page_size"]

    # -- frames ------------------------------------------------------------------------------------------------------

    def _recv_into(self, view: memoryview) -> None:
        while len(view):
            n = self._sock.recv_into(view)
            if n == 0:
                raise ConnectionError("the worker closed the connection")
            view = view[n:]

    def _read_header(self):
        self._recv_into(self._header_view)
        length, kind, flags, _, request_id = p.HEADER.unpack(self._header)
        payload = length - 12
        if payload < 0 or payload > p.MAX_RESPONSE_PAYLOAD:
            raise ValueError(f"a frame of {payload} payload bytes")
        return kind, flags, request_id, payload

    def _read_frame(self):
        kind, flags, request_id, length = self._read_header()
        payload = bytearray(length)
        self._recv_into(memoryview(payload))
        return kind, flags, request_id, payload

    def _skip(self, length: int) -> None:
        scratch = memoryview(bytearray(min(length, 1 << 20)))
        while length:
            take = min(length, len(scratch))
            self._recv_into(scratch[:take])
            length -= take

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _fail(self, error: BaseException) -> WorkerUnavailable:
        self.close()
        return WorkerUnavailable(f"the connection to worker {self.worker_id} failed: {error}", worker=self.worker_id)

    # -- requests ----------------------------------------------------------------------------------------------------

    def query(self, path: str, encode) -> dict:
        """One request answered by one JSON frame (STAT, LIST, HEALTH); ``encode(request_id)`` builds the frame."""
        request_id = self._new_id()
        try:
            self._sock.sendall(encode(request_id))
            while True:
                answer, _, answered, payload = self._read_frame()
                if answered == request_id:
                    break
        except (OSError, ValueError) as e:
            raise self._fail(e) from e
        if answer == p.ERROR:
            code, message = p.parse_error(payload)
            raise from_error_frame(code, message, self.worker_id, path)
        try:
            return json.loads(payload)
        except ValueError as e:
            raise self._fail(e) from e

    def read(self, requests: Sequence[ReadRequest], stop: Optional[Callable[[], bool]] = None) -> None:
        """Runs the READs, pipelined; each request ends with ``received`` bytes in ``into`` or with ``error`` set.

        ``stop`` is asked after every frame: once it says True, the requests still running are cancelled (CANCEL) and
        left unfinished. A caller interrupted mid-batch (KeyboardInterrupt, a timeout) cancels them the same way, so
        the connection goes back to the pool in a known state.
        """
        pending: dict = {}
        try:
            self._read(requests, pending, stop)
        except BaseException:
            if self._in_frame:
                self.close()  # interrupted inside a frame: the stream's position is lost
            elif pending and not self.broken:
                self._cancel(pending)
            raise
        if pending and not self.broken:
            self._cancel(pending)

    def _cancel(self, pending: dict) -> None:
        """Sends CANCEL for every pending request and reads until each has ended (END or ERROR), dropping its frames;
        any trouble (or an interruption) closes the connection instead."""
        try:
            for request_id in pending:
                self._sock.sendall(p.cancel(request_id))
            while pending:
                kind, flags, request_id, length = self._read_header()
                self._skip(length)
                if request_id in pending and (kind == p.ERROR or (kind == p.DATA and flags & p.END)):
                    del pending[request_id]
        except BaseException:
            self.close()

    def _read(self, requests: Sequence[ReadRequest], pending: dict, stop: Optional[Callable[[], bool]]) -> None:
        waiting: List[ReadRequest] = [r for r in requests if not r.done]
        waiting.reverse()
        try:
            while waiting or pending:
                while waiting and len(pending) < self.max_in_flight:
                    request = waiting.pop()
                    request.request_id = self._new_id()
                    request.received = 0
                    pending[request.request_id] = request
                    self._sock.sendall(p.read(request.request_id, request.path, request.offset, request.length, request.version))
                kind, flags, request_id, length = self._read_header()
                self._in_frame = True
                request = pending.get(request_id)
                if request is None:
                    self._skip(length)
                    self._in_frame = False
                    continue
                if kind == p.DATA:
                    if length < 8:
                        raise ValueError("a DATA frame without its offset")
                    self._recv_into(self._header_view[:8])
                    (offset,) = _OFFSET.unpack_from(self._header)
                    count = length - 8
                    start = offset - request.offset
                    if start != request.received or start + count > request.length:
                        raise ValueError(f"DATA at {offset} for {count} bytes outside what was asked ({request.offset} + {request.received})")
                    self._recv_into(request.into[start:start + count])
                    request.received += count
                    if flags & p.END:
                        request.done = True
                        del pending[request_id]
                elif kind == p.ERROR:
                    payload = bytearray(length)
                    self._recv_into(memoryview(payload))
                    code, message = p.parse_error(payload)
                    request.error = from_error_frame(code, message, self.worker_id, request.path)
                    del pending[request_id]
                else:
                    raise ValueError(f"frame type {kind:#x} in answer to a READ")
                self._in_frame = False
                if stop is not None and stop():
                    return
        except (OSError, ValueError) as e:
            raise self._fail(e) from e

    def close(self) -> None:
        self.broken = True
        try:
            self._sock.close()
        except OSError:
            pass
