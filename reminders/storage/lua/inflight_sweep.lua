-- The evenings handed to a sender whose task has not finished by `cutoff`: hand them out again,
-- or give up on those first handed out again at least `late_limit` seconds ago (their evening
-- is past saving; the caller records them missed). Returns {to resend, given up}.
-- Guarantees: an evening is resent at most late_limit / grace + 1 times, and never dropped
-- silently.
local inflight_key = KEYS[1]  -- sorted set: "<id>:<date>" -> last hand-off
local resends_key = KEYS[2]   -- hash: "<id>:<date>" -> first time it was handed out again
local cutoff = ARGV[1]
local now = tonumber(ARGV[2])
local limit = ARGV[3]
local late_limit = tonumber(ARGV[4])

local stale = redis.call('ZRANGE', inflight_key, '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, limit)
local resend, given_up = {}, {}
for _, member in ipairs(stale) do
  redis.call('HSETNX', resends_key, member, now)
  if now - tonumber(redis.call('HGET', resends_key, member)) >= late_limit then
    redis.call('ZREM', inflight_key, member)
    redis.call('HDEL', resends_key, member)
    table.insert(given_up, member)
  else
    redis.call('ZADD', inflight_key, now, member)
    table.insert(resend, member)
  end
end
return {resend, given_up}
