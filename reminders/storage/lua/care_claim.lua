-- Claim one caregiver text (an alert for one foot-problem report, a week's summary) before it
-- is sent, so a retried task, a duplicate task or a second worker sends it at most once: the
-- same outcomes as a night's claim (night_claim.lua), on the person's caregiver-texts hash.
-- Returns {'claimed', ''}, {'reclaimed', "first:last" attempts that may have reached the
-- provider} (a dead or timed-out attempt: the caller looks the message up first),
-- {'busy', lease end} (another sender holds it), {'wait', the provider's Retry-After (epoch)}
-- or {'done', final state}.
local sent_key = KEYS[1]      -- hash: the person's caregiver texts, field = text key
local text_key = ARGV[1]      -- "week:2026-W49", "alert:<ms>"
local now = tonumber(ARGV[2])
local lease_until = ARGV[3]
local ttl = ARGV[4]

local state = redis.call('HGET', sent_key, text_key)
local since = ''
if state == 'sending' then
  local lease = tonumber(redis.call('HGET', sent_key, text_key .. '_lease') or '0')
  if lease > now then return {'busy', tostring(lease)} end
  since = redis.call('HGET', sent_key, text_key .. '_since') or ''
elseif state == 'retry' then
  local not_before = tonumber(redis.call('HGET', sent_key, text_key .. '_not_before') or '0')
  if not_before > now then return {'wait', tostring(not_before)} end
  since = redis.call('HGET', sent_key, text_key .. '_uncertain') or ''
  redis.call('HDEL', sent_key, text_key .. '_uncertain', text_key .. '_not_before')
elseif state then
  return {'done', state}
end
redis.call('HSET', sent_key, text_key, 'sending', text_key .. '_lease', lease_until,
           text_key .. '_since', ARGV[2])
redis.call('EXPIRE', sent_key, ttl)
if since ~= '' then return {'reclaimed', since} end
return {'claimed', ''}
