-- 0019_sync_set.sql - the sync's apply step set-based for the two cases that make up almost
-- every full sync (issue 18, section 5): entries that are new people, and entries whose
-- person is already exactly as LDAP says.
--
-- dir_sync_people (0011) called dir_sync_person once per entry: a subtransaction (its
-- EXCEPTION block), a dozen single-row statements, and dir_person_json for the audit's
-- "before" of every existing person, changed or not: about 0.9 ms an entry, 88 s for a first
-- full sync of 100,000 staff. Now each batch (1,000 entries, one round trip) is numbered into
-- a temporary table and:
--   * new: an identity no person has, a username no person has, each once in the batch, a
--     Thai name: inserted together (people, their LDAP contact points, their LDAP
--     membership, one 'create' audit row each), in entry order;
--   * unchanged: an active synced person with this identity whose LDAP-owned facts, LDAP
--     contact points (in order) and LDAP membership already match the entry: answered
--     'unchanged' by one statement, without dir_person_json;
--   * everything else (changes, moves, reactivations, conflicts, anything odd): the
--     per-entry dir_sync_person of 0010, in entry order, exactly as before.
-- If the set-based insert fails for any reason (a constraint a Thai name breaks, say), its
-- subtransaction rolls back and the whole batch goes through dir_sync_person, which skips
-- only the entries that fail. The answers (op, id, moved) and the audit rows are the same
-- as dir_sync_person's; only the order in which rows of one batch are written differs.
--
-- Planning: as in 0011, the statistics of the tables a sync fills are those from before it
-- began, so the batch must drive every lookup, by an indexed key, one entry at a time. The
-- per-person tests are correlated subqueries kept as such (OFFSET 0: never turned into a
-- join that would hash every synced person once per batch), and JIT is off: with
-- enable_seqscan off, the cost estimates pass jit_above_cost and each statement spent up to
-- 2 s compiling (measured).
CREATE OR REPLACE FUNCTION dir_sync_people(es jsonb) RETURNS jsonb LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off AS $$
DECLARE
    r   record;
    res jsonb[] := '{}';
