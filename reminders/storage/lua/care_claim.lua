-- Claim one caregiver text (an alert for one foot-problem report, a week's summary) before it
-- is sent, so a retried task, a duplicate task or a second worker sends it at most once.
-- Returns {'claimed', ''}, {'busy', lease end} (another sender holds it; a dead sender's
-- lease runs out and the text may then be claimed again) or {'done', final state}.
local sent_key = KEYS[1]      -- hash: the person's caregiver texts, field = text key
local text_key = ARGV[1]      -- "week:2026-W49", "alert:<ms>"
local now = tonumber(ARGV[2])
local lease_until = ARGV[3]
local ttl = ARGV[4]

local state = redis.call('HGET', sent_key, text_key)
if state == 'sending' then
  local lease = tonumber(redis.call('HGET', sent_key, text_key .. '_lease') or '0')
  if lease > now then return {'busy', tostring(lease)} end
elseif state then
  return {'done', state}
end
redis.call('HSET', sent_key, text_key, 'sending', text_key .. '_lease', lease_until)
redis.call('EXPIRE', sent_key, ttl)
return {'claimed', ''}
