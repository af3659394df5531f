# bench/e2e/lib/report.awk — turns the run's records (one line of key=value
# fields per proxy, scenario and round) into
#   md          the markdown table: medians across rounds, ringgate/peer ratios,
#               the issue's targets; a proxy with any non-2xx response or socket
#               error shows its error count instead of figures
#   json        every figure of every round, the medians, machine and settings
#   chart_dir/  one data file per scenario for chart.sh (gnuplot)
# POSIX awk (Debian's default is mawk). Variables come from bench/e2e/run (-v).

# --- helpers -----------------------------------------------------------------------

function is_number(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }

function json_string(s) {
  gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s)
  return "\"" s "\""
}

function json_value(s) {
  if (is_number(s)) return s + 0
  if (s ~ /^[0-9]+(,[0-9]+)+$/) return "[" s "]"
  return json_string(s)
}

# Median of the values in list (space separated), "" when empty.
function median(list,   n, v, i, j, t) {
  n = split(list, v, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) {  # insertion sort: a handful of rounds
    t = v[i] + 0
    for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
    v[j + 1] = t
  }
  if (n % 2) return v[(n + 1) / 2] + 0
  return (v[n / 2] + v[n / 2 + 1]) / 2
}

# S7: from the 100 ms response counts, as requests/s, the worst and the median
# interior bucket (the first and the last are partial) and the worst dip; then,
# aligned on the reload times, the worst 500 ms right after a reload against
# the median — the dip the reloads cause, less sensitive to other noise.
function timeline_stats(key, text, start_ms, reloads_ms,   n, c, i, list, lo, med, nr, r, b, j, sum, worst, dip) {
  n = split(text, c, ",")
  if (n < 5) return
  lo = ""
  list = ""
  for (i = 2; i < n; i++) {
    list = list " " c[i]
    if (lo == "" || c[i] + 0 < lo + 0) lo = c[i] + 0
  }
  med = median(list)
  field[key, "min_rps_100ms"] = lo * 10
  field[key, "median_rps_100ms"] = med * 10
  field[key, "dip_pct"] = med > 0 ? sprintf("%.1f", 100 * (1 - lo / med)) : 0
  names[key] = names[key] " min_rps_100ms median_rps_100ms dip_pct"
  nr = split(reloads_ms, r, ",")
  worst = ""
  for (j = 1; j <= nr; j++) {
    if (!is_number(r[j]) || !is_number(start_ms)) continue
    b = int((r[j] - start_ms) / 100) + 1  # c[1] is the bucket that starts at start_ms
    if (b < 2 || b + 4 >= n) continue
    sum = c[b] + c[b + 1] + c[b + 2] + c[b + 3] + c[b + 4]
    if (worst == "" || sum < worst) worst = sum
  }
  if (worst != "" && med > 0) {
    field[key, "after_reload_rps"] = worst * 2
    dip = 100 * (1 - worst / (5 * med))
    field[key, "reload_dip_pct"] = sprintf("%.1f", dip < 0 ? 0 : dip)
    names[key] = names[key] " after_reload_rps reload_dip_pct"
  }
}

function fmt(metric, v) {
  if (v == "") return "—"
  if (metric ~ /rps/) return sprintf("%d", v + 0.5)
  if (metric ~ /_us$/ && metric != "cpu_us_per_req") return sprintf("%.2f", v / 1000)
  if (metric ~ /_kib$/) return sprintf("%.1f", v / 1024)
  if (metric ~ /dip/) return sprintf("%.1f", v)
  if (metric ~ /per_conn|cpu_us/) return sprintf("%.2f", v)
  return sprintf("%d", v + 0.5)
}

# --- reading -----------------------------------------------------------------------