BEGIN
    IF to_regclass('pg_temp.dir_sync_batch') IS NULL THEN
        CREATE TEMP TABLE dir_sync_batch (
            n       bigint PRIMARY KEY,
            e       jsonb NOT NULL,
            how     text NOT NULL DEFAULT 'one',   -- new, unchanged, one (dir_sync_person)
            pid     bigint
        ) ON COMMIT DROP;
    ELSE
        TRUNCATE dir_sync_batch;
    END IF;
    INSERT INTO dir_sync_batch (n, e)
    SELECT x.n, x.v FROM jsonb_array_elements(es) WITH ORDINALITY AS x(v, n);

    -- New people.
    UPDATE dir_sync_batch b SET how = 'new'
      FROM (SELECT n, count(*) OVER (PARTITION BY e->>'uuid') AS nu,
                   count(*) OVER (PARTITION BY coalesce(e->>'username', 'n' || n)) AS nn
              FROM dir_sync_batch) c
     WHERE c.n = b.n AND c.nu = 1 AND c.nn = 1
       AND b.e->>'uuid' IS NOT NULL AND b.e->>'name_th' IS NOT NULL
       AND jsonb_typeof(coalesce(b.e->'contacts', '[]')) = 'array'
       AND NOT EXISTS (SELECT 1 FROM person p WHERE p.ldap_uuid = b.e->>'uuid' OFFSET 0)
       AND (b.e->>'username' IS NULL
            OR NOT EXISTS (SELECT 1 FROM person p WHERE p.username = b.e->>'username' OFFSET 0));
    BEGIN
        WITH ins AS (
            INSERT INTO person (name_th, name_en, title_th, title_en, source, ldap_uuid,
                                ldap_dn, username, active)
            SELECT e->>'name_th', e->>'name_en', e->>'title_th', e->>'title_en', 'ldap',
                   e->>'uuid', e->>'dn', e->>'username', true
              FROM dir_sync_batch WHERE how = 'new' ORDER BY n
            RETURNING id, ldap_uuid)
        UPDATE dir_sync_batch b SET pid = ins.id FROM ins
         WHERE b.how = 'new' AND b.e->>'uuid' = ins.ldap_uuid;
        INSERT INTO contact_point (person_id, kind, value, position, source)
        SELECT b.pid, c->>'kind', c->>'value', (x.k - 1)::int, 'ldap'
          FROM dir_sync_batch b,
               jsonb_array_elements(coalesce(b.e->'contacts', '[]')) WITH ORDINALITY AS x(c, k)
         WHERE b.how = 'new' ORDER BY b.n, x.k;
        INSERT INTO membership (person_id, organization_id, is_primary, source)
        SELECT b.pid, o.id, true, 'ldap'
          FROM dir_sync_batch b JOIN organization o ON o.ref = b.e->>'org_ref'
         WHERE b.how = 'new' ORDER BY b.n;
        INSERT INTO audit (actor_kind, actor, entity, entity_id, action, before, after)
        SELECT 'system', 'sync', 'person', b.pid::text, 'create', NULL, dir_person_json(b.pid)
          FROM dir_sync_batch b WHERE b.how = 'new' ORDER BY b.n;
    EXCEPTION WHEN others THEN
        UPDATE dir_sync_batch SET how = 'one', pid = NULL WHERE how = 'new';
    END;

    -- People already as LDAP says.
    UPDATE dir_sync_batch b
       SET how = 'unchanged',
           pid = (SELECT p.id FROM person p WHERE p.ldap_uuid = b.e->>'uuid')
     WHERE b.how = 'one' AND jsonb_typeof(coalesce(b.e->'contacts', '[]')) = 'array'
       AND EXISTS (
           SELECT 1 FROM person p
            WHERE p.ldap_uuid = b.e->>'uuid' AND p.active AND p.source = 'ldap'
              AND (p.name_th, p.name_en, p.title_th, p.title_en, p.ldap_dn, p.username)
                  IS NOT DISTINCT FROM (b.e->>'name_th', b.e->>'name_en', b.e->>'title_th',
                                        b.e->>'title_en', b.e->>'dn', b.e->>'username')
              AND coalesce((SELECT jsonb_agg(jsonb_build_object('kind', c->>'kind',
                                                                'value', c->>'value') ORDER BY x.k)
                              FROM jsonb_array_elements(b.e->'contacts') WITH ORDINALITY AS x(c, k)),
                           '[]')
                = coalesce((SELECT jsonb_agg(jsonb_build_object('kind', cp.kind, 'value', cp.value)
                                             ORDER BY cp.position, cp.id)
                              FROM contact_point cp
                             WHERE cp.person_id = p.id AND cp.source = 'ldap'), '[]')
              AND (WITH want AS (SELECT (SELECT o.id FROM organization o
                                          WHERE o.ref = b.e->>'org_ref') AS org),
                        lm AS (SELECT (SELECT m.organization_id FROM membership m
                                        WHERE m.person_id = p.id AND m.source = 'ldap') AS org)
                   SELECT CASE
                          WHEN want.org IS NOT NULL THEN
                               lm.org = want.org
                               OR (lm.org IS NULL AND EXISTS (SELECT 1 FROM membership m
                                                               WHERE m.person_id = p.id
                                                                 AND m.organization_id = want.org))
                          WHEN coalesce((b.e->>'unmapped')::boolean, false) THEN lm.org IS NULL
                          ELSE true END
                     FROM want, lm)
           OFFSET 0);

    FOR r IN SELECT n, e, how, pid FROM dir_sync_batch ORDER BY n LOOP
        IF r.how = 'new' THEN
            res := array_append(res, jsonb_build_object('op', 'created', 'id', r.pid, 'moved', false));
        ELSIF r.how = 'unchanged' THEN
            res := array_append(res, jsonb_build_object('op', 'unchanged', 'id', r.pid, 'moved', false));
        ELSE
            res := array_append(res, dir_sync_person(r.e));
        END IF;
    END LOOP;
    RETURN to_jsonb(res);
END $$;
