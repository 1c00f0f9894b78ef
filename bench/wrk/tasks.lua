-- GET /api/v1/signer-tasks?personalCode=…&country=LV: a random seeded person.
local persons
function init(args)
  seed_random()
  persons = read_lines("persons.txt")
end
function request()
  return wrk.format("GET", "/api/v1/signer-tasks?personalCode=" .. pick(persons) .. "&country=LV")
end
