-- include: tally_functions
-- include: engagement_functions
-- Count a page of night records into the scratch engagement counts (`stats --recount`,
-- storage/engagement.py): delivered when an evening channel's status is `delivered`, engaged
-- when it is also answered (DONE or a score), under the bucket the night was counted in (its
-- `eng`) or, for a night never counted, the one it would be counted in now. The same rules as
-- the writing scripts, from the records' own fields. Writes only the scratch hash.
local scratch_key = KEYS[1]   -- hash: "<date>|delivered:<bucket>" -> evenings
local channels = cjson.decode(ARGV[1])  -- the evening channels' names
-- KEYS[2..]: pairs (a night record, its person's record); ARGV[2..]: "<date>|<its 00:00 UTC
-- epoch>" of each night
for i = 2, #KEYS, 2 do
  local night_key, sub_key = KEYS[i], KEYS[i + 1]
  local delivered = false
  for _, ch in ipairs(channels) do
    if redis.call('HGET', night_key, ch .. '_status') == 'delivered' then delivered = true end
  end
  if delivered then
    local day, epoch = string.match(ARGV[i / 2 + 1], '^([^|]*)|(.*)$')
    local bucket = redis.call('HGET', night_key, 'eng')
    if not bucket then bucket = engagement_bucket(sub_key, tonumber(epoch)) end
    redis.call('HINCRBY', scratch_key, day .. '|delivered:' .. bucket, 1)
    if engagement_answered(night_key) then
      redis.call('HINCRBY', scratch_key, day .. '|engaged:' .. bucket, 1)
    end
  end
end
return 1
