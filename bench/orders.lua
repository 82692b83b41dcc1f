-- wrk script: POST /api/orders, each request a different signed-in buyer reserving a different
-- ticket. ORDERS_FILE holds one "cookie<TAB>ticket id<TAB>price" line per reservation; thread n
-- of N takes lines n, n+N, n+2N, … so no two requests reserve the same ticket.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(os.getenv("ORDERS_FILE")) do
    local cookie, ticket, price = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
    if cookie then table.insert(lines, { cookie, ticket, price }) end
  end
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  index = id + 1
end

function request()
  local entry = lines[index]
  if entry == nil then
    -- Out of fresh tickets: repeat the last one (answered 400, counted as a failure).
    entry = lines[#lines]
  end
  index = index + nthreads
  local body = '{"ticketId":"' .. entry[2] .. '","price":' .. entry[3] .. '}'
  return wrk.format("POST", "/api/orders", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = entry[1],
  }, body)
end
