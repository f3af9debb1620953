-- include: tally_functions
-- include: names_functions
-- Erase a subscriber hash and their consent-log overflow list, taking them out of the counts
-- and the name index in the same step (forget).
local record_key, overflow_key, tally_key, paused_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local subscriber_id, names_prefix = ARGV[1], ARGV[2]
tally_record(record_key, subscriber_id, -1, tally_key, paused_key)
index_names(record_key, subscriber_id, -1, names_prefix)
return redis.call('DEL', record_key, overflow_key)
