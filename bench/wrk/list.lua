-- GET /api/v1/processes?ownerGroup=…&nameSearch=…: a random group and document-name word.
local groups, words
function init(args)
  seed_random()
  groups = read_lines("groups.txt")
  words = read_lines("words.txt")
end
function request()
  return wrk.format("GET", "/api/v1/processes?ownerGroup=" .. pick(groups) .. "&nameSearch=" .. pick(words))
end
