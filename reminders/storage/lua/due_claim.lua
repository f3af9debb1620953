-- include: due_functions
-- Claim up to `limit` subscribers due by `now`, and first put back those whose claim lease
-- expired (a dispatcher died before rescheduling them) at their original instant.
-- Guarantees: a subscriber is held by one claim at most (two beats never take the same person),
-- and nobody leaves the schedule without being rescheduled or dropped on purpose.
-- The shards to look in come from the next index (a lower bound per shard): each one visited
-- either gives up everyone due in it or gets its exact earliest instant back, so the loop ends.
-- The legacy single sorted set is claimed from first (empty once migrated).
local legacy_key = KEYS[1]    -- sorted set: id -> next send instant (the layout before shards)
local claims_key = KEYS[2]    -- sorted set: id -> lease expiry
local origin_key = KEYS[3]    -- hash: id -> due instant when claimed
local next_key = KEYS[4]      -- sorted set: shard number -> lower bound of its earliest instant
local now = tonumber(ARGV[1])
local lease_until = ARGV[2]
local limit = tonumber(ARGV[3])
local prefix = ARGV[4]        -- shard key = prefix .. shard number
local shards = tonumber(ARGV[5])
local SHARDS_PER_READ = 64

local expired = redis.call('ZRANGEBYSCORE', claims_key, '-inf', now)
for _, id in ipairs(expired) do
  local origin = redis.call('HGET', origin_key, id)
  if origin and not redis.call('ZSCORE', prefix .. shard_of(id, shards), id)
     and not redis.call('ZSCORE', legacy_key, id) then
    due_add(prefix, next_key, shards, id, origin)
  end
  redis.call('ZREM', claims_key, id)
  redis.call('HDEL', origin_key, id)
end

local taken = {}
local function take(id, instant)
  redis.call('ZADD', claims_key, lease_until, id)
  redis.call('HSET', origin_key, id, instant)
  taken[#taken + 1] = id
  taken[#taken + 1] = instant
end

local old = redis.call('ZRANGE', legacy_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit,
                       'WITHSCORES')
for i = 1, #old, 2 do
  redis.call('ZREM', legacy_key, old[i])
  take(old[i], old[i + 1])
end

while #taken < 2 * limit do
  local candidates = redis.call('ZRANGE', next_key, '-inf', now, 'BYSCORE', 'LIMIT', 0,
                                SHARDS_PER_READ)
  if #candidates == 0 then break end
  for _, shard in ipairs(candidates) do
    local room = limit - #taken / 2
    if room <= 0 then break end
    local shard_key = prefix .. shard
    local due = redis.call('ZRANGE', shard_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, room,
                           'WITHSCORES')
    for i = 1, #due, 2 do
      redis.call('ZREM', shard_key, due[i])
      take(due[i], due[i + 1])
    end
    due_rescore(prefix, next_key, shard)
  end
end
return taken
