-- include: tally_functions
-- include: names_functions
-- Replace a subscriber hash with new fields (ARGV[3..]: field, value, ...), keeping its
-- consent-log index (field cl), which only the consent scripts write; the counts and the name
-- index move with it (from what the old record said to what the new one says).
local record_key, tally_key, paused_key = KEYS[1], KEYS[2], KEYS[3]
local subscriber_id, names_prefix = ARGV[1], ARGV[2]
local before = tally_values(record_key)
local names_before = names_entry(record_key, subscriber_id, before)
local index = redis.call('HGET', record_key, 'cl')
redis.call('DEL', record_key)
redis.call('HSET', record_key, unpack(ARGV, 3))
if index then redis.call('HSET', record_key, 'cl', index) end
local after = tally_values(record_key)
tally_move(before, after, subscriber_id, tally_key, paused_key)
names_move(names_before, names_entry(record_key, subscriber_id, after), names_prefix)
