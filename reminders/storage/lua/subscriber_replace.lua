-- Replace a subscriber hash with new fields (ARGV: field, value, ...), keeping its consent-log
-- index (field cl), which only the consent scripts write.
local record_key = KEYS[1]
local index = redis.call('HGET', record_key, 'cl')
redis.call('DEL', record_key)
redis.call('HSET', record_key, unpack(ARGV))
if index then redis.call('HSET', record_key, 'cl', index) end
