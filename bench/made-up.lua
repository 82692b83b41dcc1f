-- wrk script: GET /tickets?x=<random>, a made-up address on every request (what a client that wants
-- the home page never kept would send).

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return wrk.format("GET", "/tickets?x=" .. math.random(1, 2000000000))
end
