"""The page stream protocol, version 1 (``docs/protocol.md``): frame layout, request encoders, error codes.

Every integer is little-endian; a string is a ``u16`` byte count and that many bytes of UTF-8.
"""

from __future__ import annotations

import struct
from typing import Optional

VERSION = 1
HEADER = struct.Struct("<IBBHQ")  # length (bytes after this field), type, flags, reserved, request id
HEADER_SIZE = HEADER.size
END = 0x01

# Requests
HELLO, READ, STAT, LIST, PING, CANCEL, HEALTH = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
# Responses
HELLO_OK, DATA, STAT_OK, LIST_OK, PONG, HEALTH_OK, ERROR = 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0xEE

MAX_REQUEST_PAYLOAD = 65536
MAX_PATH_BYTES = 4096
# What this client accepts in one response frame (a page plus its offset, or a listing's JSON).
MAX_RESPONSE_PAYLOAD = 64 << 20

ERROR_NAMES = {
    1: "BadFrame", 2: "UnsupportedVersion", 3: "Unauthenticated", 4: "InvalidPath", 5: "NotFound",
    6: "InvalidRange", 7: "Unavailable", 8: "Cancelled", 9: "DuplicateRequestId", 10: "FrameTooLarge",
    11: "Internal", 12: "ShuttingDown", 13: "VersionMismatch", 14: "Busy",
}
# Codes after which the request may succeed on the next owner (docs/protocol.md, "Errors").
TRANSIENT_CODES = frozenset({7, 11, 12, 14})


def string(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError(f"a protocol string is at most 65,535 bytes; this one is {len(data)}")
    return struct.pack("<H", len(data)) + data


def frame(kind: int, request_id: int, payload: bytes = b"", flags: int = 0) -> bytes:
    return HEADER.pack(12 + len(payload), kind, flags, 0, request_id) + payload


def hello(token: Optional[str], client_name: str) -> bytes:
    return frame(HELLO, 1, struct.pack("<H", VERSION) + string(token or "") + string(client_name))


def read(request_id: int, path: str, offset: int, length: int, version: Optional[str] = None) -> bytes:
    payload = string(path) + struct.pack("<qq", offset, length)
    if version:
        payload += string(version)
    return frame(READ, request_id, payload)


def stat(request_id: int, path: str) -> bytes:
    return frame(STAT, request_id, string(path))


def listing(request_id: int, path: str, after: Optional[str], limit: int) -> bytes:
    return frame(LIST, request_id, string(path) + string(after or "") + struct.pack("<I", limit))


def cancel(request_id: int) -> bytes:
    return frame(CANCEL, request_id)


def health(request_id: int) -> bytes:
    return frame(HEALTH, request_id)


def parse_error(payload: bytes) -> tuple:
    """``(code, message)`` of an ERROR payload."""
    if len(payload) < 4:
        raise ValueError("an ERROR frame shorter than its fields")
    code, length = struct.unpack_from("<HH", payload)
    return code, bytes(payload[4:4 + length]).decode("utf-8", "replace")


def parse_hello_ok(payload: bytes) -> dict:
    version, max_payload, max_in_flight, page_size, idle = struct.unpack_from("<HIIII", payload)
    (length,) = struct.unpack_from("<H", payload, 18)
    worker = bytes(payload[20:20 + length]).decode("utf-8")
    return {
        "version": version, "max_request_payload": max_payload, "max_in_flight": max_in_flight,
        "page_size": page_size, "idle_timeout": idle, "worker_id": worker,
    }
