# CPU per request with kTLS against userspace TLS, sourced by cases.sh in
# "bench" mode. TCG makes absolute figures meaningless, so only the ratio is
# reported. As DESIGN §9 asks: ringgate alone on CPU 1 (every thread), wrk and
# nginx on CPU 0, and CPU 1's busy time from /proc/stat per request; rounds
# alternate between gateway.ktls "auto" and "off", medians are compared.
BENCH_SECONDS=${BENCH_SECONDS:-4}
BENCH_ROUNDS=${BENCH_ROUNDS:-7}
PIN_OTHERS="taskset 1"

cpu1_busy() { awk '$1 == "cpu1" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

pin_gateway() {
  for task in /proc/"$GW_PID"/task/*; do
    taskset -p 2 "${task##*/}" >/dev/null
  done
}

# bench_round KTLS_MODE PATH CONNECTIONS: prints "cpu_us_per_request requests_per_s".
bench_round() {
  start_gateway "$1" || return
  pin_gateway
  taskset 1 wrk -t1 -c"$3" -d1s "$GW$2" >/dev/null 2>&1
  busy0=$(cpu1_busy)
  out=$(taskset 1 wrk -t1 -c"$3" -d"${BENCH_SECONDS}s" "$GW$2" 2>&1)
  busy1=$(cpu1_busy)
  stop_gateway
  requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors')
  [ -n "$errors" ] && echo "BENCH warning: $errors"
  # USER_HZ is 100: one jiffy is 10000 us.
  awk -v b="$((busy1 - busy0))" -v r="$requests" -v s="$BENCH_SECONDS" \
    'BEGIN { if (r > 0) printf "%.1f %.1f\n", b * 10000 / r, r / s; else print "0 0" }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The host's load slows TCG down for minutes at a time, which moves both
# modes' figures alike: each round's kTLS/userspace ratio compares two runs
# made seconds apart, and the median of those ratios is the figure reported.
bench_workload() { # name path connections
  : >/tmp/bench-auto
  : >/tmp/bench-off
  : >/tmp/bench-ratio
  round=1
  while [ "$round" -le "$BENCH_ROUNDS" ]; do
    for mode in auto off; do
      result=$(bench_round "$mode" "$2" "$3")
      echo "BENCH $1 round $round ktls=$mode cpu_us_per_request/requests_per_s: $result"
      echo "$result" | cut -d' ' -f1 >/tmp/bench-last-"$mode"
      cat /tmp/bench-last-"$mode" >>/tmp/bench-"$mode"
    done
    awk -v a="$(cat /tmp/bench-last-auto)" -v o="$(cat /tmp/bench-last-off)" \
      'BEGIN { if (o > 0) printf "%.3f\n", a / o }' >>/tmp/bench-ratio
    round=$((round + 1))
  done
  auto=$(median </tmp/bench-auto)
  off=$(median </tmp/bench-off)
  ratio=$(median </tmp/bench-ratio)
  awk -v n="$1" -v a="$auto" -v o="$off" -v r="$ratio" 'BEGIN {
    printf "BENCH %s median CPU us/request: kTLS %.1f, userspace TLS %.1f; median of the rounds\047 kTLS/userspace ratios %.2f\n",
      n, a, o, r }'
}

run_bench() {
  start_backends
  echo "BENCH ${BENCH_ROUNDS} alternating rounds of ${BENCH_SECONDS} s per mode; ringgate (1 worker) alone on CPU 1"
  bench_workload S1-small-get /t13-aes128/small 8
  bench_workload 1MiB-get /t13-aes128/1m 2
  print_aeads bench
}
