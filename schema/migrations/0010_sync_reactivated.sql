-- 0010_sync_reactivated.sql - every sync run reports exactly what it changed: people whose
-- LDAP entry came back (deleted or filtered out, then restored with the same entryUUID or
-- objectGUID) are counted as reactivated, no longer as updated, and audited as such.
--
-- sync_run gets the reactivated count; dir_sync_run_add takes it (a new signature, so the
-- old function is dropped); dir_sync_person (0005) is replaced to answer op 'reactivated'
-- with a 'reactivate' audit row when the person it finds by LDAP identity is inactive.

ALTER TABLE sync_run ADD COLUMN reactivated integer NOT NULL DEFAULT 0;

DROP FUNCTION dir_sync_run_add(bigint, text, int, int, int, int, int, text, jsonb);

-- Adds counts and list items to a run (arrays in DETAILS are appended, scalars replaced),
-- and sets its status (and end time) when STATUS is not NULL.
CREATE FUNCTION dir_sync_run_add(run bigint, st text, n_created int, n_updated int,
                                 n_deactivated int, n_reactivated int, n_unchanged int,
                                 n_skipped int, err text, d jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k text;
    v jsonb;
    cur jsonb;
BEGIN
    SELECT details INTO cur FROM sync_run WHERE id = run FOR UPDATE;
    FOR k, v IN SELECT * FROM jsonb_each(coalesce(d, '{}')) LOOP
        IF jsonb_typeof(v) = 'array' AND jsonb_typeof(cur -> k) = 'array' THEN
            cur := jsonb_set(cur, ARRAY[k], (cur -> k) || v);
        ELSE
            cur := jsonb_set(cur, ARRAY[k], v);
        END IF;
    END LOOP;
    UPDATE sync_run SET created = created + n_created, updated = updated + n_updated,
           deactivated = deactivated + n_deactivated,
           reactivated = reactivated + n_reactivated, unchanged = unchanged + n_unchanged,
           skipped = skipped + n_skipped, errors = coalesce(err, errors), details = cur,
           status = coalesce(st, status),
           ended_at = CASE WHEN st IS NOT NULL AND st <> 'running' THEN clock_timestamp()
                           ELSE ended_at END
     WHERE id = run;
END $$;

-- Creates or updates the LDAP-owned facts of one person from entry E (see 0005_sync.sql).
-- Returns {op: created|updated|reactivated|unchanged|skipped, id, moved, reason}:
-- reactivated when the person with E's LDAP identity was inactive (whatever else changed).
CREATE OR REPLACE FUNCTION dir_sync_person(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    p        person;
    pid      bigint;
    op       text := 'unchanged';
    before   jsonb;
    want     jsonb;
    have     jsonb;
    org      bigint;
    lm       membership;
    moved    boolean := false;
    parts    boolean := false;
    other    bigint;
BEGIN
    SELECT * INTO p FROM person WHERE ldap_uuid = e->>'uuid' FOR UPDATE;
    IF e->>'username' IS NOT NULL THEN
        SELECT id INTO other FROM person WHERE username = e->>'username'
           AND ldap_uuid IS DISTINCT FROM e->>'uuid';
        IF other IS NOT NULL THEN
            RETURN jsonb_build_object('op', 'skipped', 'id', p.id,
                'reason', format('username %s belongs to person %s', e->>'username', other));
        END IF;
    END IF;
    IF p.id IS NULL THEN
        INSERT INTO person (name_th, name_en, title_th, title_en, source, ldap_uuid, ldap_dn,
                            username, active)
        VALUES (e->>'name_th', e->>'name_en', e->>'title_th', e->>'title_en', 'ldap',
                e->>'uuid', e->>'dn', e->>'username', true)
        RETURNING id INTO pid;
        op := 'created';
    ELSE
        pid := p.id;
        before := dir_person_json(pid);
        UPDATE person SET name_th = e->>'name_th', name_en = e->>'name_en',
               title_th = e->>'title_th', title_en = e->>'title_en', ldap_dn = e->>'dn',
               username = e->>'username', active = true, source = 'ldap'
         WHERE id = pid
           AND (name_th, name_en, title_th, title_en, ldap_dn, username, active, source)
               IS DISTINCT FROM (e->>'name_th', e->>'name_en', e->>'title_th', e->>'title_en',
                                 e->>'dn', e->>'username', true, 'ldap');
        IF NOT p.active THEN
            op := 'reactivated';
        ELSIF FOUND THEN
            op := 'updated';
        END IF;
    END IF;

    -- Contact points from LDAP (e-mail, phones); manual ones are left alone.
    want := coalesce((SELECT jsonb_agg(jsonb_build_object('kind', c->>'kind', 'value', c->>'value')
                                       ORDER BY n)
                      FROM jsonb_array_elements(e->'contacts') WITH ORDINALITY AS x(c, n)), '[]');
    have := coalesce((SELECT jsonb_agg(jsonb_build_object('kind', kind, 'value', value)
                                       ORDER BY position, id)
                      FROM contact_point WHERE person_id = pid AND source = 'ldap'), '[]');
    IF want <> have THEN
        DELETE FROM contact_point WHERE person_id = pid AND source = 'ldap';
        INSERT INTO contact_point (person_id, kind, value, position, source)
        SELECT pid, c->>'kind', c->>'value', (n - 1)::int, 'ldap'
          FROM jsonb_array_elements(want) WITH ORDINALITY AS x(c, n);
        parts := true;
    END IF;

    -- The membership the unit map manages.
    SELECT * INTO lm FROM membership WHERE person_id = pid AND source = 'ldap';
    IF e ? 'org_ref' THEN
        SELECT id INTO org FROM organization WHERE ref = e->>'org_ref';
    END IF;
    IF org IS NOT NULL THEN
        IF lm.id IS NULL THEN
            IF NOT EXISTS (SELECT 1 FROM membership WHERE person_id = pid AND organization_id = org) THEN
                INSERT INTO membership (person_id, organization_id, is_primary, source)
                VALUES (pid, org, NOT EXISTS (SELECT 1 FROM membership WHERE person_id = pid), 'ldap');
                moved := op <> 'created';
                parts := true;
            END IF;
        ELSIF lm.organization_id <> org THEN
            IF EXISTS (SELECT 1 FROM membership WHERE person_id = pid AND organization_id = org
                        AND id <> lm.id) THEN
                DELETE FROM membership WHERE id = lm.id;
            ELSE
                UPDATE membership SET organization_id = org WHERE id = lm.id;
            END IF;
            moved := true;
            parts := true;
        END IF;
    ELSIF coalesce((e->>'unmapped')::boolean, false) AND lm.id IS NOT NULL THEN
        DELETE FROM membership WHERE id = lm.id;
        moved := true;
        parts := true;
    END IF;

    IF op = 'unchanged' AND parts THEN
        -- A change to the parts moves the person's version too (as API writes do).
        UPDATE person SET updated_at = clock_timestamp() WHERE id = pid;
        op := 'updated';
    END IF;
    IF op <> 'unchanged' THEN
        INSERT INTO audit (actor_kind, actor, entity, entity_id, action, before, after)
        VALUES ('system', 'sync', 'person', pid::text,
                CASE op WHEN 'created' THEN 'create' WHEN 'reactivated' THEN 'reactivate'
                        ELSE CASE WHEN moved THEN 'move' ELSE 'update' END END,
                before, dir_person_json(pid));
    END IF;
    RETURN jsonb_build_object('op', op, 'id', pid, 'moved', moved);
EXCEPTION WHEN others THEN
    RETURN jsonb_build_object('op', 'skipped', 'reason', SQLERRM);
END $$;
