-- include: due_functions
-- Take one person out of the due index (their shard and the legacy set), and give their shard's
-- entry in the next index its exact value: dropped when the shard is now empty, so that nothing
-- about a forgotten person's evening time stays behind. (A bound left too low elsewhere, e.g.
-- by the opt-out script, is corrected by the next claim that reaches it.)
local shard_key = KEYS[1]     -- sorted set: the person's shard
local next_key = KEYS[2]      -- sorted set: shard number -> lower bound of its earliest instant
local legacy_key = KEYS[3]    -- sorted set: the layout before shards
local id = ARGV[1]
local prefix = ARGV[2]        -- shard key = prefix .. shard number
local shard = ARGV[3]

redis.call('ZREM', legacy_key, id)
redis.call('ZREM', shard_key, id)
due_rescore(prefix, next_key, shard)
