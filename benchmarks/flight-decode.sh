#!/usr/bin/env bash
# Flight batches decode throughput: a worker of this build (Apache Arrow's C++ Parquet reader, through ParquetSharp)
# against a worker of the last build that decoded with Parquet.Net (commit fa063db), the same multi-type Parquet file
# (DuckDB, snappy, about 1 GB), the same client (every batches endpoint in turn, one warm-up pass, median of the rest).
# Prints rows/s, MB/s of Arrow data received and each worker's peak RSS (VmHWM).
#   benchmarks/flight-decode.sh [--rows 16000000] [--rounds 3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows=16000000
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
baseline_commit=fa063db
work="$(realpath -m "${DORA_BENCH_DIR:-benchmarks/.work}")/flight-decode"
mkdir -p "$work/data"
if [ ! -d tests/.tools/node_modules/@duckdb/node-api ]; then
  npm install --prefix tests/.tools --no-audit --no-fund --silent @duckdb/node-api@1.5.6-r.1 >/dev/null
fi
file="$work/data/multi.parquet"
if [ ! -f "$file.$rows" ]; then
  rm -f "$work/data/"*.parquet "$work/data/"*.parquet.*
  NODE_PATH="$PWD/tests/.tools/node_modules" node benchmarks/flight-decode/make-file.cjs "$file" "$rows"
  touch "$file.$rows"
fi
echo "file: $(du -m "$file" | cut -f1) MB, $rows rows"

dotnet build src/Dora.Cli -c Release -o "$work/new" --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
if [ ! -f "$work/old/dora.dll" ]; then
  rm -rf "$work/old-src"
  git worktree add --force --detach "$work/old-src" "$baseline_commit" >/dev/null 2>&1 || git -C "$work/old-src" checkout -q "$baseline_commit"
  dotnet build "$work/old-src/src/Dora.Cli" -c Release -o "$work/old" --nologo -v quiet -clp:"ErrorsOnly;NoSummary"
  git worktree remove --force "$work/old-src" >/dev/null 2>&1 || true
fi
dotnet build benchmarks/Dora.Benchmarks -c Release --nologo -v quiet -clp:"ErrorsOnly;NoSummary"

for build in old new; do
  rm -rf "$work/cache-$build" "$work/run-$build"
  mkdir -p "$work/run-$build"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$work/run-$build" && exec dotnet "$work/$build/dora.dll" local --ufs "$work/data" --workers 1 --cache-dir "$work/cache-$build" \
    --cache-size 8GiB --http-port 0 --stream-port 0 --flight-port "$port" --scheduler-port 0 >"$work/$build.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do
    if grep -q "is running" "$work/$build.log" 2>/dev/null; then break; fi
    sleep 0.2
  done
  result=$(dotnet artifacts/bin/Dora.Benchmarks/release/Dora.Benchmarks.dll decode-client --flight "grpc+tcp://127.0.0.1:$port" --path /multi.parquet --rounds "$rounds")
  rss=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "$build: $result workerPeakRssMiB=$rss"
done
