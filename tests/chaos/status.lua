-- status.lua: wrk counts every response by status code and prints, at the end,
-- "CHAOS_WRK requests=N errors_connect=… errors_read=… errors_write=…
-- errors_timeout=… status_200=N status_502=N …" for tests/chaos/run.
statuses = {}

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(merged) do codes[#codes + 1] = status end
  table.sort(codes)
  local e = summary.errors
  local line = string.format(
    "CHAOS_WRK requests=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d",
    summary.requests, e.connect, e.read, e.write, e.timeout)
  for _, status in ipairs(codes) do
    line = line .. string.format(" status_%d=%d", status, merged[status])
  end
  io.write(line .. "\n")
end
