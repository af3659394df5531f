#!/usr/bin/env python3
"""bench/e2e/lib/report.py: the run's records turned into its three outputs.

Reads the records bench/e2e/run appended during the run (one line per
scenario, proxy and round, of space-separated key=value fields) and writes
  --md         the markdown table: medians across rounds, ringgate against the
               better of nginx/HAProxy and against the floor, the targets with
               met / NOT met; a proxy with any non-2xx response or socket error
               shows its error count instead of figures;
  --json       every figure of every round, the medians, the targets, machine,
               software and settings;
  --chart-dir  one data file per scenario for lib/chart.sh (gnuplot).
The run's settings come as repeated --set KEY=VALUE. Standard library only.
"""

import argparse
import json
import statistics

PEERS = ("nginx", "haproxy")
# Counts are results in themselves: no ratio, and errors are summed, not medians.
COUNTS = ("errors", "reloads", "conns")

LOAD_METRICS = ("rps", "p50_us", "p99_us", "p999_us", "pinned_cpu_us_per_req",
                "cpu_us_per_req", "instructions_per_req", "ctx_switches_per_req",
                "loop_turns_per_req", "cqes_per_turn", "enters_per_req", "hwm_kib",
                "rss_kib")
METRICS = {
    "S6": ("conns", "kib_per_conn", "pss_kib_per_conn", "rss_before_kib", "rss_after_kib"),
    "S7": ("rps", "errors", "reloads", "reload_dip_pct", "dip_pct", "p99_us",
           "pinned_cpu_us_per_req", "cpu_us_per_req", "hwm_kib"),
    "S8": ("rps", "p50_us", "p99_us", "p999_us", "cpu_us_per_req", "ctx_switches_per_req"),
}

LABELS = {
    "rps": "req/s", "p50_us": "p50 ms", "p99_us": "p99 ms", "p999_us": "p99.9 ms",
    "pinned_cpu_us_per_req": "CPU µs/req, pinned (its CPU's busy time)",
    "cpu_us_per_req": "CPU µs/req, process tree",
    "instructions_per_req": "instructions/req", "ctx_switches_per_req": "context switches/req",
    "loop_turns_per_req": "loop turns/req", "cqes_per_turn": "CQEs/turn",
    "enters_per_req": "ring enters/req", "hwm_kib": "peak RSS MiB", "rss_kib": "RSS MiB",
    "errors": "errors, all rounds", "reloads": "reloads",
    "dip_pct": "dip % (worst 100 ms vs median)",
    "reload_dip_pct": "dip % (worst 500 ms after a reload vs median)",
    "conns": "idle conns held", "kib_per_conn": "KiB/conn (RSS)",
    "pss_kib_per_conn": "KiB/conn (PSS)", "rss_before_kib": "RSS before MiB",
    "rss_after_kib": "RSS after MiB",
}


