#!/usr/bin/env python3
"""Misbehaving HTTP/1.1 clients for tests/chaos/run (standard library only).

Runs, for --seconds (or until SIGTERM/SIGINT), --per-kind concurrent loops of
each kind (all, or those named by --kinds) against
127.0.0.1:--port, one request per connection:

  slow-head    sends the request head a byte at a time; per connection the
               pace is chosen so the head takes ~0.8 s, ~2.4 s or ~5 s (the
               last one outlasts a clientHeaderMs of 3 s).
  slow-upload  POST with Content-Length, the body trickled in small pieces
               with pauses shorter than clientIdleMs (2 s): it should succeed.
  half-body    POST with Content-Length, part of the body, then one of:
               stall (wait for the gateway's answer), close (FIN), abort (RST).

Counts the outcome of every attempt by kind: the HTTP status the gateway
answered, or what happened instead ("reset", "closed", "timeout",
"refused", "client-closed", "client-aborted"). "reset:504" is a 504 that
came while the request was still being sent (the send failed, the answer
was read after); "stall:408" is a stalled half-body's answer. Attempts still
running 3 s after the end are counted as "unfinished". Writes the counts as
JSON to --out and one summary line to stdout.
"""

import argparse
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter

RESPONSE_WAIT_S = 8.0  # longer than any gateway timeout in the chaos config
FINISH_GRACE_S = 3.0


class Outcomes:
    """Thread-safe counts of (kind, outcome)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {}

    def add(self, kind, outcome):
        with self._lock:
            self._counts.setdefault(kind, Counter())[outcome] += 1

    def as_dict(self):
        with self._lock:
            return {kind: dict(sorted(c.items())) for kind, c in sorted(self._counts.items())}


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=RESPONSE_WAIT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_status(sock):
    """Reads until the end of a response head; returns its status code as a
    string, or what ended the wait instead."""
    data = b""
    deadline = time.monotonic() + RESPONSE_WAIT_S
    while b"\r\n\r\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            return "reset"
        if not chunk:
            break
        data += chunk
    fields = data.split(b"\r\n", 1)[0].split(b" ")
    if len(fields) >= 2 and fields[0].startswith(b"HTTP/1.") and fields[1].isdigit():
        return fields[1].decode()
    return "closed" if not data else "garbled"


def send_paced(sock, data, piece, pause):
    """Sends data in pieces of `piece` bytes with `pause` seconds between
    them. Returns None when all was sent, else why it stopped."""
    for offset in range(0, len(data), piece):
        try:
            sock.sendall(data[offset : offset + piece])
        except (BrokenPipeError, ConnectionResetError):
            return "reset"
        if offset + piece < len(data):
            time.sleep(pause() if callable(pause) else pause)
    return None


def slow_head(port, rng):
    head = (
        "GET /chaos/slow-head HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "User-Agent: ringgate-chaos-slow-head\r\nAccept: */*\r\n\r\n"
    ).encode()
    pace = rng.choice([0.008, 0.024, 0.05])
    with connect(port) as sock:
        stopped = send_paced(sock, head, 1, pace)
        status = read_status(sock)
        return status if status not in ("closed", "reset") or stopped is None else stopped


def slow_upload(port, rng):
    length = 8192
    head = (
        f"POST /chaos/upload/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    with connect(port) as sock:
        sock.sendall(head)
        stopped = send_paced(sock, b"u" * length, 512, lambda: rng.uniform(0.1, 0.9))
        status = read_status(sock)
        return status if stopped is None else f"{stopped}:{status}"


def half_body(port, rng):
    length = 8192
    sent = rng.randrange(1, length // 2)
    ending = rng.choice(["stall", "close", "abort"])
    head = (
        f"POST /chaos/upload/half HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    with connect(port) as sock:
        sock.sendall(head + b"h" * sent)
        if ending == "stall":
            return "stall:" + read_status(sock)
        time.sleep(rng.uniform(0.05, 1.5))
        if ending == "abort":
            # SO_LINGER with a zero timeout makes close() send RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return "client-aborted"
        return "client-closed"


KINDS = {"slow-head": slow_head, "slow-upload": slow_upload, "half-body": half_body}


def loop(kind, port, stop, seed, outcomes):
    rng = random.Random(seed)
    attempt = KINDS[kind]
    while not stop.is_set():
        try:
            outcome = attempt(port, rng)
        except ConnectionRefusedError:
            outcome = "refused"
            time.sleep(0.2)
        except OSError as error:
            outcome = type(error).__name__
            time.sleep(0.2)
        outcomes.add(kind, outcome)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--per-kind", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    for kind in kinds:
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")

    outcomes = Outcomes()
    stop = threading.Event()
    # SIGTERM or SIGINT ends the run early; the counts so far are still written.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threads = []
    for k, kind in enumerate(KINDS):
        if kind not in kinds:
            continue
        for i in range(args.per_kind):
            seed = args.seed * 1000 + k * 100 + i
            t = threading.Thread(target=loop, args=(kind, args.port, stop, seed, outcomes))
            t.daemon = True
            t.start()
            threads.append(t)
    deadline = time.monotonic() + args.seconds
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(min(0.5, max(0.0, deadline - time.monotonic())))
    stop.set()
    # Attempts still under way shortly after the end are abandoned (their
    # connections close when the process exits) and counted as unfinished.
    grace_end = time.monotonic() + FINISH_GRACE_S
    for t in threads:
        t.join(timeout=max(0.0, grace_end - time.monotonic()))
    for t in threads:
        if t.is_alive():
            outcomes.add("unfinished", "at-deadline")
    result = outcomes.as_dict()
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(
        "clients: "
        + "; ".join(
            f"{kind} " + ", ".join(f"{o}={n}" for o, n in counts.items())
            for kind, counts in result.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
