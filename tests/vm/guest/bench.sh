# CPU per request with kTLS against userspace TLS, sourced by cases.sh in
# "bench" mode. tests/vm/run boots the VM for it on one vCPU with qemu's
# -icount, so the guest's clock counts executed instructions (1 ns each) and
# the host's load cannot move the figures; TCG still makes them unlike any
# real CPU's, so only the ratio is reported. The figure: ringgate's own
# run time (every thread, /proc/PID/task/*/schedstat, which includes the
# kernel's TLS work done in its send and receive calls) per request. Rounds
# alternate between gateway.ktls "auto" and "off"; each round's ratio
# compares two runs made seconds apart, and the median ratio is reported.
BENCH_SECONDS=${BENCH_SECONDS:-1}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}

gateway_run_ns() { cat /proc/"$GW_PID"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# bench_round KTLS_MODE PATH CONNECTIONS: prints "cpu_us_per_request requests_per_s".
bench_round() {
  start_gateway "$1" || return
  # No warm-up run: the handshakes and the hand-over to the kernel are part
  # of what each mode costs, and equal in number in both.
  ns0=$(gateway_run_ns)
  out=$(wrk -t1 -c"$3" -d"${BENCH_SECONDS}s" "$GW$2" 2>&1)
  ns1=$(gateway_run_ns)
  stop_gateway
  requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors')
  [ -n "$errors" ] && echo "BENCH warning: $1 $2: $errors" >&2
  awk -v ns="$((ns1 - ns0))" -v r="$requests" -v s="$BENCH_SECONDS" \
    'BEGIN { if (r > 0) printf "%.1f %.1f\n", ns / 1000 / r, r / s; else print "0 0" }'
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
  echo "BENCH ${BENCH_ROUNDS} alternating rounds of ${BENCH_SECONDS} s (guest clock) per mode; ringgate with 1 worker; $(nproc) vCPU, -icount"
  bench_workload S1-small-get /t13-aes128/small 4
  bench_workload 1MiB-get /t13-aes128/1m 2
  print_aeads bench
}
