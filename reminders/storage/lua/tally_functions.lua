-- Functions the subscriber scripts include (not a script of its own): the counts kept with the
-- records (storage/tally.py). A script calls tally_record(..., -1) before it changes or deletes
-- a subscriber hash and tally_record(..., 1) after, inside the same script, so the counts move
-- with the record or not at all (no drift after a crash, a retry or a lost race).
-- TALLY_DIMENSIONS: {dimension, field, the field's older name, value when absent}. A new
-- dimension is one line here: stats, /metrics and the recount read whatever dimensions exist.
local TALLY_DIMENSIONS = {
  {'sms', 'sms', false, 'none'},
  {'email', 'em', false, 'none'},
  {'channel', 'ch', false, 'none'},
  {'language', 'l', false, 'en'},
  {'cause', 'cause', false, 'none'},
  {'zone', 'z', 'tz', 'none'},
}
-- A field by its name, else by its older name (records not rewritten since); false if empty.
local function tally_field(record_key, field, legacy)
  local value = redis.call('HGET', record_key, field)
  if (not value or value == '') and legacy then value = redis.call('HGET', record_key, legacy) end
  if not value or value == '' then return false end
  return value
end
local function tally_record(record_key, subscriber_id, sign, tally_key, paused_key)
  if redis.call('EXISTS', record_key) == 0 then return end
  for _, d in ipairs(TALLY_DIMENSIONS) do
    local value = tally_field(record_key, d[2], d[3]) or d[4]
    redis.call('HINCRBY', tally_key, d[1] .. ':' .. value, sign)
  end
  -- An open foot-problem flag (the record's `flag` date; flags.py opens it until closed).
  if tally_field(record_key, 'flag', false) then
    redis.call('HINCRBY', tally_key, 'flag:open', sign)
  end
  redis.call('HINCRBY', tally_key, 'total', sign)
  -- Paused: a date, so "paused now" is a range count (ZCOUNT from today), not a counter.
  local paused = tally_field(record_key, 'paused', false)
  if sign < 0 then
    redis.call('ZREM', paused_key, subscriber_id)
  elseif paused then
    local day = tonumber((string.gsub(paused, '-', '')))
    if day then redis.call('ZADD', paused_key, day, subscriber_id) end
  end
end
