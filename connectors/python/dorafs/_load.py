"""``dorafs.load``: ask the cluster's scheduler to preload a prefix (optionally some Parquet columns) and wait."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Iterable, Optional

from . import _membership


def _scheduler_url(registry: Optional[str], scheduler: Optional[str]) -> str:
    if scheduler:
        return scheduler.rstrip("/")
    spec = registry or os.environ.get("DORA_REGISTRY")
    if spec and spec.startswith(("http://", "https://")):
        raise ValueError("pass scheduler= (its URL): a worker URL does not say where the scheduler is; a .dora/cluster.json does")
    path = _membership.cluster_file(spec)
    record = json.loads(path.read_text(encoding="utf-8")).get("scheduler")
    if not record:
        raise ValueError(f"the cluster file '{path}' names no scheduler")
    return (record.get("url") or record.get("Url")).rstrip("/")


def load(path: str, columns: Optional[Iterable[str]] = None, registry: Optional[str] = None, token: Optional[str] = None,
         scheduler: Optional[str] = None, wait: bool = True, progress: bool = True, poll_seconds: float = 0.5) -> dict:
    """Submits a load job for ``path`` (a file, directory or pattern; with ``columns``, only those columns of Parquet
    files) and, with ``wait``, polls it to the end with a progress line on stderr. Returns the job document.

    Raises ``RuntimeError`` naming the first failures when the job fails or is cancelled.
    """
    base = _scheduler_url(registry, scheduler)
    token = token if token is not None else (os.environ.get("DORA_TOKEN") or "").split(",")[0].strip() or None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    spec: dict = {"type": "load", "path": path}
    if columns is not None:
        spec["columns"] = list(columns)

    def call(method: str, url: str, body: Optional[bytes] = None) -> dict:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            if e.code == 401:
                raise PermissionError(13, f"the scheduler refused the token: {detail}") from None
            raise ValueError(f"the scheduler answered {e.code}: {detail}") from None

    job = call("POST", f"{base}/api/v1/jobs", json.dumps(spec).encode())
    while wait and job["state"] in ("queued", "running"):
        if progress:
            p = job.get("progress", {})
            planned = max(1, p.get("bytesPlanned", 0))
            done = p.get("bytesLoaded", 0) + p.get("bytesSkipped", 0)
            sys.stderr.write(f"\rdora load {path}: {100 * done / planned:5.1f}% of {planned >> 20} MiB, "
                             f"{p.get('filesLoaded', 0) + p.get('filesSkipped', 0)}/{p.get('filesPlanned', 0)} files")
            sys.stderr.flush()
        time.sleep(poll_seconds)
        job = call("GET", f"{base}/api/v1/jobs/{job['id']}")
    if progress and wait:
        sys.stderr.write(f"\rdora load {path}: {job['state']}{' ' * 40}\n")
    if job["state"] in ("failed", "cancelled"):
        failures = "; ".join(f"{f['path']}: {f['reason']}" for f in job.get("failures", [])[:5])
        raise RuntimeError(f"load of {path} {job['state']}: {job.get('error') or ''} {failures}".strip())
    return job
