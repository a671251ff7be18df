#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a free loopback port and prints its connection string.
# Usage: eval "$(scripts/start-postgres.sh DIR)"   -> exports KENNEL_TEST_POSTGRES
# The cluster lives in DIR and is stopped with: scripts/start-postgres.sh --stop DIR
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

if [ "${1:-}" = "--stop" ]; then
    dir=$2
    [ -d "$dir/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    exit 0
fi

dir=${1:?usage: start-postgres.sh DIR}
mkdir -p "$dir"
chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
printf '%s\n' "$password" > "$dir/pwfile"
chown postgres:postgres "$dir/pwfile"
if ! runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U kennel --pwfile="$dir/pwfile" -A scram-sha-256 >"$dir/initdb.log" 2>&1; then
    echo "initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1
fi
rm -f "$dir/pwfile"
if ! runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=300" start >/dev/null; then
    echo "PostgreSQL did not start:" >&2; cat "$dir/postgres.log" >&2; exit 1
fi
echo "export KENNEL_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=kennel;Password=$password;Database=postgres'"
