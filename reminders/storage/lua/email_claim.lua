-- Book one confirmation email for an address and one address change for a number, or neither.
-- Returns 'ok', 'address' (this address had one within the window) or 'number' (this number is
-- at its cap for the day). The number's window starts with its first change of the day.
-- Guarantees: a victim's address gets at most one confirmation per window, whoever asks.
local address_key = KEYS[1]   -- string: a confirmation went to this address
local changes_key = KEYS[2]   -- counter: addresses this number asked for today
local window = ARGV[1]
local cap = tonumber(ARGV[2])

if redis.call('EXISTS', address_key) == 1 then return 'address' end
if tonumber(redis.call('GET', changes_key) or '0') >= cap then return 'number' end
redis.call('SET', address_key, '1', 'EX', window)
redis.call('INCR', changes_key)
redis.call('EXPIRE', changes_key, window, 'NX')
return 'ok'
