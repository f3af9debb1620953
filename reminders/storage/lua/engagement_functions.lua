-- Functions the night scripts include (not a script of its own): engagement kept with the night
-- records (storage/nights.py). An evening counts as delivered the first time one of its evening
-- channels is reported `delivered`, and as engaged once it is delivered and the person answered
-- DONE or a score for it, in either order. Both counts go into the night's local-date hash
-- (keys.night_stats) under the person's program week and language: `engagement:delivered:<week>/
-- <language>` and `engagement:engaged:...`. The night record keeps `eng` (the bucket it was
-- counted under) and `eng_done`, so a second callback or a second DONE counts nothing, and a
-- language changed later does not move an evening between buckets.
-- Include tally_functions first (tally_start, TALLY_WEEK).
local ENGAGEMENT = 'engagement:'

-- "<program week>/<language>" of a night at `night_epoch` (its local date, 00:00 UTC) for the
-- subscriber hash `sub_key`; the week is 'none' when the record has no start.
local function engagement_bucket(sub_key, night_epoch)
  local got = redis.call('HMGET', sub_key, 'c', 'created', 'l')
  local start = tally_start(got[1], got[2])
  local week = 'none'
  if start then week = math.max(0, math.floor((night_epoch - start) / TALLY_WEEK)) end
  local language = got[3]
  if not language or language == '' then language = 'en' end
  return week .. '/' .. language
end

local function engagement_answered(night_key)
  local got = redis.call('HMGET', night_key, 'done', 'score')
  return got[1] == '1' or (got[2] and got[2] ~= '')
end

-- The night was answered (or delivered): count it engaged if it is delivered, answered and
-- not counted yet.
local function engagement_engage(night_key, stats_key, stats_ttl)
  local bucket = redis.call('HGET', night_key, 'eng')
  if not bucket or redis.call('HEXISTS', night_key, 'eng_done') == 1 then return end
  if not engagement_answered(night_key) then return end
  redis.call('HSET', night_key, 'eng_done', '1')
  redis.call('HINCRBY', stats_key, ENGAGEMENT .. 'engaged:' .. bucket, 1)
  redis.call('EXPIRE', stats_key, stats_ttl)
end

-- An evening channel was reported delivered: count the evening once.
local function engagement_deliver(night_key, stats_key, sub_key, night_epoch, stats_ttl)
  if redis.call('HEXISTS', night_key, 'eng') == 1 then return end
  local bucket = engagement_bucket(sub_key, night_epoch)
  redis.call('HSET', night_key, 'eng', bucket)
  redis.call('HINCRBY', stats_key, ENGAGEMENT .. 'delivered:' .. bucket, 1)
  redis.call('EXPIRE', stats_key, stats_ttl)
  engagement_engage(night_key, stats_key, stats_ttl)  -- DONE may have come first
end
