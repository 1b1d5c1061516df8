"""dorafs.flight builds the tickets of docs/flight.md and checks their fields; it imports without pyarrow."""

from __future__ import annotations

import importlib.util
import json

import pytest

from dorafs import flight


def test_tickets_are_the_json_of_docs_flight_md():
    assert json.loads(flight.range_ticket("/t/a.parquet", 0, 1048576)) == {"kind": "range", "path": "/t/a.parquet", "offset": 0, "length": 1048576}
    assert json.loads(flight.range_ticket("/t/a.parquet")) == {"kind": "range", "path": "/t/a.parquet"}
    assert json.loads(flight.chunk("/t/a.parquet", 0, "fare")) == {"kind": "chunk", "path": "/t/a.parquet", "rowGroup": 0, "column": "fare"}
    assert json.loads(flight.chunk("/events.arrow", 2)) == {"kind": "chunk", "path": "/events.arrow", "rowGroup": 2}
    assert json.loads(flight.batches("/t/a.parquet", [0, 1], ["fare", "tip"])) == {
        "kind": "batches", "path": "/t/a.parquet", "rowGroups": [0, 1], "columns": ["fare", "tip"]}
    assert json.loads(flight.batches("/t/δ.parquet")) == {"kind": "batches", "path": "/t/δ.parquet"}


@pytest.mark.parametrize("build, message", [
    (lambda: flight.range_ticket("relative.parquet"), "absolute"),
    (lambda: flight.range_ticket("/a", offset=-1), "'offset'"),
    (lambda: flight.range_ticket("/a", length=True), "'length'"),
    (lambda: flight.chunk("/a", -2, "x"), "'rowGroup'"),
    (lambda: flight.batches("/a", columns=["ok", ""]), "'columns'"),
    (lambda: flight.batches("/a", columns=["c" * (70 << 10)]), "at most 65536"),
])
def test_bad_fields_are_refused_naming_them(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="checks the message shown without pyarrow")
def test_flight_objects_without_pyarrow_say_how_to_get_them():
    with pytest.raises(ImportError, match=r"dora-fsspec\[pyarrow\]"):
        flight.ticket(flight.range_ticket("/a"))