{
  delete rec
  keylist = ""
  for (i = 1; i <= NF; i++) {
    eq = index($i, "=")
    if (eq == 0) continue
    k = substr($i, 1, eq - 1)
    rec[k] = substr($i, eq + 1)
    keylist = keylist " " k
  }
  key = NR
  row_scenario[key] = rec["scenario"]
  row_proxy[key] = rec["proxy"]
  names[key] = keylist
  for (k in rec) field[key, k] = rec[k]
  if ("timeline_100ms" in rec) {
    timeline_stats(key, rec["timeline_100ms"], rec["timeline_start_ms"], rec["reload_at_ms"])
  }
  if (is_number(rec["other_cpu_pct"])) {
    other_all = other_all " " rec["other_cpu_pct"]
    if (rec["other_cpu_pct"] + 0 > other_max + 0) other_max = rec["other_cpu_pct"]
  }
  rows = NR
  sp = rec["scenario"] SUBSEP rec["proxy"]
  if (rec["status"] == "failed") {
    failed[sp] = 1
    if (!(sp in reason)) reason[sp] = rec["reason"]
  } else {
    measured[sp] = 1
    if (rec["errors"] + 0 > 0) errors[sp] += rec["errors"]
    if (rec["reason"] != "" && !(sp in reason)) reason[sp] = rec["reason"]
  }
}

# --- summary per scenario and proxy ---------------------------------------------------------

function status_of(sp) {
  if (sp in failed) return "failed"
  if (errors[sp] > 0) return "errors"
  if (sp in measured) return "ok"
  return "absent"
}

# Median of metric m over the measured rounds of scenario s, proxy p.
function med(s, p, m,   r, list) {
  list = ""
  for (r = 1; r <= rows; r++) {
    if (row_scenario[r] != s || row_proxy[r] != p || field[r, "status"] == "failed") continue
    if ((r, m) in field && is_number(field[r, m])) list = list " " field[r, m]
  }
  return median(list)
}

# The markdown cell of metric m: the figure, or why there is none.
function cell(s, p, m, first_row,   st, why) {
  st = status_of(s SUBSEP p)
  if (st == "absent") return "—"
  if (st == "failed") {
    why = reason[s SUBSEP p]; gsub(/_/, " ", why)
    return first_row ? "✗ failed: " why : "✗"
  }
  # S7's error count and dip are its results, so they stay visible.
  if (st == "errors" && m != "errors" && m !~ /dip_pct$/ && m != "reloads") {
    if (!first_row) return "✗"
    why = reason[s SUBSEP p]; gsub(/_/, " ", why)
    return "✗ " errors[s SUBSEP p] " errors" (why != "" ? " (" why ")" : "")
  }
  # The error count is the sum over all rounds, as in the ✗ cells.
  if (m == "errors") return errors[s SUBSEP p] + 0
  return fmt(m, med(s, p, m))
}

function ratio(s, a, b, m,   x, y) {
  # Counts are results in themselves; a ratio of them says nothing.
  if (m == "errors" || m == "reloads" || m == "conns" || m ~ /dip_pct$/) return "—"
  if (status_of(s SUBSEP a) != "ok" || status_of(s SUBSEP b) != "ok") return "—"
  x = med(s, a, m); y = med(s, b, m)
  if (x == "" || y == "" || y + 0 == 0) return "—"
  return sprintf("%.2f×", x / y)
}

# --- output --------------------------------------------------------------------------

function metrics_of(s) {
  if (s == "S6") return "conns kib_per_conn pss_kib_per_conn rss_before_kib rss_after_kib"
  if (s == "S7") return "rps errors reloads reload_dip_pct dip_pct p99_us cpu_us_per_req hwm_kib"
  return "rps p50_us p99_us p999_us cpu_us_per_req hwm_kib rss_kib"
}

function label_of(m) {
  return m == "rps" ? "req/s" : m == "p50_us" ? "p50 ms" : m == "p99_us" ? "p99 ms" : \
    m == "p999_us" ? "p99.9 ms" : m == "cpu_us_per_req" ? "CPU µs/req" : \
    m == "hwm_kib" ? "peak RSS MiB" : m == "rss_kib" ? "RSS MiB" : m == "errors" ? "errors, all rounds" : \
    m == "reloads" ? "reloads" : m == "dip_pct" ? "dip % (worst 100 ms vs median)" : \
    m == "reload_dip_pct" ? "dip % (worst 500 ms after a reload vs median)" : \
    m == "min_rps_100ms" ? "worst 100 ms, req/s" : m == "conns" ? "idle conns held" : \
    m == "kib_per_conn" ? "KiB/conn (RSS)" : m == "pss_kib_per_conn" ? "KiB/conn (PSS)" : \
    m == "rss_before_kib" ? "RSS before MiB" : m == "rss_after_kib" ? "RSS after MiB" : m
}

