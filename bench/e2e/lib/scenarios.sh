# bench/e2e/lib/scenarios.sh — what each scenario sends, and one measured run
# of one proxy (or the backend alone) on one scenario. Results are appended to
# $RECORDS as one line of space-separated key=value fields per run.

declare -A SC_DESC=(
  [S1]="keep-alive GET, 128 B body, 32 connections"
  [S2]="keep-alive GET, 64 KiB body, 32 connections"
  [S3]="1 MiB POST uploads, 16 connections"
  [S4]="new connection per request (Connection: close), 32 connections"
  [S5]="100 APIs, each its own backend pool key, 32 connections"
  [S6]="10 000 idle keep-alive client connections (memory per connection)"
  [S7]="SIGHUP/reload every second under S1 load"
  [S8]="S1 straight to the backend, no proxy"
)
declare -A SC_CONNS=([S1]=32 [S2]=32 [S3]=16 [S4]=32 [S5]=32 [S7]=32 [S8]=32)
declare -A SC_PATH=([S1]=/small/x [S2]=/big/64k [S3]=/upload/x [S4]=/small/x [S5]=/k000/x
                    [S6]=/small/x [S7]=/small/x [S8]=/small/x)
# wrk Lua pieces (bench/e2e/wrk/*.lua) added to report.lua for the scenario.
declare -A SC_LUA=([S3]=upload.lua [S5]=many_apis.lua [S7]=timeline.lua)

# Assembles the wrk script for scenario $1 (report.lua + its piece); prints the path.
wrk_script() {
  local script="$WORK/wrk-$1.lua"
  cat "$HERE/wrk/report.lua" ${SC_LUA[$1]:+"$HERE/wrk/${SC_LUA[$1]}"} >"$script"
  echo "$script"
}

# Base URL of the target on port $1 (S8 with mtls: the backend's TLS port).
target_url() {
  if [[ "$SCENARIO" == S8 && "$BACKEND_MODE" == mtls ]]; then
    echo "https://127.0.0.1:$1"
  else
    echo "http://127.0.0.1:$1"
  fi
}

# One request of the current scenario through port $1 with curl. Prints "ok"
# or what was wrong ("HTTP 502", "64 bytes, expected 65536", a curl error).
check_request() {
  local url args=(-sS -k -o "$WORK/check.body" -w '%{http_code}' --max-time 5) code size want=""
  url="$(target_url "$1")${SC_PATH[$SCENARIO]}"
  case "$SCENARIO" in
    S2) want=$BIG_BODY_BYTES ;;
    S3) args+=(--data-binary "@$WORK/upload.bin" -H 'Content-Type: application/octet-stream'
               -H 'Expect:') ;;  # wrk does not send Expect: 100-continue either
    S5) url="$(target_url "$1")/k$(printf '%03d' $((S5_APIS - 1)))/x" ;;
    *) want=$SMALL_BODY_BYTES ;;
  esac
  code=$(curl "${args[@]}" "$url" 2>&1) || { echo "curl: $(sanitize "$code")"; return 0; }
  [[ "$code" == 2?? ]] || { echo "HTTP $code"; return 0; }
  size=$(stat -c %s "$WORK/check.body")
  if [[ -n "$want" && "$size" != "$want" ]]; then
    echo "$size bytes, expected $want"
    return 0
  fi
  echo ok
}

# Runs wrk for $2 seconds on port $1 with the current scenario; output to $3.
# wrk runs in the background so the EXIT trap can stop it by PID.
run_wrk() {
  local port=$1 seconds=$2 out=$3 pid args
  args=(-t "$WRK_THREADS" -c "${SC_CONNS[$SCENARIO]}" -d "${seconds}s" --latency --timeout 5s
        -s "$(wrk_script "$SCENARIO")")
  [[ "$SCENARIO" == S4 ]] && args+=(-H "Connection: close")
  $PIN_LOAD wrk "${args[@]}" "$(target_url "$port")${SC_PATH[$SCENARIO]}" \
    ${SC_LUA[$SCENARIO]:+-- "$S5_APIS"} >"$out" 2>&1 &
  pid=$!
  track "$pid"
  wait "$pid" || true
  untrack "$pid"
}

