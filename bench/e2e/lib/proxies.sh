# bench/e2e/lib/proxies.sh — starting and stopping the backend and the proxies
# under test. Each start_* writes its config for the scenario (the floor has
# none), starts the
# process in the background (pinned with --pin), and sets PROXY_PID and
# PROXY_PORT; readiness is checked by the caller. Expects RINGGATE_BIN,
# PIN_PROXY/PIN_LOAD (taskset prefixes, empty without --pin) and the ports.

BACKEND_PID=""

start_backend() {
  write_backend_config "$1"
  $PIN_LOAD /usr/sbin/nginx -p "$WORK/backend" -e "$WORK/backend/error.log" \
    -c "$WORK/backend/nginx.conf" >"$WORK/backend/stdout.log" 2>&1 &
  BACKEND_PID=$!
  track "$BACKEND_PID"
  wait_port "$BE_PORT" 10 || die "backend nginx did not start: $(tail -n 3 "$WORK/backend/error.log")"
  log "backend nginx (pid $BACKEND_PID, $BACKEND_WORKERS worker(s), $BACKEND_MODE) on 127.0.0.1:$BE_PORT"
}

start_ringgate() {
  write_ringgate_config "$1"
  $PIN_PROXY "$RINGGATE_BIN" --config "$WORK/ringgate/ringgate.json" \
    >"$WORK/ringgate/out.log" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$RG_PORT
  PROXY_LOG="$WORK/ringgate/out.log"
  track "$PROXY_PID"
}

start_nginx() {
  write_nginx_proxy_config "$1"
  $PIN_PROXY /usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
    -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$NGX_PORT
  PROXY_LOG="$WORK/nginx/error.log"
  track "$PROXY_PID"
}

# Master-worker mode (-W) always, so that S7 can reload it the way it is
# reloaded in production (SIGUSR2 to the master) and every scenario measures
# the same process tree.
start_haproxy() {
  write_haproxy_config "$1"
  $PIN_PROXY /usr/sbin/haproxy -W -f "$WORK/haproxy/haproxy.cfg" >"$WORK/haproxy/out.log" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$HAP_PORT
  PROXY_LOG="$WORK/haproxy/out.log"
  track "$PROXY_PID"
}

# The floor (bench/e2e/floor.cpp): bytes to the backend's plain HTTP port and
# back, whatever the backend mode; it has no configuration to write.
start_floor() {
  mkdir -p "$WORK/floor"
  $PIN_PROXY "$FLOOR_BIN" --listen "$FLOOR_PORT" --backend "127.0.0.1:$BE_PLAIN_PORT" \
    >"$WORK/floor/out.log" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$FLOOR_PORT
  PROXY_LOG="$WORK/floor/out.log"
  track "$PROXY_PID"
}

# The signal that reloads proxy $1's configuration.
reload_signal() {
  case "$1" in
    ringgate) echo HUP ;;  # DESIGN §6
    nginx) echo HUP ;;     # what `nginx -s reload` sends to the master
    haproxy) echo USR2 ;;  # master-worker reload
  esac
}

# Last meaningful line of the proxy's log, for a failure reason.
# Timestamps are cut: the message is what explains the failure.
proxy_log_tail() {
  grep -v '^[[:space:]]*$' "$PROXY_LOG" 2>/dev/null | tail -n 1 |
    sed -E 's/^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9:.]+Z? *//'
}

# Waits for the proxy started last to listen and to answer the scenario's
# check request. Sets READY_PROBLEM: empty when ready, else the reason.
wait_proxy_ready() {
  local deadline=$((SECONDS + 15)) status=""
  READY_PROBLEM=""
  while ((SECONDS < deadline)); do
    if ! alive "$PROXY_PID"; then
      READY_PROBLEM="exited at start: $(proxy_log_tail)"
      return 0
    fi
    port_listening "$PROXY_PORT" && break
    sleep 0.05
  done
  if ! port_listening "$PROXY_PORT"; then
    READY_PROBLEM="not listening after 15 s: $(proxy_log_tail)"
    return 0
  fi
  # A pool that is still being filled may answer 502 for a moment.
  for ((deadline = SECONDS + 5; SECONDS < deadline; )); do
    status=$(check_request "$PROXY_PORT")
    [[ "$status" == ok ]] && return 0
    sleep 0.2
  done
  READY_PROBLEM="check request: $status"
}
