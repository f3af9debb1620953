-- Functions the subscriber scripts include (not a script of its own): the name index for
-- search (storage/names.py). index_names(..., -1) before a subscriber hash changes or goes,
-- index_names(..., 1) after, inside the same script. Members are "<normalised name>\0<id>"
-- (score 0, read by lexical range) in one set per consent state (sms:<state>, email:<state>)
-- and `flagged`; everyone is in exactly one sms:<state> set.
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
  if redis.call('EXISTS', record_key) == 0 then return end
  local f = redis.call('HMGET', record_key, 'n', 'name', 'sms', 'em', 'flag')
  local name = f[1] or f[2] or ''
  local member = name_key(name) .. '\0' .. subscriber_id
  local sets = {'sms:' .. ((f[3] ~= '' and f[3]) or 'none'),
                'email:' .. ((f[4] ~= '' and f[4]) or 'none')}
  if f[5] and f[5] ~= '' then sets[3] = 'flagged' end
  for _, set in ipairs(sets) do
    if sign > 0 then
      redis.call('ZADD', prefix .. set, 0, member)
    else
      redis.call('ZREM', prefix .. set, member)
    end
  end
end
