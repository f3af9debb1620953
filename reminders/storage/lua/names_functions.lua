-- Functions the subscriber scripts include (not a script of its own): the name index for
-- search (storage/names.py). index_names(..., -1) before a subscriber hash changes or goes,
-- index_names(..., 1) after, inside the same script (after tally_functions, whose tally_values
-- it uses). Members are "<normalised name>\0<id>" (score 0, read by lexical range) in the set
-- of the person's two consent states ("<sms state>/<email state>", one set each person) and,
-- with an open flag, in `flagged`.
-- NAME_FOLD: Latin-1 letters (U+00C0-U+00FF, UTF-8 bytes 0xC3 0x80-0xBF) without their accent,
-- by the second byte's place in each 32-letter half ('_': kept as it is). names.py folds with
-- the same string, so a typed query matches what this stored.
local NAME_FOLD = 'aaaaaa_ceeeeiiii_nooooo__uuuuy__'
local NAME_BYTES = 32
local function fold_letter(second)
  local n = string.byte(second) - 127
  local letter = string.sub(NAME_FOLD, (n - 1) % 32 + 1, (n - 1) % 32 + 1)
  if letter == '_' then return '\195' .. second end
  return letter
end
local function name_key(name)
  name = string.gsub(string.lower(name), '\195([\128-\191])', fold_letter)
  name = string.gsub(string.gsub(name, '%s+', ' '), '^ ', '')
  name = string.gsub(string.sub(name, 1, NAME_BYTES), ' $', '')
  return name
end
local function index_names(record_key, subscriber_id, sign, prefix)
  local values = tally_values(record_key)
  if not values then return end
  local f = redis.call('HMGET', record_key, 'n', 'name')
  local member = name_key(f[1] or f[2] or '') .. '\0' .. subscriber_id
  local sets = {values.state}
  if values.flag then sets[2] = 'flagged' end
  for _, set in ipairs(sets) do
    if sign > 0 then
      redis.call('ZADD', prefix .. set, 0, member)
    else
      redis.call('ZREM', prefix .. set, member)
    end
  end
end
