-- Shared by every scenario (bench/load.sh prepends it): reading the seed files and printing
-- one machine-readable RESULT line when wrk is done.

local seed_dir = os.getenv("SEED_DIR") or "."

function read_lines(name)
  local lines = {}
  local f = assert(io.open(seed_dir .. "/" .. name, "r"))
  for line in f:lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  f:close()
  return lines
end

-- Runs in the main Lua state once per wrk thread: gives each thread its own number.
local threads_made = 0
function setup(thread)
  threads_made = threads_made + 1
  thread:set("thread_index", threads_made)
end

-- A different random sequence per thread and run.
function seed_random()
  math.randomseed(os.time() * 100 + (thread_index or 0))
end

function pick(list)
  return list[math.random(#list)]
end

-- Percentile values are in microseconds; summary.duration too.
function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
