#!/usr/bin/env bash
# Fuzzes Dora's parsers of untrusted bytes with afl-fuzz and SharpFuzz; see fuzz/README.md.
#
#   fuzz/run.sh [TARGET|all] [SECONDS]     default: all targets, 600 seconds each
#
# Each target starts from fuzz/corpus/TARGET and fuzz/regressions/TARGET. Every input that makes a target fail (an
# exception its callers do not expect, a hang, a crash of the process) is copied to fuzz/regressions/TARGET/, which the
# test suite replays, and the script exits 1. Prints one line per target: "fuzz TARGET: ok|FAILED (...)".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

targets=(frame ticket parquet arrow range mount s3body s3xml sigv4)
which="${1:-all}"
seconds="${2:-600}"
if [ "$which" != all ]; then
  if [[ ! " ${targets[*]} " == *" $which "* ]]; then
    echo "fuzz/run.sh: no target '$which'; targets: ${targets[*]}" >&2
    exit 2
  fi
  targets=("$which")
fi
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz/run.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "fuzz/run.sh: afl-fuzz is required (apt-get install afl++)" >&2
  exit 1
fi

# SharpFuzz's command-line tool adds afl's coverage instrumentation to .NET assemblies.
tools="tests/.tools/dotnet"
if [ ! -x "$tools/sharpfuzz" ]; then
  if ! dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null 2>&1; then
    echo "fuzz/run.sh: could not install the sharpfuzz tool; run: dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path $tools" >&2
    exit 1
  fi
fi

work="fuzz/.work"
build="$work/instrumented"
rm -rf "$build"
mkdir -p "$work"
if ! dotnet build fuzz/Dora.Fuzz -c Release --nologo -v q -o "$build" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "fuzz/run.sh: the fuzzing harness did not build" >&2
  exit 1
fi

# Dora's parsers and the decoder behind the parquet target; the rest of the process runs uninstrumented.
for assembly in Dora.Core Dora.Formats Dora.Worker Dora.Flight Dora.S3Gateway Parquet; do
  if ! "$tools/sharpfuzz" "$build/$assembly.dll" >/dev/null; then
    echo "fuzz/run.sh: could not instrument $assembly.dll" >&2
    exit 1
  fi
done

# SharpFuzz runs every input inside one .NET process (afl's persistent mode): no core dumps or CPU binding are
# needed, and a process that only starts a runtime is not mistaken for a non-instrumented binary.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1

failed=0
for target in "${targets[@]}"; do
  seeds="$work/seeds/$target"
  findings="$work/findings/$target"
  rm -rf "$seeds" "$findings"
  mkdir -p "$seeds" "$work/findings" "fuzz/regressions/$target"
  cp fuzz/corpus/"$target"/* "$seeds"/
  cp fuzz/regressions/"$target"/* "$seeds"/ 2>/dev/null || true

  # -t: an input that takes over 5 s is a hang (the slowest seed takes milliseconds); -m none: .NET reserves address
  # space far beyond what it uses.
  afl-fuzz -V "$seconds" -t 5000 -m none -i "$seeds" -o "$findings" -- dotnet "$build/Dora.Fuzz.dll" "$target" >"$findings.log" 2>&1
  status=$?

  stats="$findings/default/fuzzer_stats"
  execs=$(sed -n 's/^execs_done *: *//p' "$stats" 2>/dev/null)
  rate=$(sed -n 's/^execs_per_sec *: *//p' "$stats" 2>/dev/null)
  found=0
  for input in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
    [ -f "$input" ] || continue
    kind=$(basename "$(dirname "$input")")
    name="${kind%s}-$(sha1sum "$input" | cut -c1-12)"
    cp "$input" "fuzz/regressions/$target/$name"
    found=$((found + 1))
  done

  # afl-fuzz stops when the process dies or hangs (SharpFuzz runs every input in one process): the input it was
  # running is the one to keep.
  if [ "$status" -ne 0 ] && [ -f "$findings/default/.cur_input" ]; then
    name="stopped-$(sha1sum "$findings/default/.cur_input" | cut -c1-12)"
    cp "$findings/default/.cur_input" "fuzz/regressions/$target/$name"
    echo "fuzz $target: the input running when afl-fuzz stopped is fuzz/regressions/$target/$name" >&2
  fi

  if [ "$status" -ne 0 ] || [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
    echo "fuzz $target: FAILED (afl-fuzz exited $status; see $findings.log)"
    tail -n 15 "$findings.log" >&2
    failed=1
  elif [ "$found" -gt 0 ]; then
    echo "fuzz $target: FAILED ($found failing inputs copied to fuzz/regressions/$target/; replay: dotnet run --project fuzz/Dora.Fuzz -c Release -- $target fuzz/regressions/$target)"
    failed=1
  else
    echo "fuzz $target: ok ($execs inputs in ${seconds}s, $rate/s)"
  fi
done

exit "$failed"
