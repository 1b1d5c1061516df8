#!/usr/bin/env bash
# Runs the benchmarks (P5 cold read, page-hit throughput, P10 restart, metadata lookups, P7 hashing policies; with
# `stream`: P1-P4 hot reads against iperf3, Arrow Flight, nginx with sendfile, and pread; with `projection`: P9), each with its
# baseline measured in the same run, and prints the tables that go into benchmarks/RESULTS.md.
#   benchmarks/run.sh [read|restart|metadata|hashing|all] [--file-mib N] [--pages N] [--page-size N] [--entries N]
#                     [--keys N] [--workers 10,100,1000] [--policies rendezvous,maglev,...]
#   benchmarks/run.sh pages [--file-mib 4096] [--read-bytes 100000] [--window-kib 2048]        (issue 18: 1 MiB pages vs 64 MiB blocks)
#   benchmarks/run.sh stream [--file-mib 1024] [--seconds 5] [--sendfile-threshold BYTES]   (P1, P2, P3, P4)
#   benchmarks/run.sh flight [--file-mib 1024] [--rounds 5]                                     (P2b)
#   benchmarks/run.sh checksums [--file-mib 1024] [--seconds 3] [--rounds 3]                    (P16)
#   benchmarks/run.sh tls [--file-mib 1024] [--seconds 3] [--rounds 3]          (page stream, plaintext vs TLS)
#   benchmarks/run.sh s3gateway [--file-mib 1024] [--seconds 5] [--object-mib 256]   (S3 gateway vs nginx and s3rver; installs nginx-light, s3rver)
#   benchmarks/run.sh projection [--row-groups 8] [--rows 250000]                               (P9)
#   benchmarks/run.sh load [--files 64] [--file-mib 32] [--small-files 100000]                (P8; installs fio)
#     DORA_BENCH_CACHE=DIR puts the workers' caches on another device; DORA_BENCH_WORKERS=N (default 2)
#   benchmarks/run.sh s3 [--object-mib 256] [--rounds 3]   (S3 cold/hot vs direct AWSSDK reads; installs s3rver with npm)
#   benchmarks/run.sh loadprobe [--concurrency 8]   the storage engine's LOAD alone, no scheduler (diagnosis for P8)
#   benchmarks/run.sh python [--file-mib 1024] [--seconds 5]   dorafs vs fsspec HTTPFileSystem vs the local file (issue 16)
#   benchmarks/run.sh fuse [--file-mib 1024] [--seconds 5] [--rounds 3]  dora mount vs the folder vs bindfs vs dora cat (issue 17; root)
# The stream benchmark installs its baselines (iperf3, nginx-light) with apt-get when they are missing.
# Work files go to benchmarks/.work (DORA_BENCH_DIR to move them); the restart benchmark needs pages x page-size of disk
# twice over (4 GiB source + 4 GiB cache for the default million 4 KiB pages). DORA_READAHEAD sets the read-ahead
# pages of the engine under test (default 4, as a worker).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if [ "${1:-all}" = "stream" ] || [ "${1:-all}" = "s3gateway" ]; then
  missing=()
  command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
  command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    # The packages start system services; the benchmark runs its own instances on free loopback ports.
    $sudo systemctl disable --now nginx iperf3 >/dev/null 2>&1 || true
  fi
fi
if [ "${1:-all}" = "load" ] && ! command -v fio >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fio >/dev/null
fi
if { [ "${1:-all}" = "s3" ] || [ "${1:-all}" = "s3gateway" ]; } && [ ! -f tests/.tools/node_modules/s3rver/bin/s3rver.js ]; then
  npm install --prefix tests/.tools --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null
fi
if [ "${1:-all}" = "fuse" ]; then
  # fio over dora mount vs the folder vs bindfs vs dora cat; needs root (mounts) and Debian's fio and bindfs.
  for package in fio bindfs; do
    command -v "$package" >/dev/null 2>&1 || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"; $sudo apt-get install -y -qq "$package" >/dev/null; }
  done
  dotnet build src/Dora.Cli -c Release --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
  shift
  exec /usr/bin/python3 benchmarks/fuse/fuse_bench.py "$@"
fi
if [ "${1:-all}" = "python" ]; then
  # dorafs vs fsspec's HTTPFileSystem vs the local file; needs the CLI built and Debian's fsspec, xxhash, aiohttp.
  for package in python3-fsspec python3-xxhash python3-aiohttp; do
    dpkg -s "$package" >/dev/null 2>&1 || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"; $sudo apt-get install -y -qq "$package" >/dev/null; }
  done
  dotnet build src/Dora.Cli -c Release --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
  shift
  exec /usr/bin/python3 benchmarks/python/dorafs_bench.py "$@"
fi
dotnet build benchmarks/Dora.Benchmarks -c Release --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
/usr/bin/time -f "peak RSS (time -v): %M KiB, wall %e s" dotnet artifacts/bin/Dora.Benchmarks/release/Dora.Benchmarks.dll "${@:-all}"
