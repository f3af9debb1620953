-- include: tally_functions
-- include: engagement_functions
-- Record a provider delivery status on one channel's fields of a night ("sms", "weekly", ...)
-- if it moves forward.
-- Guarantees: statuses only move forward (a late `sent` never overwrites `delivered`); a
-- terminal status (rank 9) is never replaced; the night's stats and the metrics count each
-- terminal status once; the first `delivered` of an evening channel counts the evening in the
-- engagement counts (engagement_functions.lua) in this same script. Returns 1 when applied, 0
-- when ignored.
local night_key = KEYS[1]     -- hash: the night's send record
local stats_key = KEYS[2]     -- hash: the local date's counters (`reminders stats`)
local metrics_key = KEYS[3]   -- hash: cumulative counters (/metrics)
local sub_key = KEYS[4]       -- hash: the person's record (program start, language)
local status = ARGV[1]
local error_code = ARGV[2]
local ranks = cjson.decode(ARGV[3])
local stats_ttl = ARGV[4]
local ch = ARGV[5] or 'sms'   -- the record's field prefix of the message (its kind's channel)
local evening = ARGV[6] == '1'  -- the field is an evening channel's (not the weekly text's)
local night_epoch = tonumber(ARGV[7] or '')  -- the night's local date, 00:00 UTC

-- a record that has expired is not recreated (it would have no expiry of its own)
if redis.call('EXISTS', night_key) == 0 then return 0 end
local current = redis.call('HGET', night_key, ch .. '_status')
local old = ranks[current or ''] or 0
local new = ranks[status] or 0
if new == 0 or old >= 9 or new <= old then return 0 end
redis.call('HSET', night_key, ch .. '_status', status)
if error_code ~= '' then redis.call('HSET', night_key, ch .. '_error', error_code) end
if new >= 9 then
  redis.call('HINCRBY', stats_key, ch .. '_' .. status, 1)
  redis.call('EXPIRE', stats_key, stats_ttl)
  redis.call('HINCRBY', metrics_key, status .. ':' .. ch, 1)
  if error_code ~= '' then redis.call('HINCRBY', metrics_key, 'error:' .. ch .. ':' .. error_code, 1) end
end
if status == 'delivered' and evening and night_epoch then
  engagement_deliver(night_key, stats_key, sub_key, night_epoch, stats_ttl)
end
return 1
