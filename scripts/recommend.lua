-- wrk script for `drlrec serve`: top-10 recommend requests for random users of the synthetic log
-- (u0 … u19999), whose histories the server replayed from its feedback log.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  return wrk.format(nil, nil, nil, string.format('{"user_id": "u%d", "k": 10}', math.random(0, 19999)))
end

dofile("scripts/wrk_report.lua")
