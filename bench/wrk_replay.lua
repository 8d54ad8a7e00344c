-- Replays request bodies from a file, one JSON body per line, each line sent once per lap.
-- Usage: wrk -s bench/wrk_replay.lua URL -- BODIES_FILE THREADS [API_KEY]
-- Thread t sends lines t, t+T, t+2T, ...: the Python side decides every body, so the
-- driver-only ceiling replays exactly the same requests. Prints one JSON line when done.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local path, threads, key = args[1], tonumber(args[2]), args[3]
  bodies = {}
  local line_no = 0
  for line in io.lines(path) do
    if line_no % threads == id then
      bodies[#bodies + 1] = line
    end
    line_no = line_no + 1
  end
  cursor = 0
  headers = { ["Content-Type"] = "application/json" }
  if key ~= nil and key ~= "" then
    headers["Authorization"] = "Bearer " .. key
  end
end

function request()
  cursor = cursor % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[cursor])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
