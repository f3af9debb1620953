-- Claim a send that must happen once, with a lease: the caller owns it when nobody has claimed
-- it, or when the claim it finds is older than the lease and never finished (its worker died
-- while sending: without the lease the send would stay "claimed" for the key's whole life).
-- A finished claim ('sent', 'failed') is never taken. The value is "claimed:<epoch seconds>";
-- a plain "claimed" (written before claims had a time) is dated by its TTL.
-- Returns 1 for the caller that now owns the send, else 0.
local claim_key = KEYS[1]
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])

local value = redis.call('GET', claim_key)
if value then
  if string.sub(value, 1, 7) ~= 'claimed' then return 0 end
  local since = tonumber(string.sub(value, 9))
  if not since then
    local left = redis.call('TTL', claim_key)
    since = now - (ttl - math.max(left, 0))
  end
  if now - since <= lease then return 0 end
end
redis.call('SET', claim_key, 'claimed:' .. ARGV[1], 'EX', ttl)
return 1
