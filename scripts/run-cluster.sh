#!/usr/bin/env bash
# A Custos cluster on one machine, to see it work: a throwaway PostgreSQL 15 (in $CLUSTER_DIR/postgres),
# two `custos serve` nodes on one store and one SoftHSM token, and HAProxy in front of them.
#
#   scripts/run-cluster.sh            # or: make run-cluster
#   curl -H "Authorization: Bearer $(cat .custos-cluster/node/admin.token)" http://127.0.0.1:8440/v1/keys
#
# HAProxy listens on $CLUSTER_PORT (8440) and spreads requests over the nodes (8441, 8442), checking
# /v1/ready every second; its statistics are on 8449. Kill a node (kill -9) and the other serves on;
# Ctrl-C stops everything. CUSTOS_BINARY picks the binary (default: the debug build); CLUSTER_PG_OPTIONS
# adds postgres options (the tests turn fsync off: they kill nodes, not the database's host).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CLUSTER_DIR:-$root/.custos-cluster}
port=${CLUSTER_PORT:-8440}
pg_port=${CLUSTER_PG_PORT:-8432}
custos=${CUSTOS_BINARY:-$root/.build/debug/custos}
pg_bin=/usr/lib/postgresql/15/bin

for tool in haproxy "$pg_bin/initdb" "$custos"; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (make run-cluster installs and builds)" >&2; exit 1; }
done
mkdir -p "$dir/node" "$dir/logs"

# PostgreSQL refuses to run as root: the server runs as the postgres user when this script runs as root.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then as_pg=(runuser -u postgres --); fi
if [[ ! -f "$dir/postgres/PG_VERSION" ]]; then
    mkdir -p "$dir/postgres"
    if [[ ${#as_pg[@]} -gt 0 ]]; then
        chown postgres "$dir/postgres"
        chmod o+x "$dir"  # the postgres user reaches its directory, nothing else here
    fi
    "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/postgres" -U custos --auth=trust >"$dir/logs/initdb.log"
fi
# The server's log is in its own directory (the postgres user writes it).
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/postgres" -l "$dir/postgres/server.log" -w \
    -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 ${CLUSTER_PG_OPTIONS:-}" start >/dev/null
url="postgres://custos@127.0.0.1:$pg_port/postgres"

pids=()
stop() {
    trap - INT TERM EXIT
    echo "stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/postgres" -m fast stop >/dev/null 2>&1 || true
}
trap stop INT TERM EXIT

# The first node makes the token, its PINs and the administrator; the second starts once it serves.
for n in 1 2; do
    "$custos" serve --data-dir "$dir/node" --store "$url" --port $((port + n)) >"$dir/logs/node$n.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do
        grep -q "press Ctrl-C to stop" "$dir/logs/node$n.log" && break
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/logs/node$n.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "node $n serves on 127.0.0.1:$((port + n)) (log $dir/logs/node$n.log)"
done

cat >"$dir/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch
frontend custos
    bind 127.0.0.1:$port
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /v1/ready
    default-server inter 1s fall 2 rise 2
    server node1 127.0.0.1:$((port + 1)) check
    server node2 127.0.0.1:$((port + 2)) check
listen stats
    bind 127.0.0.1:$((port + 9))
    stats enable
    stats uri /
CFG
haproxy -W -db -f "$dir/haproxy.cfg" >"$dir/logs/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=($haproxy_pid)
for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/health") == 200 ]] && break
    sleep 0.1
done
echo "HAProxy on http://127.0.0.1:$port in front of both nodes (statistics on :$((port + 9)))"
echo "store: $url; administrator token: $dir/node/admin.token; press Ctrl-C to stop"
# Until Ctrl-C (or HAProxy stops): a node killed meanwhile is what the cluster is for.
wait "$haproxy_pid" || true
