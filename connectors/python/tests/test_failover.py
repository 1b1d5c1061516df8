"""A worker killed in the middle of a read: the reader finishes on the next owner with the right bytes."""

from __future__ import annotations

import hashlib
import os
import signal

from dorafs import DoraFileSystem


def test_a_read_survives_the_owner_being_killed_mid_file(etcd_cluster):
    data = etcd_cluster["data"]
    fs = DoraFileSystem(registry=etcd_cluster["http"], skip_instance_cache=True)
    owner = fs.client.owners("/set/big.bin")[0]
    # Which process serves the owner: match its HTTP port.
    process = next(p for p, port in zip(etcd_cluster["workers"], etcd_cluster["http_ports"]) if owner.http_uri.endswith(f":{port}"))
    received = bytearray()
    with fs.open("/set/big.bin", block_size=4 << 20) as f:
        received += f.read(10 << 20)
        os.killpg(process.process.pid, signal.SIGKILL)
        process.process.wait()
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            received += chunk
    assert len(received) == len(data)
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(data).hexdigest()
    # The rest came from another worker: the client holds connections to it now.
    assert any(worker != owner.id for worker, pool in fs.client._idle.items() if pool)
    # Reads of the dead owner's paths keep working while its lease runs out and after.
    assert fs.cat_file("/set/big.bin", 123, 456) == data[123:456]
