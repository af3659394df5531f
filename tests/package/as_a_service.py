#!/usr/bin/env python3
"""Runs the installed ringgate the way its systemd unit does, short of the
file-system sandbox: as user ringgate with CAP_NET_BIND_SERVICE as its only
(ambient) capability and no new privileges (setpriv does what User=,
AmbientCapabilities=, CapabilityBoundingSet= and NoNewPrivileges= do), under
the unit's system call filter (below), on the package's config (its ports
moved to free ones so that nothing else on the machine is disturbed), with
NOTIFY_SOCKET pointing at a socket this script reads, as for Type=notify.
Checks, printing one line each, that:

  - READY=1 arrives with a STATUS= line;
  - no new privileges, the seccomp filter in force;
  - the control thread keeps CAP_NET_BIND_SERVICE and nothing else, the
    workers none;
  - the admin API answers /healthz with the package's generated token and
    401 without it; the plain listener answers an unknown path with 404;
  - the access log is written under /var/log/ringgate as ringgate;
  - SIGUSR1 (logrotate's postrotate) makes it reopen a renamed log;
  - SIGHUP (ExecReload) gives RELOADING=1 with MONOTONIC_USEC=, then
    READY=1, the config, token and state dir re-read as ringgate;
  - SIGTERM gives STOPPING=1 and exit status 0.

The system call filter is the unit's SystemCallFilter= (@system-service,
less @privileged, plus capset; native architecture only), expanded with
`systemd-analyze syscall-filter` and installed with seccomp before setpriv
runs; setpriv's own setgroups, setresgid and setresuid are let through, as
systemd switches user before it applies the filter. Where the unit answers a
call outside the list with EPERM, here it kills the process (SIGSYS), so a
call the gateway needs but the unit forbids cannot go unnoticed. x86-64
only (the system call numbers come from its unistd_64.h); elsewhere the run
goes without it and says so.

usage: as_a_service.py CONFIG WORKDIR   (exit 0: every check passed)
Python 3 standard library only.
"""

import ctypes
import json
import os
import platform
import pwd
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ACCESS_LOG = "/var/log/ringgate/access.log"


# seccomp: a classic BPF program over struct seccomp_data.
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
AUDIT_ARCH_X86_64 = 0xC000003E
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
UNISTD_64 = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def syscall_sets():
    """systemd's named system call sets: "@name" -> its members (names, or
    further "@sets"), from `systemd-analyze syscall-filter`."""
    listing = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                             capture_output=True, text=True).stdout
    sets, current = {}, None
    for line in listing.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if not line[0].isspace() and item.startswith("@"):
            current = sets.setdefault(item, [])
        elif current is not None:
            current.append(item)
    return sets


