-- Book `segments` x `interval` seconds of the shared SMS pace, starting at the next free
-- instant, if that instant is at most `horizon` seconds away. Uses the Redis clock, so every
-- worker on every machine books against the same time. Returns {1, wait, start}: booked, start
-- after `wait` seconds (0 or more), at `start` on the Redis clock; or {0, wait, start}: nothing
-- booked, the next slot is `wait` away.
-- A sender that comes back `catch_up` seconds late may still use the slot it just missed.
local rate_key = KEYS[1]      -- string: the instant from which the next send may start
local segments = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local catch_up = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local free_at = tonumber(redis.call('GET', rate_key) or '0')
local start = math.max(free_at, now - catch_up)
local wait = start - now
if wait > horizon then return {0, tostring(wait), tostring(start)} end
local next_free = start + segments * interval
redis.call('SET', rate_key, string.format('%.6f', next_free), 'PX',
           math.ceil((next_free - now) * 1000) + 1000)
return {1, tostring(math.max(wait, 0)), string.format('%.6f', start)}
