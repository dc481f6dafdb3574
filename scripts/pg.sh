#!/usr/bin/env bash
# Start a local PostgreSQL for the test suite and print its SQLAlchemy URL on stdout.
#
# Installs Debian's postgresql package when absent, starts (or creates) a cluster listening on
# 127.0.0.1, creates the role and database `mana_test`, and prints
#   postgresql+asyncpg://mana_test:mana_test@127.0.0.1:PORT/mana_test
# Idempotent: a running cluster, an existing role or database are reused. Progress goes to
# stderr so `export MANA_TEST_PG_URL="$(bash scripts/pg.sh)"` captures only the URL.
set -euo pipefail

PG_USER="${MANA_PG_USER:-mana_test}"
PG_PASSWORD="${MANA_PG_PASSWORD:-mana_test}"
PG_DB="${MANA_PG_DB:-mana_test}"

log() { echo "pg.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    sudo -u postgres "$@"
  fi
}

install_postgres() {
  if command -v pg_lsclusters >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    return
  fi
  log "installing postgresql from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Print "version port" of the first cluster, creating one when there is none.
ensure_cluster() {
  local line
  line="$(pg_lsclusters --no-header 2>/dev/null | head -n 1 || true)"
  if [ -z "$line" ]; then
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    log "creating cluster $version/main"
    as_root pg_createcluster "$version" main >&2
    line="$(pg_lsclusters --no-header | head -n 1)"
  fi
  awk '{print $1, $2, $3, $4}' <<<"$line"
}

start_cluster() {
  local version="$1" name="$2" status="$3"
  if [ "$status" != "online" ]; then
    log "starting cluster $version/$name"
    as_root pg_ctlcluster "$version" "$name" start >&2
  fi
  local port
  port="$(pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $3}')"
  for _ in $(seq 1 50); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then
      echo "$port"
      return
    fi
    sleep 0.2
  done
  log "cluster $version/$name did not accept connections on 127.0.0.1:$port"
  exit 1
}

psql_admin() {
  local port="$1"
  shift
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
}

ensure_role_and_db() {
  local port="$1"
  if [ "$(psql_admin "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    log "creating role $PG_USER"
    psql_admin "$port" -c "CREATE ROLE \"$PG_USER\" LOGIN PASSWORD '$PG_PASSWORD'"
  else
    psql_admin "$port" -c "ALTER ROLE \"$PG_USER\" LOGIN PASSWORD '$PG_PASSWORD'"
  fi
  if [ "$(psql_admin "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    log "creating database $PG_DB"
    psql_admin "$port" -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
  fi
}

main() {
  install_postgres
  local version name port status
  read -r version name port status < <(ensure_cluster)
  port="$(start_cluster "$version" "$name" "$status")"
  ensure_role_and_db "$port"
  echo "postgresql+asyncpg://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
}

main "$@"