# Turns a wrk output file into record fields. wrk's own text lines ("Non-2xx or
# 3xx responses", "Socket errors") and report.lua's RGBENCH line are both read;
# the larger count wins. Figures are µs.
parse_wrk() {
  awk '
    /^RGBENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    /^RGBENCH_TIMELINE / { timeline = $2 " " $3 }
    /Non-2xx or 3xx responses:/ { text_non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); text_sock = $4 + $6 + $8 + $10 }
    END {
      if (!("requests" in v)) { print "requests=0 reason=no_wrk_summary"; exit }
      non2xx = v["errors_status"] + 0; if (text_non2xx + 0 > non2xx) non2xx = text_non2xx + 0
      if (v["non2xx_exact"] + 0 > non2xx) non2xx = v["non2xx_exact"] + 0
      sock = v["errors_connect"] + v["errors_read"] + v["errors_write"] + v["errors_timeout"]
      if (text_sock + 0 > sock) sock = text_sock + 0
      secs = v["duration_us"] / 1e6
      printf "requests=%d rps=%.1f p50_us=%d p75_us=%d p90_us=%d p99_us=%d p999_us=%d",
        v["requests"], (secs > 0 ? v["requests"] / secs : 0), v["p50_us"], v["p75_us"],
        v["p90_us"], v["p99_us"], v["p999_us"]
      printf " mean_us=%s non2xx=%d socket_errors=%d errors=%d", v["mean_us"], non2xx, sock,
        non2xx + sock
      printf " err_connect=%d err_read=%d err_write=%d err_timeout=%d", v["errors_connect"],
        v["errors_read"], v["errors_write"], v["errors_timeout"]
      if (timeline != "") printf " %s", timeline
      printf "\n"
    }' "$1"
}

# Adds one line to $RECORDS; the arguments are its key=value fields.
record() { echo "$*" >>"$RECORDS"; }

