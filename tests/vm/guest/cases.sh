#!/bin/sh
# The kTLS cases, run inside the VM by /init (busybox sh). Each prints
# "CASE name: pass" or "CASE name: FAIL: why"; the exit status is the number
# of failures. $1: "test" (every case), "break-key" (the first cases, with the
# test-only switch that corrupts the keys handed to the kernel: they must
# fail) or "bench" (CPU per request, kTLS against userspace TLS).
MODE=${1:-test}
FAILED=0
CERTS=/vm/certs
GW=https://127.0.0.1:8443
ADMIN=http://127.0.0.1:9901
CURL="curl -sS --cacert $CERTS/ca.pem --max-time 120"
GW_PID=

# A write to a FIFO whose reader has gone must fail that write, not end the run.
trap '' PIPE

pass() { echo "CASE $1: pass${2:+ ($2)}"; }
fail() {
  echo "CASE $1: FAIL: $2"
  FAILED=$((FAILED + 1))
}

metric() { curl -s "$ADMIN/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
metric_sum() { curl -s "$ADMIN/metrics" | awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }'; }
ktls_conns() { metric 'ringgate_transport_connections_total{mode="ktls"}'; }
user_conns() { metric 'ringgate_transport_connections_total{mode="userspace_tls"}'; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }

print_counters() {
  echo "ktls counters ($1): /proc/net/tls_stat"
  awk '{ printf "  %s %s\n", $1, $2 }' /proc/net/tls_stat
  echo "ktls counters ($1): ringgate /metrics"
  curl -s "$ADMIN/metrics" | grep -E '^ringgate_(transport_connections|ktls_)' | sed 's/^/  /'
  print_aeads "$1"
}

print_aeads() {
  echo "ktls counters ($1): the kernel's AEAD implementations in use"
  awk '/^name/ { name = $3 } /^driver/ && name ~ /^(gcm\(aes\)|rfc7539\(chacha20,poly1305\))$/ {
    printf "  %s: %s\n", name, $3 }' /proc/crypto
}

