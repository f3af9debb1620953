-- The first `limit` entries before `end` and after the cursor (after_score, after_id), in
-- (instant, id) order, of the sorted sets in KEYS (a batch of due shards, and the legacy set):
-- {id 1, instant 1, id 2, instant 2, ...}. A k-way merge: each set's first entry from the cursor
-- on, then the smallest popped `limit` times, reading the next entry of only the set it came
-- from, so a call reads about #KEYS + limit entries however many the sets hold (the caller
-- merges the batches' pages; a batch is kept small so Redis is never held long).
local low = ARGV[1]           -- lowest instant read: the cursor's, or '-inf'
local stop = '(' .. ARGV[2]   -- end, exclusive
local has_after = ARGV[3] ~= ''
local after_score = tonumber(ARGV[3])
local after_id = ARGV[4]
local limit = tonumber(ARGV[5])

-- Ids compared byte by byte, as Redis orders the members of a tie (Lua's < on strings follows
-- the server's collation locale, which need not be bytewise).
local function id_less(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The entry `offset` places from `low` in `key`: id, score string, score (nil when none).
local function at(key, offset)
  local got = redis.call('ZRANGE', key, low, stop, 'BYSCORE', 'LIMIT', offset, 1, 'WITHSCORES')
  if #got == 0 then return nil end
  return got[1], got[2], tonumber(got[2])
end

-- The heap: parallel arrays, entry i = (ids[i], raws[i], scores[i]) of set sets[i], whose next
-- entry is at offsets[i]. Scores are compared as numbers, returned as Redis wrote them (a Lua
-- number would come back truncated to an integer).
local ids, raws, scores, sets, offsets, n = {}, {}, {}, {}, {}, 0

local function less(i, j)
  return scores[i] < scores[j] or (scores[i] == scores[j] and id_less(ids[i], ids[j]))
end

local function swap(i, j)
  ids[i], ids[j] = ids[j], ids[i]
  raws[i], raws[j] = raws[j], raws[i]
  scores[i], scores[j] = scores[j], scores[i]
  sets[i], sets[j] = sets[j], sets[i]
  offsets[i], offsets[j] = offsets[j], offsets[i]
end

local function up(i)
  while i > 1 do
    local parent = math.floor(i / 2)
    if not less(i, parent) then return end
    swap(i, parent)
    i = parent
  end
end

local function down(i)
  while true do
    local smallest, left = i, 2 * i
    if left <= n and less(left, smallest) then smallest = left end
    if left + 1 <= n and less(left + 1, smallest) then smallest = left + 1 end
    if smallest == i then return end
    swap(i, smallest)
    i = smallest
  end
end

for k = 1, #KEYS do
  local key = KEYS[k]
  local id, raw, score = at(key, 0)
  local offset = 1
  if id and has_after and score == after_score then
    -- A tie run at the cursor's instant: skip the ids at or before the cursor's, all at once
    -- (a shard holds few entries, so the run is short; reading it one by one would not be).
    local ties = redis.call('ZRANGE', key, ARGV[3], ARGV[3], 'BYSCORE')
    offset = 0
    while offset < #ties and not id_less(after_id, ties[offset + 1]) do offset = offset + 1 end
    id, raw, score = at(key, offset)
    offset = offset + 1
  end
  if id then
    n = n + 1
    ids[n], raws[n], scores[n], sets[n], offsets[n] = id, raw, score, key, offset
    up(n)
  end
end

local page = {}
while n > 0 and #page < 2 * limit do
  page[#page + 1] = ids[1]
  page[#page + 1] = raws[1]
  local id, raw, score = at(sets[1], offsets[1])
  if id then
    ids[1], raws[1], scores[1], offsets[1] = id, raw, score, offsets[1] + 1
  else
    swap(1, n)
    n = n - 1
  end
  down(1)
end
return page
