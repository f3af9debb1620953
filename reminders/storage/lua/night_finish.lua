-- Set a channel's final state for a night, only once; count it in the night's stats and the
-- metrics the first time. In the same call (one round trip, one atomic step): remember which
-- night a provider message id belongs to (status callbacks name only the SID), and settle the
-- evening in the in-flight set, each only when given. Returns 1 when set, 0 when already final.
-- The in-flight keys are the dispatcher's (storage/inflight.py): settling them here, atomically
-- with the record, is what keeps a finished evening from ever being handed out again.
local night_key = KEYS[1]     -- hash: the night's send record
local stats_key = KEYS[2]     -- hash: the local date's counters
local metrics_key = KEYS[3]   -- hash: cumulative counters (/metrics)
local message_key = KEYS[4]   -- string: provider message id -> "<id>:<date>"
local inflight_key = KEYS[5]  -- sorted set: evenings handed out, not finished
local resends_key = KEYS[6]   -- hash: first resend of an evening
local ch = ARGV[1]
local state = ARGV[2]
local night_ttl = ARGV[3]
local stats_ttl = ARGV[4]
local reason = ARGV[5]
local error_code = ARGV[6]
local message_value = ARGV[7]  -- "" when there is no message id to remember
local message_ttl = ARGV[8]
local inflight_member = ARGV[9]  -- "" when the evening is not settled by this call
local FIRST_FIELD = 10         -- ARGV[10..]: field, value pairs to set on the record

if message_value ~= '' then redis.call('SET', message_key, message_value, 'EX', message_ttl) end
if inflight_member ~= '' then
  redis.call('ZREM', inflight_key, inflight_member)
  redis.call('HDEL', resends_key, inflight_member)
end
local current = redis.call('HGET', night_key, ch)
if current and current ~= 'sending' and current ~= 'retry' then return 0 end
redis.call('HSET', night_key, ch, state)
for i = FIRST_FIELD, #ARGV, 2 do redis.call('HSET', night_key, ARGV[i], ARGV[i + 1]) end
redis.call('HDEL', night_key, ch .. '_lease')
redis.call('EXPIRE', night_key, night_ttl)
redis.call('HINCRBY', stats_key, ch .. '_' .. state, 1)
if reason ~= '' then redis.call('HINCRBY', stats_key, ch .. '_' .. state .. ':' .. reason, 1) end
redis.call('EXPIRE', stats_key, stats_ttl)
redis.call('HINCRBY', metrics_key, state .. ':' .. ch, 1)
if error_code ~= '' then redis.call('HINCRBY', metrics_key, 'error:' .. ch .. ':' .. error_code, 1) end
return 1
