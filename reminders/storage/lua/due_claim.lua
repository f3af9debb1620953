-- Claim up to `limit` subscribers due by `now`, and first put back those whose claim lease
-- expired (a dispatcher died before rescheduling them) at their original instant.
-- Guarantees: a subscriber is held by one claim at most (two beats never take the same person),
-- and nobody leaves the schedule without being rescheduled or dropped on purpose.
local due_key = KEYS[1]       -- sorted set: id -> next send instant
local claims_key = KEYS[2]    -- sorted set: id -> lease expiry
local origin_key = KEYS[3]    -- hash: id -> due instant when claimed
local now = tonumber(ARGV[1])
local lease_until = ARGV[2]
local limit = ARGV[3]

local expired = redis.call('ZRANGEBYSCORE', claims_key, '-inf', now)
for _, id in ipairs(expired) do
  local origin = redis.call('HGET', origin_key, id)
  if origin and not redis.call('ZSCORE', due_key, id) then
    redis.call('ZADD', due_key, origin, id)
  end
  redis.call('ZREM', claims_key, id)
  redis.call('HDEL', origin_key, id)
end
local due = redis.call('ZRANGE', due_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit,
                       'WITHSCORES')
for i = 1, #due, 2 do
  redis.call('ZREM', due_key, due[i])
  redis.call('ZADD', claims_key, lease_until, due[i])
  redis.call('HSET', origin_key, due[i], due[i + 1])
end
return due
