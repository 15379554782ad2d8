-- wrk script: one player per connection (run wrk with as many threads as connections).
-- ROUND=mix (default): slots spins, roulette spins, blackjack rounds (start, then stand);
-- ROUND=spin: /spin only; ROUND=bare: bench/bare_tx_app.py's bare money transaction.
-- Usage: TOKENS=bench/results/tokens.txt wrk -t64 -c64 -d30s -s bench/games.lua http://127.0.0.1:5011

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local mode = os.getenv("ROUND") or "mix"
local tokens = {}
local token
local open_game = nil

function init(args)
  if mode == "bare" then return end
  local path = os.getenv("TOKENS") or "bench/results/tokens.txt"
  for line in io.lines(path) do
    if #line > 0 then table.insert(tokens, line) end
  end
  token = tokens[((id - 1) % #tokens) + 1]
  math.randomseed(id * 7919)
end

local function post(path, body)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function request()
  if mode == "bare" then
    return wrk.format("POST", "/bet/" .. id, {["Content-Type"] = "application/json"}, "")
  end
  if mode == "spin" then
    return post("/spin", '{"bet":1}')
  end
  if open_game then
    local game = open_game
    open_game = nil
    return post("/blackjack/action", '{"action":"stand","game_id":' .. game .. '}')
  end
  local r = math.random(100)
  if r <= 60 then
    return post("/spin", '{"bet":1}')
  elseif r <= 85 then
    return post("/roulette/spin", '{"bets":[{"type":"red","amount":2},{"type":"straight","numbers":[17],"amount":1}]}')
  else
    return post("/blackjack/start", '{"wager":2}')
  end
end

errors = 0
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    return
  end
  if mode == "mix" and string.find(body, '"game_over":false', 1, true) then
    open_game = string.match(body, '"id":(%d+)')
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("errors")
  end
  io.write(string.format("non-200 responses: %d\n", bad))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
