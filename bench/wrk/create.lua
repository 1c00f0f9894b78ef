-- POST /api/v1/processes: a STARTED two-step process (an approver, then a Latvian signer and
-- a viewer), as the seed makes them; documentId counts up per thread.
local persons
local n = 0
local thread_tag
function init(args)
  persons = read_lines("persons.txt")
  thread_tag = "t" .. tostring(thread_index or 0) .. "-" .. tostring(os.time())
end
function request()
  n = n + 1
  local code = persons[(n % #persons) + 1]
  local body = string.format([[{"documentId":"load-%s-%d","documentName":"Loan agreement %d","documentType":"CONTRACT","ownerGroup":"group-load","processInitiatorEmail":"office@example.lv","initiatorName":"Office Manager","status":"STARTED","signingProcessSteps":[{"processOrder":1,"processStepSigners":[{"signerRole":"APPROVER","signerEmail":"approver%d@example.lv","signerName":"Approver"}]},{"processOrder":2,"processStepSigners":[{"signerRole":"SIGNER","signerEmail":"client@example.lv","signerName":"Client","signerCountry":"LV","signerPersonalCode":"%s","signerLanguage":"lv"},{"signerRole":"VIEWER","signerEmail":"viewer@example.lv"}]}]}]],
    thread_tag, n, n, n, code)
  return wrk.format("POST", "/api/v1/processes", {["Content-Type"] = "application/json"}, body)
end
