-- POST /api/v1/process-step-signers/{id}/sign: every request signs another seeded entry (the
-- first signer of a process's first step, so the step goes on), read from signers.txt as
-- "entryId personalCode" lines; each of WRK_THREADS threads takes every WRK_THREADS-th line.
-- When a thread runs out it repeats its last entry, which answers 409 (counted as non-2xx).
local signers
local next_index = 0
function init(args)
  local all = read_lines("signers.txt")
  local threads = tonumber(os.getenv("WRK_THREADS") or "1")
  signers = {}
  for i = thread_index, #all, threads do
    signers[#signers + 1] = all[i]
  end
end
function request()
  next_index = next_index + 1
  local line = signers[next_index] or signers[#signers]
  local id, code = line:match("(%S+) (%S+)")
  return wrk.format("POST", "/api/v1/process-step-signers/" .. id .. "/sign",
    {["Content-Type"] = "application/json"},
    '{"personalCode": "' .. code .. '", "country": "LV"}')
end
