-- wrk script for bench/http_bench.py: send prepared requests, check every response, report JSON.
--
--   wrk -t2 -c16 -d10s -s bench/http_bench.lua http://127.0.0.1:PORT -- FILES MODE NEED FORBID
--
-- FILES  requests file, "%d" replaced by the wrk thread number (0, 1, ...); one request per line:
--        METHOD <tab> PATH <tab> BODY or "-" <tab> "Name: value" <tab> "Name: value" ...
-- MODE   "repeat" cycles through the file; "once" sends each line once (one-time review tokens)
--        and counts every request sent after the file ran out as "reused".
-- NEED   text every response body must contain, or "-"; FORBID text none may contain, or "-".
--
-- done() prints one line, "WRK_JSON {...}": requests, duration, socket errors, latency percentiles
-- (microseconds), responses per status code, bodies failing NEED/FORBID, responses with status 200
-- passing them ("marked"), and reused requests.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local function fields(line)
   local out = {}
   for field in string.gmatch(line, "[^\t]+") do
      out[#out + 1] = field
   end
   return out
end

function init(args)
   requests, index, reused, unmarked, marked, statuses = {}, 0, 0, 0, 0, {}
   once = args[2] == "once"
   need = args[3] ~= "-" and args[3] or nil
   forbid = args[4] ~= "-" and args[4] or nil
   local path = string.gsub(args[1], "%%d", tostring(tid))
   for line in io.lines(path) do
      local f = fields(line)
      local headers = {}
      for i = 4, #f do
         local name, value = string.match(f[i], "^([^:]+):%s*(.*)$")
         headers[name] = value
      end
      requests[#requests + 1] = wrk.format(f[1], f[2], headers, f[3] ~= "-" and f[3] or nil)
   end
end

function request()
   index = index + 1
   if index > #requests then
      index = 1
      exhausted = once
   end
   if exhausted then
      reused = reused + 1
   end
   return requests[index]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if (need and not string.find(body, need, 1, true)) or (forbid and string.find(body, forbid, 1, true)) then
      unmarked = unmarked + 1
   elseif status == 200 then
      marked = marked + 1
   end
end

function done(summary, latency, requests)
   local codes, unmarked_total, marked_total, reused_total = {}, 0, 0, 0
   for _, thread in ipairs(threads) do
      for code, count in pairs(thread:get("statuses")) do
         codes[code] = (codes[code] or 0) + count
      end
      unmarked_total = unmarked_total + thread:get("unmarked")
      marked_total = marked_total + thread:get("marked")
      reused_total = reused_total + thread:get("reused")
   end
   local parts = {}
   for code, count in pairs(codes) do
      parts[#parts + 1] = string.format('"%d": %d', code, count)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
         .. '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, '
         .. '"mean": %.1f, "unmarked": %d, "marked": %d, "reused": %d, "codes": {%s}}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
      unmarked_total, marked_total, reused_total, table.concat(parts, ", ")))
end
