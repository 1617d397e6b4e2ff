-- wrk script for `drlrec serve`'s /livez, a constant answer: the HTTP framework's own limit on
-- this machine, beside which the recommend routes are measured.

dofile("scripts/wrk_report.lua")
