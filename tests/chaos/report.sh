# tests/chaos/run's report: reads what the run collected under $OUT (wrk's
# per-status counts, the gateway's metrics and log, the misbehaving clients'
# outcomes, the RSS samples) and prints a PASS/FAIL line per defence; report()
# returns non-zero when any failed. Sourced by tests/chaos/run; not runnable
# on its own.
# shellcheck shell=bash

# --- the report ---------------------------------------------------------------------

# "a: n, b: m" from CHAOS_WRK's status_NNN fields.
wrk_statuses() {
  awk '/^CHAOS_WRK / { for (i = 2; i <= NF; i++) if ($i ~ /^status_/) {
         split(substr($i, 8), kv, "="); out = out (out ? ", " : "") kv[1] ": " kv[2] } }
       END { print (out ? out : "none") }' "$OUT/wrk.txt"
}

wrk_field() { awk -v k="$1" '/^CHAOS_WRK / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$OUT/wrk.txt"; }

# Gateway-wide counts from the last metrics text: requests by class, local
# responses by status.
gateway_counts() {
  local file="$OUT/metrics-end.txt"
  [[ -s "$file" ]] || file="$OUT/metrics-last.txt"
  awk -v api="$API_PATH" '
    index($1, "ringgate_requests_total{api=\"" api "\",class=\"") == 1 {
      c = $1; sub(/.*class="/, "", c); sub(/".*/, "", c); by_class = by_class (by_class ? ", " : "") c ": " $NF }
    index($1, "ringgate_local_responses_total{") == 1 {
      s = $1; sub(/.*status="/, "", s); sub(/".*/, "", s); local = local (local ? ", " : "") s ": " $NF }
    $1 == "ringgate_retries_total" { retries = $NF }
    END { print "CLASSES " (by_class ? by_class : "none"); print "LOCAL " (local ? local : "none");
          print "RETRIES " retries + 0 }' "$file"
}

# "N M": pool keys listed in the last metrics text, and how many of them have
# no open connection (pools of retired keys, e.g. rotated certificates).
pool_keys() {
  local file="$OUT/metrics-end.txt"
  [[ -s "$file" ]] || file="$OUT/metrics-last.txt"
  awk '/^ringgate_pool_open_connections\{/ { n++; if ($NF == 0) empty++ } END { print n + 0, empty + 0 }' \
    "$file" 2>/dev/null || echo "0 0"
}

# "ok attempts others" for the slow uploads in clients.json: how many were
# answered 200, how many were made (refused connections aside), and the rest.
slow_upload_outcomes() {
  python3 - "$OUT/clients.json" <<'PY' 2>/dev/null || echo "0 0 none"
import json, sys
counts = json.load(open(sys.argv[1])).get("slow-upload", {})
made = {o: n for o, n in counts.items() if o != "refused"}
others = ", ".join(f"{o}={n}" for o, n in made.items() if o != "200") or "none"
print(made.get("200", 0), sum(made.values()), others)
PY
}

# "kind: outcome=n, …; …" from clients.json.
client_outcomes() {
  python3 - "$OUT/clients.json" <<'PY' 2>/dev/null || echo "no result (see clients.log)"
import json, sys
data = json.load(open(sys.argv[1]))
print("; ".join(k + " " + ", ".join(f"{o}={n}" for o, n in v.items()) for k, v in data.items()))
PY
}

# Per-second 2xx rates from samples.tsv: median, worst, and worst outside the
# backend's outages (kill → restart + 3 s, stop → cont + 2 s). Prints
# "median worst worst_at worst_quiet worst_quiet_at".
throughput() {
  awk -F'\t' -v end="$LOAD_SECONDS" \
    -v outages="$KILL_AT:$((RESTART_AT + 3)) $LONG_STOP_AT:$((LONG_CONT_AT + 2)) $SHORT_STOP_AT:$((SHORT_CONT_AT + 2))" '
    NR == 1 { next }
    $3 == "NA" { have = 0; next }
    {
      if (have && $1 > 1 && $1 <= end - 0.5 && $1 - t > 0) {
        rate = ($3 - ok) / ($1 - t)
        n++; rates[n] = rate; at[n] = $1
        quiet = 1
        split(outages, o, " ")
        for (i in o) { split(o[i], w, ":"); if ($1 > w[1] && t < w[2]) quiet = 0 }
        if (n == 1 || rate < worst) { worst = rate; worst_at = $1 }
        if (quiet && (!qn++ || rate < worst_quiet)) { worst_quiet = rate; worst_quiet_at = $1 }
      }
      t = $1; ok = $3; have = 1
    }
    END {
      if (n == 0) { print "0 0 0 0 0"; exit }
      for (i = 1; i <= n; i++) sorted[i] = rates[i]
      for (i = 2; i <= n; i++) { v = sorted[i]; for (j = i - 1; j >= 1 && sorted[j] > v; j--) sorted[j + 1] = sorted[j]; sorted[j + 1] = v }
      median = (n % 2) ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
      printf "%.0f %.0f %s %.0f %s\n", median, worst, worst_at, worst_quiet, worst_quiet_at
    }' "$OUT/samples.tsv"
}

# The disturbance last noted before second $1.
event_before() {
  awk -v t="$1" '$1 + 0 <= t + 0 && $2 != "warm-up" { e = "+" $1 "s " substr($0, index($0, $2)) } END { print e }' \
    "$OUT/events.log"
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", (a - b) * 100 / b; else print "NA" }'; }

report() {
  local status=0 classes local_responses retries median worst worst_at quiet quiet_at growth
  local reloads=NA reload_failures=NA rows keys retired_keys uploads_ok uploads uploads_other
  read -r median worst worst_at quiet quiet_at <<<"$(throughput)"
  {
    read -r _ classes
    read -r _ local_responses
    read -r _ retries
  } <<<"$(gateway_counts)"
  if [[ "$END_RELOADS" != NA && "$BASE_RELOADS" != NA ]]; then
    reloads=$((END_RELOADS - BASE_RELOADS))
    reload_failures=$((END_RELOAD_FAILURES - BASE_RELOAD_FAILURES))
  fi
  read -r keys retired_keys <<<"$(pool_keys)"
  read -r uploads_ok uploads uploads_other <<<"$(slow_upload_outcomes)"
  growth=NA
  [[ -n "$RSS_WARM" && "$RSS_END" != NA ]] && growth=$(pct "$RSS_END" "$RSS_WARM")

  rows=(
    "load|${LOAD_SECONDS} s (warm-up ${WARMUP_S} s), wrk -t1 -c$CONNECTIONS GET /$API_PATH/x; $PER_KIND misbehaving clients of each kind; ringgate $WORKERS workers"
    "disturbances|backend SIGKILL at +${KILL_AT} s, restarted at +${RESTART_AT} s; SIGSTOP +${LONG_STOP_AT}..+${LONG_CONT_AT} s and +${SHORT_STOP_AT}..+${SHORT_CONT_AT} s; $HUPS_SENT certificate rotations + SIGHUP"
    "wrk requests|$(wrk_field requests)"
    "wrk responses by status|$(wrk_statuses)"
    "wrk socket errors|connect $(wrk_field errors_connect), read $(wrk_field errors_read), write $(wrk_field errors_write), timeout $(wrk_field errors_timeout)"
    "gateway requests (API $API_PATH) by class|$classes"
    "gateway local responses by status|$local_responses; retries $retries"
    "misbehaving clients|$(client_outcomes)"
    "2xx per second, median|$median"
    "worst 1-second dip|$worst/s ($(pct "$worst" "$median") % vs. median) at +${worst_at} s; last event: $(event_before "$worst_at")"
    "worst dip outside backend outages|$quiet/s ($(pct "$quiet" "$median") % vs. median) at +${quiet_at} s; last event: $(event_before "$quiet_at")"
    "RSS after warm-up → end|${RSS_WARM:-NA} KiB → $RSS_END KiB ($growth %)"
    "client connections active: baseline → end|$BASE_CONN → $END_CONN (settled in ${SETTLED_S:-NA} s)"
    "pool open connections: start → end|$BASE_POOL_OPEN → $END_POOL_OPEN"
    "backend connections active: start → end|$BASE_BACKEND → $END_BACKEND"
    "pool keys listed in /metrics|$keys ($retired_keys with no open connection)"
    "config reloads applied / rejected|$reloads / $reload_failures (SIGHUPs sent: $HUPS_SENT)"
    "wall time; machine load average at start → end|${WALL_S} s; $LOADAVG_START → $LOADAVG_END on $(nproc) CPUs"
  )
  echo
  echo "| measure | value |"
  echo "|---|---|"
  printf '| %s |\n' "${rows[@]/|/ | }"
  echo

  if ((CRASHED)); then
    echo "FAIL ringgate died during the run: exit $RG_EXIT; last log lines:"
    tail -n 15 "$OUT/ringgate/ringgate.log" | sed 's/^/       /'
    status=1
  elif [[ "$STOP_EXIT" != 0 ]]; then
    echo "FAIL ringgate survived the run but its graceful stop (SIGTERM) ended with exit $STOP_EXIT"
    status=1
  else
    echo "PASS ringgate ran throughout and exited 0 on SIGTERM"
  fi
  if ((!CRASHED)); then
    if [[ "$END_CONN" != NA ]] && ((END_CONN <= BASE_CONN)); then
      echo "PASS client connections back to the baseline ($END_CONN ≤ $BASE_CONN) ${SETTLED_S} s after the load"
    else
      echo "FAIL client connections leaked: $END_CONN active ${SETTLED_S} s after the load, baseline $BASE_CONN"
      status=1
    fi
    if [[ "$END_POOL_OPEN" != NA ]] && ((END_POOL_OPEN <= BASE_POOL_OPEN)); then
      echo "PASS pooled backend connections no more than at the start ($END_POOL_OPEN ≤ $BASE_POOL_OPEN)"
    else
      echo "FAIL pooled backend connections leaked: $END_POOL_OPEN open at the end, $BASE_POOL_OPEN at the start"
      status=1
    fi
    if [[ "$growth" != NA ]] && awk -v g="$growth" -v l="$RSS_GROWTH_LIMIT_PCT" 'BEGIN { exit !(g <= l) }'; then
      echo "PASS RSS grew $growth % from the warm-up to the end (limit $RSS_GROWTH_LIMIT_PCT %)"
    else
      echo "FAIL RSS grew $growth % from the warm-up to the end (limit $RSS_GROWTH_LIMIT_PCT %)"
      status=1
    fi
  fi
  if ((uploads > uploads_ok)); then
    echo "NOTE $uploads_ok of $uploads slow uploads (pauses under clientIdleMs) were answered 200;" \
      "the others: $uploads_other. Outside the backend's outages these should all succeed: the" \
      "backend response timer starts when the request is fully sent (DESIGN §4.7)."
  fi
  echo "logs: $OUT (ringgate/ringgate.log, backend/error.log, wrk.txt, clients.log, clients.json," \
    "samples.tsv, events.log, metrics-{start,last,end}.txt)"
  return "$status"
}
