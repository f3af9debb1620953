-- include: tally_functions
-- include: names_functions
-- Replace a subscriber hash with new fields (ARGV[3..]: field, value, ...), keeping its
-- consent-log index (field cl), which only the consent scripts write; the counts and the name
-- index move with it (the old record taken out, the new one put in).
local record_key, tally_key, paused_key = KEYS[1], KEYS[2], KEYS[3]
local subscriber_id, names_prefix = ARGV[1], ARGV[2]
tally_record(record_key, subscriber_id, -1, tally_key, paused_key)
index_names(record_key, subscriber_id, -1, names_prefix)
local index = redis.call('HGET', record_key, 'cl')
redis.call('DEL', record_key)
redis.call('HSET', record_key, unpack(ARGV, 3))
if index then redis.call('HSET', record_key, 'cl', index) end
tally_record(record_key, subscriber_id, 1, tally_key, paused_key)
index_names(record_key, subscriber_id, 1, names_prefix)
