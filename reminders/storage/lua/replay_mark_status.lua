-- Mark a status callback (a bit per status) as applied for one message. Returns 1 the first
-- time (and sets the expiry), 0 for a repeat: a replayed callback changes nothing.
local marks_key = KEYS[1]     -- bitmap: one bit per delivery status
local position = ARGV[1]
local ttl = ARGV[2]

if redis.call('SETBIT', marks_key, position, 1) == 1 then return 0 end
redis.call('EXPIRE', marks_key, ttl)
return 1
