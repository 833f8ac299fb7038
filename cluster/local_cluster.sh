#!/usr/bin/env bash
# A local multi-node Ray cluster on loopback: one head and two workers, each a separate
# Ray node (own raylet, object store, temp dir and custom resource), for tests and demos.
#
#   cluster/local_cluster.sh start            # head + worker_a + worker_b, prints the address
#   cluster/local_cluster.sh status           # nodes and resources (ray status)
#   cluster/local_cluster.sh stop-node NAME   # kill one node (worker_a / worker_b) at once,
#                                             # as a crash would (SIGKILL, no draining)
#   cluster/local_cluster.sh stop             # stop every node this script started
#
# Settings (environment):
#   PB_CLUSTER_DIR        state folder (address, ports, per-node temp dirs); default
#                         /tmp/pb-cluster. Keep it short: Ray's socket paths live under it.
#   PB_CLUSTER_CPUS       CPUs per node (default 1)
#   PB_CLUSTER_STORE_MB   object store per node in MB (default 100; Ray's minimum is 75)
#   PB_CLUSTER_DASHBOARD  1 (default) starts the dashboard on the head, needed by
#                         `ray job submit`; 0 skips it (lighter)
#   PB_CLUSTER_LOOPBACK_ONLY  1 (default): every node listens on 127.0.0.1 only (see
#                         below); drivers must then run with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0
#                         (the env file names it: `set -a; . $PB_CLUSTER_DIR/env; set +a`),
#                         else Ray sends them to the host address. 0: the nodes use the
#                         host's address and listen on every interface.
#
# Files written to $PB_CLUSTER_DIR: address (GCS host:port, for ray.init / --address),
# dashboard_url (for `ray job submit --address`), env (both, shell syntax), nodes/<name>/.
#
# `stop` ends only this cluster's processes (found by their temp dirs, killed by pid), so
# other Ray sessions on the machine keep running; plain `ray stop` would end them all.
set -euo pipefail

DIR="${PB_CLUSTER_DIR:-/tmp/pb-cluster}"
CPUS="${PB_CLUSTER_CPUS:-1}"
STORE_MB="${PB_CLUSTER_STORE_MB:-100}"
DASHBOARD="${PB_CLUSTER_DASHBOARD:-1}"
LOOPBACK="${PB_CLUSTER_LOOPBACK_ONLY:-1}"
WORKERS=(worker_a worker_b)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
RAY_BIN="$(dirname "$PYTHON")/ray"
[ -x "$RAY_BIN" ] || RAY_BIN="$(command -v ray)"
export RAY_USAGE_STATS_ENABLED=0
# Ray's token authentication is on: every node and driver must present the token in
# $PB_CLUSTER_DIR/auth_token (made on first start, mode 0600; $PB_CLUSTER_DIR/env names
# it). Plain `ray start` swaps --node-ip-address 127.0.0.1 for the host's address and
# Ray's servers then listen on every interface (PB_CLUSTER_LOOPBACK_ONLY=0), where only the
# token keeps other hosts out. By default the nodes keep 127.0.0.1 (Ray binds its servers to
# loopback for exactly that address): `ray start` runs with the swap switched off, and
# RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes every process started under it (job drivers
# included) and every driver that sources the env file keep 127.0.0.1 too. RAY_AUTH_MODE=disabled turns it off (the
# cluster tests do, on a loopback-only machine).
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-token}"
ensure_token() {
  [ "$RAY_AUTH_MODE" = token ] || return 0
  mkdir -p "$DIR"
  if [ -z "${RAY_AUTH_TOKEN_PATH:-}" ]; then
    export RAY_AUTH_TOKEN_PATH="$DIR/auth_token"
  fi
  if [ ! -s "$RAY_AUTH_TOKEN_PATH" ]; then
    (umask 077 && "$PYTHON" -c "import secrets; print(secrets.token_hex(32))" >"$RAY_AUTH_TOKEN_PATH")
  fi
}
# Notice a dead node within ~3 s instead of ~15 s (the fault-tolerance test kills one).
export RAY_health_check_period_ms="${RAY_health_check_period_ms:-1000}"
export RAY_health_check_failure_threshold="${RAY_health_check_failure_threshold:-3}"

log() { printf '[local_cluster] %s\n' "$*" >&2; }

ray_start() {  # ray_start ARGS... -> `ray start ARGS...`, loopback-only when asked
  if [ "$LOOPBACK" != 1 ]; then
    "$RAY_BIN" start "$@"
    return
  fi
  RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "$PYTHON" - start "$@" <<'EOF'
import sys

import ray._private.ray_constants as constants
import ray._private.services as services

constants.ENABLE_RAY_CLUSTER = True  # this process may still add a node to a cluster
services.resolve_ip_for_localhost = lambda host: host  # keep --node-ip-address 127.0.0.1
from ray.scripts.scripts import main

sys.argv = ["ray", *sys.argv[1:]]
sys.exit(main())
EOF
}

free_ports() {  # free_ports N -> N free TCP ports on 127.0.0.1, one per line
  "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
EOF
}

node_pids() {  # node_pids NAME -> pids of processes whose command line names the node's dir
  local marker="$DIR/nodes/$1/"
  ps -eo pid=,args= | awk -v m="$marker" -v self="$$" 'index($0, m) && $1 != self {print $1}'
}

