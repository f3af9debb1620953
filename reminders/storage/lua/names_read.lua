-- Read one set of the name index (storage/names.py; lua/names_functions.lua writes it): the
-- people whose normalised name starts with a prefix, counted (mode "count") or a page of them
-- in order (mode "page": `limit` members after skipping `offset`). Walks the set's leaves from
-- the one holding the prefix, in bound order, a batch of bounds at a time: a leaf wholly past
-- the skipped ones costs one count, so a page is O(log n + offset / 64 + page), not a scan.
local directory, sizes_key = KEYS[1], KEYS[2]  -- the set; every set's size (a hash)
local mode, prefix, offset, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local set = ARGV[5]
if mode == 'count' and prefix == '' then  -- everyone in the set: its size, kept
  return tonumber(redis.call('HGET', sizes_key, set) or '0')
end
local low, high = '-', '+'
if prefix ~= '' then low, high = '[' .. prefix, '[' .. prefix .. '\255' end
-- No such set, or one of the layout before leaves (no "" bound, which every set has now):
-- nobody, rather than a walk of a million names; `stats --recount` rebuilds it.
if not redis.call('ZSCORE', directory, '') then
  if mode == 'count' then return 0 end
  return {}
end
local first = redis.call('ZRANGE', directory, '[' .. prefix, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)
local bounds = {first[1]}
local total, found, i = 0, {}, 1
while true do
  if i > #bounds then
    bounds = redis.call('ZRANGE', directory, '(' .. bounds[#bounds], high, 'BYLEX', 'LIMIT', 0, 100)
    if #bounds == 0 then break end
    i = 1
  end
  local leaf = directory .. '|' .. bounds[i]
  i = i + 1
  if mode == 'count' or offset > 0 then
    local n
    if prefix == '' then n = redis.call('ZCARD', leaf)
    else n = redis.call('ZLEXCOUNT', leaf, low, high) end
    total = total + n
    if mode == 'page' then
      if n <= offset then
        offset = offset - n
      else
        local part = redis.call('ZRANGE', leaf, low, high, 'BYLEX', 'LIMIT', offset, limit)
        for _, m in ipairs(part) do found[#found + 1] = m end
        offset = 0
      end
    end
  else
    for _, m in ipairs(redis.call('ZRANGE', leaf, low, high, 'BYLEX', 'LIMIT', 0,
                                  limit - #found)) do
      found[#found + 1] = m
    end
  end
  if mode == 'page' and #found >= limit then break end
end
if mode == 'count' then return total end
return found