def parse_value(text):
    """A record value as a number, a list of numbers ("1,2,3") or the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    parts = text.split(",")
    if len(parts) > 1 and all(p.isdigit() for p in parts):
        return [int(p) for p in parts]
    return text


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_records(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
            if fields:
                record = {key: parse_value(value) for key, value in fields.items()}
                add_timeline_stats(record)
                records.append(record)
    return records


def add_timeline_stats(record):
    """S7: from the 100 ms response counts, the worst and the median interior
    bucket (the first and the last are partial) as requests/s and the worst
    dip; then, aligned on the reload times, the worst 500 ms right after a
    reload against the median: the dip the reloads cause, less sensitive to
    other noise."""
    counts = record.get("timeline_100ms")
    if not isinstance(counts, list) or len(counts) < 5:
        return
    interior = counts[1:-1]
    low, middle = min(interior), statistics.median(interior)
    record["min_rps_100ms"] = low * 10
    record["median_rps_100ms"] = middle * 10
    record["dip_pct"] = round(100 * (1 - low / middle), 1) if middle > 0 else 0
    start, reloads = record.get("timeline_start_ms"), record.get("reload_at_ms")
    if is_number(reloads):
        reloads = [reloads]
    if not is_number(start) or not isinstance(reloads, list) or middle <= 0:
        return
    sums = [sum(counts[i:i + 5]) for i in (int((r - start) / 100) for r in reloads)
            if i >= 1 and i + 4 <= len(counts) - 2]
    if sums:
        record["after_reload_rps"] = min(sums) * 2
        record["reload_dip_pct"] = round(max(0.0, 100 * (1 - min(sums) / (5 * middle))), 1)


class Results:
    """The records of one run, grouped by scenario and proxy."""

    def __init__(self, records):
        self.records = records

    def rounds(self, scenario, proxy):
        return [r for r in self.records
                if r.get("scenario") == scenario and r.get("proxy") == proxy]

    def status(self, scenario, proxy):
        rounds = self.rounds(scenario, proxy)
        if not rounds:
            return "absent"
        if any(r.get("status") == "failed" for r in rounds):
            return "failed"
        return "errors" if self.errors(scenario, proxy) > 0 else "ok"

    def errors(self, scenario, proxy):
        return sum(r.get("errors", 0) for r in self.rounds(scenario, proxy)
                   if r.get("status") != "failed" and is_number(r.get("errors")))

    def reason(self, scenario, proxy):
        for r in self.rounds(scenario, proxy):
            if isinstance(r.get("reason"), str):
                return r["reason"].replace("_", " ")
        return ""

    def median(self, scenario, proxy, metric):
        values = [r[metric] for r in self.rounds(scenario, proxy)
                  if r.get("status") != "failed" and is_number(r.get(metric))]
        return statistics.median(values) if values else None

    def ok_median(self, scenario, proxy, metric):
        if self.status(scenario, proxy) != "ok":
            return None
        return self.median(scenario, proxy, metric)

    def better_peer(self, scenario, metric, peers):
        """(peer, median) of the peer with the better median of metric, or None."""
        figures = [(p, self.ok_median(scenario, p, metric)) for p in peers]
        figures = [(p, v) for p, v in figures if v is not None]
        if not figures:
            return None
        pick = max if metric == "rps" else min
        return pick(figures, key=lambda pv: pv[1])


def fmt(metric, value):
    """A table cell's text for a median: latencies in ms, memory in MiB."""
    if value is None:
        return "—"
    if metric == "rps" or metric in COUNTS:
        return f"{value:.0f}"
    if metric.endswith("_us"):
        return f"{value / 1000:.2f}"
    if metric.endswith("_kib"):
        return f"{value / 1024:.1f}"
    if metric == "instructions_per_req":
        return f"{value:,.0f}".replace(",", " ")
    if metric in ("ctx_switches_per_req", "loop_turns_per_req", "enters_per_req"):
        return f"{value:.3f}"
    if metric.endswith("dip_pct"):
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is missing or zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


