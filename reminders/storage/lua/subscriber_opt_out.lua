-- include: consent_functions
-- include: tally_functions
-- include: names_functions
-- STOP, in one step: whatever else is rewriting the record, the opt-out and its consent event
-- are applied together, and the person leaves the due index unless email still reaches them
-- (as Subscriber.schedulable says). A STOP by text ends the evening calls too (`vo`).
-- Returns the SMS state before (nil: no such subscriber).
local record_key, overflow_key, due_key, stream_key, indexed_key = KEYS[1], KEYS[2], KEYS[3],
  KEYS[4], KEYS[5]
local legacy_due_key = KEYS[6]  -- the due index before shards (due_key is the person's shard)
local tally_key, paused_key = KEYS[7], KEYS[8]  -- the counts and the name index move with it
local callers_key = KEYS[9]     -- set: who gets the evening call (storage/voice_callers.py)
local stop_words_key = KEYS[10]  -- hash: opt-outs by stop word (storage/tally.py)
local subscriber_id, cutoff, budget = ARGV[1], ARGV[2], ARGV[3]
local names_prefix, stop_word = ARGV[9], ARGV[10]
if redis.call('EXISTS', record_key) == 0 then return false end
local before = redis.call('HGET', record_key, 'sms') or 'none'
local voice = redis.call('HGET', record_key, 'vo')
local calls = voice == 'active' or voice == 'pending'
if before == 'opted_out' and not calls then return before end
local counted = tally_values(record_key)
local names_before = names_entry(record_key, subscriber_id, counted)
redis.call('HSET', record_key, 'sms', 'opted_out')
if calls then
  redis.call('HSET', record_key, 'vo', 'opted_out')
  redis.call('SREM', callers_key, subscriber_id)
end
-- Counted once per opt-out (not again for a STOP from someone already out, nor on a retry).
if before ~= 'opted_out' and stop_word and stop_word ~= '' then
  redis.call('HINCRBY', stop_words_key, stop_word, 1)
end
local after = tally_values(record_key)
tally_move(counted, after, subscriber_id, tally_key, paused_key)
names_move(names_before, names_entry(record_key, subscriber_id, after), names_prefix)
record_consent(stream_key, record_key, overflow_key, indexed_key, cutoff, budget, subscriber_id,
               ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
local f = redis.call('HMGET', record_key, 'ch', 'email', 'em')
-- `ch` is the set of channels joined by ',' ("sms,email"), or "both" in older records
local wants_email = f[1] == 'both' or string.find(',' .. (f[1] or '') .. ',', ',email,', 1, true)
if not (wants_email and f[2] and f[2] ~= '' and f[3] == 'active') then
  redis.call('ZREM', due_key, subscriber_id)
  redis.call('ZREM', legacy_due_key, subscriber_id)
end
return before
