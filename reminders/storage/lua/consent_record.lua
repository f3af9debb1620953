-- include: consent_functions
-- Append one consent event to the log and index it under its person, in one step: the log and
-- the index never disagree. Returns the new entry id.
local stream_key = KEYS[1]    -- stream: the consent and audit log
local record_key = KEYS[2]    -- hash: the subscriber (field cl: their newest entry ids)
local overflow_key = KEYS[3]  -- list: their older entry ids
local indexed_key = KEYS[4]   -- string: set once older entries have been indexed
local cutoff = ARGV[1]        -- ms: entries older than this are past the retention
local budget = ARGV[2]        -- bytes the cl field may hold

return record_consent(stream_key, record_key, overflow_key, indexed_key, cutoff, budget,
                      ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
