-- wrk script for bench/bare_tx_app.py: one player per connection (player id = thread number).
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function request()
  return wrk.format("POST", "/bet/" .. id, {["Content-Type"] = "application/json"}, "")
end
errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("errors") end
  io.write(string.format("non-200 responses: %d\n", bad))
  io.write(string.format("latency p99: %.2f ms\n", latency:percentile(99) / 1000))
end
