-- many_apis.lua (S5): requests cycle over the APIs /k000/x … /k(N-1)/x, N from
-- the script argument (default 100). The requests are formatted once, in init.
local requests = {}
local next_index = 0

init = function(args)
  local count = tonumber(args[1]) or 100
  for i = 0, count - 1 do
    requests[i + 1] = wrk.format("GET", string.format("/k%03d/x", i))
  end
end

request = function()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
