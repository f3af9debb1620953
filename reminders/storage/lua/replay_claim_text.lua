-- Claim an inbound MessageSid for handling, or say it was seen. Returns the stored value when
-- the SID is done (or a remembered consent change: 'r', no reply) ('r' .. reply) or in progress ('p' .. since, younger than `in_progress`),
-- else marks it in progress and returns nil. Bounded: past `max_sids` the number's memory is
-- started afresh; it expires `ttl` seconds after the last text.
local seen_key = KEYS[1]      -- hash: MessageSid -> 'p<epoch>' (in progress) | 'r<reply>' (done)
local consent_key = KEYS[2]   -- sorted set: MessageSids of consent changes, score = arrival
local sid = ARGV[1]
local in_progress = tonumber(ARGV[2])
local ttl = ARGV[3]
local max_sids = tonumber(ARGV[4])

local now = tonumber(redis.call('TIME')[1])
local seen = redis.call('HGET', seen_key, sid)
if seen then
  if string.sub(seen, 1, 1) == 'r' then return seen end
  if now - tonumber(string.sub(seen, 2)) < in_progress then return seen end
end
-- A consent change is remembered far longer than other texts: its repeat is a no-op.
if redis.call('ZSCORE', consent_key, sid) then return 'r' end
if redis.call('HLEN', seen_key) >= max_sids then redis.call('DEL', seen_key) end
redis.call('HSET', seen_key, sid, 'p' .. now)
redis.call('EXPIRE', seen_key, ttl)
return false
