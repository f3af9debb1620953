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
-- The fields read, in one HMGET: each dimension's field and older name, then flag and paused.
local TALLY_FIELDS = {}
for _, d in ipairs(TALLY_DIMENSIONS) do
  TALLY_FIELDS[#TALLY_FIELDS + 1] = d[2]
  TALLY_FIELDS[#TALLY_FIELDS + 1] = d[3] or d[2]
end
TALLY_FIELDS[#TALLY_FIELDS + 1] = 'flag'
TALLY_FIELDS[#TALLY_FIELDS + 1] = 'paused'
TALLY_FIELDS[#TALLY_FIELDS + 1] = 'c'
TALLY_FIELDS[#TALLY_FIELDS + 1] = 'created'
-- Program weeks count from 2024-01-01T00:00Z, a Monday (the record's `c` counts seconds from
-- there; an older record's `created`, from the epoch).
local TALLY_WEEK_BASE, TALLY_WEEK = 1704067200, 604800
local function tally_present(value)
  return value and value ~= ''
end
-- {dimension = value}, plus `state` ("<sms>/<email>": the name index's set) and flag, paused
-- (false when absent); nil when there is no such record.
local function tally_values(record_key)
  if redis.call('EXISTS', record_key) == 0 then return nil end
  local got = redis.call('HMGET', record_key, unpack(TALLY_FIELDS))
  local values = {}
  for i, d in ipairs(TALLY_DIMENSIONS) do
    local value = got[2 * i - 1]
    if not tally_present(value) then value = got[2 * i] end
    if not tally_present(value) then value = d[4] end
    values[d[1]] = value
  end
  -- a person's channels are a set, written "sms,email"; records from before say "both"
  if values.channel == 'both' then values.channel = 'sms,email' end
  values.state = values.sms .. '/' .. values.email
  local n = #TALLY_FIELDS
  values.flag = tally_present(got[n - 3]) and got[n - 3]
  values.paused = tally_present(got[n - 2]) and got[n - 2]
  -- The week they started, and whether they still get texts or emails (on), have not
  -- confirmed yet (pending) or no longer do (off): retention by program week (analytics.py).
  local week = 'none'
  if tonumber(got[n - 1] or '') then
    week = math.floor(tonumber(got[n - 1]) / TALLY_WEEK)
  elseif tonumber(got[n] or '') then
    week = math.floor((tonumber(got[n]) - TALLY_WEEK_BASE) / TALLY_WEEK)
  end
  local on = 'off'
  if values.sms == 'active' or values.email == 'active' then on = 'on'
  elseif values.sms == 'pending' or values.email == 'pending' then on = 'pending' end
  values.cohort = week .. '/' .. on .. '/' .. values.language .. '/' .. values.cause
  return values
end
-- Add to a count; a count back at 0 is removed, so an emptied database holds no counts at all
-- (`forget` of the last person leaves nothing behind).
local function tally_add(tally_key, field, sign)
  if redis.call('HINCRBY', tally_key, field, sign) == 0 then
    redis.call('HDEL', tally_key, field)
  end
end
local function tally_record(record_key, subscriber_id, sign, tally_key, paused_key)
  local values = tally_values(record_key)
  if not values then return end
  for _, d in ipairs(TALLY_DIMENSIONS) do
    tally_add(tally_key, d[1] .. ':' .. values[d[1]], sign)
  end
  tally_add(tally_key, 'state:' .. values.state, sign)
  tally_add(tally_key, 'cohort:' .. values.cohort, sign)
  -- An open foot-problem flag (the record's `flag` date; flags.py opens it until closed).
  if values.flag then tally_add(tally_key, 'flag:open', sign) end
  tally_add(tally_key, 'total', sign)
  -- Paused: a date, so "paused now" is a range count (ZCOUNT from today), not a counter.
  if sign < 0 then
    redis.call('ZREM', paused_key, subscriber_id)
  elseif values.paused then
    local day = tonumber((string.gsub(values.paused, '-', '')))
    if day then redis.call('ZADD', paused_key, day, subscriber_id) end
  end
end
