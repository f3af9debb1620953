-- Claim one channel's send for one (subscriber, local evening): the reason a person gets at
-- most one reminder per evening, whatever crashes, retries or duplicate tasks happen.
-- Returns {'claimed', ''}, {'reclaimed', when the earlier attempt started} (a dead or timed
-- out attempt: the provider may have its message, the caller must look first),
-- {'busy', lease end} (another sender owns it), {'wait', the provider's Retry-After (epoch)}
-- or {'done', final state}.
local night_key = KEYS[1]     -- hash: the night's send record
local stats_key = KEYS[2]     -- hash: the local date's counters
local ch = ARGV[1]            -- sms | email
local now = tonumber(ARGV[2])
local lease_until = ARGV[3]
local night_ttl = ARGV[4]

local state = redis.call('HGET', night_key, ch)
local since = ''
if state == 'sending' then
  local lease = tonumber(redis.call('HGET', night_key, ch .. '_lease') or '0')
  if lease > now then return {'busy', tostring(lease)} end
  since = redis.call('HGET', night_key, ch .. '_since') or ''
elseif state == 'retry' or state == 'skipped' then
  -- the provider said when to come back: whoever runs the evening early (a capped retry, a
  -- re-handed evening, a duplicate task) waits for it, without asking the provider
  local not_before = tonumber(redis.call('HGET', night_key, ch .. '_not_before') or '0')
  if state == 'retry' and not_before > now then return {'wait', tostring(not_before)} end
  -- a skip (opted out, paused, unconfirmed) is re-checked: START before the late limit sends
  -- after a timeout the provider may have the message: the next sender must look first
  since = redis.call('HGET', night_key, ch .. '_uncertain') or ''
  redis.call('HDEL', night_key, ch .. '_uncertain')
  if state == 'skipped' then
    -- the night's stats count its final state once: take the skip back (metrics, which
    -- count events, keep it)
    local reason = redis.call('HGET', night_key, ch .. '_reason')
    if tonumber(redis.call('HGET', stats_key, ch .. '_skipped') or '0') > 0 then
      redis.call('HINCRBY', stats_key, ch .. '_skipped', -1)
    end
    if reason and tonumber(redis.call('HGET', stats_key, ch .. '_skipped:' .. reason) or '0') > 0 then
      redis.call('HINCRBY', stats_key, ch .. '_skipped:' .. reason, -1)
    end
    redis.call('HDEL', night_key, ch .. '_reason')
  end
elseif state then
  return {'done', state}
end
redis.call('HSET', night_key, ch, 'sending', ch .. '_lease', lease_until, ch .. '_since', ARGV[2])
redis.call('HINCRBY', night_key, ch .. '_attempts', 1)
redis.call('EXPIRE', night_key, night_ttl)
if since ~= '' then return {'reclaimed', since} end
return {'claimed', ''}