function write_markdown(   s, i, j, m, nm, mlist, line, p, first) {
  printf "## ringgate vs nginx vs HAProxy (%s)\n\n", date > md
  printf "Backend: %s, nginx %s (%s worker); each proxy %s worker/thread; %s round(s) × %s s " \
    "(+%s s warm-up), medians; wrk %s, %s thread(s); pinning: %s; ringgate access log: %s.  \n", \
    backend == "mtls" ? "mTLS (client certificate, TLS verified)" : "plain HTTP", nginx_version, \
    backend_workers, workers, rounds, duration, warmup, wrk_version, wrk_threads, pin, \
    access_log ? "to a file" : "off" > md
  printf "Machine: %s × %s, kernel %s, %.0f GiB. Software: %s (git %s; %s), nginx %s, HAProxy %s, " \
    "OpenSSL %s.  \n", nproc, cpu_model, kernel, mem_kib / 1048576, \
    ringgate_version == "" ? "ringgate (no binary)" : ringgate_version, git_rev, ringgate_build, \
    nginx_version, haproxy_version, openssl_version > md
  printf "Command: `%s` (%d s).\n\n", command, elapsed > md
  # Other work on the machine moves every figure; say so where the table is read.
  if (other_max + 0 > 10) {
    printf "**Warning: other processes used up to %.0f%% of the machine's CPU time during the " \
      "measured runs (median %.0f%%); these figures are not reliable.**\n\n", other_max, \
      median(other_all) > md
  }
  line = "| scenario | metric |"
  for (i = 1; i <= nproxy; i++) line = line " " plist[i] " |"
  if (has_direct) line = line " direct |"
  for (i = 1; i <= npeer; i++) line = line " ringgate/" peers[i] " |"
  print line > md
  line = "|---|---|"
  for (i = 1; i <= nproxy + has_direct + npeer; i++) line = line "--:|"
  print line > md
  for (i = 1; i <= nscen; i++) {
    s = slist[i]
    nm = split(metrics_of(s), mlist, " ")
    for (j = 1; j <= nm; j++) {
      m = mlist[j]
      if (s == "S8" && m != "rps" && m !~ /^p/ && m != "cpu_us_per_req") continue
      line = j == 1 ? "| **" s "** " desc[s] " |" : "| |"
      line = line " " label_of(m) " |"
      for (p = 1; p <= nproxy; p++) line = line " " (s == "S8" ? "—" : cell(s, plist[p], m, j == 1)) " |"
      if (has_direct) line = line " " (s == "S8" ? cell(s, "direct", m, j == 1) : "—") " |"
      for (p = 1; p <= npeer; p++) line = line " " (s == "S8" ? "—" : ratio(s, "ringgate", peers[p], m)) " |"
      print line > md
    }
  }
  write_targets()
  printf "\nCPU µs/req and RSS cover the proxy's whole process tree (nginx and HAProxy: master + " \
    "workers; S8: the backend). A ✗ marks a proxy that answered anything but 2xx or had socket " \
    "errors: its figures are not reported. Ratios < 1 are better for latency, CPU and memory.\n" > md
}

