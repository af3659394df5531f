-- timeline.lua (S7): counts responses per 100 ms of wall-clock time (so the
-- buckets of all wrk threads line up, and line up with the harness's reload
-- times, taken from the same clock) and non-2xx responses exactly, including
-- 1xx/3xx, which wrk's own counter misses. Defining response() makes wrk hand
-- every response to Lua; that costs the load generator CPU, so only S7 uses it
-- and its dips are measured against its own median bucket.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } rgbench_timespec;
  int clock_gettime(int clock_id, rgbench_timespec* ts);
]]
local kBucketMs = 100
local kClockRealtime = 0
local now = ffi.new("rgbench_timespec")

buckets = {}
non2xx = 0

response = function(status, headers, body)
  ffi.C.clock_gettime(kClockRealtime, now)
  local b = math.floor((tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6) / kBucketMs)
  buckets[b] = (buckets[b] or 0) + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

-- Prints "RGBENCH_TIMELINE timeline_start_ms=<epoch ms> timeline_100ms=c1,c2,…"
-- (first to last bucket with a response, gaps as 0) and the exact non-2xx count.
report_extra = function()
  local merged, first, last, bad = {}, nil, nil, 0
  for _, thread in ipairs(threads) do
    for b, n in pairs(thread:get("buckets")) do
      merged[b] = (merged[b] or 0) + n
      if not first or b < first then first = b end
      if not last or b > last then last = b end
    end
    bad = bad + thread:get("non2xx")
  end
  local counts = {}
  if first then
    for b = first, last do counts[#counts + 1] = tostring(merged[b] or 0) end
  end
  io.write(string.format("RGBENCH_TIMELINE timeline_start_ms=%.0f timeline_100ms=%s\n",
    (first or 0) * kBucketMs, table.concat(counts, ",")))
  io.write("RGBENCH non2xx_exact=" .. bad .. "\n")
end
