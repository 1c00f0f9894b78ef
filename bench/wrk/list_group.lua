-- GET /api/v1/processes?ownerGroup=…: a random seeded group's first page (no search), the
-- call the limit script list.sql stands for.
local groups
function init(args)
  seed_random()
  groups = read_lines("groups.txt")
end
function request()
  return wrk.format("GET", "/api/v1/processes?ownerGroup=" .. pick(groups))
end
