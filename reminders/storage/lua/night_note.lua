-- include: tally_functions
-- include: engagement_functions
-- What the person told us about an evening (DONE, a score, a redial asked for): set the fields
-- and renew the record's expiry; a DONE or score for a delivered evening counts it engaged once
-- (engagement_functions.lua), in this same script, so the count cannot move without the record.
local night_key = KEYS[1]     -- hash: the night's record
local stats_key = KEYS[2]     -- hash: the local date's counters
local ttl = ARGV[1]
local stats_ttl = ARGV[2]
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', night_key, unpack(fields))
redis.call('EXPIRE', night_key, ttl)
engagement_engage(night_key, stats_key, stats_ttl)
return 1
