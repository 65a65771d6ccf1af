-- wrk script for bench/run.sh: POSTs the file named by BENCH_BODY as application/json (a GET when it is
-- unset) and, when done, prints one machine-readable RESULT line (latencies in milliseconds).
--
-- Client JWTs: when BENCH_TOKENS names a file (one compact JWT per line, from `CdsHooks.Benchmarks tokens`),
-- every request carries `Authorization: Bearer <token>` with a token no other request used: wrk runs one Lua
-- state per thread, so thread k of BENCH_THREADS (which must equal wrk's -t) takes lines k+1, k+1+BENCH_THREADS, ...
-- and uses each once. A thread that runs out sends its remaining requests WITHOUT a token (the service answers
-- 401, which wrk counts as a status error) and counts them: RESULT then says untokened=N and a warning goes to
-- stderr. A token is never sent twice. With tokens, RESULT also says how many tokens were taken (tokens=N: the
-- requests answered, those still in flight at the end, and one taken by wrk's script check) and counts the 401
-- answers (unauthorized=N). Building each request and reading each status costs wrk a little more than a's static request.
local body_file = os.getenv("BENCH_BODY")
local tokens_file = os.getenv("BENCH_TOKENS")
if tokens_file == "" then tokens_file = nil end

if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

if tokens_file then
  local thread_count = tonumber(os.getenv("BENCH_THREADS") or "")
  assert(thread_count and thread_count >= 1, "BENCH_TOKENS needs BENCH_THREADS (wrk's -t)")
  local threads = {}

  -- Main Lua state: number the threads so that each takes its own slice of the file.
  function setup(thread)
    assert(#threads < thread_count, "wrk started more threads than BENCH_THREADS=" .. thread_count)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
  end

  -- Thread state (thread_index set by setup): this thread's tokens and the request around them. The counters
  -- are globals so that done() can read them with thread:get.
  local tokens, prefix, suffix, plain
  function init(args)
    tokens, next_token, untokened, unauthorized = {}, 1, 0, 0
    local line = 0
    for token in io.lines(tokens_file) do
      if line % thread_count == thread_index and token ~= "" then tokens[#tokens + 1] = token end
      line = line + 1
    end
    -- The request split where the token goes, so that each request is prefix .. token .. suffix.
    local marker = "\1TOKEN\1"
    wrk.headers["Authorization"] = "Bearer " .. marker
    local formatted = wrk.format()
    local at = formatted:find(marker, 1, true)
    prefix, suffix = formatted:sub(1, at - 1), formatted:sub(at + #marker)
    wrk.headers["Authorization"] = nil
    plain = wrk.format()
  end

  function request()
    -- wrk calls request() once more, in the first thread's state, to check the script: that token is taken,
    -- never sent, and never used again.
    if tokens == nil then return wrk.format() end
    local token = tokens[next_token]
    if token == nil then
      untokened = untokened + 1
      return plain
    end
    tokens[next_token] = nil
    next_token = next_token + 1
    return prefix .. token .. suffix
  end

  function response(status, headers, body)
    if status == 401 then unauthorized = unauthorized + 1 end
  end

  function token_summary()
    local untokened_total, unauthorized_total, used_total = 0, 0, 0
    for _, thread in ipairs(threads) do
      untokened_total = untokened_total + (thread:get("untokened") or 0)
      unauthorized_total = unauthorized_total + (thread:get("unauthorized") or 0)
      used_total = used_total + ((thread:get("next_token") or 1) - 1)
    end
    if untokened_total > 0 then
      io.stderr:write(string.format("WARNING: %s ran out: %d requests were sent without a token (401s)\n", tokens_file, untokened_total))
    end
    return string.format(" tokens=%d untokened=%d unauthorized=%d", used_total, untokened_total, unauthorized_total)
  end
end

-- Many patients (BENCH_PATIENTS=N, without tokens): the same chart under N patient ids, each with its own hookInstance,
-- sent in turn, so the service's per-patient state (the lock-out's card history) grows as it would with N patients
-- instead of one patient called thousands of times a second. BENCH_PATIENT_ID and BENCH_HOOK_INSTANCE name the id and
-- hookInstance in the body (every occurrence is replaced); each thread starts at its own offset.
local patients = tonumber(os.getenv("BENCH_PATIENTS") or "") or 0
if not tokens_file and patients > 1 and body_file and body_file ~= "" then
  local patient_id = assert(os.getenv("BENCH_PATIENT_ID"), "BENCH_PATIENTS needs BENCH_PATIENT_ID")
  local hook_instance = assert(os.getenv("BENCH_HOOK_INSTANCE"), "BENCH_PATIENTS needs BENCH_HOOK_INSTANCE")
  local counter = 0
  function setup(thread)
    thread:set("offset", counter * 7919)
    counter = counter + 1
  end

  local requests, next_request
  function init(args)
    local template = wrk.body
    local escape = function(text) return (text:gsub("%p", "%%%0")) end
    requests = {}
    for i = 1, patients do
      local body = template:gsub(escape(patient_id), patient_id .. "-" .. i)
      body = body:gsub(escape(hook_instance), hook_instance:sub(1, 24) .. string.format("%012d", i))
      requests[i] = wrk.format(nil, nil, nil, body)
    end
    next_request = (offset or 0) % patients
  end

  function request()
    if requests == nil then return wrk.format() end
    next_request = next_request % patients + 1
    return requests[next_request]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("RESULT requests=%d errors=%d rps=%.0f p50=%.2f p90=%.2f p99=%.2f max=%.2f%s\n",
    summary.requests, errors, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    token_summary and token_summary() or ""))
end
