-- include: consent_functions
-- Add an entry written before the per-person index existed to its person's index, once.
-- Returns 1 when added, 0 when the person is gone, the entry is past retention or indexed.
local record_key, overflow_key = KEYS[1], KEYS[2]
local entry_id, cutoff, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('EXISTS', record_key) == 0 or older(entry_id, cutoff) then return 0 end
local index = redis.call('HGET', record_key, 'cl') or ''
if string.find(' ' .. index .. ' ', ' ' .. entry_id .. ' ', 1, true)
   or redis.call('LPOS', overflow_key, entry_id) then return 0 end
index_consent(record_key, overflow_key, entry_id, cutoff, budget)
return 1
