-- Functions the subscriber scripts include (not a script of its own): the name index for
-- search (storage/names.py). A script reads names_entry() before a subscriber hash changes or
-- goes and after, and calls names_move(before, after, ...), inside the same script (after
-- tally_functions, whose tally_values it uses); a recount calls index_names(). A person is one
-- member, names_member(): "<normalised name>\0<id as 4 bytes>" (or "\1<id>" for an id that is
-- not a number below 2^32), in the set of their two consent states ("<sms state>/<email
-- state>") and, with an open flag, in `flagged`.
-- A set is a directory plus small leaves (a B-tree of one level): the directory (the set's own
-- key, a sorted set read by lexical range) lists each leaf's lower bound; leaf "<set>|<bound>"
-- holds the members from its bound up to the next one. A leaf of NAMES_LEAF members or fewer
-- stays listpack-encoded (zset-max-listpack-entries: 128): ~20 bytes a person instead of ~120
-- in one big skiplist; a full one is split in two before it grows. The first leaf's bound is
-- "" (everyone).
-- NAME_FOLD: Latin-1 letters (U+00C0-U+00FF, UTF-8 bytes 0xC3 0x80-0xBF) without their accent,
-- by the second byte's place in each 32-letter half ('_': kept as it is). names.py folds with
-- the same string, so a typed query matches what this stored.
local NAME_FOLD = 'aaaaaa_ceeeeiiii_nooooo__uuuuy__'
local NAME_BYTES = 32
local NAMES_LEAF, NAMES_HALF = 128, 64
local function fold_letter(second)
  local n = string.byte(second) - 127
  local letter = string.sub(NAME_FOLD, (n - 1) % 32 + 1, (n - 1) % 32 + 1)
  if letter == '_' then return '\195' .. second end
  return letter
end
local function name_key(name)
  -- control characters out first: \0 and \1 separate the name from the id in a member
  name = string.gsub(name, '[%z\1-\8\14-\31]', '')
  name = string.gsub(string.lower(name), '\195([\128-\191])', fold_letter)
  name = string.gsub(string.gsub(name, '%s+', ' '), '^ ', '')
  name = string.gsub(string.sub(name, 1, NAME_BYTES), ' $', '')
  return name
end
local function names_member(name, subscriber_id)
  local number = tonumber(subscriber_id)
  if string.find(subscriber_id, '^[1-9]%d*$') and number < 4294967296 then
    return name .. '\0' .. struct.pack('>I4', number)
  end
  return name .. '\1' .. subscriber_id
end
-- The leaf that holds (or would hold) `member`: the greatest bound not above it.
local function names_leaf(directory, member)
  local bound = redis.call('ZRANGE', directory, '[' .. member, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)
  return bound[1]
end
local function names_split(directory, leaf)
  local upper = redis.call('ZRANGE', leaf, NAMES_HALF, -1)
  local args = {}
  for _, member in ipairs(upper) do
    args[#args + 1] = 0
    args[#args + 1] = member
  end
  redis.call('ZADD', directory .. '|' .. upper[1], unpack(args))
  redis.call('ZREMRANGEBYRANK', leaf, NAMES_HALF, -1)
  redis.call('ZADD', directory, 0, upper[1])
end
-- Each set's size (hash "<prefix>~", field = the set): what a search for everyone in a state
-- counts, in one read instead of a count of every leaf.
local function names_size(prefix, set, change)
  if redis.call('HINCRBY', prefix .. '~', set, change) <= 0 then
    redis.call('HDEL', prefix .. '~', set)
  end
end
local function names_add(prefix, set, member)
  local directory = prefix .. set
  if not redis.call('ZSCORE', directory, '') then
    -- A new set, or one of the layout before leaves (one sorted set of every name, which has no
    -- "" bound): started afresh; `stats --recount` puts everyone back.
    redis.call('UNLINK', directory)
    redis.call('ZADD', directory, 0, '')
  end
  local bound = names_leaf(directory, member)
  local leaf = directory .. '|' .. bound
  -- Split a full leaf before adding: one past NAMES_LEAF would turn it into a skiplist for good
  -- (Redis does not convert back when it shrinks).
  if redis.call('ZCARD', leaf) >= NAMES_LEAF then
    names_split(directory, leaf)
    leaf = directory .. '|' .. names_leaf(directory, member)
  end
  if redis.call('ZADD', leaf, 0, member) == 1 then names_size(prefix, set, 1) end
end
local function names_remove(prefix, set, member)
  local directory = prefix .. set
  if not redis.call('ZSCORE', directory, '') then return end  -- no set (or an old one)
  local bound = names_leaf(directory, member)
  local leaf = directory .. '|' .. bound
  if redis.call('ZREM', leaf, member) == 1 then names_size(prefix, set, -1) end
  -- An emptied leaf goes, its bound too; the first one ("") only with the last person.
  if redis.call('EXISTS', leaf) == 0 then
    if bound ~= '' then redis.call('ZREM', directory, bound) end
    if redis.call('ZCARD', directory) == 1 and redis.call('EXISTS', directory .. '|') == 0 then
      redis.call('DEL', directory)
    end
  end
end
-- The person's entry: their member and the sets it belongs in (nil: no record). `values`: what
-- tally_values read of the record (the state, the flag).
local function names_entry(record_key, subscriber_id, values)
  if not values then return nil end
  local f = redis.call('HMGET', record_key, 'n', 'name')
  local sets = {values.state}  -- a list, so the writes come in one order
  if values.flag then sets[2] = 'flagged' end
  return {member = names_member(name_key(f[1] or f[2] or ''), subscriber_id), sets = sets}
end
-- Move a person's entry from `before` to `after` (names_entry before and after the write):
-- nothing is written when neither their name nor their sets changed (most writes).
local function names_move(before, after, prefix)
  local function kept(entry, other, set)  -- in `other` too, under the same member
    if not (other and other.member == entry.member) then return false end
    return other.sets[1] == set or other.sets[2] == set
  end
  if before then
    for _, set in ipairs(before.sets) do
      if not kept(before, after, set) then names_remove(prefix, set, before.member) end
    end
  end
  if after then
    for _, set in ipairs(after.sets) do
      if not kept(after, before, set) then names_add(prefix, set, after.member) end
    end
  end
end
-- Index one record (a recount).
local function index_names(record_key, subscriber_id, prefix)
  names_move(nil, names_entry(record_key, subscriber_id, tally_values(record_key)), prefix)
end
