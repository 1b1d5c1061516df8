"""Arrow Flight tickets of ``docs/flight.md``, built and checked in Python, and ``pyarrow.flight`` objects when pyarrow
is installed (``pip install dora-fsspec[pyarrow]``). Importing this module never needs pyarrow.

>>> from dorafs import flight
>>> flight.batches("/trips/part-0.parquet", columns=["fare"])   # the ticket's JSON bytes
b'{"kind":"batches","path":"/trips/part-0.parquet","columns":["fare"]}'
>>> reader = flight.client_for(fs, "/trips/part-0.parquet").do_get(flight.ticket(flight.batches(...)))  # with pyarrow
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

#: Tickets larger than this are refused by the workers.
MAX_TICKET_BYTES = 64 << 10


def _path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"a Dora path is absolute, like '/data/x.parquet'; got {path!r}")
    return path


def _encode(fields: dict) -> bytes:
    data = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_TICKET_BYTES:
        raise ValueError(f"the ticket is {len(data)} bytes; workers take at most {MAX_TICKET_BYTES}")
    return data


def _non_negative(name: str, value: Optional[int]) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"'{name}' must be a whole number of at least 0, not {value!r}")


def range_ticket(path: str, offset: Optional[int] = None, length: Optional[int] = None) -> bytes:
    """Raw bytes of a file as ``offset: int64, data: binary`` rows (``offset`` 0 and the rest of the file by default)."""
    _non_negative("offset", offset)
    _non_negative("length", length)
    fields: dict = {"kind": "range", "path": _path(path)}
    if offset is not None:
        fields["offset"] = offset
    if length is not None:
        fields["length"] = length
    return _encode(fields)


def chunk(path: str, row_group: int, column: Optional[str] = None) -> bytes:
    """The raw bytes of one Parquet column chunk (or, for an Arrow IPC file, record batch ``row_group``'s block)."""
    _non_negative("rowGroup", row_group)
    fields: dict = {"kind": "chunk", "path": _path(path), "rowGroup": row_group}
    if column is not None:
        fields["column"] = column
    return _encode(fields)


def batches(path: str, row_groups: Optional[Iterable[int]] = None, columns: Optional[Iterable[str]] = None) -> bytes:
    """Decoded record batches of the chosen row groups and columns (all when omitted), as pyarrow would read them."""
    fields: dict = {"kind": "batches", "path": _path(path)}
    if row_groups is not None:
        groups = list(row_groups)
        for g in groups:
            _non_negative("rowGroups", g)
        fields["rowGroups"] = groups
    if columns is not None:
        names = list(columns)
        if not all(isinstance(c, str) and c for c in names):
            raise ValueError(f"'columns' are non-empty column names, not {names!r}")
        fields["columns"] = names
    return _encode(fields)


def _pyarrow_flight():
    try:
        from pyarrow import flight  # noqa: PLC0415
    except ImportError as e:
        raise ImportError("pyarrow is needed for Flight objects: pip install 'dora-fsspec[pyarrow]'; the ticket "
                          "builders (range_ticket, chunk, batches) work without it") from e
    return flight


def ticket(data: bytes) -> Any:
    """A ``pyarrow.flight.Ticket`` of a ticket built here."""
    return _pyarrow_flight().Ticket(data)


def client_for(fs, path: str, **kwargs: Any) -> Any:
    """A ``pyarrow.flight.FlightClient`` to the owner of ``path``, with the file system's token as a Bearer header."""
    flight = _pyarrow_flight()
    owner = fs.client.owners(_path(path))[0]
    if not owner.flight_uri:
        raise ValueError(f"worker {owner.id} advertises no Flight endpoint")
    client = flight.FlightClient(owner.flight_uri, **kwargs)
    token = fs.client.token
    if token:
        kwargs_headers = [(b"authorization", f"Bearer {token}".encode())]
        return _WithHeaders(client, flight.FlightCallOptions(headers=kwargs_headers))
    return client


class _WithHeaders:
    """A FlightClient whose calls carry the token."""

    def __init__(self, client: Any, options: Any):
        self._client, self._options = client, options

    def do_get(self, ticket: Any) -> Any:
        return self._client.do_get(ticket, options=self._options)

    def get_flight_info(self, descriptor: Any) -> Any:
        return self._client.get_flight_info(descriptor, options=self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
