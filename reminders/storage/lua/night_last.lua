-- The newest night whose sms or email state is final, among KEYS (a person's nights, newest
-- first): {its position in KEYS (1-based), its record}, or {0, {}}. One command for 45 nights.
local night_keys = KEYS

for i = 1, #night_keys do
  local states = redis.call('HMGET', night_keys[i], 'sms', 'email')
  for j = 1, 2 do
    local state = states[j]
    if state and state ~= 'sending' and state ~= 'retry' then
      return {i, redis.call('HGETALL', night_keys[i])}
    end
  end
end
return {0, {}}
