-- Atomic create: one ticket of the `triage bench` mix (src/bench/mix.rs) from one random
-- number, a hash per ticket and its id in the sorted set of its routing key, scored by its
-- due time (ms). EVALSHA <sha> 0 <random int>; returns the ticket id.
local r = tonumber(ARGV[1])
local tiers = {'vip', 'standard', 'new'}
local languages = {'en', 'de', 'fr', 'es'}
local products = {'billing', 'delivery', 'returns', 'payments', 'booking'}
local channels = {'messenger', 'chat', 'email', 'phone', 'social'}
-- First-response targets in seconds by channel (standard tier, normal priority).
local targets = {messenger = 300, chat = 60, email = 14400, phone = 30, social = 3600}

-- The mix: VIP 20 %, new 10 %; a language, and half the time a product;
-- messenger 42 %, chat 28 %, email 15 %, phone 10 %, social 5 %.
local t = r % 100
local tier = (t < 20 and 'vip') or (t < 30 and 'new') or 'standard'
local language = languages[math.floor(r / 100) % 4 + 1]
local p = math.floor(r / 400) % 10
local skills = language
if p < 5 then skills = language .. '+' .. products[p + 1] end
local c = math.floor(r / 4000) % 100
local channel = (c < 42 and 'messenger') or (c < 70 and 'chat') or (c < 85 and 'email')
    or (c < 95 and 'phone') or 'social'
local priority = ({'low', 'normal', 'normal', 'high'})[math.floor(r / 400000) % 4 + 1]

local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local factor = ({vip = 0.5, new = 0.75, standard = 1.0})[tier]
    * ({low = 2.0, normal = 1.0, high = 0.5})[priority]
local due = now_ms + math.floor(targets[channel] * 1000 * factor)

local id = redis.call('INCR', 'ticket:seq')
redis.call('HSET', 'ticket:' .. id,
    'customer', 'customer-' .. (r % 50000), 'tier', tier, 'channel', channel,
    'priority', priority, 'skills', skills, 'state', 'queued', 'created_ms', now_ms,
    'due_ms', due, 'epoch', 0)
redis.call('ZADD', 'queue:' .. tier .. ':' .. skills, due, id)
return id
