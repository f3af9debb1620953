-- Claim one channel's send for one (subscriber, local evening): the reason a person gets at
-- most one reminder per evening, whatever crashes, retries or duplicate tasks happen.
-- Returns {'claimed', ''}, {'reclaimed', when the earlier attempt started} (a dead or timed
-- out attempt: the provider may have its message, the caller must look first),
-- {'busy', lease end} (another sender owns it), {'wait', the provider's Retry-After (epoch)}
-- or {'done', final state}. A fresh claim from a Redis that started within the evening's
-- attempt window is 'restarted' (with the window's start): a record may have been lost.
local night_key = KEYS[1]     -- hash: the night's send record
local stats_key = KEYS[2]     -- hash: the local date's counters
local ch = ARGV[1]            -- sms | email
local now = tonumber(ARGV[2])
local lease_until = ARGV[3]
local night_ttl = ARGV[4]
local window_start = ARGV[5] or ''  -- this evening's attempts are made within this window
local window_end = ARGV[6] or ''    -- (epoch seconds; '' when not given)

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
elseif window_start ~= '' then
  -- No record at all: did Redis (re)start while this evening's attempts were being made, so
  -- that one may have been lost with its last writes (appendfsync everysec)? INFO may be
  -- refused by a managed Redis's ACL: then there is nothing to compare.
  local info = redis.pcall('INFO', 'server')
  local uptime = type(info) == 'string' and tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
  if uptime then
    local t = redis.call('TIME')
    local started = tonumber(t[1]) - uptime - 1  -- uptime is whole seconds: err early
    if started > tonumber(window_start) and started <= tonumber(window_end) then
      redis.call('HSET', night_key, ch, 'sending', ch .. '_lease', lease_until,
                 ch .. '_since', ARGV[2])
      redis.call('HINCRBY', night_key, ch .. '_attempts', 1)
      redis.call('EXPIRE', night_key, night_ttl)
      return {'restarted', window_start}
    end
  end
end
redis.call('HSET', night_key, ch, 'sending', ch .. '_lease', lease_until, ch .. '_since', ARGV[2])
redis.call('HINCRBY', night_key, ch .. '_attempts', 1)
redis.call('EXPIRE', night_key, night_ttl)
if since ~= '' then return {'reclaimed', since} end
return {'claimed', ''}
