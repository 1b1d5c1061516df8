"""Where the cluster is: a worker's HTTP URL, a ``.dora/cluster.json``, ``$DORA_REGISTRY`` or the nearest cluster file;
and who is in it, from a worker's ``GET /v1/workers`` (members, endpoints, hash policy, a version that changes with the
membership)."""

from __future__ import annotations

import json
import os
import pathlib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import List, Optional, Sequence
from urllib.parse import urlsplit

from ._hashing import HashRing, Member
from .errors import WorkerUnavailable


@dataclass(frozen=True)
class Worker:
    """A member of the cluster and how to reach it."""

    id: str
    host: str
    stream_port: int
    http_uri: str
    tls: bool
    capacity_bytes: int = 0
    flight_uri: str = ""


@dataclass(frozen=True)
class Membership:
    workers: Sequence[Worker]
    hash_policy: str
    version: str
    ring: HashRing

    def worker(self, worker_id: str) -> Worker:
        return next(w for w in self.workers if w.id == worker_id)


def _nearest_cluster_file(start: pathlib.Path) -> Optional[pathlib.Path]:
    for folder in [start, *start.parents]:
        candidate = folder / ".dora" / "cluster.json"
        if candidate.is_file():
            return candidate
    return None


def cluster_file(registry: Optional[str]) -> pathlib.Path:
    """The cluster file ``registry`` names (a file or a folder holding ``.dora/cluster.json``), or the nearest one."""
    if registry is None:
        found = _nearest_cluster_file(pathlib.Path.cwd())
        if found is None:
            raise FileNotFoundError(
                "no Dora cluster given: pass registry= (a worker's HTTP URL or a .dora/cluster.json), set DORA_REGISTRY, "
                "or run from a folder below one where `dora local` wrote .dora/cluster.json")
        return found
    path = pathlib.Path(registry)
    if path.is_dir():
        path = path / ".dora" / "cluster.json" if (path / ".dora").is_dir() else path / "cluster.json"
    if not path.is_file():
        raise FileNotFoundError(2, f"the cluster file '{path}' does not exist (registry is a worker's http:// URL or a cluster.json)", str(path))
    return path


def seed_urls(registry: Optional[str]) -> List[str]:
    """The worker HTTP URLs to ask for the membership, from the ``registry`` argument, ``$DORA_REGISTRY`` or the nearest
    ``.dora/cluster.json`` (searched from the working directory up)."""
    spec = registry or os.environ.get("DORA_REGISTRY")
    if spec is not None and spec.startswith(("http://", "https://")):
        return [spec.rstrip("/")]
    path = cluster_file(spec)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"the cluster file '{path}' is not JSON: {e}") from None
    urls = [w.get("httpUri") or f"http://{w['host']}:{w['httpPort']}" for w in document.get("workers", [])]
    if not urls:
        raise ValueError(f"the cluster file '{path}' lists no workers")
    return [u.rstrip("/") for u in urls]


def parse(document: dict, capacity_weights: Optional[bool] = None) -> Membership:
    """A ``GET /v1/workers`` answer as a membership with its ring."""
    workers = []
    for record in document["workers"]:
        stream = urlsplit(record["streamUri"]) if record.get("streamUri") else None
        workers.append(Worker(
            id=record["id"],
            host=stream.hostname if stream else record["host"],
            stream_port=stream.port if stream else int(record["streamPort"]),
            http_uri=(record.get("httpUri") or f"http://{record['host']}:{record['httpPort']}").rstrip("/"),
            tls=bool(record.get("tls")),
            capacity_bytes=int(record.get("capacityBytes") or 0),
            flight_uri=record.get("flightUri") or "",
        ))
    policy = document.get("hashPolicy") or "rendezvous"
    weighted = document.get("capacityWeights", False) if capacity_weights is None else capacity_weights
    members = [Member(w.id, _weight(w, workers) if weighted else 1.0) for w in workers]
    return Membership(workers, policy, str(document.get("version", "")), HashRing(members, policy))


def _weight(worker: Worker, workers: Sequence[Worker]) -> float:
    # docs/hashing.md, "Capacity weights": a worker advertising no capacity weighs as the smallest one that does.
    if worker.capacity_bytes > 0:
        return float(worker.capacity_bytes)
    known = [w.capacity_bytes for w in workers if w.capacity_bytes > 0]
    return float(min(known)) if known else 1.0


def fetch(urls: Sequence[str], token: Optional[str], tls: Optional[ssl.SSLContext], timeout: float) -> Membership:
    """The membership from the first of ``urls`` that answers ``GET /v1/workers``."""
    problems = []
    for url in urls:
        request = urllib.request.Request(url + "/v1/workers", headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=tls if url.startswith("https") else None) as answer:
                return parse(json.loads(answer.read()))
        except urllib.error.HTTPError as e:
            if e.code == 401:
                raise PermissionError(13, f"{url} refused the token (401): pass token= or set DORA_TOKEN") from None
            problems.append(f"{url}: HTTP {e.code}")
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"{url}: {e}")
    raise WorkerUnavailable("no worker answered GET /v1/workers: " + "; ".join(problems))
