-- include: due_functions
-- Reschedule the claimed subscribers given as ARGV pairs (id, next instant; "" drops them),
-- but only those this caller still holds the claim on: an expired claim may have been taken by
-- another tick, whose decision stands. Returns how many were finished.
local claims_key = KEYS[1]    -- sorted set: id -> lease expiry
local origin_key = KEYS[2]    -- hash: id -> due instant when claimed
local next_key = KEYS[3]      -- sorted set: shard number -> lower bound of its earliest instant
local prefix = ARGV[1]        -- shard key = prefix .. shard number
local shards = tonumber(ARGV[2])
local FIRST_PAIR = 3          -- ARGV[3..]: id, next instant pairs

local done = 0
for i = FIRST_PAIR, #ARGV, 2 do
  local id = ARGV[i]
  local next_instant = ARGV[i + 1]
  if redis.call('ZSCORE', claims_key, id) then
    redis.call('ZREM', claims_key, id)
    redis.call('HDEL', origin_key, id)
    if next_instant ~= '' then due_add(prefix, next_key, shards, id, next_instant) end
    done = done + 1
  end
end
return done
