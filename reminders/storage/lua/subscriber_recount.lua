-- include: tally_functions
-- include: names_functions
-- Count a page of subscriber hashes into scratch copies of the counts, the paused set and the
-- name index (a recount, storage/tally.py rebuild): the same functions the writing scripts
-- run, so a recount counts exactly what they count. KEYS[3..]: the records; ARGV[2..]: their ids.
local tally_key, paused_key = KEYS[1], KEYS[2]
local names_prefix = ARGV[1]
for i = 3, #KEYS do
  tally_record(KEYS[i], ARGV[i - 1], tally_key, paused_key)
  index_names(KEYS[i], ARGV[i - 1], names_prefix)
end
return #KEYS - 2
