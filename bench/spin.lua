-- wrk script: /spin only, one player per connection (run wrk with as many threads as connections).
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
local token
function init(args)
  local tokens = {}
  for line in io.lines(os.getenv("TOKENS") or "bench/results/tokens.txt") do
    if #line > 0 then table.insert(tokens, line) end
  end
  token = tokens[((id - 1) % #tokens) + 1]
end
function request()
  return wrk.format("POST", "/spin", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, '{"bet":1}')
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
