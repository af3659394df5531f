#!/usr/bin/env bash
# tools/run end to end (issue 2, acceptance 1): starts it on the built binary,
# curls http://127.0.0.1:8080/echo/hello, expects the demo backend's answer,
# then stops tools/run by its PID and checks it took ringgate and nginx along.
# tools/run uses fixed ports (8080, 9901, 9100). When one is taken, it runs in a
# private network namespace if it can (root), and skips (77) otherwise.
set -euo pipefail

root="${RINGGATE_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
bin="${RINGGATE_BIN:-$root/build/ringgate}"
readonly PORTS=(8080 9901 9100)

# Bound by anyone (listening or not)? SO_REUSEADDR ignores TIME_WAIT leftovers.
port_taken() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "${PORTS[@]}"; do
  if port_taken "$port"; then
    # As root, a private network namespace (its own loopback) frees the ports
    # without touching whoever holds them; otherwise skip.
    if [[ -z "${RUN_SMOKE_IN_NETNS:-}" && $(id -u) -eq 0 ]] && command -v unshare >/dev/null &&
       command -v ip >/dev/null && unshare --net true 2>/dev/null; then
      echo "run_smoke: 127.0.0.1:$port is in use; running in a private network namespace"
      export RUN_SMOKE_IN_NETNS=1
      exec unshare --net -- bash -c 'ip link set lo up && exec bash "$0"' "${BASH_SOURCE[0]}"
    fi
    echo "run_smoke: 127.0.0.1:$port is in use; skipping"
    exit 77
  fi
done
[[ -x "$bin" ]] || { echo "run_smoke: no ringgate binary at $bin" >&2; exit 1; }

log=$(mktemp "${TMPDIR:-/tmp}/ringgate-run-smoke.XXXXXX")
"$root/tools/run" --bin "$bin" >"$log" 2>&1 </dev/null &
run_pid=$!
cleanup() {
  if kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT
fail() {
  echo "run_smoke: $*" >&2
  echo "---- tools/run output ----" >&2
  cat "$log" >&2
  exit 1
}

body=""
for _ in $(seq 150); do
  if body=$(curl -sS --max-time 2 http://127.0.0.1:8080/echo/hello 2>/dev/null); then
    break
  fi
  kill -0 "$run_pid" 2>/dev/null || fail "tools/run exited early"
  body=""
  sleep 0.2
done
[[ -n "$body" ]] || fail "no answer on http://127.0.0.1:8080/echo/hello within 30 s"
echo "$body"
grep -q "^demo backend saw: GET /echo/hello$" <<<"$body" ||
  fail "unexpected answer: $body"
grep -q "^client certificate: .*CN=ringgate-demo-client" <<<"$body" ||
  { echo "run_smoke: the backend did not see the gateway's client certificate: $body" >&2; exit 1; }
grep -q "^x-forwarded-for: 127.0.0.1" <<<"$body" ||
  fail "the backend did not see X-Forwarded-For: $body"

kill -TERM "$run_pid"
for _ in $(seq 150); do
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$run_pid" 2>/dev/null && fail "tools/run still running 15 s after SIGTERM"
wait "$run_pid" 2>/dev/null || true
for port in "${PORTS[@]}"; do
  port_open "$port" && fail "port $port still open after tools/run stopped"
done
echo "run_smoke: ok"
