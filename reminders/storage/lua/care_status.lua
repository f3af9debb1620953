-- Record a provider delivery status on one caregiver text (or one of storage/sends.py's
-- messages) if it moves forward (as night_status.lua does for a night's fields): a late `sent` never overwrites `delivered`, a
-- terminal status (rank 9) is never replaced; the metrics count each terminal status once.
-- Returns 1 when applied, 0 when ignored.
local sent_key = KEYS[1]      -- hash: the person's caregiver texts
local metrics_key = KEYS[2]   -- hash: cumulative counters (/metrics)
local text_key = ARGV[1]      -- "alert:<ms>", "week:2026-W49"
local status = ARGV[2]
local error_code = ARGV[3]
local ranks = cjson.decode(ARGV[4])
local label = ARGV[5] or 'caregiver'  -- the metrics' name for this record's messages

-- a record that has expired is not recreated (it would have no expiry of its own)
if redis.call('HEXISTS', sent_key, text_key) == 0 then return 0 end
local current = redis.call('HGET', sent_key, text_key .. '_status')
local old = ranks[current or ''] or 0
local new = ranks[status] or 0
if new == 0 or old >= 9 or new <= old then return 0 end
redis.call('HSET', sent_key, text_key .. '_status', status)
if error_code ~= '' then redis.call('HSET', sent_key, text_key .. '_error', error_code) end
if new >= 9 then
  redis.call('HINCRBY', metrics_key, status .. ':' .. label, 1)
  if error_code ~= '' then
    redis.call('HINCRBY', metrics_key, 'error:' .. label .. ':' .. error_code, 1)
  end
end
return 1
