"""The placement rules agree with docs/hashing.md: its test vectors are read from the page itself, so the C# tests and
these check the same table."""

from __future__ import annotations

import pathlib
import re

import pytest

from dorafs._hashing import HashRing, Member, fmix32, fold, mix, xxh64

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "hashing.md"
MEMBERS = [f"worker-{c}" for c in "abcde"]


def _rows(header_start: str):
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index(header_start):]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


def test_xxh64_vectors():
    rows = _rows("| text | seed | XXH64 |")
    assert len(rows) >= 6
    for text, seed, expected in rows:
        assert f"{xxh64(text, int(seed)):016x}" == expected, (text, seed)


def test_mixers():
    assert mix(0) == 0
    assert mix(1) == 0x5692161D100B05E5
    assert fmix32(1) == 0x514E28B7
    assert fold(0x0123456789ABCDEF) == 0x88888888


OWNER_ROWS = _rows("| policy | path | owner | 3 owners | owner, worker-c weight 3 |")


@pytest.mark.parametrize("policy", sorted({row[0] for row in OWNER_ROWS}))
def test_owner_vectors(policy):
    rows = [row for row in OWNER_ROWS if row[0] == policy]
    assert len(rows) == 8
    plain = HashRing([Member(m) for m in MEMBERS], policy)
    weighted = HashRing([Member(m, 3.0 if m == "worker-c" else 1.0) for m in MEMBERS], policy)
    for _, path, owner, owners, weighted_owner in rows:
        assert plain.owner_of(path).id == owner, path
        assert [m.id for m in plain.owners_of(path, 3)] == owners.split(", "), path
        assert weighted.owner_of(path).id == weighted_owner, path


def test_every_documented_policy_is_known():
    text = DOCS.read_text(encoding="utf-8")
    policies = text[text.index("## Policies"):text.index("### Why rendezvous")]
    documented = set(re.findall(r"^\| `([a-z-]+)`", policies, re.MULTILINE))
    assert documented == {row[0] for row in OWNER_ROWS}
    for policy in documented:
        HashRing([Member("w")], policy)


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown hash policy 'cuckoo'"):
        HashRing([Member("w")], "cuckoo")


def test_members_are_ordered_by_utf16_code_units_whatever_order_they_come_in():
    forward = HashRing([Member(m) for m in MEMBERS])
    backward = HashRing([Member(m) for m in reversed(MEMBERS)])
    for i in range(200):
        path = f"/f/{i}"
        assert forward.owner_of(path) == backward.owner_of(path)


def test_an_empty_cluster_has_no_owner():
    with pytest.raises(ConnectionError, match="no workers"):
        HashRing([]).owner_of("/x")
