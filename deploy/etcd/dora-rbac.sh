#!/bin/sh
# Sets up etcd users and roles so that each Dora worker may write only its own registry key, the scheduler only its
# own, and clients may only read (docs/registry.md). Run it once per cluster, and again to add workers; it is
# idempotent.
#
#   deploy/etcd/dora-rbac.sh CLUSTER SECRETS_DIR WORKER_ID...
#
# etcdctl is told where etcd is by its own environment: ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY.
# SECRETS_DIR holds one password file per user (root, scheduler, reader, and each worker id), created with a random
# password when missing (mode 0600); give each process its file with --etcd-password-file. Passwords never appear on
# a command line: etcdctl gets them on its standard input or in ETCDCTL_USER.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 CLUSTER SECRETS_DIR [WORKER_ID...]" >&2
  exit 2
fi

cluster=$1
secrets=$2
shift 2
prefix="/dora/$cluster/"

umask 077
mkdir -p "$secrets"

password_of() {
  file="$secrets/$1.password"
  if [ ! -s "$file" ]; then
    head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$file"
  fi
  cat "$file"
}

# Runs etcdctl; once auth is on, as root (ETCDCTL_USER keeps the password out of argv).
ctl() {
  if [ "${auth_enabled:-no}" = yes ]; then
    ETCDCTL_USER="root:$(password_of root)" etcdctl "$@"
  else
    etcdctl "$@"
  fi
}

# Runs a command whose "already exists"/"already granted" failure means there is nothing to do.
idempotent() {
  if ! output=$(ctl "$@" 2>&1); then
    case "$output" in
      *"already exists"*|*"already granted"*) ;;
      *) echo "$output" >&2; return 1 ;;
    esac
  fi
}

add_user() {
  if ! ctl user get "$1" >/dev/null 2>&1; then
    password_of "$1" | ctl user add "$1" --interactive=false >/dev/null
  fi
}

if ETCDCTL_USER="root:$(password_of root)" etcdctl auth status 2>/dev/null | grep -q 'Authentication Status: true'; then
  auth_enabled=yes
fi

add_user root
idempotent user grant-role root root

# Everyone in the cluster reads the membership and the scheduler's address.
idempotent role add dora-reader
idempotent role grant-permission dora-reader --prefix=true read "$prefix"
add_user reader
idempotent user grant-role reader dora-reader

idempotent role add dora-scheduler
idempotent role grant-permission dora-scheduler readwrite "${prefix}scheduler"
add_user scheduler
idempotent user grant-role scheduler dora-reader
idempotent user grant-role scheduler dora-scheduler

for worker in "$@"; do
  idempotent role add "dora-worker-$worker"
  idempotent role grant-permission "dora-worker-$worker" readwrite "${prefix}workers/$worker"
  add_user "$worker"
  idempotent user grant-role "$worker" dora-reader
  idempotent user grant-role "$worker" "dora-worker-$worker"
done

if [ "${auth_enabled:-no}" != yes ]; then
  ctl auth enable >/dev/null
fi

echo "etcd RBAC for cluster '$cluster': users root, scheduler, reader${*:+ and workers $*}; passwords in $secrets"
