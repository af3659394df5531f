# bench/e2e/lib/common.sh — logging, ports, the processes the harness started
# (tracked by PID, stopped by PID), and per-process-tree CPU and memory readings
# from /proc. Sourced by bench/e2e/run; expects WORK (the run's temp dir).

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Reduces free text (a log line, a reason) to characters that are safe inside
# a record field, a JSON string and a markdown cell.
sanitize() { tr -c 'A-Za-z0-9 ._:/()=+$[]-' ' ' <<<"$*" | tr -s ' ' | sed 's/^ //; s/ $//' | cut -c1-160; }

# --- ports -------------------------------------------------------------------

# True when something listens on 127.0.0.1:$1 or 0.0.0.0:$1 (IPv4 or IPv6).
port_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Picks a base port below the ephemeral range (so clients' source ports never
# collide with it) such that base .. base+$1-1 are all free. Prints it.
pick_port_base() {
  local span=$1 base p tries
  for ((tries = 0; tries < 50; tries++)); do
    base=$((20000 + (RANDOM % 100) * 100))
    for ((p = base; p < base + span; p++)); do
      port_listening "$p" && continue 2
    done
    echo "$base"
    return 0
  done
  return 1
}

# Waits until 127.0.0.1:$1 accepts connections, at most $2 seconds.
wait_port() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# --- processes ------------------------------------------------------------------

STARTED_PIDS=()

track() { STARTED_PIDS+=("$1"); }

untrack() {
  local kept=() p
  for p in "${STARTED_PIDS[@]}"; do [[ "$p" == "$1" ]] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

alive() { kill -0 "$1" 2>/dev/null; }

# Prints $1 and all its descendants, parents first.
tree_pids() {
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$child"; done
}

# Stops the process $1 and every descendant it has now: SIGTERM (or $2) to the
# root, up to 5 s to exit, then SIGKILL to whatever of the tree is left. Only
# these PIDs are ever signalled.
stop_tree() {
  local root=$1 signal=${2:-TERM} pids p i
  alive "$root" || { wait "$root" 2>/dev/null || true; untrack "$root"; return 0; }
  pids=$(tree_pids "$root")
  kill -s "$signal" "$root" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$root" || break
    sleep 0.05
  done
  for p in $pids; do alive "$p" && kill -s KILL "$p" 2>/dev/null; done
  wait "$root" 2>/dev/null || true
  untrack "$root"
}

# Stops everything still tracked, newest first. The harness's EXIT trap.
stop_all() {
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_tree "${STARTED_PIDS[i]}"
  done
}

# --- /proc readings ------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

# CPU time in clock ticks used so far by the tree under $1: utime+stime of every
# live member (all threads) plus cutime+cstime (children it has reaped, such as
# nginx workers retired by a reload). Differences of two readings are exact.
tree_cpu_ticks() {
  local files=() p
  for p in $(tree_pids "$1"); do files+=("/proc/$p/stat"); done
  # cat skips a process that exited meanwhile (a worker retired by a reload).
  # The comm field may hold spaces or parentheses: cut at the last ')'.
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

# CPU ticks of the children the (sub)shell $1 has waited for (wrk, once it has
# exited): its cutime+cstime. Call with "$BASHPID" of the shell that runs wrk;
# inside $(…) BASHPID would name the substitution's own subshell.
reaped_children_ticks() {
  awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$1/stat"
}

# "busy total" clock ticks of the whole machine so far, from /proc/stat.
machine_ticks() {
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' \
    /proc/stat
}

# "busy steal" clock ticks so far of the CPUs named in $1 ("cpu1 cpu2"): busy is
# everything but idle and iowait (user, nice, system, irq, softirq, steal), so
# it includes the softirq work loopback traffic does on those CPUs.
cpus_busy_ticks() {
  awk -v names=" $1 " 'index(names, " " $1 " ") { b += $2 + $3 + $4 + $7 + $8 + $9; s += $9 }
    END { print b + 0, s + 0 }' /proc/stat
}

# Context switches (voluntary + involuntary) so far of every thread of the tree
# under $1 that is still alive.
tree_ctx_switches() {
  local files=() p
  for p in $(tree_pids "$1"); do files+=(/proc/"$p"/task/*/status); done
  { cat "${files[@]}" 2>/dev/null || true; } |
    awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# Memory of the tree under $1 in KiB: "rss=… hwm=… pss=…" summed over its
# processes (VmRSS, VmHWM from status; Pss from smaps_rollup, which counts the
# pages nginx's or HAProxy's master shares with its workers only once).
tree_memory() {
  local rss=0 hwm=0 pss=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' \
      "/proc/$p/status" 2>/dev/null) || continue
    rss=$((rss + ${v% *}))
    hwm=$((hwm + ${v#* }))
    v=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0
    pss=$((pss + ${v:-0}))
  done
  echo "rss_kib=$rss hwm_kib=$hwm pss_kib=$pss"
}

# The CPUs the tree's threads may run on, e.g. "1" or "0-1" or "0-1|0" when
# threads differ (ringgate pins its workers itself).
tree_affinity() {
  local p
  for p in $(tree_pids "$1"); do
    awk '/^Cpus_allowed_list:/ { print $2 }' /proc/"$p"/task/*/status 2>/dev/null
  done | sort -u | paste -sd'|'
}

# With --pin, moves every thread of the tree under $1 onto the CPUs $2
# (taskset -a: all threads, also those the proxy pinned itself).
pin_tree() {
  local p
  for p in $(tree_pids "$1"); do taskset -a -c -p "$2" "$p" >/dev/null 2>&1 || true; done
}

# Expands a CPU list ("1", "1-3", "0,2") into /proc/stat names ("cpu1 cpu2 cpu3").
cpu_names() {
  local part cpu names=()
  for part in ${1//,/ }; do
    for ((cpu = ${part%-*}; cpu <= ${part#*-}; cpu++)); do names+=("cpu$cpu"); done
  done
  echo "${names[*]}"
}
