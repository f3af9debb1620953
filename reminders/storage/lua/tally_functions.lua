-- Functions the subscriber scripts include (not a script of its own): the counts kept with the
-- records (storage/tally.py). A script reads tally_values() before it changes or deletes a
-- subscriber hash and again after, and calls tally_move(before, after, ...), inside the same
-- script, so the counts move with the record or not at all (no drift after a crash, a retry or
-- a lost race); a recount calls tally_record().
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
-- When a person's program started (epoch seconds), from the record's `c` or older `created`;
-- nil when it has neither (engagement_functions.lua places nights in program weeks by it).
local function tally_start(c, created)
  if tonumber(c or '') then return TALLY_WEEK_BASE + tonumber(c) end
  return tonumber(created or '')
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
  local start = tally_start(got[n - 1], got[n])
  if start then week = math.floor((start - TALLY_WEEK_BASE) / TALLY_WEEK) end
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
-- The count fields one person adds to (their values as tally_values gives them).
local function tally_fields(values)
  local fields = {}
  for _, d in ipairs(TALLY_DIMENSIONS) do
    fields[#fields + 1] = d[1] .. ':' .. values[d[1]]
  end
  fields[#fields + 1] = 'state:' .. values.state
  fields[#fields + 1] = 'cohort:' .. values.cohort
  -- An open foot-problem flag (the record's `flag` date; flags.py opens it until closed).
  if values.flag then fields[#fields + 1] = 'flag:open' end
  fields[#fields + 1] = 'total'
  return fields
end
-- Move one person's counts from `before` to `after` (tally_values before and after the write;
-- nil: no record): only the fields that differ are written, so a write that changes no counted
-- value (most of them: a time, a score) costs the counts two HMGETs and nothing else.
local function tally_move(before, after, subscriber_id, tally_key, paused_key)
  local delta, order = {}, {}
  for _, side in ipairs({{-1, before}, {1, after}}) do
    if side[2] then
      for _, field in ipairs(tally_fields(side[2])) do
        if not delta[field] then order[#order + 1] = field end
        delta[field] = (delta[field] or 0) + side[1]
      end
    end
  end
  table.sort(order)  -- the same writes in the same order, whatever Lua's table order
  for _, field in ipairs(order) do
    if delta[field] ~= 0 then tally_add(tally_key, field, delta[field]) end
  end
  -- Paused: a date, so "paused now" is a range count (ZCOUNT from today), not a counter.
  local was, now = before and before.paused, after and after.paused
  if was == now then return end
  local day = now and tonumber((string.gsub(now, '-', '')))
  if day then
    redis.call('ZADD', paused_key, day, subscriber_id)
  else
    redis.call('ZREM', paused_key, subscriber_id)
  end
end
-- Count one record in (a recount).
local function tally_record(record_key, subscriber_id, tally_key, paused_key)
  tally_move(nil, tally_values(record_key), subscriber_id, tally_key, paused_key)
end
