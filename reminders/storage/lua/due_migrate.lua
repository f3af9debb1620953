-- include: due_functions
-- Move up to `page` people from the legacy single sorted set into their shards, at the same
-- instant. Returns how many are left in the legacy set. Run until it returns 0 (at start).
local legacy_key = KEYS[1]    -- sorted set: id -> next send instant (the layout before shards)
local next_key = KEYS[2]      -- sorted set: shard number -> lower bound of its earliest instant
local prefix = ARGV[1]        -- shard key = prefix .. shard number
local shards = tonumber(ARGV[2])
local page = tonumber(ARGV[3])

local moving = redis.call('ZRANGE', legacy_key, 0, page - 1, 'WITHSCORES')
for i = 1, #moving, 2 do
  due_add(prefix, next_key, shards, moving[i], moving[i + 1])
  redis.call('ZREM', legacy_key, moving[i])
end
return redis.call('ZCARD', legacy_key)
