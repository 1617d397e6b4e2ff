-- wrk script for `drlrec serve` with the e-commerce ranker: top-10 recommend requests for random
-- users (u0 … u19999) in a random visit context; the server keeps every list it serves in the
-- user's history, so a user's state grows with the run up to `serve --user-events` events.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  return wrk.format(nil, nil, nil, string.format(
    '{"user_id": "u%d", "k": 10, "context": {"device": %d, "hour": %.1f, "low_frequency": %d, "cold_start": 0, "segment": %d, "day": %d, "session_step": %d}}',
    math.random(0, 19999), math.random(0, 2), math.random(0, 239) / 10, math.random(0, 1), math.random(0, 7), math.random(0, 6),
    math.random(0, 3)))
end

dofile("scripts/wrk_report.lua")