class Report:
    """The run's outputs from its Results and the settings bench/e2e/run passed."""

    def __init__(self, results, settings):
        self.results = results
        self.s = settings
        self.scenarios = [x for x in settings.get("scenarios", "").split(",") if x]
        self.proxies = [x for x in settings.get("proxies", "").split(",") if x]
        self.peers = [p for p in self.proxies if p in PEERS] if "ringgate" in self.proxies else []
        self.descriptions = dict(part.split("=", 1) for part in
                                 settings.get("descriptions", "").split("|") if "=" in part)
        self.plain = settings.get("backend") == "plain"

    def who(self, scenario):
        if scenario == "S8":
            return ["direct"]
        return [p for p in self.proxies if p != "floor" or scenario == "S1"]

    def cell(self, scenario, proxy, metric, first_row):
        r = self.results
        status = r.status(scenario, proxy)
        if status == "absent":
            return "—"
        if status == "failed":
            return f"✗ failed: {r.reason(scenario, proxy)}" if first_row else "✗"
        # S7's error count and dip are its results, so they stay visible.
        if status == "errors" and metric not in COUNTS and not metric.endswith("dip_pct"):
            if not first_row:
                return "✗"
            why = r.reason(scenario, proxy)
            return f"✗ {r.errors(scenario, proxy)} errors" + (f" ({why})" if why else "")
        if metric == "errors":
            return str(r.errors(scenario, proxy))
        return fmt(metric, r.median(scenario, proxy, metric))

    def peer_ratio(self, scenario, metric):
        if not self.peers or metric in COUNTS or metric.endswith("dip_pct"):
            return "—"
        best = self.results.better_peer(scenario, metric, self.peers)
        value = ratio(self.results.ok_median(scenario, "ringgate", metric),
                           best[1] if best else None)
        return "—" if value is None else f"{value:.2f}× ({best[0]})"

    def floor_ratio(self, scenario, metric):
        if scenario != "S1" or metric in COUNTS:
            return "—"
        value = ratio(self.results.ok_median(scenario, "ringgate", metric),
                           self.results.ok_median(scenario, "floor", metric))
        return "—" if value is None else f"{value:.2f}×"

    def has_figures(self, scenario, metric):
        return any(self.results.median(scenario, p, metric) is not None
                   for p in self.who(scenario))

    def table(self):
        with_s1 = "S1" in self.scenarios
        columns = [p for p in self.proxies if p != "floor" or with_s1]
        with_direct = "S8" in self.scenarios
        with_peer = bool(self.peers)
        with_floor = with_s1 and "ringgate" in self.proxies and "floor" in self.proxies
        head = ["scenario", "metric"] + columns + (["direct"] if with_direct else [])
        head += (["ringgate / better peer"] if with_peer else [])
        head += (["ringgate / floor"] if with_floor else [])
        lines = ["| " + " | ".join(head) + " |", "|---|---|" + "--:|" * (len(head) - 2)]
        for scenario in self.scenarios:
            metrics = [m for m in METRICS.get(scenario, LOAD_METRICS)
                       if self.has_figures(scenario, m)]
            for j, metric in enumerate(metrics):
                first = j == 0
                row = [f"**{scenario}** {self.descriptions.get(scenario, '')}" if first else "",
                       LABELS.get(metric, metric)]
                for p in columns:
                    shown = scenario != "S8" and p in self.who(scenario)
                    row.append(self.cell(scenario, p, metric, first) if shown else "—")
                if with_direct:
                    row.append(self.cell(scenario, "direct", metric, first)
                               if scenario == "S8" else "—")
                if with_peer:
                    row.append("—" if scenario == "S8" else self.peer_ratio(scenario, metric))
                if with_floor:
                    row.append(self.floor_ratio(scenario, metric))
                lines.append("| " + " | ".join(row) + " |")
        return lines

    def cpu_metric(self):
        pinned = self.results.median("S1", "ringgate", "pinned_cpu_us_per_req") is not None
        return "pinned_cpu_us_per_req" if pinned else "cpu_us_per_req"

    def targets(self):
        """Each target as a dict: what, value, target, met (None: not measurable, why)."""
        r, out = self.results, []

        def against(what, metric, other, limit, higher, note=""):
            mine = r.ok_median("S1", "ringgate", metric)
            if other is None or mine is None or not other[1]:
                why = "ringgate has no figures" if mine is None else f"no figures for {what}"
                out.append({"target": f"S1 {LABELS[metric]} {'≥' if higher else '≤'} {limit}× "
                            f"{what}", "value": None, "met": None, "why": why})
                return
            value = mine / other[1]
            out.append({"target": f"S1 {LABELS[metric]} {'≥' if higher else '≤'} {limit}× "
                        f"{what}{note}", "against": other[0], "value": round(value, 3),
                        "met": value >= limit if higher else value <= limit})

        if "S1" in self.scenarios and "ringgate" in self.proxies:
            cpu = self.cpu_metric()
            note = "" if cpu.startswith("pinned") else " (unpinned run: process-tree CPU)"
            if self.peers:
                peer = r.better_peer("S1", cpu, self.peers)
                against("the better peer", cpu, peer, 0.6, False, note)
            if "floor" in self.proxies:
                if self.plain:
                    floor = r.ok_median("S1", "floor", cpu)
                    against("the floor", cpu, ("floor", floor) if floor else None, 1.2, False, note)
                else:
                    out.append({"target": f"S1 {LABELS[cpu]} ≤ 1.2× the floor", "value": None,
                                "met": None,
                                "why": "plain backend only: the floor does no TLS"})
            if self.peers:
                against("the better peer", "p99_us", r.better_peer("S1", "p99_us", self.peers),
                        0.8, False)
                against("the better peer", "rps", r.better_peer("S1", "rps", self.peers), 1.0,
                        True)
        if "S6" in self.scenarios and "ringgate" in self.proxies:
            v = r.ok_median("S6", "ringgate", "kib_per_conn")
            out.append({"target": "S6 KiB per idle connection ≤ 0.35",
                        "value": None if v is None else round(v, 3),
                        "met": None if v is None else v <= 0.35,
                        "why": "" if v is not None else "ringgate has no figures"})
        if "S7" in self.scenarios and "ringgate" in self.proxies:
            errors = r.errors("S7", "ringgate")
            ok = r.status("S7", "ringgate") == "ok"
            out.append({"target": "S7 errors under reload = 0", "value": errors, "met": ok})
        return out

    def markdown(self):
        s, r = self.s, self.results
        backend = ("mTLS (client certificate, TLS verified)" if not self.plain
                   else "plain HTTP")
        lines = [f"## ringgate vs nginx vs HAProxy vs the floor ({s.get('date', '')})", ""]
        lines.append(
            f"Backend: {backend}, nginx {s.get('nginx_version')} ({s.get('backend_workers')} "
            f"worker); each proxy {s.get('workers')} worker/thread; {s.get('rounds')} round(s) × "
            f"{s.get('duration')} s (+{s.get('warmup')} s warm-up), proxies alternating, medians; "
            f"wrk {s.get('wrk_version')}, {s.get('wrk_threads')} thread(s); pinning: "
            f"{s.get('pin')}; ringgate access log: "
            f"{'to a file' if s.get('access_log') == '1' else 'off'}.  ")
        version = s.get("ringgate_version") or "ringgate (no binary)"
        lines.append(
            f"Machine: {s.get('nproc')} × {s.get('cpu_model')}, kernel {s.get('kernel')}, "
            f"{int(s.get('mem_kib') or 0) / 1048576:.0f} GiB. Software: {version} (git "
            f"{s.get('git_rev')}; {s.get('ringgate_build')}), nginx {s.get('nginx_version')}, "
            f"HAProxy {s.get('haproxy_version')}, OpenSSL {s.get('openssl_version')}.  ")
        lines.append(f"Command: `{s.get('command')}` ({s.get('elapsed')} s).")
        lines.append("")
        others = [x["other_cpu_pct"] for x in r.records if is_number(x.get("other_cpu_pct"))]
        if others and max(others) > 10:
            lines += [f"**Warning: other processes used up to {max(others):.0f}% of the machine's "
                      f"CPU time during the measured runs (median "
                      f"{statistics.median(others):.0f}%); these figures are not reliable.**", ""]
        lines += self.table()
        lines += ["", "Targets, ringgate against the better of nginx/HAProxy and the floor:"]
        for t in self.targets():
            if t["met"] is None:
                lines.append(f"- {t['target']}: — ({t.get('why', '')})")
            else:
                shown = f"{t['value']:.2f}×" if "against" in t else f"{t['value']}"
                lines.append(f"- {t['target']}: {shown} {'met' if t['met'] else 'NOT met'}")
        lines += ["", *self.notes()]
        return "\n".join(lines) + "\n"

    def notes(self):
        s = self.s
        out = []
        if s.get("pinned") == "1":
            out.append("CPU µs/req, pinned: the busy time (all but idle and iowait, softirq "
                       "included) of the CPU the proxy runs on alone, over the measured window, "
                       "per request; wrk and the backend run on CPU 0 (DESIGN §9).")
        out.append("CPU µs/req, process tree: utime+stime of the proxy's processes and threads "
                   "(S8: the backend's); it misses loopback softirq work done on its behalf.")
        if s.get("perf") == "ok":
            out.append("Instructions: `perf stat -e instructions` over every thread of the "
                       "proxy, per request.")
        else:
            out.append(f"Instructions per request: not recorded: {s.get('perf', 'unknown')}.")
        out.append("Context switches: voluntary + involuntary, every thread of the proxy. "
                   "Loop turns, CQEs and ring enters: ringgate's own counters, when its "
                   "/metrics has them.")
        if "floor" in self.proxies:
            skipped = [x for x in self.scenarios if x not in ("S1", "S8")]
            text = ("The floor (bench/e2e/floor.cpp) copies bytes between each client and one "
                    "plain TCP connection of its own to the backend: no HTTP, no TLS, no pool.")
            if not self.plain:
                text += (" With --backend mtls it forwards to the backend's plain HTTP port "
                         "while the proxies speak mTLS, so ringgate / floor includes TLS.")
            if skipped:
                text += f" It runs in S1 only (skipped in {', '.join(skipped)})."
            out.append(text)
        out.append("A ✗ marks a proxy that answered anything but 2xx or had socket errors: its "
                   "figures are not reported. Ratios < 1 are better for latency, CPU and memory.")
        return [f"{line}  " if i < len(out) - 1 else line for i, line in enumerate(out)]

    def json_document(self):
        s, r = self.s, self.results
        others = [x["other_cpu_pct"] for x in r.records if is_number(x.get("other_cpu_pct"))]
        scenarios = {}
        for scenario in self.scenarios:
            proxies = {}
            for p in self.who(scenario):
                rounds = r.rounds(scenario, p)
                if not rounds:
                    continue
                keys = sorted({k for x in rounds for k in x if k != "round"})
                medians = {k: r.median(scenario, p, k) for k in keys if k != "timeline_100ms"}
                medians = {k: round(v, 4) if isinstance(v, float) else v
                           for k, v in medians.items()}
                proxies[p] = {"status": r.status(scenario, p), "errors": r.errors(scenario, p),
                              "reason": r.reason(scenario, p),
                              "median": {k: v for k, v in medians.items() if v is not None},
                              "rounds": rounds}
            scenarios[scenario] = {"description": self.descriptions.get(scenario, ""),
                                   "proxies": proxies}

        def number(key):
            return parse_value(s.get(key, "0") or "0")

        return {
            "schema": "ringgate-bench-e2e/2",
            "date": s.get("date"), "command": s.get("command"), "elapsed_s": number("elapsed"),
            "machine": {"nproc": number("nproc"), "cpu_model": s.get("cpu_model"),
                        "kernel": s.get("kernel"), "mem_total_kib": number("mem_kib"),
                        "loadavg_at_start": number("load_start"),
                        "other_cpu_pct_max": max(others) if others else 0},
            "software": {k: s.get(v) for k, v in (
                ("ringgate", "ringgate_version"), ("git", "git_rev"),
                ("ringgate_build", "ringgate_build"), ("nginx", "nginx_version"),
                ("haproxy", "haproxy_version"), ("wrk", "wrk_version"),
                ("openssl", "openssl_version"))},
            "settings": {"backend": s.get("backend"), "rounds": number("rounds"),
                         "duration_s": number("duration"), "warmup_s": number("warmup"),
                         "workers": number("workers"), "pin": s.get("pin"),
                         "wrk_threads": number("wrk_threads"),
                         "backend_workers": number("backend_workers"),
                         "idle_conns": number("idle_conns"),
                         "ringgate_access_log": s.get("access_log") == "1",
                         "instructions": s.get("perf"), "proxies": self.proxies},
            "units": {"rps": "requests/s", "*_us": "microseconds", "*_kib": "KiB",
                      "pinned_cpu_us_per_req": "busy µs of the proxy's own CPU(s) per request",
                      "cpu_us_per_req": "CPU µs per request, whole process tree",
                      "timeline_100ms": "responses per 100 ms"},
            "targets": self.targets(),
            "scenarios": scenarios,
        }

    def chart_data(self, directory):
        """One file per scenario in the existing directory: label, value 1,
        value 2, text 1, text 2, colour."""
        colours = {"ringgate": 1, "nginx": 2, "haproxy": 3}
        r = self.results
        for scenario in self.scenarios:
            rows = []
            for p in self.who(scenario):
                status = r.status(scenario, p)
                if status == "absent":
                    continue
                if scenario == "S6":
                    a = r.median(scenario, p, "kib_per_conn") or 0
                    b = r.median(scenario, p, "pss_kib_per_conn") or 0
                    ta = f"{a:.2f}"
                else:
                    a = r.median(scenario, p, "rps") or 0
                    b = (r.median(scenario, p, "p99_us") or 0) / 1000
                    ta = f"{a:.0f}"
                tb = f"{b:.2f}"
                if status != "ok":
                    a = b = 0
                    ta = tb = "failed" if status == "failed" else f"{r.errors(scenario, p)} errors"
                rows.append(f'"{p}" {a} {b} "{ta}" "{tb}" {colours.get(p, 4)}\n')
            if rows:
                with open(f"{directory}/{scenario}.dat", "w", encoding="utf-8") as f:
                    f.writelines(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--chart-dir", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set if "=" in item)
    report = Report(Results(read_records(args.records)), settings)
    with open(args.md, "w", encoding="utf-8") as f:
        f.write(report.markdown())
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(report.json_document(), f, indent=1, ensure_ascii=False)
        f.write("\n")
    report.chart_data(args.chart_dir)


if __name__ == "__main__":
    main()
