-- Functions the consent scripts include (not a script of its own).
-- older: whether a stream entry id is past the retention cutoff (ms).
-- index_consent: add an entry id to the person's index (the subscriber hash's `cl` field,
--   spilling its oldest ids to the overflow list), dropping what is past the cutoff.
-- record_consent: append one event (fields in consent_log.CONSENT_FIELDS order) and index it.
local function older(entry_id, cutoff)
  return tonumber(string.match(entry_id, '^%d+')) < cutoff
end
local function index_consent(record_key, overflow_key, entry_id, cutoff, budget)
  local kept = {}
  for old in string.gmatch(redis.call('HGET', record_key, 'cl') or '', '%S+') do
    if not older(old, cutoff) then kept[#kept + 1] = old end
  end
  kept[#kept + 1] = entry_id
  while #kept > 1 and string.len(table.concat(kept, ' ')) > budget do
    redis.call('RPUSH', overflow_key, table.remove(kept, 1))
  end
  redis.call('HSET', record_key, 'cl', table.concat(kept, ' '))
  local first = redis.call('LINDEX', overflow_key, 0)
  while first and older(first, cutoff) do
    redis.call('LPOP', overflow_key)
    first = redis.call('LINDEX', overflow_key, 0)
  end
end
local function record_consent(stream_key, record_key, overflow_key, indexed_key, cutoff,
                              budget, s, c, a, o, w, v)
  -- a log started by this code needs no indexing of older entries (build_index)
  if redis.call('EXISTS', stream_key) == 0 then redis.call('SET', indexed_key, '1') end
  local entry_id = redis.call('XADD', stream_key, 'MINID', '~', cutoff, '*',
                              's', s, 'c', c, 'a', a, 'o', o, 'w', w, 'v', v or '')
  index_consent(record_key, overflow_key, entry_id, tonumber(cutoff), tonumber(budget))
  return entry_id
end
