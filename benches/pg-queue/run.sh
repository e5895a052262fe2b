#!/usr/bin/env bash
# The PostgreSQL reference queue, and triage on the same PostgreSQL, one after the other.
#
# The queue an integrator would otherwise hand-build on the database they already run: a table
# of tickets, a partial index of the queued ones by due time, a create as one INSERT and a pull
# as one SELECT ... ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED plus an UPDATE (schema.sql:
# plpgsql functions, so each is one round trip, as Redis's Lua scripts are in
# benches/redis-queue). pgbench drives it with CLIENTS connections: N creates, then N pulls,
# each a transaction committed with the server's defaults (fsync on, synchronous_commit on).
#
# Then a triage daemon on the same server (another database) and `triage bench --phased
# --hold` with CLIENTS creators and CLIENTS agents: N creates, then pulls until all N are
# assigned, every answer after its commit.
#
# Printed: both throughputs and the triage / SKIP LOCKED ratios. One run on one machine; the
# load generators share the cores with the servers.
#
# Not part of CI (it times things). Needs Debian's postgresql (initdb, pg_ctl, psql, pgbench).
# Usage: benches/pg-queue/run.sh [N]        (N tickets, default 20000)
# Environment: TRIAGE=path/to/triage (default: target/release/triage, built if missing),
#              PG_PORT (default 55433), CLIENTS (default 32), CONNECTIONS (triage bench's
#              HTTP/2 connections, default 4).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-20000}"
clients="${CLIENTS:-32}"
connections="${CONNECTIONS:-4}"
port="${PG_PORT:-55433}"
triage="${TRIAGE:-$root/target/release/triage}"

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
export PATH="$bin:$PATH"
for tool in initdb pg_ctl psql pgbench awk; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool is missing: apt-get install -y postgresql" >&2
        exit 2
    fi
done
if [[ ! -x "$triage" ]]; then
    echo "building triage (release)..." >&2
    (cd "$root" && cargo build --release --bin triage) >&2
fi

dir="$(mktemp -d -t pg-queue.XXXXXX)"
chmod 755 "$dir"
# initdb refuses root: run the server as the postgres user then.
as_pg() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
triage_pid=""
cleanup() {
    [[ -n "$triage_pid" ]] && kill "$triage_pid" 2>/dev/null && wait "$triage_pid" 2>/dev/null
    as_pg pg_ctl -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
[[ "$(id -u)" == 0 ]] && chown postgres "$dir"

as_pg initdb -D "$dir/data" -U postgres --auth=trust >/dev/null
as_pg pg_ctl -D "$dir/data" -l "$dir/data/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
sql() { psql -h 127.0.0.1 -p "$port" -U postgres -qAtX "$@"; }
sql -c "CREATE DATABASE queue" -c "CREATE DATABASE triage"
sql -d queue -f "$here/schema.sql" >/dev/null
covered="$(sql -d queue -c "SELECT make_agents($clients)")"
[[ "$covered" == 72 ]] || { echo "the agents cover $covered routing keys, not 72" >&2; exit 1; }

# pgbench SCRIPT: the transactions per second it reports (without connection time).
drive() {
    pgbench -h 127.0.0.1 -p "$port" -U postgres -n -M prepared -c "$clients" -j 2 \
        -t $((n / clients)) -f "$here/$1" queue 2>&1 |
        awk '/^tps = / { print $3; exit }'
}

echo "PostgreSQL $(sql -c 'SHOW server_version'), synchronous_commit $(sql -c 'SHOW synchronous_commit'), $clients clients, $n tickets" >&2
create_tps="$(drive create.sql)"
created="$(sql -d queue -c "SELECT count(*) FROM tickets")"
pull_tps="$(drive pull.sql)"
pulled="$(sql -d queue -c "SELECT count(*) FROM tickets WHERE state = 'assigned'")"
# Pulls that found nothing count as pulls; assignments/s counts only those that got a ticket.
pulls_per_s="$(awk -v r="$pull_tps" -v p="$pulled" -v n="$(( n / clients * clients ))" \
    'BEGIN { printf "%.0f", r * p / n }')"
echo "SKIP LOCKED: $create_tps creates/s, $pulls_per_s assignments/s ($pulled of $created assigned)" >&2

"$triage" serve --store "postgres://postgres@127.0.0.1:$port/triage" --data-dir "$dir/triage" \
    --grpc-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 >"$dir/triage.out" 2>"$dir/triage.err" &
triage_pid=$!
for _ in $(seq 300); do
    grep -q '^triage ready' "$dir/triage.out" && break
    sleep 0.1
done
ready="$(grep '^triage ready' "$dir/triage.out")" || { cat "$dir/triage.err" >&2; exit 1; }
grpc="$(grep -o 'grpc=[^ ]*' <<<"$ready" | cut -d= -f2)"
metrics="$(grep -o 'metrics=[^ ]*' <<<"$ready" | cut -d= -f2)"
echo "triage bench --phased --hold --tickets $n --creators $clients --agents $clients --connections $connections" >&2
report="$("$triage" bench --target "http://$grpc" --metrics "http://$metrics" --phased --hold \
    --tickets "$n" --creators "$clients" --agents "$clients" --connections "$connections" --json)"
field() {
    grep -o "\"$1\": [0-9.e+-]*" <<<"$report" | head -1 | awk '{print $2}'
}
triage_create_rps="$(field creates_per_s)"
triage_pull_rps="$(field assignments_per_s)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '%-16s %12s %12s %8s\n' "" "SKIP LOCKED" triage ratio
printf '%-16s %12.0f %12.0f %8s\n' "creates/s" "$create_tps" "$triage_create_rps" \
    "$(ratio "$triage_create_rps" "$create_tps")"
printf '%-16s %12.0f %12.0f %8s\n' "assignments/s" "$pulls_per_s" "$triage_pull_rps" \
    "$(ratio "$triage_pull_rps" "$pulls_per_s")"
echo "(SKIP LOCKED: $created created, $pulled assigned; triage: $(field created) created, $(field assigned) assigned, $(field reassigned) of them re-leased after the daemon took them back, $(field double_assigned) with two holders)"
