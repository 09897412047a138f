-- 0020_sync_fast.sql - the first full sync of 100,000 staff within 30 s (issue 18, section 5).
--
-- Profiled first (pg_stat_statements with track = all and track_functions on a private
-- cluster, bench/sync-scale's 100,000 staff, 0019's apply): of the PostgreSQL time of a first
-- full sync, 40% went to the change-log trigger (dir_log_change: a PL/pgSQL call, an advisory
-- lock, an INSERT and a pg_notify for each of the 450,000 rows written: every person, each
-- of their 2-3 contact points and their membership), 21% to dir_person_json (one call per
-- created person, for its audit row: three index lookups re-reading what had just been
-- inserted), and most of the rest to the inserts themselves. So, for new people only (the
-- bulk of every first sync; changes still go through dir_sync_person and its triggers):
--   * one change-log row per new person ('person', id, 'insert'), written by
--     dir_sync_people, instead of one per row: the read model's delta (dir_db_delta.c)
--     reloads a changed person whole (row, contact points, memberships) from a 'person'
--     row, so it needs nothing more, and a mirror following /v1/changes fetches each new
--     person once instead of four or five times. The row triggers of person, contact_point
--     and membership skip rows written while the transaction-local setting
--     directoryd.sync_bulk is 'on' (evaluated by the trigger's WHEN, in C: no PL/pgSQL call);
--     only dir_sync_people turns it on, around that one statement, and off again;
--   * the 'create' audit row's document is built from what the inserts returned, the same
--     document dir_person_json gives (to_jsonb of the row; contacts in position order;
--     memberships with their areas, none yet), in the same statement;
--   * people, contact points, memberships, audit rows: one statement (data-modifying WITH),
--     and no second pass over the batch table to note the new ids.
-- Answers, counts, audit rows and the read model are as before; the change log has one row
-- per new person instead of one per row written.

DROP TRIGGER person_log ON person;
CREATE TRIGGER person_log AFTER INSERT OR UPDATE OR DELETE ON person FOR EACH ROW
    WHEN (current_setting('directoryd.sync_bulk', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION dir_log_change('id');
DROP TRIGGER contact_point_log ON contact_point;
CREATE TRIGGER contact_point_log AFTER INSERT OR UPDATE OR DELETE ON contact_point FOR EACH ROW
    WHEN (current_setting('directoryd.sync_bulk', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION dir_log_change('id');
DROP TRIGGER membership_log ON membership;
CREATE TRIGGER membership_log AFTER INSERT OR UPDATE OR DELETE ON membership FOR EACH ROW
    WHEN (current_setting('directoryd.sync_bulk', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION dir_log_change('person_id', 'person');

-- dir_sync_people as in 0019 (planned the same way), but the new people as above.
CREATE OR REPLACE FUNCTION dir_sync_people(es jsonb) RETURNS jsonb LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off AS $$
DECLARE
    r      record;
    res    jsonb[] := '{}';
    new_n  bigint[];
    new_id bigint[];
    k      int := 1;
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
        -- Their rows are logged once per person below, not once per row by the triggers.
        PERFORM set_config('directoryd.sync_bulk', 'on', true);
        WITH b AS (SELECT n, e FROM dir_sync_batch WHERE how = 'new'),
        p AS (
            INSERT INTO person (name_th, name_en, title_th, title_en, source, ldap_uuid,
                                ldap_dn, username, active)
            SELECT e->>'name_th', e->>'name_en', e->>'title_th', e->>'title_en', 'ldap',
                   e->>'uuid', e->>'dn', e->>'username', true
              FROM b ORDER BY n
            RETURNING id, ldap_uuid, to_jsonb(person) AS j),
        bp AS (SELECT b.n, b.e, p.id, p.j FROM b JOIN p ON p.ldap_uuid = b.e->>'uuid'),
        c AS (
            INSERT INTO contact_point (person_id, kind, value, position, source)
            SELECT bp.id, x.c->>'kind', x.c->>'value', (x.k - 1)::int, 'ldap'
              FROM bp, jsonb_array_elements(coalesce(bp.e->'contacts', '[]'))
                       WITH ORDINALITY AS x(c, k)
             ORDER BY bp.n, x.k
            RETURNING person_id, position, id,
                      to_jsonb(contact_point) - 'organization_id' - 'person_id' AS j),
        m AS (
            INSERT INTO membership (person_id, organization_id, is_primary, source)
            SELECT bp.id, o.id, true, 'ldap'
              FROM bp JOIN organization o ON o.ref = bp.e->>'org_ref'
             ORDER BY bp.n
            RETURNING person_id, id,
                      jsonb_build_object('organization', organization_id, 'team_role', team_role,
                                         'title_th', title_th, 'title_en', title_en,
                                         'areas', '[]'::jsonb) AS j),
        cs AS (SELECT person_id, jsonb_agg(j ORDER BY position, id) AS js FROM c GROUP BY person_id),
        ms AS (SELECT person_id, jsonb_agg(j ORDER BY id) AS js FROM m GROUP BY person_id),
        a AS (
            INSERT INTO audit (actor_kind, actor, entity, entity_id, action, before, after)
            SELECT 'system', 'sync', 'person', bp.id::text, 'create', NULL,
                   bp.j || jsonb_build_object('contacts', coalesce(cs.js, '[]'),
                                              'memberships', coalesce(ms.js, '[]'))
              FROM bp LEFT JOIN cs ON cs.person_id = bp.id LEFT JOIN ms ON ms.person_id = bp.id
             ORDER BY bp.n)
        SELECT array_agg(bp.n ORDER BY bp.n), array_agg(bp.id ORDER BY bp.n)
          INTO new_n, new_id FROM bp;
        PERFORM set_config('directoryd.sync_bulk', 'off', true);
        IF new_n IS NOT NULL THEN
            -- As dir_log_change: one writer at a time, so seq order is commit order.
            PERFORM pg_advisory_xact_lock(7270001);
            INSERT INTO change_log (entity, entity_id, op)
            SELECT 'person', x.id::text, 'insert'
              FROM unnest(new_id) WITH ORDINALITY AS x(id, k) ORDER BY x.k;
            PERFORM pg_notify('directoryd_changes', currval('change_log_seq_seq')::text);
        END IF;
    EXCEPTION WHEN others THEN
        UPDATE dir_sync_batch SET how = 'one', pid = NULL WHERE how = 'new';
        new_n := NULL;
        new_id := NULL;
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
            WHILE new_n[k] < r.n LOOP
                k := k + 1;
            END LOOP;
            res := array_append(res, jsonb_build_object('op', 'created', 'id', new_id[k],
                                                        'moved', false));
        ELSIF r.how = 'unchanged' THEN
            res := array_append(res, jsonb_build_object('op', 'unchanged', 'id', r.pid, 'moved', false));
        ELSE
            res := array_append(res, dir_sync_person(r.e));
        END IF;
    END LOOP;
    RETURN to_jsonb(res);
END $$;