def unit_filter():
    """The unit's allow list as a seccomp program, or None where this script
    cannot build one (not x86-64)."""
    if platform.machine() != "x86_64" or not os.path.exists(UNISTD_64):
        return None
    sets = syscall_sets()

    def expand(name):
        if not name.startswith("@"):
            return {name}
        return set().union(*(expand(member) for member in sets[name]))

    allowed = (expand("@system-service") - expand("@privileged")) | {"capset"}
    allowed |= {"setgroups", "setresgid", "setresuid"}  # setpriv, before ringgate
    numbers = {}
    with open(UNISTD_64) as f:
        for line in f:
            m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
            if m:
                numbers[m.group(1)] = int(m.group(2))
    program = [(BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
               (BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
               (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
               (BPF_LD_W_ABS, 0, 0, 0)]  # seccomp_data.nr
    for number in sorted(numbers[name] for name in allowed if name in numbers):
        program += [(BPF_JEQ_K, 0, 1, number), (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    program.append((BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS))
    return (SockFilter * len(program))(*(SockFilter(*insn) for insn in program))


def install_filter(program):
    """Runs in the child between fork and exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    prog = SockFprog(len(program), program)
    if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0):
        raise OSError(ctypes.get_errno(), "seccomp filter")


def free_port():
    """A loopback port nobody listens on now (the admin listener takes no
    port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    config_path, workdir = sys.argv[1], sys.argv[2]
    with open(config_path) as f:
        config = json.load(f)
    config["gateway"]["listeners"] = [{"address": "127.0.0.1:0"}]
    config["gateway"]["admin"]["address"] = "127.0.0.1:%d" % free_port()
    config["gateway"]["workers"] = 2
    with open(config["gateway"]["admin"]["tokenFile"]) as f:
        token = f.read().strip()
    # The gateway re-reads its config as ringgate on SIGHUP: the copy must be
    # readable by it, as /etc/ringgate/ringgate.json is.
    os.chmod(workdir, 0o755)
    copy = os.path.join(workdir, "ringgate.json")
    with open(copy, "w") as f:
        json.dump(config, f)
    os.chmod(copy, 0o644)

    notify_path = os.path.join(workdir, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    # The gateway sends as ringgate after the drop (STOPPING=1, reloads).
    os.chmod(notify_path, 0o666)
    stderr_path = os.path.join(workdir, "ringgate.stderr")
    stderr = open(stderr_path, "w+")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    as_the_unit = ["setpriv", "--reuid=ringgate", "--regid=ringgate", "--init-groups",
                   "--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service",
                   "--bounding-set=-all,+net_bind_service", "--no-new-privs", "--"]
    program = unit_filter()
    if program is None:
        print("    note: no system call filter on %s (x86-64 only)" % platform.machine())
    gateway = subprocess.Popen(as_the_unit + ["/usr/bin/ringgate", "--config", copy], env=env,
                               stdout=subprocess.DEVNULL, stderr=stderr,
                               preexec_fn=(lambda: install_filter(program)) if program else None)
    failures = []

    def check(name, ok, detail=""):
        print("CHECK service: %s: %s%s" % (name, "ok" if ok else "FAIL",
                                           "" if ok or not detail else "\n    " + detail))
        if not ok:
            failures.append(name)
        return ok

    def next_message(timeout):
        """The next notify message as a dict; {} after `timeout` seconds or
        once the gateway has exited."""
        notify.settimeout(0.2)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                data = notify.recv(4096).decode()
            except socket.timeout:
                if gateway.poll() is not None:
                    return {}
                continue
            return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
        return {}

    def log_text():
        stderr.flush()
        with open(stderr_path) as f:
            return f.read()

    def get(url, with_token):
        request = urllib.request.Request(url)
        if with_token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        ready = next_message(30)
        if not check("READY=1 with STATUS=", ready.get("READY") == "1" and "STATUS" in ready,
                     "got %r; log:\n%s" % (ready, log_text())):
            return 1
        print("    STATUS=%s" % ready["STATUS"])

        uid = pwd.getpwnam("ringgate").pw_uid
        net_bind_service = 1 << 10
        threads = {}
        for task in os.listdir("/proc/%d/task" % gateway.pid):
            with open("/proc/%d/task/%s/status" % (gateway.pid, task)) as f:
                fields = dict(l.split(":", 1) for l in f if ":" in l)
            threads[int(task)] = (set(int(u) for u in fields["Uid"].split()),
                                  int(fields["CapEff"], 16), fields["Name"].strip())
        check("every thread runs as ringgate", all(t[0] == {uid} for t in threads.values()),
              "threads: %r" % threads)
        with open("/proc/%d/status" % gateway.pid) as f:
            status = dict(l.split(":", 1) for l in f if ":" in l)
        check("no new privileges%s" % (", seccomp filter in force" if program else ""),
              status["NoNewPrivs"].strip() == "1" and
              (not program or status["Seccomp"].strip() == "2"),
              "NoNewPrivs %s, Seccomp %s" % (status["NoNewPrivs"].strip(),
                                             status["Seccomp"].strip()))
        control = threads.pop(gateway.pid)[1]
        check("control thread: CAP_NET_BIND_SERVICE only", control == net_bind_service,
              "CapEff %x" % control)
        workers = [t for t in threads.values() if t[2].startswith("ringgate-w")]
        check("worker threads (ringgate-w*): no capability",
              workers and all(t[1] == 0 for t in workers),
              "threads: %r" % sorted(threads.values()))
        for _, caps, name in threads.values():
            if caps and not name.startswith("ringgate-w"):
                print("    note: thread %s keeps CapEff %x" % (name, caps))

        log = log_text()
        admin = re.search(r"admin API on 127\.0\.0\.1:(\d+)", log)
        listener = re.search(r"listening on 127\.0\.0\.1:(\d+)", log)
        if not check("ports in the log", admin and listener, log):
            return 1
        base = "http://127.0.0.1:" + admin.group(1)
        check("admin /healthz with the package's token: 200",
              get(base + "/healthz", True) == 200)
        check("admin /healthz without a token: 401", get(base + "/healthz", False) == 401)
        check("listener, no API: 404",
              get("http://127.0.0.1:%s/nothing/here" % listener.group(1), False) == 404)

        def log_has(path, needle):
            deadline = time.time() + 5
            while time.time() < deadline:
                if os.path.exists(path) and needle in open(path).read():
                    return True
                time.sleep(0.1)
            return False

        written = log_has(ACCESS_LOG, "/nothing/here")
        check("access log line written", written)
        if written:
            st = os.stat(ACCESS_LOG)
            check("access log belongs to ringgate", st.st_uid == uid, "uid %d" % st.st_uid)

        os.rename(ACCESS_LOG, ACCESS_LOG + ".1")
        gateway.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        get("http://127.0.0.1:%s/after/reopen" % listener.group(1), False)
        check("SIGUSR1 reopens the renamed access log", log_has(ACCESS_LOG, "/after/reopen"))

        gateway.send_signal(signal.SIGHUP)
        reloading = next_message(15)
        check("SIGHUP: RELOADING=1 with MONOTONIC_USEC=",
              reloading.get("RELOADING") == "1" and "MONOTONIC_USEC" in reloading,
              "got %r" % reloading)
        reloaded = next_message(15)
        check("SIGHUP: READY=1 again, reload accepted",
              reloaded.get("READY") == "1" and "rejected" not in reloaded.get("STATUS", ""),
              "got %r; log:\n%s" % (reloaded, log_text()))

        gateway.send_signal(signal.SIGTERM)
        stopping = next_message(15)
        check("SIGTERM: STOPPING=1", stopping.get("STOPPING") == "1", "got %r" % stopping)
        status = gateway.wait(timeout=30)
        check("SIGTERM: exit status 0", status == 0, "exit %d; log:\n%s" % (status, log_text()))
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        elif gateway.returncode == -signal.SIGSYS:
            check("no system call outside the unit's filter", False,
                  "killed by SIGSYS: it made a call SystemCallFilter= forbids")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