# The issue's targets for ringgate against the better peer, when measurable.
function write_targets(   best, v, p, ok, line, m, want, cmp, names_, k) {
  if (!has_ringgate || npeer == 0) return
  printf "\nTargets (issue 4), ringgate against the better peer:\n" > md
  split("rps 1.5 ge|cpu_us_per_req 0.5 le|p99_us 0.7 le", want, "|")
  for (k = 1; k <= 3; k++) {
    split(want[k], cmp, " ")
    m = cmp[1]
    if (status_of("S1" SUBSEP "ringgate") != "ok") {
      if (k == 1 && in_set["S1"]) printf "- S1: ringgate has no figures (%s)\n", status_of("S1" SUBSEP "ringgate") > md
      if (in_set["S1"]) break
      continue
    }
    best = ""
    for (p = 1; p <= npeer; p++) {
      if (status_of("S1" SUBSEP peers[p]) != "ok") continue
      v = med("S1", peers[p], m)
      if (best == "" || (cmp[3] == "ge" ? v > best : v < best)) best = v
    }
    if (best == "" || best == 0) continue
    v = med("S1", "ringgate", m) / best
    ok = cmp[3] == "ge" ? v >= cmp[2] : v <= cmp[2]
    printf "- S1 %s: %.2f× (target %s %s×) %s\n", label_of(m), v, cmp[3] == "ge" ? "≥" : "≤", \
      cmp[2], ok ? "met" : "NOT met" > md
  }
  if (in_set["S6"] && status_of("S6" SUBSEP "ringgate") != "ok") {
    printf "- S6: ringgate has no figures (%s)\n", status_of("S6" SUBSEP "ringgate") > md
  } else if (in_set["S6"]) {
    v = med("S6", "ringgate", "kib_per_conn"); ok = 1; line = ""
    for (p = 1; p <= npeer; p++) {
      if (status_of("S6" SUBSEP peers[p]) != "ok") continue
      if (v >= med("S6", peers[p], "kib_per_conn")) ok = 0
      line = line sprintf(", %s %.2f", peers[p], med("S6", peers[p], "kib_per_conn"))
    }
    printf "- S6 KiB per idle connection: ringgate %.2f%s (target: less than both) %s\n", v, line, \
      ok ? "met" : "NOT met" > md
  }
  if (in_set["S7"]) {
    line = ""
    for (p = 1; p <= nproxy; p++) {
      line = line ", " plist[p] " "
      line = line (status_of("S7" SUBSEP plist[p]) == "failed" ? "failed" : errors["S7" SUBSEP plist[p]] + 0)
    }
    printf "- S7 errors under reload: %s (target: ringgate 0) %s\n", substr(line, 3), \
      status_of("S7" SUBSEP "ringgate") == "ok" ? "met" : "NOT met" > md
  }
}

function write_json(   i, s, p, r, who, n, k, nk, kl, first_p, first_r, first_k, m, nm, mlist, all, v) {
  printf "{\n  \"schema\": \"ringgate-bench-e2e/1\",\n  \"date\": %s,\n  \"command\": %s,\n", \
    json_string(date), json_string(command) > json
  printf "  \"elapsed_s\": %d,\n", elapsed > json
  printf "  \"machine\": {\"nproc\": %d, \"cpu_model\": %s, \"kernel\": %s, \"mem_total_kib\": %d, " \
    "\"loadavg_at_start\": %s, \"other_cpu_pct_max\": %s},\n", nproc, json_string(cpu_model), \
    json_string(kernel), mem_kib, load_start + 0, other_max + 0 > json
  printf "  \"software\": {\"ringgate\": %s, \"git\": %s, \"ringgate_build\": %s, \"nginx\": %s, " \
    "\"haproxy\": %s, \"wrk\": %s, \"openssl\": %s},\n", json_string(ringgate_version), \
    json_string(git_rev), json_string(ringgate_build), \
    json_string(nginx_version), json_string(haproxy_version), json_string(wrk_version), \
    json_string(openssl_version) > json
  printf "  \"settings\": {\"backend\": %s, \"rounds\": %d, \"duration_s\": %d, \"warmup_s\": %d, " \
    "\"workers\": %d, \"pin\": %s, \"wrk_threads\": %d, \"backend_workers\": %d, " \
    "\"idle_conns\": %d, \"ringgate_access_log\": %s},\n", json_string(backend), rounds, \
    duration, warmup, workers, json_string(pin), wrk_threads, backend_workers, idle_conns, \
    access_log ? "true" : "false" > json
  printf "  \"units\": {\"rps\": \"requests/s\", \"*_us\": \"microseconds\", \"*_kib\": \"KiB\", " \
    "\"cpu_us_per_req\": \"CPU microseconds per request, whole process tree\", " \
    "\"timeline_100ms\": \"responses per 100 ms\"},\n" > json
  printf "  \"scenarios\": {" > json
  for (i = 1; i <= nscen; i++) {
    s = slist[i]
    printf "%s\n    %s: {\"description\": %s, \"proxies\": {", (i > 1 ? "," : ""), json_string(s), \
      json_string(desc[s]) > json
    first_p = 1
    n = split(proxies (s == "S8" ? ",direct" : ""), who, ",")
    for (p = 1; p <= n; p++) {
      if (status_of(s SUBSEP who[p]) == "absent") continue
      printf "%s\n      %s: {\"status\": %s, \"errors\": %d, \"reason\": %s,", first_p ? "" : ",", \
        json_string(who[p]), json_string(status_of(s SUBSEP who[p])), errors[s SUBSEP who[p]], \
        json_string(reason[s SUBSEP who[p]]) > json
      first_p = 0
      # Medians of every numeric field any round of this proxy has.
      all = ""
      for (r = 1; r <= rows; r++) {
        if (row_scenario[r] != s || row_proxy[r] != who[p]) continue
        nk = split(names[r], kl, " ")
        for (k = 1; k <= nk; k++) if (index(" " all " ", " " kl[k] " ") == 0) all = all " " kl[k]
      }
      printf "\n        \"median\": {" > json
      first_k = 1
      nm = split(all, mlist, " ")
      for (k = 1; k <= nm; k++) {
        m = mlist[k]
        if (m == "round" || m == "timeline_100ms") continue
        v = med(s, who[p], m)
        if (v == "") continue
        printf "%s%s: %s", first_k ? "" : ", ", json_string(m), v > json
        first_k = 0
      }
      printf "},\n        \"rounds\": [" > json
      first_r = 1
      for (r = 1; r <= rows; r++) {
        if (row_scenario[r] != s || row_proxy[r] != who[p]) continue
        printf "%s\n          {", first_r ? "" : "," > json
        first_r = 0
        nk = split(names[r], kl, " ")
        for (k = 1; k <= nk; k++) {
          printf "%s%s: %s", (k > 1 ? ", " : ""), json_string(kl[k]), json_value(field[r, kl[k]]) > json
        }
        printf "}" > json
      }
      printf "]}" > json
    }
    printf "}}" > json
  }
  printf "\n  }\n}\n" > json
}

