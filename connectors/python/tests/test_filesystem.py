"""dorafs against a running `dora local`: bytes, listings, routing, errors, concurrency, fork, pandas."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import subprocess
import threading

import fsspec
import pytest

from conftest import DORA


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_dora_protocol_is_registered_with_fsspec(local_cluster):
    import dorafs  # noqa: F401  (a pip install registers it by entry point; a checkout by import)
    fs = fsspec.filesystem("dora", registry=local_cluster["cluster_file"], token=local_cluster["token"], skip_instance_cache=True)
    assert type(fs).__name__ == "DoraFileSystem"
    with fsspec.open("dora://data/small.bin", registry=local_cluster["cluster_file"], token=local_cluster["token"]) as f:
        assert f.read() == local_cluster["files"]["/data/small.bin"]


def test_whole_files_and_random_ranges_are_byte_exact(fs, local_cluster):
    rng = random.Random(7)
    for path, data in local_cluster["files"].items():
        assert sha(fs.cat_file(path)) == sha(data), path
        for _ in range(20):
            start = rng.randrange(0, len(data) + 1)
            end = rng.randrange(start, len(data) + 1)
            assert fs.cat_file(path, start, end) == data[start:end], (path, start, end)
        assert fs.cat_file(path, -100) == data[-100:]
        assert fs.cat_file(path, len(data) + 10, len(data) + 20) == b""


def test_open_reads_sequentially_and_seeks(fs, local_cluster):
    data = local_cluster["files"]["/data/big.bin"]
    with fs.open("dora://data/big.bin", "rb") as f:
        assert f.size == len(data)
        chunks = []
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        assert sha(b"".join(chunks)) == sha(data)
        rng = random.Random(3)
        for _ in range(50):
            position = rng.randrange(0, len(data))
            f.seek(position)
            assert f.read(4096) == data[position:position + 4096]
        f.seek(-10, os.SEEK_END)
        assert f.read() == data[-10:]


def test_info_and_ls_give_the_detail_fsspec_expects(fs, local_cluster):
    info = fs.info("/data/pages.bin")
    assert info["type"] == "file" and info["size"] == len(local_cluster["files"]["/data/pages.bin"])
    assert info["etag"] and info["mtime"] > 0 and "cached_bytes" in info
    assert fs.info("/data")["type"] == "directory"
    names = fs.ls("/data", detail=False)
    assert sorted(names) == sorted(p for p in local_cluster["files"] if p.startswith("/data/"))
    assert fs.exists("/data/small.bin") and not fs.exists("/data/nope.bin")
    assert fs.isdir("/tables") and fs.isfile("/tables/trips.csv")
    assert fs.ukey("/data/pages.bin") == info["etag"]
    assert fs.checksum("/data/small.bin") == fs.checksum("/data/small.bin")


def test_listings_of_thousands_of_entries_page_through(fs):
    assert len(fs.ls("/many/0", detail=False)) == 2500
    found = fs.find("/many")
    assert len(found) == 10_000
    assert found == sorted(found)
    assert len(fs.glob("/many/*/f0000*.txt")) == 10
    assert fs.du("/many/1") == sum(len(f"file {i}\n") for i in range(2500, 5000))


def test_owners_are_the_ones_the_cluster_computes(fs, local_cluster):
    paths = fs.find("/many")
    assert len(paths) == 10_000
    out = subprocess.run(["dotnet", str(DORA), "stat", *paths, "--json", "--registry", "static:" + local_cluster["cluster_file"]],
                         cwd=local_cluster["root"], env={**os.environ, "DORA_TOKEN": local_cluster["token"]},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    decoder, position, owners = json.JSONDecoder(), 0, {}
    text = out.stdout
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        document, position = decoder.raw_decode(text, position)
        owners[document["path"]] = document["owner"]
    assert len(owners) == 10_000
    mismatched = [p for p in paths if fs.client.owners(p)[0].id != owners[p]]
    assert not mismatched, mismatched[:5]


def test_cat_ranges_fetches_many_ranges_at_once_and_exactly(fs, local_cluster):
    files = local_cluster["files"]
    rng = random.Random(11)
    paths, starts, ends = [], [], []
    for _ in range(300):
        path = rng.choice(["/data/big.bin", "/data/pages.bin", "/data/small.bin"])
        start = rng.randrange(0, len(files[path]))
        paths.append(path), starts.append(start), ends.append(min(len(files[path]), start + rng.randrange(1, 300_000)))
    results = fs.cat_ranges(paths, starts, ends)
    assert all(r == files[p][s:e] for r, p, s, e in zip(results, paths, starts, ends))


def test_threads_share_one_file_system(fs, local_cluster):
    data = local_cluster["files"]["/data/big.bin"]
    errors = []

    def reader(seed):
        rng = random.Random(seed)
        try:
            for _ in range(40):
                start = rng.randrange(0, len(data) - 100_000)
                assert fs.cat_file("/data/big.bin", start, start + 100_000) == data[start:start + 100_000]
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors[:3]


def _child_reads(fs, path, expected, queue):
    try:
        queue.put(sha(fs.cat_file(path)) == expected)
    except Exception as e:  # noqa: BLE001
        queue.put(repr(e))


def test_a_forked_child_opens_its_own_connections(fs, local_cluster):
    data = local_cluster["files"]["/data/pages.bin"]
    assert fs.cat_file("/data/pages.bin") == data  # the parent has pooled connections now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_child_reads, args=(fs, "/data/pages.bin", sha(data), queue)) for _ in range(2)]
    [c.start() for c in children]
    results = [queue.get(timeout=60) for _ in children]
    [c.join() for c in children]
    assert results == [True, True]
    assert fs.cat_file("/data/pages.bin") == data  # and the parent's connections still work


def test_errors_are_the_python_exceptions_users_expect(fs):
    with pytest.raises(FileNotFoundError):
        fs.cat_file("/data/nope.bin")
    with pytest.raises(FileNotFoundError):
        fs.info("/nowhere")
    with pytest.raises(IsADirectoryError):
        fs.cat_file("/data", 0, 10)
    with pytest.raises(ValueError, match="invalid"):
        fs.cat_file("/data/../etc/passwd")
    with pytest.raises(NotImplementedError, match="S3 gateway"):
        fs.open("/data/new.bin", "wb")
    with pytest.raises(NotImplementedError, match="S3 gateway"):
        fs.rm("/data/small.bin")


def test_the_token_is_required_and_a_wrong_one_refused(local_cluster):
    from dorafs import DoraFileSystem
    for token in (None, "wrong-token"):
        env_token = os.environ.pop("DORA_TOKEN", None)
        try:
            with pytest.raises(PermissionError):
                DoraFileSystem(registry=local_cluster["cluster_file"], token=token, skip_instance_cache=True).ls("/")
        finally:
            if env_token is not None:
                os.environ["DORA_TOKEN"] = env_token


def test_discovery_from_a_worker_url_and_from_the_environment(local_cluster, monkeypatch):
    from dorafs import DoraFileSystem
    by_url = DoraFileSystem(registry=local_cluster["http"], token=local_cluster["token"], skip_instance_cache=True)
    assert by_url.cat_file("/data/small.bin") == local_cluster["files"]["/data/small.bin"]
    monkeypatch.setenv("DORA_REGISTRY", local_cluster["cluster_file"])
    monkeypatch.setenv("DORA_TOKEN", local_cluster["token"])
    by_env = DoraFileSystem(skip_instance_cache=True)
    assert len(by_env.client.membership.workers) == 3
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DoraFileSystem(registry="/no/such/cluster.json", skip_instance_cache=True).ls("/")


def test_pandas_reads_csv_and_json_through_dora_urls(local_cluster):
    import pandas as pd
    options = {"registry": local_cluster["cluster_file"], "token": local_cluster["token"]}
    trips = pd.read_csv("dora://tables/trips.csv", storage_options=options)
    assert len(trips) == 5000 and list(trips.columns) == ["id", "city", "fare"]
    assert trips["fare"].sum() == pytest.approx(sum(i * 1.5 for i in range(5000)))
    rows = pd.read_json("dora://tables/trips.jsonl", lines=True, storage_options=options)
    assert len(rows) == 3000 and rows["ok"].sum() == 1500


def test_a_batch_stopped_early_is_cancelled_and_the_connection_stays_usable(fs, local_cluster):
    from dorafs._connection import ReadRequest
    data = local_cluster["files"]["/data/big.bin"]
    owner = fs.client.owners("/data/big.bin")[0]
    with fs.client._connection(owner) as connection:
        requests = [ReadRequest("/data/big.bin", i * (8 << 20), 8 << 20, memoryview(bytearray(8 << 20))) for i in range(4)]
        frames = []
        connection.read(requests, stop=lambda: frames.append(1) or len(frames) == 3)
        assert not connection.broken
        assert not all(r.done for r in requests)
        # The cancelled requests' frames were drained: the next batch on this connection reads exact bytes.
        again = ReadRequest("/data/big.bin", 5, 1 << 20, memoryview(bytearray(1 << 20)))
        connection.read([again])
        assert again.done and bytes(again.into) == data[5:5 + (1 << 20)]
