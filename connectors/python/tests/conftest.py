"""Real clusters for the tests: ``dora local`` (three workers in one process, a token required) and, for failover,
three ``dora worker`` processes registered in a real etcd. Every port is a free loopback port; every process is
stopped at the end, also when a test fails."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "connectors" / "python"))
DORA = REPO / "artifacts" / "bin" / "Dora.Cli" / "release" / "dora.dll"
TOKEN = "python-tests-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path: pathlib.Path, size: int, seed: int) -> bytes:
    """Deterministic bytes that differ at every offset and between files."""
    import random
    data = random.Random(seed).randbytes(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


class DoraProcess:
    def __init__(self, args, cwd, env=None, log_name="dora.log"):
        if not DORA.is_file():
            raise RuntimeError(f"{DORA} is missing: build first (./test.sh does)")
        self.log_path = pathlib.Path(cwd) / log_name
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(["dotnet", str(DORA), *args], cwd=cwd, env={**os.environ, **(env or {})},
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, kill=False):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def wait_until(condition, what, process=None, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.process.poll() is not None:
            raise RuntimeError(f"dora exited while waiting for {what}:\n{process.output()}")
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen in {timeout} s" + (f":\n{process.output()}" if process else ""))


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory):
    """``dora local`` over a folder of test files, three workers, the token required."""
    root = tmp_path_factory.mktemp("local")
    ufs = root / "ufs"
    files = {}
    files["/data/small.bin"] = write_file(ufs / "data" / "small.bin", 1000, 1)
    files["/data/pages.bin"] = write_file(ufs / "data" / "pages.bin", 3 * (1 << 20) + 12345, 2)
    files["/data/big.bin"] = write_file(ufs / "data" / "big.bin", 40 << 20, 3)
    files["/data/empty.bin"] = write_file(ufs / "data" / "empty.bin", 0, 4)
    files["/data/ünïcode name.bin"] = write_file(ufs / "data" / "ünïcode name.bin", 5000, 5)
    (ufs / "tables").mkdir()
    (ufs / "tables" / "trips.csv").write_text("id,city,fare\n" + "".join(f"{i},city{i % 7},{i * 1.5}\n" for i in range(5000)))
    (ufs / "tables" / "trips.jsonl").write_text("".join(json.dumps({"id": i, "ok": i % 2 == 0}) + "\n" for i in range(3000)))
    # 10,000 small files in four folders of 2,500: listings take several pages.
    for i in range(10_000):
        (ufs / "many" / f"{i // 2500}").mkdir(parents=True, exist_ok=True)
        (ufs / "many" / f"{i // 2500}" / f"f{i:05d}.txt").write_text(f"file {i}\n")
    process = DoraProcess(["local", "--ufs", str(ufs), "--workers", "3", "--cache-dir", str(root / "cache"),
                           "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0",
                           "--cache-size", "1GiB"], cwd=root, env={"DORA_TOKEN": TOKEN})
    cluster_file = root / ".dora" / "cluster.json"
    try:
        wait_until(lambda: cluster_file.is_file(), "the cluster file", process)
        document = json.loads(cluster_file.read_text())
        yield {"root": root, "ufs": ufs, "files": files, "cluster_file": str(cluster_file), "document": document,
               "http": document["workers"][0]["httpUri"].rstrip("/"), "token": TOKEN, "process": process}
    finally:
        process.stop()


@pytest.fixture()
def fs(local_cluster):
    from dorafs import DoraFileSystem
    fs = DoraFileSystem(registry=local_cluster["cluster_file"], token=local_cluster["token"], skip_instance_cache=True)
    yield fs
    fs.client.close()


def _etcd_binary():
    return shutil.which("etcd") or "/usr/bin/etcd"


@pytest.fixture()
def etcd_cluster(tmp_path):
    """A real etcd and three ``dora worker`` processes over one folder; ``kill(i)`` kills worker i at once."""
    client_port, peer_port = free_port(), free_port()
    etcd = subprocess.Popen([_etcd_binary(), "--data-dir", str(tmp_path / "etcd"), "--name", "t",
                             "--listen-client-urls", f"http://127.0.0.1:{client_port}",
                             "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
                             "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                             "--initial-cluster", f"t=http://127.0.0.1:{peer_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers = []
    try:
        def etcd_up():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{client_port}/health", timeout=1) as r:
                    return b"true" in r.read()
            except OSError:
                return False
        wait_until(etcd_up, "etcd")
        ufs = tmp_path / "ufs"
        data = write_file(ufs / "set" / "big.bin", 64 << 20, 9)
        http_ports = []
        for i in range(3):
            http_port = free_port()
            http_ports.append(http_port)
            folder = tmp_path / f"w{i}"
            folder.mkdir()
            workers.append(DoraProcess(["worker", "--registry", f"etcd://127.0.0.1:{client_port}", "--ufs", str(ufs),
                                        "--cache-dir", str(folder / "cache"), "--http-port", str(http_port),
                                        "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "5",
                                        "--cache-size", "512MiB"], cwd=folder))

        def all_joined():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_ports[0]}/v1/workers", timeout=2) as r:
                    return len(json.loads(r.read())["workers"]) == 3
            except OSError:
                return False
        wait_until(all_joined, "three workers in the membership", workers[0])
        yield {"data": data, "http": f"http://127.0.0.1:{http_ports[0]}", "workers": workers, "http_ports": http_ports}
    finally:
        for worker in workers:
            worker.stop()
        os.killpg(etcd.pid, signal.SIGKILL)
        etcd.wait()
