-- The report the wrk scripts print at the end (loaded by recommend.lua, ranker.lua and livez.lua,
-- which wrk runs from the repository's root): error counts, latency percentiles, the rate.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
                         e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms; %d requests, %.0f per second\n",
                         latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
                         latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests,
                         summary.requests / (summary.duration / 1e6)))
end
