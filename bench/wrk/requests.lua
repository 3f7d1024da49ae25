-- wrk script of bench/run.py (--load wrk): cycles through a list of requests, each with its own
-- Authorization header, counts the responses by status, and prints the results as one JSON line.
--
--   wrk -t2 -c8 -d10s --timeout 30s -s bench/wrk/requests.lua http://127.0.0.1:8765 -- <requests file> <threads>
--
-- The requests file has one request per line, tab-separated: METHOD, PATH, TOKEN ("-" for none) and an
-- optional JSON BODY (no tabs or newlines in it). Each thread starts at another place in the list and sends
-- its lines in turn, over and over (its connections share the thread's turn).
--
-- done() prints a line `WRK_JSON {...}` on stdout after wrk's own summary: requests, duration_us, bytes,
-- errors (connect, read, write, timeout, status = non-2xx/3xx as wrk counts them), statuses (count of each
-- HTTP status, from response()), latency_us (min, max, mean, stdev, p50, p90, p95, p99, p99.9).

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

local prepared = {}
local turn = 0
statuses = {}

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the requests file " .. tostring(args[1]))
  for line in file:lines() do
    if line ~= "" then
      local method, path, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t?(.*)$")
      assert(method, "bad request line: " .. line)
      local headers = { ["Accept"] = "application/json" }
      if token ~= "-" then
        headers["Authorization"] = "Bearer " .. token
      end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      prepared[#prepared + 1] = wrk.format(method, path, headers, body)
    end
  end
  file:close()
  assert(#prepared > 0, "no requests in " .. args[1])
  local thread_count = tonumber(args[2] or "1")
  turn = math.floor(thread_number * #prepared / thread_count)
end

function request()
  turn = turn + 1
  return prepared[(turn % #prepared) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local function json_object(pairs_list)
  local parts = {}
  for _, kv in ipairs(pairs_list) do
    parts[#parts + 1] = string.format("%q:%s", kv[1], kv[2])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function number(value)
  return string.format("%.17g", value)
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses") or {}
    for status, n in pairs(counted) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local status_pairs = {}
  for status, n in pairs(merged) do
    status_pairs[#status_pairs + 1] = { tostring(status), number(n) }
  end
  table.sort(status_pairs, function(a, b) return a[1] < b[1] end)
  local errors = summary.errors
  local result = json_object({
    { "requests", number(summary.requests) },
    { "duration_us", number(summary.duration) },
    { "bytes", number(summary.bytes) },
    { "errors", json_object({
      { "connect", number(errors.connect) },
      { "read", number(errors.read) },
      { "write", number(errors.write) },
      { "timeout", number(errors.timeout) },
      { "status", number(errors.status) },
    }) },
    { "statuses", json_object(status_pairs) },
    { "latency_us", json_object({
      { "min", number(latency.min) },
      { "max", number(latency.max) },
      { "mean", number(latency.mean) },
      { "stdev", number(latency.stdev) },
      { "p50", number(latency:percentile(50)) },
      { "p90", number(latency:percentile(90)) },
      { "p95", number(latency:percentile(95)) },
      { "p99", number(latency:percentile(99)) },
      { "p99.9", number(latency:percentile(99.9)) },
    }) },
  })
  io.write("WRK_JSON " .. result .. "\n")
end
