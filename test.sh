#!/usr/bin/env bash
# Runs every test project and ends with one line: "N passed, N failed" (", N skipped" when any were skipped).
# Exits non-zero when a test failed, the build failed, or no test ran. Installs what the tests need first.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK (dotnet) is required; see global.json for the version" >&2
  exit 1
fi

# Installs a Debian package unless the check that follows its name and purpose succeeds:
#   install_deb PACKAGE WHY CHECK-COMMAND...
install_deb() {
  local package="$1" why="$2"
  shift 2
  if "$@" >/dev/null 2>&1; then return 0; fi
  echo "test.sh: installing $package (apt-get) for $why" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if ! { $sudo apt-get install -y -qq "$package" >/dev/null 2>&1 || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$package" >/dev/null 2>&1; }; }; then
    echo "test.sh: could not install $package; install it (apt-get install $package) and run again" >&2
    exit 1
  fi
  if [ "$package" = etcd-server ]; then
    # The package also enables a system etcd service; the tests start their own on free loopback ports.
    $sudo systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
}

# The registry tests run a real etcd server (etcd-server); the secured-etcd tests set up users and roles with etcdctl
# (etcd-client), through deploy/etcd/dora-rbac.sh as operators do. The S3 gateway's compatibility tests run independent
# clients from Debian: the AWS CLI and boto3 on Debian's python3.
install_deb etcd-server "the registry tests" command -v etcd
install_deb etcd-client "the etcd RBAC tests" command -v etcdctl
install_deb awscli "the S3 compatibility tests" test -x /usr/bin/aws
install_deb python3-boto3 "the S3 compatibility tests" /usr/bin/python3 -c "import boto3"
# The Python connector (connectors/python) runs on Debian's python3 with Debian's packages: its dependencies (fsspec,
# xxhash), pytest, pandas for the dora:// round trips through pd.read_csv, and torch for DataLoaders over dora://.
install_deb python3-fsspec "the Python connector" /usr/bin/python3 -c "import fsspec"
install_deb python3-xxhash "the Python connector" /usr/bin/python3 -c "import xxhash"
install_deb python3-pytest "the Python connector's tests" /usr/bin/python3 -c "import pytest"
install_deb python3-pandas "the Python connector's pandas tests" /usr/bin/python3 -c "import pandas"
install_deb python3-torch "the Python connector's DataLoader tests" /usr/bin/python3 -c "import torch"

# npm packages the tests run, installed into tests/.tools (node and npm are required): s3rver, a real S3-compatible
# server for the S3 tests; DuckDB and apache-arrow (JS), independent writers and readers of Parquet and Arrow files for
# the Flight tests; the AWS SDK for JavaScript v3, an independent client of the S3 gateway.
npm_packages="s3rver@3.7.1 @duckdb/node-api@1.5.6-r.1 apache-arrow@21.2.0 @aws-sdk/client-s3@3.1175.0 @aws-sdk/lib-storage@3.1175.0"
if [ ! -f tests/.tools/node_modules/s3rver/bin/s3rver.js ] || [ ! -d tests/.tools/node_modules/@duckdb/node-api ] \
  || [ ! -d tests/.tools/node_modules/apache-arrow ] || [ ! -d tests/.tools/node_modules/@aws-sdk/lib-storage ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: node and npm are required for the S3 and Flight tests (apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "test.sh: installing $npm_packages (npm) into tests/.tools" >&2
  # shellcheck disable=SC2086
  if ! npm install --prefix tests/.tools --no-audit --no-fund --silent $npm_packages >/dev/null 2>&1; then
    echo "test.sh: could not install the npm packages; run: npm install --prefix tests/.tools $npm_packages" >&2
    exit 1
  fi
fi

# The fuzzing targets run under afl-fuzz (Debian's afl++); fuzz/run.sh installs SharpFuzz's instrumenting tool itself.
if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "test.sh: installing afl++ (apt-get) for the fuzzing targets" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if ! { $sudo apt-get install -y -qq afl++ >/dev/null 2>&1 || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq afl++ >/dev/null 2>&1; }; }; then
    echo "test.sh: could not install afl++; install it (apt-get install afl++) and run again" >&2
    exit 1
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# One test project at a time (-m:1): several run real servers and processes with timing checks, and on a 2-core
# machine running them all at once starves them.
dotnet test Dora.sln -c Release --nologo -m:1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly, e.g. "Passed!  - Failed:     0, Passed:    41, Skipped:     0, Total:    41".
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed: ' "$log" | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')

# The Python connector's tests (pytest, against clusters the fixtures start from the build above). pytest's last line
# says "N passed" and "N failed"/"N error"; errors count as failures.
py_log="$(mktemp)"
trap 'rm -f "$log" "$py_log"' EXIT
(cd connectors/python && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$py_log"
py_status=${PIPESTATUS[0]}
py_summary="$(tail -n 1 "$py_log")"
py_passed=$(grep -oE '[0-9]+ passed' <<<"$py_summary" | grep -oE '[0-9]+' || echo 0)
py_failed=$(( $(grep -oE '[0-9]+ failed' <<<"$py_summary" | grep -oE '[0-9]+' || echo 0) + $(grep -oE '[0-9]+ errors?' <<<"$py_summary" | grep -oE '[0-9]+' || echo 0) ))
py_skipped=$(grep -oE '[0-9]+ skipped' <<<"$py_summary" | grep -oE '[0-9]+' || echo 0)
if [ "$py_status" -ne 0 ] && [ "$py_failed" -eq 0 ]; then
  py_failed=1
fi
passed=$((passed + py_passed))
failed=$((failed + py_failed))
skipped=$((skipped + py_skipped))

# Every fuzzing target runs for a short while (fuzz/run.sh; FUZZ_SECONDS, 20 by default) and counts as one test: it
# passes when afl-fuzz ran it and found no input that makes it fail. Failing inputs land in fuzz/regressions/.
fuzz_log="$(mktemp)"
trap 'rm -f "$log" "$py_log" "$fuzz_log"' EXIT
fuzz/run.sh all "${FUZZ_SECONDS:-20}" 2>&1 | tee "$fuzz_log"
fuzz_status=${PIPESTATUS[0]}
fuzz_passed=$(grep -c '^fuzz [a-z]*: ok' "$fuzz_log")
fuzz_failed=$(grep -c '^fuzz [a-z]*: FAILED' "$fuzz_log")
if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then
  fuzz_failed=1
fi
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))

# A test project that did not build ran no tests: it counts as a failure, so the line never says "0 failed" then.
build_errors=$(grep -cE ': error [A-Z]+[0-9]+:' "$log" || true)
if [ "$status" -ne 0 ] && [ "$build_errors" -gt 0 ]; then
  echo "test.sh: the build failed ($build_errors errors above); the projects that did not build ran no tests" >&2
  failed=$((failed + 1))
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"

if [ "$status" -ne 0 ] || [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
