-- Forget one status mark (the status was not applied after all); an empty bitmap is deleted.
local marks_key = KEYS[1]
local position = ARGV[1]

redis.call('SETBIT', marks_key, position, 0)
if redis.call('BITCOUNT', marks_key) == 0 then redis.call('DEL', marks_key) end
