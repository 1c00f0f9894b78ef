-- GET /api/v1/processes/{id}: a random seeded process per request.
local ids
function init(args)
  seed_random()
  ids = read_lines("ids.txt")
end
function request()
  return wrk.format("GET", "/api/v1/processes/" .. pick(ids))
end
