-- Record a provider delivery status on one channel's fields of a night ("sms", "weekly", ...)
-- if it moves forward.
-- Guarantees: statuses only move forward (a late `sent` never overwrites `delivered`); a
-- terminal status (rank 9) is never replaced; the night's stats and the metrics count each
-- terminal status once. Returns 1 when applied, 0 when ignored.
local night_key = KEYS[1]     -- hash: the night's send record
local stats_key = KEYS[2]     -- hash: the local date's counters (`reminders stats`)
local metrics_key = KEYS[3]   -- hash: cumulative counters (/metrics)
local status = ARGV[1]
local error_code = ARGV[2]
local ranks = cjson.decode(ARGV[3])
local stats_ttl = ARGV[4]
local ch = ARGV[5] or 'sms'   -- the record's field prefix of the message (its kind's channel)

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
return 1
