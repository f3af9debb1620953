-- Claim one caregiver text (an alert for one foot-problem report, a week's summary) before it
-- is sent, so a retried task, a duplicate task or a second worker sends it at most once: the
-- same outcomes as a night's claim (night_claim.lua), on the person's caregiver-texts hash.
-- Returns {'claimed', ''}, {'reclaimed', "first:last" attempts that may have reached the
-- provider} (a dead or timed-out attempt: the caller looks the message up first),
-- {'busy', lease end} (another sender holds it), {'wait', the provider's Retry-After (epoch)}
-- or {'done', final state}. A fresh claim from a Redis that started within the text's attempt
-- window is {'restarted', the window's start}: its record may have been lost with the restart.
local sent_key = KEYS[1]      -- hash: the person's caregiver texts, field = text key
local text_key = ARGV[1]      -- "week:2026-W49", "alert:<ms>"
local now = tonumber(ARGV[2])
local lease_until = ARGV[3]
local ttl = ARGV[4]
local window_start = ARGV[5] or ''  -- this text's attempts are made within this window
local window_end = ARGV[6] or ''    -- (epoch seconds; '' when not given)

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
if not state and window_start ~= '' then
  -- No record: did Redis (re)start while this text's attempts were being made, so that one
  -- may have been lost with its last writes (appendfsync everysec)? As in night_claim.lua;
  -- INFO may be refused by a managed Redis's ACL: then there is nothing to compare.
  local info = redis.pcall('INFO', 'server')
  local uptime = type(info) == 'string' and tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
  if uptime then
    local t = redis.call('TIME')
    local started = tonumber(t[1]) - uptime - 1  -- uptime is whole seconds: err early
    if started > tonumber(window_start) and started <= tonumber(window_end) then
      return {'restarted', window_start}
    end
  end
end
return {'claimed', ''}
