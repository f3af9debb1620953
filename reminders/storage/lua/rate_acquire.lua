-- Book `cost` seconds of the shared SMS pace, or say how long to wait. Uses the Redis clock,
-- so every worker on every machine books against the same time. Returns '0' when booked, else
-- the seconds until the next slot. A poller that wakes `catch_up` seconds late may still use
-- the slot it just missed.
local rate_key = KEYS[1]      -- string: the instant from which the next send may start
local segments = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local catch_up = tonumber(ARGV[3])

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = segments * interval
local free_at = tonumber(redis.call('GET', rate_key) or '0')
if free_at > now then return tostring(free_at - now) end
local start = math.max(free_at, now - catch_up)
redis.call('SET', rate_key, string.format('%.6f', start + cost), 'PX',
           math.ceil(cost * 1000) + 1000)
return '0'