stop_node() {  # stop_node NAME [GRACE_SECONDS]
  local name="$1" grace="${2:-10}" pids
  pids="$(node_pids "$name" | tr '\n' ' ')"
  [ -z "${pids// /}" ] && return 0
  log "stopping $name (pids $pids)"
  if [ "$grace" = 0 ]; then  # a crash, not a shutdown: the node gets no chance to drain
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    return 0
  fi
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq $((grace * 5))); do
    pids="$(node_pids "$name" | tr '\n' ' ')"
    [ -z "${pids// /}" ] && return 0
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

start_node() {  # start_node NAME HEAD(0/1) RESOURCE
  local name="$1" head="$2" resource="$3" tmp="$DIR/nodes/$1"
  mkdir -p "$tmp"
  local ports
  mapfile -t ports < <(free_ports 4)
  local args=(--node-ip-address 127.0.0.1 --temp-dir "$tmp"
    --num-cpus "$CPUS" --num-gpus 0 --object-store-memory $((STORE_MB * 1024 * 1024))
    --resources "{\"$resource\": 1}" --dashboard-agent-listen-port "${ports[0]}"
    --disable-usage-stats)
  if [ "$head" = 1 ]; then
    args+=(--head --port "$GCS_PORT" --ray-client-server-port "${ports[1]}")
    if [ "$DASHBOARD" = 1 ]; then
      args+=(--include-dashboard=true --dashboard-host 127.0.0.1
        --dashboard-port "$DASHBOARD_PORT")
    else
      args+=(--include-dashboard=false)
    fi
  else
    args+=(--address "127.0.0.1:$GCS_PORT")
  fi
  log "starting $name"
  if ! ray_start "${args[@]}" >"$DIR/$name.log" 2>&1; then
    log "ray start failed for $name; see $DIR/$name.log"
    tail -20 "$DIR/$name.log" >&2
    return 1
  fi
}

wait_for_nodes() {  # wait until the GCS lists every node as alive
  local want=$((1 + ${#WORKERS[@]}))
  "$PYTHON" - "127.0.0.1:$GCS_PORT" "$want" <<'EOF'
import sys, time
from ray._raylet import GcsClient
address, want = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 120
alive = 0
while time.time() < deadline:
    try:
        nodes = GcsClient(address=address).get_all_node_info(timeout=5).values()
        alive = sum(1 for n in nodes if n.state == 0)  # GcsNodeInfo.ALIVE
    except Exception:
        alive = 0
    if alive >= want:
        sys.exit(0)
    time.sleep(1)
print(f"only {alive} of {want} nodes alive after 120 s", file=sys.stderr)
sys.exit(1)
EOF
}

cmd_start() {
  if [ -f "$DIR/address" ] && [ -n "$(node_pids head)" ]; then
    log "already running at $(cat "$DIR/address")"
    cat "$DIR/address"
    return 0
  fi
  # Only what an earlier run of this script left there (PB_CLUSTER_DIR may be shared).
  rm -rf "$DIR/nodes"
  rm -f "$DIR"/{address,dashboard_url,env} "$DIR"/{head,worker_a,worker_b}.log
  mkdir -p "$DIR/nodes"
  local ports
  mapfile -t ports < <(free_ports 2)
  GCS_PORT="${ports[0]}"
  DASHBOARD_PORT="${ports[1]}"
  # Every node on this host must find the repository's packages (the engine and nodes).
  export PYTHONPATH="$(cd "$HERE/.." && pwd)${PYTHONPATH:+:$PYTHONPATH}"
  ensure_token
  if ! start_node head 1 head; then cmd_stop; return 1; fi
  local w
  for w in "${WORKERS[@]}"; do
    if ! start_node "$w" 0 "$w"; then cmd_stop; return 1; fi
  done
  echo "127.0.0.1:$GCS_PORT" >"$DIR/address"
  if [ "$DASHBOARD" = 1 ]; then echo "http://127.0.0.1:$DASHBOARD_PORT" >"$DIR/dashboard_url"; fi
  {
    echo "RAY_ADDRESS_GCS=127.0.0.1:$GCS_PORT"
    echo "RAY_AUTH_MODE=$RAY_AUTH_MODE"
    [ "$RAY_AUTH_MODE" = token ] && echo "RAY_AUTH_TOKEN_PATH=$RAY_AUTH_TOKEN_PATH"
    [ "$DASHBOARD" = 1 ] && echo "RAY_DASHBOARD_URL=http://127.0.0.1:$DASHBOARD_PORT"
    [ "$LOOPBACK" = 1 ] && echo "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0"
  } >"$DIR/env"
  if ! wait_for_nodes; then cmd_stop; return 1; fi
  log "cluster up: GCS 127.0.0.1:$GCS_PORT$([ "$DASHBOARD" = 1 ] && echo ", dashboard http://127.0.0.1:$DASHBOARD_PORT")"
  echo "127.0.0.1:$GCS_PORT"
}

cmd_stop() {
  local w
  for w in "${WORKERS[@]}"; do stop_node "$w"; done
  stop_node head
  rm -f "$DIR/address" "$DIR/dashboard_url" "$DIR/env"
  log "stopped"
}

cmd_status() {
  if [ ! -f "$DIR/address" ]; then
    echo "not running (no $DIR/address)"
    return 1
  fi
  "$RAY_BIN" status --address "$(cat "$DIR/address")"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-node)
    [ -n "${2:-}" ] || { echo "usage: $0 stop-node NAME" >&2; exit 2; }
    stop_node "$2" "${3:-0}"
    ;;
  *)
    echo "usage: $0 start|stop|status|stop-node NAME" >&2
    exit 2
    ;;
esac