# One data file per scenario: label, value 1, value 2, text 1, text 2, colour.
function write_chart_data(   i, s, n, who, p, st, a, b, ta, tb, colour, file) {
  for (i = 1; i <= nscen; i++) {
    s = slist[i]
    file = chart_dir "/" s ".dat"
    n = split(s == "S8" ? "direct" : proxies, who, ",")
    for (p = 1; p <= n; p++) {
      st = status_of(s SUBSEP who[p])
      if (st == "absent") continue
      colour = who[p] == "ringgate" ? 1 : who[p] == "nginx" ? 2 : who[p] == "haproxy" ? 3 : 4
      if (s == "S6") { a = med(s, who[p], "kib_per_conn"); b = med(s, who[p], "pss_kib_per_conn") }
      else { a = med(s, who[p], "rps"); b = med(s, who[p], "p99_us") / 1000 }
      if (st == "ok") {
        ta = sprintf(s == "S6" ? "%.2f" : "%d", a + 0); tb = sprintf("%.2f", b + 0)
      } else {
        a = 0; b = 0
        ta = st == "failed" ? "failed" : errors[s SUBSEP who[p]] " errors"; tb = ta
      }
      printf "\"%s\" %s %s \"%s\" \"%s\" %d\n", who[p], a + 0, b + 0, ta, tb, colour > file
    }
    close(file)
  }
}

END {
  nscen = split(scenarios, slist, ",")
  for (i = 1; i <= nscen; i++) { in_set[slist[i]] = 1; if (slist[i] == "S8") has_direct = 1 }
  nproxy = split(proxies, plist, ",")
  npeer = 0
  for (i = 1; i <= nproxy; i++) {
    if (plist[i] == "ringgate") has_ringgate = 1
    else peers[++npeer] = plist[i]
  }
  if (!has_ringgate) npeer = 0
  n = split(descriptions, dl, "|")
  for (i = 1; i <= n; i++) if (dl[i] != "") desc[substr(dl[i], 1, 2)] = substr(dl[i], 4)
  system("mkdir -p '" chart_dir "'")
  write_markdown()
  write_json()
  write_chart_data()
}
