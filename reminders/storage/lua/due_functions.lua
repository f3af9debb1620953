-- Functions the due-index scripts include (not a script of its own).
-- shard_of: the shard number of a subscriber id, as keys.due_shard_number computes it.
-- due_add: put a person in their shard at `instant`, keeping the shard's entry in the next
--   index a lower bound of its earliest instant (ZADD LT only ever lowers it).
-- due_rescore: set a shard's entry in the next index to its earliest instant, or drop it when
--   the shard is empty (after claiming from it).
local HASH_PRIME = 1048573  -- keys.DUE_HASH_PRIME
local function shard_of(id, shards)
  local h = 0
  for i = 1, #id do h = (h * 31 + string.byte(id, i)) % HASH_PRIME end
  return h % shards
end
local function due_add(prefix, next_key, shards, id, instant)
  local shard = shard_of(id, shards)
  redis.call('ZADD', prefix .. shard, instant, id)
  redis.call('ZADD', next_key, 'LT', instant, shard)
end
local function due_rescore(prefix, next_key, shard)
  local first = redis.call('ZRANGE', prefix .. shard, 0, 0, 'WITHSCORES')
  if #first == 0 then
    redis.call('ZREM', next_key, shard)
  else
    redis.call('ZADD', next_key, first[2], shard)
  end
end