# Sends SIGNAL to PID every second until killed; appends the wall-clock time
# of each signal (epoch ms, the clock timeline.lua buckets by) to FILE.
reload_loop() {
  local pid=$1 signal=$2 file=$3 now
  while sleep 1; do
    now=$EPOCHREALTIME
    kill -s "$signal" "$pid" 2>/dev/null || break
    now=${now//[.,]/}
    echo "${now:0:13}" >>"$file"
  done
}

# The counters measure_load differences, as "key=value …": CPU ticks of the
# proxy tree $1, of the backend tree and of wrk (the children the shell $2 has
# reaped), the machine's busy and total ticks, the busy and steal ticks of the
# proxy's CPUs (with --pin) and the proxy's context switches.
snapshot() {
  local pid=$1 self=$2 machine cpus=""
  machine=$(machine_ticks)
  [[ -n "$PROXY_CPU_NAMES" ]] && cpus=$(cpus_busy_ticks "$PROXY_CPU_NAMES")
  echo "proxy=$(tree_cpu_ticks "$pid") backend=$(tree_cpu_ticks "$BACKEND_PID")" \
    "wrk=$(reaped_children_ticks "$self") busy=${machine% *} total=${machine#* }" \
    "ctx=$(tree_ctx_switches "$pid")" \
    ${cpus:+"cpus_busy=${cpus% *} cpus_steal=${cpus#* }"}
}

# Record fields from two snapshots ($1 before, $2 after) and the requests $3
# that wrk completed in between; $4 is 1 when the tree is the backend (S8).
# Figures per request are µs of CPU, context switches and loop counters; CQEs
# are per loop turn. other_cpu_pct is what the machine spent on anything but
# the proxy, the backend and wrk: the noise in this run's figures (other
# tenants, builds).
per_request_fields() {
  awk -v a="$1" -v b="$2" -v n="$3" -v same="$4" -v hz="$CLK_TCK" -v pinned="$((PIN && !$4))" '
    function get(text, key,   parts, i, kv, count) {
      count = split(text, parts, " ")
      for (i = 1; i <= count; i++) { split(parts[i], kv, "="); if (kv[1] == key) return kv[2] }
      return ""
    }
    function delta(key) { return get(b, key) - get(a, key) }
    function has(key) { return get(a, key) != "" && get(b, key) != "" }
    BEGIN {
      us = 1e6 / hz
      if (n > 0) {
        printf " cpu_us_per_req=%.2f backend_cpu_us_per_req=%.2f wrk_cpu_us_per_req=%.2f",
          delta("proxy") * us / n, delta("backend") * us / n, delta("wrk") * us / n
        if (pinned && has("cpus_busy"))
          printf " pinned_cpu_us_per_req=%.2f pinned_steal_us_per_req=%.3f",
            delta("cpus_busy") * us / n, delta("cpus_steal") * us / n
        printf " ctx_switches_per_req=%.4f", delta("ctx") / n
        if (has("turns")) {
          printf " loop_turns_per_req=%.4f enters_per_req=%.4f", delta("turns") / n, delta("enters") / n
          if (delta("turns") > 0) printf " cqes_per_turn=%.3f", delta("cqes") / delta("turns")
        }
      }
      total = delta("total")
      o = total > 0 ? 100 * (delta("busy") - delta("proxy") - (same ? 0 : delta("backend")) - delta("wrk")) / total : 0
      printf " other_cpu_pct=%.1f", (o < 0 ? 0 : o)
    }'
}

# Measures a load scenario against the process tree $2 listening on $3, for
# proxy name $1; sets FIELDS to the record fields. Runs in the harness's own
# shell (not in $(…)) so that an interrupt stops wrk at once.
measure_load() {
  local name=$1 pid=$2 port=$3 before after out requests reloader="" reloads="" counted=""
  local loop_before="" loop_after=""
  local self=$BASHPID same=$(($2 == BACKEND_PID))
  out="$WORK/logs/r$ROUND-$SCENARIO-$name.wrk"
  run_wrk "$port" "$WARMUP" "$out.warmup"
  ((same)) || start_perf "$pid" "$out.perf"
  # ringgate's own counters are read outside the CPU window: the scrape costs CPU.
  [[ "$name" == ringgate ]] && loop_before=$(ringgate_loop_counters)
  before=$(snapshot "$pid" "$self")
  if [[ "$SCENARIO" == S7 ]]; then
    rm -f "$WORK/reloads"
    reload_loop "$pid" "$(reload_signal "$name")" "$WORK/reloads" &
    reloader=$!
    track "$reloader"
  fi
  run_wrk "$port" "$DURATION" "$out"
  if [[ -n "$reloader" ]]; then
    stop_tree "$reloader"
    reloads=$(paste -sd, "$WORK/reloads" 2>/dev/null)
  fi
  after=$(snapshot "$pid" "$self")
  counted=$(stop_perf "$out.perf")
  [[ "$name" == ringgate ]] && loop_after=$(ringgate_loop_counters)
  FIELDS=$(parse_wrk "$out")
  requests=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' <<<"$FIELDS")
  FIELDS+=" $(tree_memory "$pid") affinity=$(tree_affinity "$pid")"
  if [[ "$SCENARIO" == S7 ]]; then
    FIELDS+=" reloads=$(awk -F, '{ print NF }' <<<"$reloads") reload_at_ms=${reloads:-none}"
  fi
  FIELDS+=$(per_request_fields "$before $loop_before" "$after $loop_after" "${requests:-0}" "$same")
  if [[ -n "$counted" && "${requests:-0}" -gt 0 ]]; then
    FIELDS+=$(awk -v c="$counted" -v n="$requests" 'BEGIN {
      split(c, parts, " "); split(parts[1], i, "="); split(parts[2], e, "=")
      printf " instructions_per_req=%.0f instructions_event=%s", i[2] / n, e[2] }')
  fi
}

# S6: RSS of the tree $2 after a short S1 warm-up, then with $IDLE_CONNS idle
# keep-alive connections held open (each made one request), per connection.
# Sets FIELDS.
measure_idle() {
  local name=$1 pid=$2 port=$3 before after out ready="" helper i
  out="$WORK/logs/r$ROUND-S6-$name"
  SCENARIO=S1 run_wrk "$port" 1 "$out.warmup"
  sleep 0.5
  before=$(tree_memory "$pid")
  "$IDLE_BIN" 127.0.0.1 "$port" "$IDLE_CONNS" /small/x 120 >"$out.idle" 2>&1 &
  helper=$!
  track "$helper"
  for ((i = 0; i < 1200; i++)); do
    ready=$(grep -m1 '^opened=' "$out.idle" || true)
    [[ -n "$ready" ]] && break
    alive "$helper" || break
    sleep 0.1
  done
  sleep 1  # let lazily freed buffers settle
  after=$(tree_memory "$pid")
  stop_tree "$helper"
  FIELDS=$(awk -v b="$before" -v a="$after" -v r="$ready" \
    -v s="$(grep -m1 '^still_open=' "$out.idle")" '
    function get(text, key,   n, i, kv, parts) {
      n = split(text, parts, " ")
      for (i = 1; i <= n; i++) { split(parts[i], kv, "="); if (kv[1] == key) return kv[2] + 0 }
      return 0
    }
    BEGIN {
      ok = get(r, "ok"); failed = get(r, "failed"); open = get(s, "still_open")
      printf "conns=%d conns_failed=%d conns_still_open=%d setup_ms=%d", ok, failed, open, get(r, "ms")
      printf " rss_before_kib=%d rss_after_kib=%d pss_before_kib=%d pss_after_kib=%d",
        get(b, "rss_kib"), get(a, "rss_kib"), get(b, "pss_kib"), get(a, "pss_kib")
      printf " hwm_kib=%d", get(a, "hwm_kib")
      if (ok > 0) printf " kib_per_conn=%.3f pss_kib_per_conn=%.3f",
        (get(a, "rss_kib") - get(b, "rss_kib")) / ok, (get(a, "pss_kib") - get(b, "pss_kib")) / ok
      # An idle connection the proxy refused or dropped is an error of S6.
      dropped = get(r, "opened") - open - failed
      printf " errors=%d\n", failed + (dropped > 0 ? dropped : 0)
    }')
}

# "ok" unless FIELDS show an error, no requests at all, or (S6) no connection.
status_of_fields() {
  if [[ "$FIELDS" =~ (^| )errors=0( |$) && ! "$FIELDS" =~ (^| )requests=0( |$) &&
        ! "$FIELDS" =~ (^| )conns=0( |$) ]]; then
    echo ok
  else
    echo errors
  fi
}

# One run of proxy $1 (ringgate | nginx | haproxy | floor) on $SCENARIO, round $ROUND.
run_proxy() {
  local name=$1 status
  "start_$name" "$SCENARIO"
  wait_proxy_ready
  if [[ -n "$READY_PROBLEM" ]] && ! alive "$PROXY_PID"; then
    record "round=$ROUND scenario=$SCENARIO proxy=$name status=failed" \
      "reason=$(sanitize "$READY_PROBLEM" | tr ' ' '_')"
    stop_tree "$PROXY_PID"
    log "  $name: FAILED ($READY_PROBLEM)"
    return
  fi
  [[ -n "$PIN_PROXY" ]] && pin_tree "$PROXY_PID" "$PROXY_CPUS"
  if [[ "$SCENARIO" == S6 ]]; then
    measure_idle "$name" "$PROXY_PID" "$PROXY_PORT"
  else
    measure_load "$name" "$PROXY_PID" "$PROXY_PORT"
  fi
  status=$(status_of_fields)
  record "round=$ROUND scenario=$SCENARIO proxy=$name status=$status $FIELDS" \
    ${READY_PROBLEM:+"reason=$(sanitize "$READY_PROBLEM" | tr ' ' '_')"}
  log "  $name: $status $(summary_of "$FIELDS")${READY_PROBLEM:+ ($READY_PROBLEM)}"
  stop_tree "$PROXY_PID"
}

# S8: the backend alone, driven like S1.
run_direct() {
  local status problem
  problem=$(check_request "$BE_DIRECT_PORT")
  [[ "$problem" == ok ]] && problem=""
  measure_load direct "$BACKEND_PID" "$BE_DIRECT_PORT"
  status=$(status_of_fields)
  record "round=$ROUND scenario=S8 proxy=direct status=$status $FIELDS" \
    ${problem:+"reason=$(sanitize "$problem" | tr ' ' '_')"}
  log "  direct: $status $(summary_of "$FIELDS")"
}

# A one-line progress summary of record fields.
summary_of() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      if ("kib_per_conn" in v) printf "%d idle conns, %.2f KiB each", v["conns"], v["kib_per_conn"]
      else printf "%.0f req/s p99 %.2f ms cpu %s us/req", v["rps"], v["p99_us"] / 1000, v["cpu_us_per_req"]
      if (v["errors"] > 0) printf " errors=%d", v["errors"]
    }' <<<"$1"
}
