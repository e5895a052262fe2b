-- The agents: agent:<n>:keys lists the routing keys agent n may take, as in `triage bench`
-- (two languages, three products, one in four not serving VIPs). Together they cover all 72
-- keys the mix creates (3 tiers x 4 languages x (alone + 5 products)). EVAL <script> 0 <n>.
local n = tonumber(ARGV[1])
local languages = {'en', 'de', 'fr', 'es'}
local products = {'billing', 'delivery', 'returns', 'payments', 'booking'}
redis.call('SET', 'agent:count', n)
local covered = {}
for i = 0, n - 1 do
    local tiers = {'vip', 'standard', 'new'}
    if i % 4 == 0 then tiers = {'standard', 'new'} end
    local langs = {languages[i % 4 + 1], languages[(i + 1) % 4 + 1]}
    local prods = {products[i % 5 + 1], products[(i + 1) % 5 + 1], products[(i + 2) % 5 + 1]}
    local list = 'agent:' .. i .. ':keys'
    redis.call('DEL', list)
    for _, tier in ipairs(tiers) do
        for _, language in ipairs(langs) do
            local key = 'queue:' .. tier .. ':' .. language
            redis.call('RPUSH', list, key)
            covered[key] = true
            for _, product in ipairs(prods) do
                key = 'queue:' .. tier .. ':' .. language .. '+' .. product
                redis.call('RPUSH', list, key)
                covered[key] = true
            end
        end
    end
end
local count = 0
for _ in pairs(covered) do count = count + 1 end
return count
