-- How many people in shards first..last (inclusive) are due before `start`, and in each of
-- `minutes` minutes from `start`: {before, minute 1, ..., minute n}. Reads every member of the
-- shards it is given (the caller pages through the shards, so Redis is never held for long).
local prefix = ARGV[1]        -- shard key = prefix .. shard number
local first = tonumber(ARGV[2])
local last = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local minutes = tonumber(ARGV[5])

local counts = {}
for i = 1, minutes + 1 do counts[i] = 0 end
local stop = start + 60 * minutes
for shard = first, last do
  local scores = redis.call('ZRANGE', prefix .. shard, '-inf', '(' .. stop, 'BYSCORE',
                            'WITHSCORES')
  for i = 2, #scores, 2 do
    local score = tonumber(scores[i])
    if score < start then
      counts[1] = counts[1] + 1
    else
      local n = math.floor((score - start) / 60) + 2
      counts[n] = counts[n] + 1
    end
  end
end
return counts
