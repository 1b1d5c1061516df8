#!/usr/bin/env bash
# Runs the storage-engine and hashing benchmarks (P5 cold read, page-hit throughput, P10 restart, metadata lookups,
# P7 hashing policies), each with its
# baseline measured in the same run, and prints the tables that go into benchmarks/RESULTS.md.
#   benchmarks/run.sh [read|restart|metadata|hashing|all] [--file-mib N] [--pages N] [--page-size N] [--entries N]
#                     [--keys N] [--workers 10,100,1000] [--policies rendezvous,maglev,...]
# Work files go to benchmarks/.work (DORA_BENCH_DIR to move them); the restart benchmark needs pages x page-size of disk
# twice over (4 GiB source + 4 GiB cache for the default million 4 KiB pages). DORA_READAHEAD sets the read-ahead
# pages of the engine under test (default 4, as a worker).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
dotnet build benchmarks/Dora.Benchmarks -c Release --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
/usr/bin/time -f "peak RSS (time -v): %M KiB, wall %e s" dotnet artifacts/bin/Dora.Benchmarks/release/Dora.Benchmarks.dll "${@:-all}"
