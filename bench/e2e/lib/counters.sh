# bench/e2e/lib/counters.sh — the counters behind the per-request figures
# besides CPU time: instructions (perf stat over the proxy's threads) and
# ringgate's own event-loop counters from its /metrics. Sourced by
# bench/e2e/run; expects WORK, RG_ADMIN_PORT.

PERF_PID=""

# Sets PERF_STATUS to "ok" when `perf stat -e instructions` counts here, else
# to the reason it cannot (not installed, refused by
# kernel.perf_event_paranoid, or no hardware counter, as in most VMs).
check_perf() {
  local out value paranoid
  paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo unknown)
  if ! command -v perf >/dev/null; then
    PERF_STATUS="perf is not installed (Debian package linux-perf; run tools/setup)"
    return 0
  fi
  out=$(perf stat -x, -e instructions -- true 2>&1 >/dev/null) || true
  value=$(awk -F, '$3 ~ /^instructions/ { print $1; exit }' <<<"$out")
  if [[ "$value" =~ ^[0-9]+$ ]]; then
    PERF_STATUS=ok
  elif [[ "$value" == "<not supported>" ]]; then
    PERF_STATUS="no instructions counter: the CPU exposes no hardware performance counters to this kernel (a VM without a virtual PMU)"
  elif grep -qi paranoid <<<"$out"; then
    PERF_STATUS="perf refused: kernel.perf_event_paranoid=$paranoid (needs <= 2, or root)"
  else
    PERF_STATUS="perf stat failed: $(sanitize "$(grep -v '^$' <<<"$out" | tail -n 1)")"
  fi
}

# Starts counting instructions of every thread of the processes in the tree
# under $1, into the file $2, until stop_perf. Does nothing unless PERF_STATUS
# is ok. perf runs where the harness runs (CPU 0 with --pin).
start_perf() {
  PERF_PID=""
  [[ "$PERF_STATUS" == ok ]] || return 0
  perf stat -x, -e instructions -o "$2" -p "$(tree_pids "$1" | paste -sd,)" >/dev/null 2>&1 &
  PERF_PID=$!
  track "$PERF_PID"
  sleep 0.2  # attached before the window opens
}

# Stops the perf started last and prints "instructions=N instructions_event=E"
# from its output $1, or nothing.
stop_perf() {
  [[ -n "$PERF_PID" ]] || return 0
  kill -s INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  untrack "$PERF_PID"
  PERF_PID=""
  awk -F, '$3 ~ /^instructions/ && $1 ~ /^[0-9]+$/ {
      print "instructions=" $1 " instructions_event=" $3; exit }' "$1" 2>/dev/null || true
}

# ringgate's event-loop counters from its admin /metrics, summed over workers:
# "turns=… cqes=… enters=…", or nothing when this ringgate does not export all
# three (ringgate_loop_turns_total, ringgate_loop_cqes_total,
# ringgate_ring_enters_total).
ringgate_loop_counters() {
  curl -s --max-time 2 -H "Authorization: Bearer $(cat "$WORK/ringgate/admin.token")" \
    "http://127.0.0.1:$RG_ADMIN_PORT/metrics" 2>/dev/null | awk '
    function add(key) { sum[key] += $NF; seen[key] = 1 }
    $1 ~ /^ringgate_loop_turns_total($|\{)/ { add("turns") }
    $1 ~ /^ringgate_loop_cqes_total($|\{)/ { add("cqes") }
    $1 ~ /^ringgate_ring_enters_total($|\{)/ { add("enters") }
    END {
      if (seen["turns"] && seen["cqes"] && seen["enters"])
        printf "turns=%.0f cqes=%.0f enters=%.0f\n", sum["turns"], sum["cqes"], sum["enters"]
    }'
}
