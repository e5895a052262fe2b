#!/usr/bin/env bash
# The Redis reference queue, and triage against it on the same machine, one after the other.
#
# The queue an integrator would otherwise hand-build: Redis with `appendonly yes` and
# `appendfsync always` (every write on disk before the answer, like triage's group commit), a
# sorted set per routing key scored by due time, a hash per ticket, and two Lua scripts:
# create.lua (an atomic create of a ticket of `triage bench`'s mix) and pull.lua (an atomic
# pull-next across one agent's eligible routing keys; agents.lua writes those, 72 keys in all
# as in src/bench/mix.rs). redis-benchmark drives it with 32 clients: N creates, then N pulls.
# redis-server's CPU is read before and after each (INFO cpu: used_cpu_user + used_cpu_sys,
# getrusage of the whole server, like triage's process_cpu_seconds_total).
#
# Then `triage bench --spawn --phased --hold` does the same on triage: N creates by 32
# creators, then 32 agents pull until all N are assigned (durable, one fsync per group commit
# before any answer), and reports its own server CPU per create and per assignment.
#
# Printed: both throughputs, both CPU per operation, and triage / Redis ratios (throughput
# above 1 and CPU below 1 favour triage). Figures from one run on one machine; the load
# generators share the cores with the servers, so throughput depends on them, CPU per
# operation far less.
#
# Not part of CI: it needs Redis. On Debian or Ubuntu:
#   apt-get install -y redis-server redis-tools
# (the packaged service need not run: this starts its own redis-server on loopback.)
#
# Usage: benches/redis-queue/run.sh [N]        (N tickets, default 20000)
# Environment: TRIAGE=path/to/triage (default: target/release/triage, built if missing),
#              REDIS_PORT (default 6399), CLIENTS (default 32).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-20000}"
clients="${CLIENTS:-32}"
port="${REDIS_PORT:-6399}"
triage="${TRIAGE:-$root/target/release/triage}"

for tool in redis-server redis-cli redis-benchmark awk; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool is missing: apt-get install -y redis-server redis-tools" >&2
        exit 2
    fi
done
if [[ ! -x "$triage" ]]; then
    echo "building triage (release)..." >&2
    (cd "$root" && cargo build --release --bin triage) >&2
fi

dir="$(mktemp -d -t redis-queue.XXXXXX)"
redis_pid=""
cleanup() {
    if [[ -n "$redis_pid" ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" \
    --appendonly yes --appendfsync always --daemonize no --logfile "$dir/redis.log" &
redis_pid=$!
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 100); do
    cli ping >/dev/null 2>&1 && break
    sleep 0.1
done
[[ "$(cli config get appendfsync | tail -1)" == always ]] || {
    echo "redis-server did not start with appendfsync always (see $dir/redis.log)" >&2
    exit 1
}

covered="$(cli eval "$(cat "$here/agents.lua")" 0 "$clients")"
[[ "$covered" == 72 ]] || { echo "the agents cover $covered routing keys, not 72" >&2; exit 1; }
create_sha="$(cli script load "$(cat "$here/create.lua")")"
pull_sha="$(cli script load "$(cat "$here/pull.lua")")"

# redis-server's CPU seconds so far (user + system, all its threads).
redis_cpu() {
    cli info cpu | tr -d '\r' | awk -F: '
        $1 == "used_cpu_user" || $1 == "used_cpu_sys" { s += $2 } END { printf "%.6f", s }'
}
# Tickets still queued, over every routing key.
queued() {
    cli eval "local n = 0
        for _, k in ipairs(redis.call('KEYS', 'queue:*')) do n = n + redis.call('ZCARD', k) end
        return n" 0
}
# Runs redis-benchmark N times EVALSHA <sha> 0 <random>; prints its requests per second.
drive() {
    redis-benchmark -p "$port" -c "$clients" -n "$n" -r 1000000000 --csv \
        evalsha "$1" 0 __rand_int__ | tr -d '"' | awk -F, 'NR == 2 { print $2 }'
}

echo "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), appendfsync always, $clients clients, $n tickets" >&2
cpu0="$(redis_cpu)"
create_rps="$(drive "$create_sha")"
cpu1="$(redis_cpu)"
created="$(cli get ticket:seq)"
pull_rps="$(drive "$pull_sha")"
cpu2="$(redis_cpu)"
left="$(queued)"
pulled=$((created - left))
# Pulls that found nothing (the agent drawn had no ticket left in its keys) cost CPU too;
# they are counted in, per ticket actually assigned, as triage's empty pulls are.
redis_create_us="$(awk -v a="$cpu0" -v b="$cpu1" -v n="$created" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
redis_pull_us="$(awk -v a="$cpu1" -v b="$cpu2" -v n="$pulled" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
redis_pulls_per_s="$(awk -v r="$pull_rps" -v p="$pulled" -v n="$n" 'BEGIN { printf "%.0f", r * p / n }')"

echo "Redis: $create_rps creates/s, $redis_pulls_per_s assignments/s; $redis_create_us µs per create, $redis_pull_us µs per pull ($pulled of $created assigned)" >&2
echo "triage bench --spawn --phased --hold --tickets $n --creators $clients --agents $clients" >&2
report="$("$triage" bench --spawn --phased --hold --tickets "$n" --creators "$clients" \
    --agents "$clients" --json)"
field() {
    grep -o "\"$1\": [0-9.e+-]*" <<<"$report" | head -1 | awk '{print $2}'
}
triage_create_rps="$(field creates_per_s)"
triage_pull_rps="$(field assignments_per_s)"
triage_create_us="$(field us_per_create)"
triage_pull_us="$(field us_per_assignment)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '%-22s %12s %12s %8s\n' "" Redis triage ratio
printf '%-22s %12.0f %12.0f %8s\n' "creates/s" "$create_rps" "$triage_create_rps" \
    "$(ratio "$triage_create_rps" "$create_rps")"
printf '%-22s %12.0f %12.0f %8s\n' "assignments/s" "$redis_pulls_per_s" "$triage_pull_rps" \
    "$(ratio "$triage_pull_rps" "$redis_pulls_per_s")"
printf '%-22s %12.1f %12.1f %8s\n' "server µs per create" "$redis_create_us" "$triage_create_us" \
    "$(ratio "$triage_create_us" "$redis_create_us")"
printf '%-22s %12.1f %12.1f %8s\n' "server µs per pull" "$redis_pull_us" "$triage_pull_us" \
    "$(ratio "$triage_pull_us" "$redis_pull_us")"
echo "(Redis: $created created, $pulled assigned by $n pulls; triage: $(field created) created, $(field assigned) assigned)"
