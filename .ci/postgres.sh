#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the database-source tests.
#
# Usage:   source .ci/postgres.sh      (exports PIPELINE_BUILDER_TEST_PG_URL)
#    or:   bash .ci/postgres.sh         (prints the URL on the last line of stdout)
#
# Installs PostgreSQL from Debian (apt-get) when no server binaries are present, keeps
# the cluster in $PIPELINE_BUILDER_PG_DIR (default /tmp/pipeline-builder-pg), listens
# on 127.0.0.1:$PIPELINE_BUILDER_PG_PORT (default 5432) only, and creates a role with a
# password plus a database for tests. Running it again reuses the running server.
# Settings (all optional): PIPELINE_BUILDER_PG_DIR, PIPELINE_BUILDER_PG_PORT,
# PIPELINE_BUILDER_PG_USER, PIPELINE_BUILDER_PG_PASSWORD, PIPELINE_BUILDER_PG_DB.

_pb_pg_main() {
    local dir="${PIPELINE_BUILDER_PG_DIR:-/tmp/pipeline-builder-pg}"
    local port="${PIPELINE_BUILDER_PG_PORT:-5432}"
    local user="${PIPELINE_BUILDER_PG_USER:-pipeline_test}"
    local password="${PIPELINE_BUILDER_PG_PASSWORD:-pipeline_test}"
    local db="${PIPELINE_BUILDER_PG_DB:-pipeline_test}"
    local url="postgresql+psycopg://${user}:${password}@127.0.0.1:${port}/${db}"

    # A server already accepting our role: nothing to do.
    if command -v psql >/dev/null 2>&1 \
        && PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$port" -U "$user" \
            -d "$db" -Atqc 'SELECT 1' >/dev/null 2>&1; then
        _pb_pg_done "$url"
        return 0
    fi

    local bindir
    bindir="$(_pb_pg_bindir)"
    if [ -z "$bindir" ]; then
        echo "postgres.sh: installing PostgreSQL with apt-get" >&2
        if [ "$(id -u)" != 0 ]; then
            echo "postgres.sh: PostgreSQL is not installed and this user cannot apt-get" >&2
            return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
        bindir="$(_pb_pg_bindir)"
        [ -n "$bindir" ] || { echo "postgres.sh: initdb not found after install" >&2; return 1; }
    fi

    # The server refuses to run as root: run it as the 'postgres' system user then.
    local -a as_owner=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || return 1
        as_owner=(runuser -u postgres --)
    fi

    mkdir -p "$dir" || return 1
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir" || return 1
    fi
    chmod 700 "$dir" || return 1

    if [ ! -f "$dir/data/PG_VERSION" ]; then
        # Local (unix socket inside $dir) connections are trusted for the admin steps;
        # TCP connections need a password, so wrong-password tests see a real failure.
        "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            return 1
        }
    fi

    if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        if "$bindir/pg_isready" -h 127.0.0.1 -p "$port" >/dev/null 2>&1; then
            echo "postgres.sh: another server already listens on 127.0.0.1:$port;" \
                "set PIPELINE_BUILDER_PG_PORT to use a different port" >&2
            return 1
        fi
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 || {
            tail -n 20 "$dir/server.log" >&2
            return 1
        }
    fi

    local -a admin=("${as_owner[@]}" "$bindir/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -Atq)
    "${admin[@]}" -d postgres -v user="$user" -v password="$password" >&2 <<'SQL' || return 1
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'user', :'password') \gexec
SQL
    "${admin[@]}" -d postgres -v user="$user" -v db="$db" >&2 <<'SQL' || return 1
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
    _pb_pg_done "$url"
}

_pb_pg_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate="$(pg_config --bindir 2>/dev/null || true)"
        if [ -x "$candidate/initdb" ]; then
            echo "$candidate"
            return 0
        fi
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/initdb" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 0  # nothing found: the caller installs PostgreSQL
}

_pb_pg_done() {
    export PIPELINE_BUILDER_TEST_PG_URL="$1"
    echo "$1"
}

# Sourced: keep the caller's shell options and report failure through the status.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    _pb_pg_main
else
    _pb_pg_main || exit 1
fi
