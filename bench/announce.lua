-- wrk workload for bench/run.py: announces drawn from a prepared list of request paths.
--   BENCH_REQUESTS  file with one path per line (/announce?info_hash=...)
--   BENCH_MODE      "sequential" (prefill: walk the list from BENCH_OFFSET) or "random"
--   BENCH_CLOSE     "1": one connection per request (Connection: close), as most clients do
-- Every reply is checked: HTTP 200, a bencoded dictionary, no "failure reason"; every 16th is
-- fully decoded.
local paths, count = {}, 0
local mode = os.getenv("BENCH_MODE") or "random"
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local headers = {}
if os.getenv("BENCH_CLOSE") == "1" then headers["Connection"] = "close" end
local threads = {}
local nthreads, sent, checked = 1, 0, 0
-- Globals, so that done() can read them from each thread with thread:get().
id, bad, failures = 0, 0, 0

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    for line in io.lines(os.getenv("BENCH_REQUESTS")) do
        count = count + 1
        paths[count] = line
    end
    nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
    math.randomseed(os.time() + id * 7919)
end

function request()
    local index
    if mode == "sequential" then
        index = (offset + id + sent * nthreads) % count + 1
    else
        index = math.random(count)
    end
    sent = sent + 1
    -- Each peer (line) its own address, 10.x.y.z, which nginx's real_ip hands to the responder.
    headers["X-Real-IP"] = string.format("10.%d.%d.%d", math.floor(index / 65536) % 256,
        math.floor(index / 256) % 256, index % 256)
    return wrk.format("GET", paths[index], headers)
end

-- A strict bencode walk: returns the index after the value at i, or nil.
local function skip(s, i, depth)
    if depth > 32 then return nil end
    local c = s:sub(i, i)
    if c == "i" then
        local e = s:find("e", i + 1, true)
        if not e or not s:sub(i + 1, e - 1):match("^%-?%d+$") then return nil end
        return e + 1
    elseif c == "l" or c == "d" then
        i = i + 1
        while s:sub(i, i) ~= "e" do
            if i > #s then return nil end
            i = skip(s, i, depth + 1)
            if not i then return nil end
        end
        return i + 1
    elseif c:match("%d") then
        local colon = s:find(":", i, true)
        if not colon then return nil end
        local n = tonumber(s:sub(i, colon - 1))
        if not n or colon + n > #s then return nil end
        return colon + 1 + n
    end
    return nil
end

function response(status, headers, body)
    if status ~= 200 or body:sub(1, 1) ~= "d" or body:sub(-1) ~= "e" then
        bad = bad + 1
        return
    end
    if body:find("failure reason", 1, true) then
        failures = failures + 1
        return
    end
    checked = checked + 1
    if checked % 16 == 0 and skip(body, 1, 0) ~= #body + 1 then bad = bad + 1 end
end

function done(summary, latency, requests)
    local total_bad, total_failures = 0, 0
    for _, thread in ipairs(threads) do
        total_bad = total_bad + (thread:get("bad") or 0)
        total_failures = total_failures + (thread:get("failures") or 0)
    end
    -- A server that closes the connection after each reply (opentracker does) shows up as one
    -- read error per request; those are reported apart from real errors.
    io.write(string.format("BENCH requests=%d seconds=%.3f errors=%d closed=%d bad=%d failures=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.duration / 1e6,
        summary.errors.connect + summary.errors.write + summary.errors.timeout + summary.errors.status,
        summary.errors.read, total_bad, total_failures, latency:percentile(50), latency:percentile(99)))
end
