-- report.lua: wrk's end-of-run summary as one machine-readable line, read by
-- bench/e2e/run (parse_wrk). Latencies in microseconds; p99.9 is not among the
-- percentiles wrk --latency prints, hence this script. Scenario pieces are
-- appended after this file and may define report_extra() to print more lines.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RGBENCH requests=%d duration_us=%d bytes=%d errors_connect=%d errors_read=%d" ..
    " errors_write=%d errors_status=%d errors_timeout=%d p50_us=%d p75_us=%d p90_us=%d" ..
    " p99_us=%d p999_us=%d mean_us=%.1f max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.mean, latency.max))
  if report_extra then report_extra() end
end
