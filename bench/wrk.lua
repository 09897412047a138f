-- bench/wrk.lua - wrk script for bench/run: each request takes a random path from a file
-- (one already percent-encoded path per line), and the run ends with one machine-readable
-- line of throughput and latency percentiles.
--
--   wrk -t2 -c32 -d10s -s bench/wrk.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- Headers given with wrk -H (e.g. the API key) are sent with every request.

local paths = {}

-- Runs in the main Lua state once per thread, before that thread's init: give each thread
-- its own number so their random sequences differ.
local nthreads = 0
function setup(thread)
    nthreads = nthreads + 1
    thread:set("thread_no", nthreads)
end

function init(args)
    local file = args[1]
    if not file then
        error("usage: wrk ... -s bench/wrk.lua URL -- PATHS_FILE")
    end
    for line in io.lines(file) do
        if #line > 0 then
            paths[#paths + 1] = line
        end
    end
    if #paths == 0 then
        error("no paths in " .. file)
    end
    math.randomseed(7919 * (thread_no or 1) + os.time())
end

function request()
    return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_s=%.3f rps=%.1f bytes_per_req=%.0f " ..
        "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
        "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
        summary.requests, secs, summary.requests / secs,
        summary.requests > 0 and summary.bytes / summary.requests or 0,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.connect, e.read, e.write, e.status, e.timeout))
end
