-- 0005_sync.sql - staff sync from the city LDAP: where the sync left off, its run history,
-- and the per-person upsert the sync applies (dir_db_sync.c calls these functions).
--
-- The sync owns only what comes from LDAP: person.name_th/name_en/title_th/title_en/
-- username/ldap_dn/active of people with source = 'ldap', their contact points with
-- source = 'ldap', and the one membership with source = 'ldap' that the unit map manages.
-- Everything coordinators add (LINE IDs, other memberships, team roles, areas served,
-- profession) is never touched. People are deactivated, never deleted.

-- Which membership the unit map manages (at most one per person).
ALTER TABLE membership ADD COLUMN source text NOT NULL DEFAULT 'manual'
    CHECK (source IN ('ldap','manual'));
CREATE UNIQUE INDEX membership_one_ldap_idx ON membership(person_id) WHERE source = 'ldap';
CREATE INDEX person_source_idx ON person(source) WHERE source = 'ldap';

-- Where incremental sync resumes: one row.
CREATE TABLE sync_state (
    id            integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    mode          text,            -- the way the last run read LDAP: full, syncrepl, persist, poll
    cookie        bytea,           -- RFC 4533 sync cookie (syncrepl, persist)
    watermark     text,            -- newest modifyTimestamp seen (poll), generalized time
    last_full_at  timestamptz,     -- the last full sync that committed
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Every run, with what really changed (a refused, failed or dry run changes nothing).
CREATE TABLE sync_run (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at     timestamptz,
    mode         text NOT NULL CHECK (mode IN ('full','syncrepl','persist','poll')),
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running','ok','failed','refused','dry-run')),
    trigger      text,             -- schedule, cli, api, persist
    created      integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    deactivated  integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    skipped      integer NOT NULL DEFAULT 0,
    errors       text,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX sync_run_started_idx ON sync_run(started_at);

-- Adds counts and list items to a run (arrays in DETAILS are appended, scalars replaced),
-- and sets its status (and end time) when STATUS is not NULL.
CREATE FUNCTION dir_sync_run_add(run bigint, st text, n_created int, n_updated int,
                                 n_deactivated int, n_unchanged int, n_skipped int,
                                 err text, d jsonb) RETURNS void LANGUAGE plpgsql AS $$
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
           deactivated = deactivated + n_deactivated, unchanged = unchanged + n_unchanged,
           skipped = skipped + n_skipped, errors = coalesce(err, errors), details = cur,
           status = coalesce(st, status),
           ended_at = CASE WHEN st IS NOT NULL AND st <> 'running' THEN clock_timestamp()
                           ELSE ended_at END
     WHERE id = run;
END $$;

-- Creates or updates the LDAP-owned facts of one person from entry E:
--   {uuid, dn, username, name_th, name_en, title_th, title_en,
--    contacts: [{kind, value}], org_ref (the unit map's organisation, or absent),
--    unmapped (true: the unit map is set and says nothing of this entry's unit)}
-- Returns {op: created|updated|unchanged|skipped, id, moved, reason}. One entry's failure
-- (a value PostgreSQL refuses) skips that entry only.
CREATE FUNCTION dir_sync_person(e jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
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
        IF FOUND THEN
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
                CASE WHEN op = 'created' THEN 'create' WHEN moved THEN 'move' ELSE 'update' END,
                before, dir_person_json(pid));
    END IF;
    RETURN jsonb_build_object('op', op, 'id', pid, 'moved', moved);
EXCEPTION WHEN others THEN
    RETURN jsonb_build_object('op', 'skipped', 'reason', SQLERRM);
END $$;

-- Deactivates synced person PID (no longer in LDAP) with an audit row; memberships, roles
-- and contact points are kept. Returns false when the person was not active.
CREATE FUNCTION dir_sync_deactivate(pid bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := dir_person_json(pid);
BEGIN
    UPDATE person SET active = false WHERE id = pid AND active AND source = 'ldap';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO audit (actor_kind, actor, entity, entity_id, action, before, after)
    VALUES ('system', 'sync', 'person', pid::text, 'deactivate', before, dir_person_json(pid));
    RETURN true;
END $$;
