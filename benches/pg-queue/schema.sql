-- The queue an integrator would hand-build on PostgreSQL: one table of tickets, a partial
-- index of the queued ones by due time, pulls with FOR UPDATE SKIP LOCKED. The same mix as
-- `triage bench` (src/bench/mix.rs) and benches/redis-queue: 3 tiers x 4 languages x (alone
-- + 5 products) = 72 routing keys; each agent may take 18 or 12 of them.
CREATE TABLE tickets (
    id          bigserial PRIMARY KEY,
    customer    text NOT NULL,
    tier        text NOT NULL,
    channel     text NOT NULL,
    priority    text NOT NULL,
    skills      text NOT NULL,
    routing_key text NOT NULL,
    state       text NOT NULL,
    created_at  timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    epoch       int NOT NULL DEFAULT 0,
    agent       text,
    assigned_at timestamptz
);
CREATE INDEX tickets_queued ON tickets (due_at) WHERE state = 'queued';

CREATE TABLE agents (id int PRIMARY KEY, keys text[] NOT NULL);

-- The agents, as benches/redis-queue/agents.lua writes them: two languages, three products,
-- one in four not serving VIPs.
CREATE FUNCTION make_agents(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    languages text[] := ARRAY['en', 'de', 'fr', 'es'];
    products text[] := ARRAY['billing', 'delivery', 'returns', 'payments', 'booking'];
    tiers text[];
    keys text[];
    tier text; language text; product text;
BEGIN
    DELETE FROM agents;
    FOR i IN 0 .. n - 1 LOOP
        tiers := CASE WHEN i % 4 = 0 THEN ARRAY['standard', 'new']
                      ELSE ARRAY['vip', 'standard', 'new'] END;
        keys := ARRAY[]::text[];
        FOREACH tier IN ARRAY tiers LOOP
            FOREACH language IN ARRAY ARRAY[languages[i % 4 + 1], languages[(i + 1) % 4 + 1]] LOOP
                keys := keys || (tier || ':' || language);
                FOREACH product IN ARRAY ARRAY[products[i % 5 + 1], products[(i + 1) % 5 + 1],
                                               products[(i + 2) % 5 + 1]] LOOP
                    keys := keys || (tier || ':' || language || '+' || product);
                END LOOP;
            END LOOP;
        END LOOP;
        INSERT INTO agents VALUES (i, keys);
    END LOOP;
    RETURN (SELECT count(DISTINCT k) FROM agents, unnest(agents.keys) k);
END $$;

-- One ticket of the mix from one random number (as benches/redis-queue/create.lua).
CREATE FUNCTION create_ticket(r bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t int := r % 100;
    tier text := CASE WHEN t < 20 THEN 'vip' WHEN t < 30 THEN 'new' ELSE 'standard' END;
    language text := (ARRAY['en', 'de', 'fr', 'es'])[(r / 100) % 4 + 1];
    p int := (r / 400) % 10;
    skills text := language;
    c int := (r / 4000) % 100;
    channel text := CASE WHEN c < 42 THEN 'messenger' WHEN c < 70 THEN 'chat'
                         WHEN c < 85 THEN 'email' WHEN c < 95 THEN 'phone' ELSE 'social' END;
    priority text := (ARRAY['low', 'normal', 'normal', 'high'])[(r / 400000) % 4 + 1];
    target float8 := CASE channel WHEN 'messenger' THEN 300 WHEN 'chat' THEN 60
                         WHEN 'email' THEN 14400 WHEN 'phone' THEN 30 ELSE 3600 END;
    factor float8 := (CASE tier WHEN 'vip' THEN 0.5 WHEN 'new' THEN 0.75 ELSE 1.0 END)
                   * (CASE priority WHEN 'low' THEN 2.0 WHEN 'high' THEN 0.5 ELSE 1.0 END);
    id bigint;
BEGIN
    IF p < 5 THEN
        skills := language || '+' || (ARRAY['billing', 'delivery', 'returns', 'payments', 'booking'])[p + 1];
    END IF;
    INSERT INTO tickets (customer, tier, channel, priority, skills, routing_key, state,
                         created_at, due_at)
    VALUES ('customer-' || (r % 50000), tier, channel, priority, skills, tier || ':' || skills,
            'queued', now(), now() + make_interval(secs => target * factor))
    RETURNING tickets.id INTO id;
    RETURN id;
END $$;

-- Pull-next for agent r % agents: the most urgent queued ticket among its keys, skipping rows
-- another pull has locked, leased to it with a new epoch; NULL when none is left.
CREATE FUNCTION pull_next(r bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    me int := r % (SELECT count(*) FROM agents);
    mine text[] := (SELECT keys FROM agents WHERE id = me);
    got bigint;
BEGIN
    SELECT id INTO got FROM tickets
     WHERE state = 'queued' AND routing_key = ANY(mine)
     ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF got IS NOT NULL THEN
        UPDATE tickets SET state = 'assigned', agent = 'agent-' || me, epoch = epoch + 1,
                           assigned_at = now()
         WHERE id = got;
    END IF;
    RETURN got;
END $$;
