-- include: tally_functions
-- include: names_functions
-- Erase a subscriber hash and their consent-log overflow list, taking them out of the counts
-- and the name index in the same step (forget).
local record_key, overflow_key, tally_key, paused_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local subscriber_id, names_prefix = ARGV[1], ARGV[2]
local before = tally_values(record_key)
tally_move(before, nil, subscriber_id, tally_key, paused_key)
names_move(names_entry(record_key, subscriber_id, before), nil, names_prefix)
return redis.call('DEL', record_key, overflow_key)
