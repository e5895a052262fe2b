-- Atomic pull-next: the most urgent ticket (lowest due time) across the routing keys agent
-- `r % agents` may take, leased to it (state, agent, a new lease epoch). EVALSHA <sha> 0
-- <random int>; returns {ticket id, epoch}, or nil when none of its keys holds a ticket.
-- The agent's keys are read from `agent:<n>:keys` (agents.lua writes them), so this works on
-- one Redis, not a cluster: a hand-built queue on one node, the reference we compare with.
local agents = tonumber(redis.call('GET', 'agent:count'))
local agent = tonumber(ARGV[1]) % agents
local keys = redis.call('LRANGE', 'agent:' .. agent .. ':keys', 0, -1)
local best_key, best_score
for _, key in ipairs(keys) do
    local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if head[2] and (not best_score or tonumber(head[2]) < best_score) then
        best_key, best_score = key, tonumber(head[2])
    end
end
if not best_key then
    return nil
end
local id = redis.call('ZPOPMIN', best_key)[1]
local now = redis.call('TIME')
local epoch = redis.call('HINCRBY', 'ticket:' .. id, 'epoch', 1)
redis.call('HSET', 'ticket:' .. id, 'state', 'assigned', 'agent', 'agent-' .. agent,
    'assigned_ms', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
return {tonumber(id), epoch}
