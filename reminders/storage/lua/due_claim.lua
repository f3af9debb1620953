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

-- What is claimed is written at the end, a few hundred members per command (one command per
-- person was a third of the script's time).
local taken, lease_args, origin_args = {}, {}, {}
local function take(id, instant)
  taken[#taken + 1] = id
  taken[#taken + 1] = instant
  lease_args[#lease_args + 1] = lease_until
  lease_args[#lease_args + 1] = id
  origin_args[#origin_args + 1] = id
  origin_args[#origin_args + 1] = instant
end
local CHUNK = 400  -- arguments per command: far below Lua's unpack limit
local function each_chunk(command, key, args)
  for i = 1, #args, CHUNK do
    redis.call(command, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
  end
end
local function ids_of(pairs)
  local ids = {}
  for i = 1, #pairs, 2 do ids[#ids + 1] = pairs[i] end
  return ids
end

local old = redis.call('ZRANGE', legacy_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit,
                       'WITHSCORES')
for i = 1, #old, 2 do take(old[i], old[i + 1]) end
each_chunk('ZREM', legacy_key, ids_of(old))

-- A shard usually holds one or two people due now among ~60: its head (the PEEK lowest) is
-- read by rank, and the first member not taken gives the shard's new bound with no extra read.
-- New bounds are written once per page of shards (bound_args), before the next page is read.
local PEEK = 4
local bound_args, emptied = {}, {}
local function claim_shard(shard, room)
  local shard_key = prefix .. shard
  local head = redis.call('ZRANGE', shard_key, 0, PEEK - 1, 'WITHSCORES')
  local k = 0
  while 2 * k < #head and k < room and tonumber(head[2 * k + 2]) <= now do
    take(head[2 * k + 1], head[2 * k + 2])
    k = k + 1
  end
  if k > 0 then redis.call('ZREMRANGEBYRANK', shard_key, 0, k - 1) end
  if 2 * k < #head then
    bound_args[#bound_args + 1] = head[2 * k + 2]  -- the first one left is the earliest
    bound_args[#bound_args + 1] = shard
  elseif #head < 2 * PEEK then
    emptied[#emptied + 1] = shard  -- the whole shard was taken
  elseif k < room then
    claim_shard(shard, room - k)  -- all PEEK were due: read the next ones
  else
    due_rescore(prefix, next_key, shard)
  end
end

while #taken < 2 * limit do
  local candidates = redis.call('ZRANGE', next_key, '-inf', now, 'BYSCORE', 'LIMIT', 0,
                                SHARDS_PER_READ)
  if #candidates == 0 then break end
  for _, shard in ipairs(candidates) do
    local room = limit - #taken / 2
    if room <= 0 then break end
    claim_shard(shard, room)
  end
  each_chunk('ZADD', next_key, bound_args)
  each_chunk('ZREM', next_key, emptied)
  bound_args, emptied = {}, {}
end
each_chunk('ZADD', claims_key, lease_args)
each_chunk('HSET', origin_key, origin_args)
return taken
