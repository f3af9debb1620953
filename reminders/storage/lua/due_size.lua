-- How many people the due index holds: the shards named in the next index (the only ones that
-- can be non-empty) and the legacy sorted set.
local legacy_key = KEYS[1]    -- sorted set: the layout before shards
local next_key = KEYS[2]      -- sorted set: shard number -> lower bound of its earliest instant
local prefix = ARGV[1]        -- shard key = prefix .. shard number

local total = redis.call('ZCARD', legacy_key)
for _, shard in ipairs(redis.call('ZRANGE', next_key, 0, -1)) do
  total = total + redis.call('ZCARD', prefix .. shard)
end
return total
