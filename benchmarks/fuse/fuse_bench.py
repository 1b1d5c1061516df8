"""dora mount against its baselines, measured in the same run (issue 17): fio over the mount vs over the source
folder (warm OS cache: the limit) vs over bindfs on the same folder (what FUSE itself costs: a trivial passthrough),
and `dora cat` of the same file (the page stream, no FUSE). The mount runs on the worker's host, so it reads cached
pages from their files; a second mount with `--no-local-reads` shows what a mount whose owner is on another host gets. Hot (the file in the worker's cache) and cold (cache
emptied) for the mount; CPU seconds per GiB of the reader plus the serving daemon; peak RSS of the daemon.

    benchmarks/run.sh fuse [--file-mib 1024] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
DORA = ["dotnet", str(REPO / "artifacts" / "bin" / "Dora.Cli" / "release" / "dora.dll")]
TICKS = os.sysconf("SC_CLK_TCK")

JOBS = [
    ("sequential 1 MiB", "read", "1M", 1),
    ("sequential 1 MiB", "read", "1M", 4),
    ("random 4 KiB", "randread", "4k", 1),
    ("random 4 KiB", "randread", "4k", 16),
    ("random 256 KiB", "randread", "256k", 1),
    ("random 256 KiB", "randread", "256k", 16),
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that were waited for."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


def peak_rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fio(path: pathlib.Path, kind: str, block: str, jobs: int, seconds: float, daemon: int | None):
    before = cpu_seconds(daemon) if daemon else 0.0
    out = subprocess.run(["fio", "--name=b", f"--filename={path}", f"--rw={kind}", f"--bs={block}", f"--numjobs={jobs}",
                          "--ioengine=psync", "--invalidate=1", "--time_based", f"--runtime={seconds}", "--group_reporting",
                          "--output-format=json"], capture_output=True, text=True, check=True)
    spent = (cpu_seconds(daemon) - before) if daemon else 0.0
    job = json.loads(out.stdout)["jobs"][0]
    read = job["read"]
    gib = read["io_bytes"] / (1 << 30)
    client = (job["usr_cpu"] + job["sys_cpu"]) / 100 * seconds * jobs
    return {"mibs": read["bw_bytes"] / (1 << 20), "iops": read["iops"], "cpu_per_gib": (client + spent) / max(gib, 1e-9)}


def median(results):
    """The run with the median throughput (its CPU figure comes with it)."""
    return sorted(results, key=lambda r: r["mibs"])[len(results) // 2]


def wait_for(condition, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not happen")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="hot runs per job and path, alternating; the median is reported")
    args = parser.parse_args()
    work = REPO / "benchmarks" / ".work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as root:
        root = pathlib.Path(root)
        ufs, mnt, remote, bind = root / "ufs", root / "mnt", root / "remote", root / "bind"
        for d in (ufs, mnt, remote, bind):
            d.mkdir()
        big = ufs / "big.bin"
        subprocess.run(["dd", "if=/dev/urandom", f"of={big}", "bs=1M", f"count={args.file_mib}", "status=none"], check=True)
        local = subprocess.Popen([*DORA, "local", "--ufs", str(ufs), "--workers", "1", "--cache-dir", str(root / "cache"),
                                  "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0",
                                  "--cache-size", f"{args.file_mib + 512}MiB", "--consistency", "immutable"],
                                 cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        mount = network = bindfs = None
        try:
            wait_for(lambda: (root / ".dora" / "cluster.json").is_file(), "dora local")
            mount = subprocess.Popen([*DORA, "mount", str(mnt)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for(lambda: (mnt / "big.bin").exists(), "dora mount")
            # The same mount reading only over the network, as it does when the owner runs on another host.
            network = subprocess.Popen([*DORA, "mount", str(remote), "--no-local-reads"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for(lambda: (remote / "big.bin").exists(), "dora mount --no-local-reads")
            bindfs = subprocess.run(["bindfs", "-o", "ro", str(ufs), str(bind)], check=True)
            rows = []

            # Cold: before each job the worker's cache is emptied, so pages come from the folder through the worker.
            cold_rows = []
            for name, kind, block, jobs in JOBS:
                subprocess.run([*DORA, "evict", "/big.bin"], cwd=root, check=True, stdout=subprocess.DEVNULL)
                cold_rows.append((name, jobs, fio(mnt / "big.bin", kind, block, jobs, args.seconds, mount.pid)))
            cold = cold_rows[0][2]
            subprocess.run([*DORA, "load", "/big.bin", "--wait"], cwd=root, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)  # the folder in the OS cache

            started = time.perf_counter()
            subprocess.run([*DORA, "cat", "/big.bin"], cwd=root, check=True, stdout=subprocess.DEVNULL)
            cat_mibs = args.file_mib / (time.perf_counter() - started)

            # The paths take turns within each round, so a slow moment of the machine lands on all of them alike.
            for name, kind, block, jobs in JOBS:
                runs = [[], [], [], []]
                for _ in range(args.rounds):
                    runs[0].append(fio(big, kind, block, jobs, args.seconds, None))
                    runs[1].append(fio(bind / "big.bin", kind, block, jobs, args.seconds, None))
                    runs[2].append(fio(mnt / "big.bin", kind, block, jobs, args.seconds, mount.pid))
                    runs[3].append(fio(remote / "big.bin", kind, block, jobs, args.seconds, network.pid))
                rows.append((name, jobs, *(median(r) for r in runs)))

            print(f"dora mount, {args.file_mib} MiB file, fio psync {args.seconds:g} s per job, hot: median of {args.rounds} alternating rounds, one dora local worker, loopback")
            print()
            print("| hot reads | jobs | folder MiB/s (IOPS) | bindfs MiB/s (IOPS) | dora mount MiB/s (IOPS) | mount / bindfs | mount / folder | mount CPU s/GiB | network-only mount MiB/s (IOPS) | network-only / bindfs |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for name, jobs, folder, passthrough, dora, remote_dora in rows:
                print(f"| {name} | {jobs} | {folder['mibs']:.0f} ({folder['iops']:.0f}) | {passthrough['mibs']:.0f} ({passthrough['iops']:.0f}) | "
                      f"{dora['mibs']:.0f} ({dora['iops']:.0f}) | {dora['mibs'] / passthrough['mibs']:.2f} | {dora['mibs'] / folder['mibs']:.2f} | {dora['cpu_per_gib']:.2f} | "
                      f"{remote_dora['mibs']:.0f} ({remote_dora['iops']:.0f}) | {remote_dora['mibs'] / passthrough['mibs']:.2f} |")
            print()
            print(f"| sequential, other paths | MiB/s |")
            print("| --- | ---: |")
            print(f"| dora cat (page stream, one process, whole file) | {cat_mibs:.0f} |")
            print(f"| dora mount, cold (every page from the folder through the worker), 1 MiB, 1 job | {cold['mibs']:.0f} |")
            print(f"| dora mount, hot, 1 MiB, 1 job / dora cat | {rows[0][4]['mibs'] / cat_mibs:.2f} |")
            print()
            print("| cold reads (worker cache emptied before each job) | jobs | dora mount MiB/s (IOPS) | mount CPU s/GiB |")
            print("| --- | ---: | ---: | ---: |")
            for name, jobs, result in cold_rows:
                print(f"| {name} | {jobs} | {result['mibs']:.0f} ({result['iops']:.0f}) | {result['cpu_per_gib']:.2f} |")
            print()
            print(f"peak RSS of dora mount: {peak_rss_mib(mount.pid):.0f} MiB (network-only mount: {peak_rss_mib(network.pid):.0f} MiB)")
        finally:
            subprocess.run(["umount", str(bind)], stderr=subprocess.DEVNULL)
            for daemon in (mount, network):
                if daemon is not None:
                    os.killpg(daemon.pid, signal.SIGTERM)
                    daemon.wait(timeout=60)
            os.killpg(local.pid, signal.SIGTERM)
            local.wait(timeout=60)


if __name__ == "__main__":
    if shutil.which("fio") is None or shutil.which("bindfs") is None:
        raise SystemExit("fio and bindfs are needed: apt-get install fio bindfs (benchmarks/run.sh fuse installs them)")
    main()