# Waits up to $2 tenths of a second for command $1 to succeed.
wait_for() {
  i=0
  while [ "$i" -lt "$2" ]; do
    eval "$1" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

start_backends() {
  mkdir -p /tmp/data /tmp/nginx-body /tmp/www
  dd if=/dev/urandom of=/tmp/data/big.bin bs=1048576 count=16 2>/dev/null
  dd if=/dev/urandom of=/tmp/data/1m.bin bs=1048576 count=1 2>/dev/null
  : >/tmp/nginx-servers.conf
  while read -r name port protocol ciphers12 suites13; do
    sed -e "s/@PORT@/$port/" -e "s/@PROTOCOL@/$protocol/" -e "s/@CIPHERS12@/$ciphers12/" \
      -e "s/@SUITES13@/$suites13/" /vm/nginx-server.conf.in >>/tmp/nginx-servers.conf
  done <<EOF
t12-aes128 9412 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 TLS_AES_128_GCM_SHA256
t12-aes256 9413 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 TLS_AES_128_GCM_SHA256
t12-chacha 9414 TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305 TLS_AES_128_GCM_SHA256
t13-aes128 9415 TLSv1.3 HIGH TLS_AES_128_GCM_SHA256
t13-aes256 9416 TLSv1.3 HIGH TLS_AES_256_GCM_SHA384
t13-chacha 9417 TLSv1.3 HIGH TLS_CHACHA20_POLY1305_SHA256
EOF
  nginx -c /vm/nginx.conf || fail nginx-start "$(cat /tmp/nginx-error.log)"
}

# start_gateway KTLS_MODE [VAR=value...]: ringgate with gateway.ktls set.
start_gateway() {
  sed "s/\"ktls\": \"auto\"/\"ktls\": \"$1\"/" /vm/ringgate.json >/tmp/ringgate.json
  shift
  env "$@" /vm/bin/ringgate --config /tmp/ringgate.json >/tmp/ringgate.log 2>&1 &
  GW_PID=$!
  if ! wait_for 'curl -s -o /dev/null "$ADMIN/healthz"' 300; then
    fail gateway-start "ringgate did not come up: $(tail -5 /tmp/ringgate.log)"
    return 1
  fi
}

stop_gateway() {
  [ -n "$GW_PID" ] || return 0
  if [ "$FAILED" -gt 0 ]; then
    echo "ktls: ringgate's log so far (a case failed):"
    tail -40 /tmp/ringgate.log | sed 's/^/  /'
  fi
  kill "$GW_PID"
  wait "$GW_PID"
  GW_PID=
}

# One TLS version and cipher on both legs: curl offers only that cipher to
# the listener, and the API's nginx accepts only that one from the gateway.
# Two requests on one client connection; the second reuses the pooled
# backend connection, so both directions of both connections ran in kTLS.
matrix_case() { # name backend-says curl-options...
  name=$1
  expect=$2
  shift 2
  k0=$(ktls_conns) u0=$(user_conns) tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
  out=$($CURL "$@" "$GW/$name/small" "$GW/$name/small" 2>&1)
  k1=$(ktls_conns) u1=$(user_conns) tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
  got=$(echo "$out" | grep -c "^ok $expect ")
  if [ "$got" -ne 2 ]; then
    fail "$name" "expected two answers \"ok $expect\", got: $out"
  elif ! echo "$out" | grep -q ' req=2$'; then
    fail "$name" "the second request did not reuse the backend connection: $out"
  elif [ $((k1 - k0)) -lt 2 ] || [ "$u1" -ne "$u0" ]; then
    fail "$name" "connections in kTLS +$((k1 - k0)), in userspace TLS +$((u1 - u0)) (want +2 and +0)"
  elif [ $((tx1 - tx0)) -lt 2 ] || [ $((rx1 - rx0)) -lt 2 ]; then
    fail "$name" "tls_stat TlsTxSw +$((tx1 - tx0)), TlsRxSw +$((rx1 - rx0)) (want +2 each)"
  else
    pass "$name" "kTLS connections +$((k1 - k0)), TlsTxSw +$((tx1 - tx0)), TlsRxSw +$((rx1 - rx0))"
  fi
}

cases_matrix() {
  matrix_case t12-aes128 "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256
  matrix_case t12-aes256 "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384
  matrix_case t12-chacha "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305
  matrix_case t13-aes128 "TLSv1.3 TLS_AES_128_GCM_SHA256" \
    --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
  matrix_case t13-aes256 "TLSv1.3 TLS_AES_256_GCM_SHA384" \
    --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
  matrix_case t13-chacha "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256" \
    --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
}

case_big_bodies() {
  u0=$(user_conns)
  code=$($CURL --tlsv1.3 -o /tmp/down.bin -w '%{http_code}' "$GW/t13-aes256/big" 2>&1)
  if [ "$code" != 200 ] || ! cmp -s /tmp/down.bin /tmp/data/big.bin; then
    fail download-16MiB "status $code, $(wc -c </tmp/down.bin) bytes, not the file served"
  else
    pass download-16MiB "byte-exact, TLS 1.3 AES-256-GCM both legs"
  fi
  rm -f /tmp/down.bin
  stored=$($CURL --tlsv1.2 --tls-max 1.2 --data-binary @/tmp/data/big.bin \
    -H 'Content-Type: application/octet-stream' "$GW/t12-chacha/upload" 2>&1)
  if [ ! -f "$stored" ] || ! cmp -s "$stored" /tmp/data/big.bin; then
    fail upload-16MiB "the backend stored \"$stored\", not the 16 MiB sent"
  else
    pass upload-16MiB "byte-exact, TLS 1.2 ChaCha20-Poly1305 both legs"
  fi
  rm -f "$stored"
  [ "$(user_conns)" -eq "$u0" ] || fail big-bodies-ktls "a connection stayed on userspace TLS"
}

# nginx (TLS 1.3) sends its session tickets after the handshake; those that
# arrive after the hand-over are read from the kTLS socket with recvmsg.
case_session_tickets() {
  tickets=$(metric ringgate_ktls_session_tickets_total)
  if [ "${tickets:-0}" -gt 0 ]; then
    pass session-tickets-on-ktls-rx "$tickets read and set aside"
  else
    fail session-tickets-on-ktls-rx "no TLS 1.3 session ticket arrived on a kTLS socket"
  fi
}

# nginx closes idle keep-alive connections after keepalive_timeout (4 s)
# with close_notify: the pooled kTLS connection must be dropped from the pool
# and the next request must get a fresh one.
case_close_notify_idle() {
  $CURL --tlsv1.3 "$GW/t13-aes128/small" >/dev/null 2>&1
  n0=$(metric ringgate_ktls_close_notify_total)
  sleep 6
  n1=$(metric ringgate_ktls_close_notify_total)
  open=$(metric_sum ringgate_pool_open_connections)
  out=$($CURL --tlsv1.3 "$GW/t13-aes128/small" 2>&1)
  if [ $((n1 - n0)) -lt 1 ]; then
    fail close-notify-idle-pooled "no close_notify read from an idle pooled connection"
  elif [ "$open" -ne 0 ]; then
    fail close-notify-idle-pooled "$open backend connections still open after nginx closed them"
  elif ! echo "$out" | grep -q ' req=1$'; then
    fail close-notify-idle-pooled "the next request did not get a fresh connection: $out"
  else
    pass close-notify-idle-pooled "$((n1 - n0)) close_notify on idle connections, next request fine"
  fi
}

# openssl s_server -WWW answers without a length and ends with close_notify.
# The file it serves is a FIFO, so the answer starts only once the gateway
# has long handed the connection to the kernel.
case_close_notify_busy() {
  rm -f /tmp/www/slow.bin
  mkfifo /tmp/www/slow.bin
  (cd /tmp/www && exec openssl s_server -accept 127.0.0.1:9420 -naccept 1 -tls1_3 -WWW \
    -cert $CERTS/backend.pem -key $CERTS/backend.key -Verify 1 -CAfile $CERTS/ca.pem \
    >/tmp/www.out 2>&1) &
  server=$!
  wait_for 'grep -q ACCEPT /tmp/www.out' 100
  n0=$(metric ringgate_ktls_close_notify_total) u0=$(user_conns)
  $CURL -o /tmp/www.body -w '%{http_code}' "$GW/sserver/slow.bin" >/tmp/www.code 2>&1 &
  client=$!
  sleep 3
  cat /tmp/data/1m.bin >/tmp/www/slow.bin
  wait "$client"
  wait "$server"
  n1=$(metric ringgate_ktls_close_notify_total) u1=$(user_conns)
  if [ "$(cat /tmp/www.code)" != 200 ] || ! cmp -s /tmp/www.body /tmp/data/1m.bin; then
    fail close-notify-busy "status $(cat /tmp/www.code), $(wc -c </tmp/www.body) bytes, not the 1 MiB served"
  elif [ $((n1 - n0)) -lt 1 ] || [ "$u1" -ne "$u0" ]; then
    fail close-notify-busy "close_notify on kTLS +$((n1 - n0)), userspace TLS connections +$((u1 - u0))"
  else
    pass close-notify-busy "1 MiB relayed until the backend's close_notify, byte-exact"
  fi
  rm -f /tmp/www/slow.bin /tmp/www.body /tmp/www.code
}

# A backend sends KeyUpdate mid-exchange (s_server's "k" command). The
# kernel cannot rekey RX here: the gateway must close that connection,
# count it and answer 502, never relay what follows.
case_key_update_backend() {
  rm -f /tmp/ku.in
  mkfifo /tmp/ku.in
  openssl s_server -accept 127.0.0.1:9420 -naccept 1 -tls1_3 -crlf \
    -cert $CERTS/backend.pem -key $CERTS/backend.key -Verify 1 -CAfile $CERTS/ca.pem \
    </tmp/ku.in >/tmp/ku.out 2>&1 &
  server=$!
  exec 7>/tmp/ku.in
  wait_for 'grep -q ACCEPT /tmp/ku.out' 100
  k0=$(metric 'ringgate_ktls_connections_closed_total{reason="key_update"}')
  $CURL -o /tmp/ku.body -w '%{http_code}' "$GW/sserver/ku" >/tmp/ku.code 2>&1 &
  client=$!
  wait_for 'grep -q "GET /ku" /tmp/ku.out' 300
  sleep 1
  echo k >&7
  sleep 1
  printf 'HTTP/1.1 200 OK\nContent-Length: 8\n\ngarbage\n' >&7
  wait "$client"
  exec 7>&-
  kill "$server" 2>/dev/null
  wait "$server"
  k1=$(metric 'ringgate_ktls_connections_closed_total{reason="key_update"}')
  after=$($CURL --tlsv1.3 "$GW/t13-aes128/small" 2>&1)
  if [ "$(cat /tmp/ku.code)" != 502 ] || grep -q garbage /tmp/ku.body; then
    fail key-update-backend "status $(cat /tmp/ku.code), body $(cat /tmp/ku.body)"
  elif [ $((k1 - k0)) -ne 1 ]; then
    fail key-update-backend "key_update closes +$((k1 - k0)) (want +1)"
  elif ! echo "$after" | grep -q '^ok '; then
    fail key-update-backend "the gateway did not serve the next request: $after"
  else
    pass key-update-backend "connection closed, 502, counted"
  fi
  rm -f /tmp/ku.in /tmp/ku.body /tmp/ku.code
}

# A client sends KeyUpdate after its first request on a kTLS connection.
case_key_update_client() {
  k0=$(metric 'ringgate_ktls_connections_closed_total{reason="key_update"}')
  (printf 'GET /t13-aes128/small HTTP/1.1\nHost: vm\n\n'; sleep 3; echo k; sleep 20) |
    timeout 15 openssl s_client -connect 127.0.0.1:8443 -tls1_3 -CAfile $CERTS/ca.pem -crlf \
      >/tmp/cku.out 2>&1
  status=$?
  k1=$(metric 'ringgate_ktls_connections_closed_total{reason="key_update"}')
  if ! grep -q '^ok TLSv1.3' /tmp/cku.out; then
    fail key-update-client "no answer to the request before the KeyUpdate"
  elif [ "$status" -eq 124 ]; then
    fail key-update-client "the gateway kept the connection open after the KeyUpdate"
  elif [ $((k1 - k0)) -ne 1 ]; then
    fail key-update-client "key_update closes +$((k1 - k0)) (want +1)"
  else
    pass key-update-client "connection closed, counted"
  fi
}

# With TLS_RX refused by the kernel (test-only switch: a truncated struct),
# every connection stays on userspace TLS and keeps working.
case_rx_refused() {
  start_gateway auto RINGGATE_TEST_FAIL_KTLS_RX=1 || return
  tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
  out=$($CURL --tlsv1.3 "$GW/t13-chacha/small" "$GW/t13-chacha/small" 2>&1)
  code=$($CURL --tlsv1.2 --tls-max 1.2 -o /tmp/down.bin -w '%{http_code}' "$GW/t12-aes128/1m" 2>&1)
  tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
  k=$(ktls_conns) u=$(user_conns)
  if [ "$(echo "$out" | grep -c '^ok TLSv1.3')" -ne 2 ] || [ "$code" != 200 ] ||
    ! cmp -s /tmp/down.bin /tmp/data/1m.bin; then
    fail tls-rx-refused-falls-back "requests failed: $out / status $code"
  elif [ "$k" -ne 0 ] || [ "$u" -lt 4 ]; then
    fail tls-rx-refused-falls-back "kTLS connections $k, userspace TLS $u (want 0 and >= 4)"
  elif [ "$tx1" -ne "$tx0" ] || [ "$rx1" -ne "$rx0" ]; then
    fail tls-rx-refused-falls-back "the kernel took keys: TlsTxSw +$((tx1 - tx0)), TlsRxSw +$((rx1 - rx0))"
  elif ! grep -q 'TLS_RX: Invalid argument' /tmp/ringgate.log; then
    fail tls-rx-refused-falls-back "no log line naming the refused TLS_RX"
  else
    pass tls-rx-refused-falls-back "$u connections on userspace TLS, all requests fine"
  fi
  rm -f /tmp/down.bin
  stop_gateway
}

case_off() {
  start_gateway off || return
  out=$($CURL --tlsv1.3 "$GW/t13-aes128/small" 2>&1)
  if ! grep -q 'kTLS: off' /tmp/ringgate.log || [ "$(ktls_conns)" -ne 0 ] ||
    ! echo "$out" | grep -q '^ok '; then
    fail ktls-off "gateway.ktls off: $out, kTLS connections $(ktls_conns)"
  else
    pass ktls-off "no connection in kTLS, requests fine"
  fi
  stop_gateway
}

# The unit tests that skip on a kernel without kTLS (tests/unit/tls).
case_unit_tests() {
  [ -x /vm/bin/unit_tests ] || return 0
  out=$(/vm/bin/unit_tests --gtest_filter='KtlsKernel.*:InstallKtls.*:ClassifyControlRecord.*' 2>&1)
  status=$?
  ran=$(echo "$out" | grep -c '^\[       OK \] KtlsKernel\.')
  if [ "$status" -ne 0 ] || [ "$ran" -lt 1 ]; then
    fail unit-tests-ktls-kernel "$(echo "$out" | grep -E 'FAILED|SKIPPED|Failure' | head -5)"
  else
    pass unit-tests-ktls-kernel "$ran KtlsKernel test(s) ran against the kernel"
  fi
}

run_cases() {
  case_unit_tests
  start_backends
  if [ "$MODE" = break-key ]; then
    start_gateway auto RINGGATE_TEST_CORRUPT_KTLS_KEY=1 || return
  else
    start_gateway auto || return
  fi
  if grep -q 'kTLS: available' /tmp/ringgate.log; then
    pass probe "$(grep -o 'kTLS: available.*' /tmp/ringgate.log)"
  else
    fail probe "$(grep kTLS /tmp/ringgate.log)"
  fi
  cases_matrix
  case_big_bodies
  if [ "$MODE" = break-key ]; then
    print_counters "broken keys"
    return
  fi
  case_session_tickets
  case_close_notify_idle
  case_close_notify_busy
  case_key_update_backend
  case_key_update_client
  if grep -q 'half installed' /tmp/ringgate.log; then
    fail no-half-installed "$(grep 'half installed' /tmp/ringgate.log | head -3)"
  fi
  print_counters "after the cases"
  stop_gateway
  case_rx_refused
  case_off
}

if [ "$MODE" = bench ]; then
  . /vm/bench.sh
  run_bench
else
  run_cases
fi
[ "$FAILED" -eq 0 ]
