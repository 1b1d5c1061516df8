"""Hot reads from Python: dorafs (page stream) vs fsspec's HTTPFileSystem against Dora's HTTP API vs reading the local
file directly (the limit). One `dora local` worker over a generated file, its pages cached and in the OS page cache
before anything is timed; every reader reads the same bytes in the same order. Prints MiB/s, the ratios, and client CPU
seconds per GiB read.

    benchmarks/run.sh python [--file-mib 1024] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "connectors" / "python"))
import fsspec  # noqa: E402
from fsspec.implementations.http import HTTPFileSystem  # noqa: E402

import dorafs  # noqa: E402

MiB = 1 << 20


def measure(name, read_block, file_bytes, seconds, pattern, rng_seed=5):
    """Reads 1 MiB blocks (sequentially through the file, or at random 1 MiB-aligned offsets) for `seconds`."""
    rng = random.Random(rng_seed)
    blocks = file_bytes // MiB
    done = 0
    position = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        if pattern == "sequential":
            offset = position * MiB
            position = (position + 1) % blocks
        else:
            offset = rng.randrange(blocks) * MiB
        data = read_block(offset)
        if len(data) != MiB:
            raise RuntimeError(f"{name}: {len(data)} bytes at {offset}")
        done += len(data)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return done / MiB / wall, cpu / (done / (1 << 30))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    dora = REPO / "artifacts" / "bin" / "Dora.Cli" / "release" / "dora.dll"
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks" / ".work" if (REPO / "benchmarks" / ".work").is_dir() else None) as root:
        root = pathlib.Path(root)
        ufs = root / "ufs"
        ufs.mkdir()
        local = ufs / "big.bin"
        with open(local, "wb") as f:
            rng = random.Random(1)
            for _ in range(args.file_mib):
                f.write(rng.randbytes(MiB))
        process = subprocess.Popen(["dotnet", str(dora), "local", "--ufs", str(ufs), "--workers", "1", "--cache-dir", str(root / "cache"),
                                    "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0",
                                    "--cache-size", f"{args.file_mib + 512}MiB", "--consistency", "immutable"],
                                   cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            cluster = root / ".dora" / "cluster.json"
            deadline = time.time() + 120
            while not cluster.is_file():
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("dora local did not start")
                time.sleep(0.2)
            http = json.loads(cluster.read_text())["workers"][0]["httpUri"].rstrip("/")
            fs = dorafs.DoraFileSystem(registry=str(cluster))
            web = HTTPFileSystem()
            url = f"{http}/v1/data?path=/big.bin"
            # Warm: every page cached on the worker; the file in the OS page cache for the local reader.
            dorafs.load("/big.bin", registry=str(cluster), progress=False)
            with open(local, "rb") as f:
                while f.read(16 * MiB):
                    pass

            handle = open(local, "rb", buffering=0)

            def local_read(offset):
                return os.pread(handle.fileno(), MiB, offset)

            opened = fs.open("/big.bin", block_size=8 * MiB)

            def dora_stream(offset):
                opened.seek(offset)
                return opened.read(MiB)

            def dora_cat(offset):
                return fs.cat_file("/big.bin", offset, offset + MiB)

            def http_read(offset):
                return web.cat_file(url, start=offset, end=offset + MiB)

            size = local.stat().st_size
            rows = []
            for pattern, readers in (("sequential", [("local file (pread, the limit)", local_read),
                                                     ("dorafs open().read (page stream)", dora_stream),
                                                     ("fsspec HTTPFileSystem (Dora HTTP API)", http_read)]),
                                     ("random", [("local file (pread, the limit)", local_read),
                                                 ("dorafs cat_file (page stream)", dora_cat),
                                                 ("fsspec HTTPFileSystem (Dora HTTP API)", http_read)])):
                results = [(name, *measure(name, read, size, args.seconds, pattern)) for name, read in readers]
                rows.append((pattern, results))
            print(f"hot 1 MiB reads from Python of a {args.file_mib} MiB file, {args.seconds:g} s each, one dora local worker on loopback")
            for pattern, results in rows:
                local_mibs = results[0][1]
                http_mibs = results[2][1]
                print()
                print(f"| {pattern} 1 MiB reads | MiB/s | vs local file | vs HTTPFileSystem | client CPU s per GiB |")
                print("| --- | ---: | ---: | ---: | ---: |")
                for name, mibs, cpu in results:
                    print(f"| {name} | {mibs:.0f} | {mibs / local_mibs:.2f} | {mibs / http_mibs:.2f} | {cpu:.2f} |")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
