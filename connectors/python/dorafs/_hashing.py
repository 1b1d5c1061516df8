"""Who owns a path: the placement rules of ``docs/hashing.md``, computed exactly as every Dora process computes them.

Every policy a cluster can run (``--hash-policy NAME[:VALUE]``) is here, so a Python client routes to the same worker
as the C# client, the scheduler and the Flight server. The test vectors of ``docs/hashing.md`` are checked by
``tests/test_hashing.py``.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import xxhash

_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
GOLDEN = 0x9E3779B97F4A7C15


def xxh64(text: str, seed: int = 0) -> int:
    """XXH64 of the UTF-8 bytes of ``text`` with a 64-bit seed."""
    return xxhash.xxh64_intdigest(text.encode("utf-8"), seed)


def mix(x: int) -> int:
    """The SplitMix64 finalizer."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def fold(x: int) -> int:
    """A 64-bit hash folded to 32 bits."""
    return (x ^ (x >> 32)) & _MASK32


def fmix32(x: int) -> int:
    """The MurmurHash3 32-bit finalizer."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & _MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & _MASK32
    return x ^ (x >> 16)


def reduce(x: int, n: int) -> int:
    """``floor(x * n / 2^64)``."""
    return (x * n) >> 64


def probe(h: int, i: int) -> int:
    """Derived probe ``i`` of a key hash."""
    return mix((h + i * GOLDEN) & _MASK64)


@dataclass(frozen=True)
class Member:
    """A worker as the ring sees it: its id and its (relative) weight."""

    id: str
    weight: float = 1.0


def _relative_to_mean(members: Sequence[Member]) -> List[float]:
    mean = sum(m.weight for m in members) / len(members)
    return [m.weight / mean for m in members]


def _point_count(relative_weight: float, per_unit: int) -> int:
    # C#'s Math.Round(..., MidpointRounding.AwayFromZero) of a positive number.
    return max(1, int(math.floor(relative_weight * per_unit + 0.5)))


def _distinct_walk(owners: Sequence[int], start: int, wanted: int, found: Optional[List[int]] = None) -> List[int]:
    """Distinct owners met walking ``owners`` circularly from ``start`` (after those already ``found``)."""
    result = list(found or [])
    index = start
    for _ in range(len(owners)):
        if len(result) >= wanted:
            break
        if owners[index] not in result:
            result.append(owners[index])
        index = 0 if index + 1 == len(owners) else index + 1
    return result


class _PointRing:
    """Points on the 64-bit circle, each owned by a member index, ordered by position then member index."""

    def __init__(self, points: List[Tuple[int, int]]):
        points.sort()
        self.positions = [p for p, _ in points]
        self.owners = [m for _, m in points]

    def successor(self, position: int) -> int:
        index = bisect.bisect_left(self.positions, position)
        return 0 if index == len(self.positions) else index

    def collect_distinct(self, start: int, wanted: int, found: Optional[List[int]] = None) -> List[int]:
        return _distinct_walk(self.owners, start, wanted, found)

    @staticmethod
    def with_virtual_nodes(members: Sequence[Member], per_unit: int) -> "_PointRing":
        weights = _relative_to_mean(members)
        points = []
        for m, member in enumerate(members):
            for r in range(_point_count(weights[m], per_unit)):
                points.append((xxh64(member.id, r), m))
        return _PointRing(points)


class Placement:
    """One policy built over one membership: the owner and the ordered owners (replicas, failover order) of a path."""

    def __init__(self, members: Sequence[Member]):
        self.members = list(members)

    def position_of(self, path: str) -> int:
        return xxh64(path, 0)

    def owner_index(self, position: int) -> int:
        raise NotImplementedError

    def owner_indexes(self, position: int, count: int) -> List[int]:
        raise NotImplementedError


class _Rendezvous(Placement):
    def __init__(self, members: Sequence[Member]):
        super().__init__(members)
        self.seeds = [fold(xxh64(m.id, 0)) for m in members]
        equal = all(m.weight == members[0].weight for m in members)
        self.weights = None if equal else _relative_to_mean(members)

    def _score(self, key: int, m: int) -> float:
        score = fmix32(key ^ self.seeds[m])
        if self.weights is None:
            return score
        return self.weights[m] / -math.log((score + 0.5) / 4294967296.0)

    def owner_index(self, position: int) -> int:
        key = fold(position)
        best, best_score = 0, -1.0
        for m in range(len(self.seeds)):
            score = self._score(key, m)
            if score > best_score:
                best, best_score = m, score
        return best

    def owner_indexes(self, position: int, count: int) -> List[int]:
        key = fold(position)
        scored = [(-self._score(key, m), m) for m in range(len(self.seeds))]
        scored.sort()
        return [m for _, m in scored[:count]]


class _Ring(Placement):
    def __init__(self, members: Sequence[Member], virtual_nodes: int = 256):
        super().__init__(members)
        self.ring = _PointRing.with_virtual_nodes(members, virtual_nodes)

    def owner_index(self, position: int) -> int:
        return self.ring.owners[self.ring.successor(position)]

    def owner_indexes(self, position: int, count: int) -> List[int]:
        return self.ring.collect_distinct(self.ring.successor(position), min(count, len(self.members)))


class _Ketama(_Ring):
    POINTS_PER_MEMBER = 160

    def __init__(self, members: Sequence[Member]):
        Placement.__init__(self, members)
        weights = _relative_to_mean(members)
        points = []
        for m, member in enumerate(members):
            for i in range(max(1, int(math.floor(weights[m] * self.POINTS_PER_MEMBER / 4)))):
                digest = hashlib.md5(f"{member.id}-{i}".encode("utf-8")).digest()
                for h in range(4):
                    points.append((int.from_bytes(digest[h * 4:h * 4 + 4], "little") << 32, m))
        self.ring = _PointRing(points)

    def position_of(self, path: str) -> int:
        return int.from_bytes(hashlib.md5(path.encode("utf-8")).digest()[:4], "little") << 32


def _jump_bucket(key: int, buckets: int) -> int:
    bucket, following = -1, 0
    while following < buckets:
        bucket = following
        key = (key * 2862933555777941757 + 1) & _MASK64
        following = int((bucket + 1) * (float(1 << 31) / ((key >> 33) + 1)))
    return bucket


def _probe_sequence(placement: Placement, position: int, count: int) -> List[int]:
    """Owners by probing the key hash, then ``Mix(h + i * Golden)``, then the remaining members in index order."""
    wanted = min(count, len(placement.members))
    owners: List[int] = []
    for i in range(64):
        if len(owners) >= wanted:
            break
        owner = placement.owner_index(position if i == 0 else probe(position, i))
        if owner not in owners:
            owners.append(owner)
    for m in range(len(placement.members)):
        if len(owners) >= wanted:
            break
        if m not in owners:
            owners.append(m)
    return owners


class _Jump(Placement):
    MAX_BUCKETS_PER_MEMBER = 64

    def __init__(self, members: Sequence[Member]):
        super().__init__(members)
        lightest = min(m.weight for m in members)
        self.buckets = []
        for m, member in enumerate(members):
            self.buckets += [m] * min(self.MAX_BUCKETS_PER_MEMBER, _point_count(member.weight / lightest, 1))

    def owner_index(self, position: int) -> int:
        return self.buckets[_jump_bucket(position, len(self.buckets))]

    def owner_indexes(self, position: int, count: int) -> List[int]:
        return _probe_sequence(self, position, count)


class _MultiProbe(Placement):
    def __init__(self, members: Sequence[Member], probes: int = 21):
        super().__init__(members)
        self.probes = probes
        self.ring = _PointRing([(xxh64(m.id, 0), i) for i, m in enumerate(members)])
        equal = all(m.weight == members[0].weight for m in members)
        self.inverse = None if equal else [1 / w for w in _relative_to_mean(members)]

    def _closest(self, position: int) -> int:
        best, best_distance = 0, math.inf
        for i in range(self.probes):
            p = probe(position, i)
            point = self.ring.successor(p)
            gap = (self.ring.positions[point] - p) & _MASK64
            distance = float(gap) if self.inverse is None else gap * self.inverse[self.ring.owners[point]]
            if distance < best_distance:
                best, best_distance = point, distance
        return best

    def owner_index(self, position: int) -> int:
        return self.ring.owners[self._closest(position)]

    def owner_indexes(self, position: int, count: int) -> List[int]:
        return self.ring.collect_distinct(self._closest(position), min(count, len(self.members)))


class _Maglev(Placement):
    DEFAULT_TABLE_SIZE = 1_048_573

    def __init__(self, members: Sequence[Member], size: int = DEFAULT_TABLE_SIZE):
        super().__init__(members)
        if size < 3 or any(size % d == 0 for d in range(2, int(math.isqrt(size)) + 1)):
            raise ValueError(f"the Maglev table size must be a prime of at least 3, not {size}")
        n = len(members)
        offset = [xxh64(m.id, 1) % size for m in members]
        skip = [xxh64(m.id, 2) % (size - 1) + 1 for m in members]
        following = [0] * n
        heaviest = max(m.weight for m in members)
        credit = [0.0] * n
        table = [-1] * size
        filled = 0
        while filled < size:
            for m in range(n):
                if filled >= size:
                    break
                credit[m] += members[m].weight / heaviest
                while credit[m] >= 1 and filled < size:
                    credit[m] -= 1
                    while True:
                        slot = (offset[m] + following[m] * skip[m]) % size
                        following[m] += 1
                        if table[slot] < 0:
                            break
                    table[slot] = m
                    filled += 1
        self.table = table

    def owner_index(self, position: int) -> int:
        return self.table[reduce(position, len(self.table))]

    def owner_indexes(self, position: int, count: int) -> List[int]:
        return _distinct_walk(self.table, reduce(position, len(self.table)), min(count, len(self.members)))


class _BoundedLoad(Placement):
    SLOT_BITS = 20
    VIRTUAL_NODES = 64

    def __init__(self, members: Sequence[Member], epsilon: float = 0.05):
        super().__init__(members)
        if not math.isfinite(epsilon) or epsilon <= 0:
            raise ValueError(f"the bounded-load epsilon must be greater than 0, not {epsilon}")
        weights = _relative_to_mean(members)
        self.ring = _PointRing.with_virtual_nodes(members, self.VIRTUAL_NODES)
        slots = 1 << self.SLOT_BITS
        capacity = [math.ceil((1 + epsilon) * slots * weights[m] / len(members)) for m in range(len(members))]
        load = [0] * len(members)
        table = [0] * slots
        positions, owners, count = self.ring.positions, self.ring.owners, len(self.ring.positions)
        for s in range(slots):
            point = self.ring.successor(mix(s))
            while load[owners[point]] >= capacity[owners[point]]:
                point = 0 if point + 1 == count else point + 1
            load[owners[point]] += 1
            table[s] = owners[point]
        self.table = table
        del positions

    def owner_index(self, position: int) -> int:
        return self.table[position >> (64 - self.SLOT_BITS)]

    def owner_indexes(self, position: int, count: int) -> List[int]:
        slot = position >> (64 - self.SLOT_BITS)
        return self.ring.collect_distinct(self.ring.successor(mix(slot)), min(count, len(self.members)), [self.table[slot]])


def _int_value(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"hash policy '{name}' takes a whole number, not '{value}'") from None


_POLICIES: Dict[str, Callable[[Sequence[Member], Optional[str]], Placement]] = {
    "rendezvous": lambda members, value: _Rendezvous(members),
    "maglev": lambda members, value: _Maglev(members, _int_value("maglev", value) if value else _Maglev.DEFAULT_TABLE_SIZE),
    "ring": lambda members, value: _Ring(members, _int_value("ring", value) if value else 256),
    "ketama": lambda members, value: _Ketama(members),
    "jump": lambda members, value: _Jump(members),
    "multi-probe": lambda members, value: _MultiProbe(members, _int_value("multi-probe", value) if value else 21),
    "bounded-load": lambda members, value: _BoundedLoad(members, float(value) if value else 0.05),
}

POLICY_NAMES = tuple(_POLICIES)


class HashRing:
    """A membership under one policy: members sorted by ordinal (UTF-16 code unit) order, as every Dora process sorts them."""

    def __init__(self, members: Sequence[Member], policy: str = "rendezvous"):
        name, _, value = policy.partition(":")
        name = name.strip().lower()
        if name not in _POLICIES:
            raise ValueError(f"unknown hash policy '{policy}': this client knows {', '.join(POLICY_NAMES)}")
        ordered = sorted(members, key=lambda m: m.id.encode("utf-16-be"))
        for a, b in zip(ordered, ordered[1:]):
            if a.id == b.id:
                raise ValueError(f"worker id '{a.id}' appears twice in the membership")
        self.policy = policy
        self.members: List[Member] = ordered
        self._placement = _POLICIES[name](ordered, value or None) if ordered else None

    def __len__(self) -> int:
        return len(self.members)

    def owner_of(self, path: str) -> Member:
        """The owner of a normalized Dora path."""
        placement = self._require()
        return self.members[placement.owner_index(placement.position_of(path))]

    def owners_of(self, path: str, count: int) -> List[Member]:
        """The first ``count`` distinct owners of the path: the owner, then where a failed owner's reads go."""
        placement = self._require()
        return [self.members[i] for i in placement.owner_indexes(placement.position_of(path), max(1, count))]

    def _require(self) -> Placement:
        if self._placement is None:
            raise ConnectionError("the cluster has no workers")
        return self._placement
