-- Reschedule the claimed subscribers given as ARGV pairs (id, next instant; "" drops them),
-- but only those this caller still holds the claim on: an expired claim may have been taken by
-- another tick, whose decision stands. Returns how many were finished.
local due_key = KEYS[1]
local claims_key = KEYS[2]
local origin_key = KEYS[3]

local done = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  local next_instant = ARGV[i + 1]
  if redis.call('ZSCORE', claims_key, id) then
    redis.call('ZREM', claims_key, id)
    redis.call('HDEL', origin_key, id)
    if next_instant ~= '' then redis.call('ZADD', due_key, next_instant, id) end
    done = done + 1
  end
end
return done
