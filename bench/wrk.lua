-- bench/wrk.lua: the wrk script of figure 7 (bench/run).
--
--   wrk ... -s bench/wrk.lua URL -- THINK_MS PATH...
--
-- Each request is a GET of one of the PATHs, chosen at random.  With
-- THINK_MS > 0 every connection waits a random time before each request
-- (exponential, of mean THINK_MS: Poisson arrivals, C connections make
-- C * 1000 / THINK_MS requests a second while the server keeps up); with
-- 0 it sends the next request as soon as the last is answered.  At the
-- end it prints "key = value" lines: requests per second, requests,
-- errors (connection errors, timeouts and non-2xx answers) and the
-- latency percentiles in milliseconds ("n/a" when nothing was answered).

local paths = {}
local think_ms = 0

function init(args)
  think_ms = tonumber(args[1])
  for i = 2, #args do paths[#paths + 1] = args[i] end
  math.randomseed(os.time() + #paths)
end

function delay()
  if think_ms == 0 then return 0 end
  return -think_ms * math.log(1 - math.random())
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests_per_s = %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("requests = %d\n", summary.requests))
  io.write(string.format("errors = %d\n", e.connect + e.read + e.write + e.status + e.timeout))
  for _, p in ipairs({50, 95, 99}) do
    if summary.requests == 0 then
      io.write(string.format("latency_p%d = n/a\n", p))
    else
      io.write(string.format("latency_p%d = %.3f\n", p, latency:percentile(p) / 1000))
    end
  end
  if summary.requests == 0 then
    io.write("latency_max = n/a\n")
  else
    io.write(string.format("latency_max = %.3f\n", latency.max / 1000))
  end
end
