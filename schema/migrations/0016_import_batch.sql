-- 0016_import_batch.sql - the CSV import's writes, a batch of rows per round trip (issue 13:
-- "a 10,000-row import completes in seconds").
--
-- Before, dir_db_import_apply (dir_db_write.c) sent every line through the API's write path
-- statement by statement under a savepoint: about 14 round trips per organisation (lock,
-- audit JSON before, update, each contact point, each service with each target group and
-- area, audit JSON after, the audit row, the savepoint itself), 24 s for 10,000 rows.
-- Now the importer sends the validated rows of a batch (500 lines) as one JSON array and
-- dir_import_rows applies each of them here, in file order, doing exactly what the write
-- path did for it:
--   * the row is locked (an update) or inserted (a create) with the columns the checks
--     produced; updated_at moves, so the version does (dir_touch);
--   * manual contact points, services (with target groups and coverage) and memberships
--     (with their areas) are replaced when the row names them, each list by one INSERT;
--   * the entity's audit JSON before and after (dir_org_json, dir_person_json,
--     dir_area_json) decides: unchanged when they differ only in what every write moves
--     (version, updated_at; contact points' ids, versions, times, demo marks, positions),
--     and then everything the row did is rolled back (its subtransaction), else one audit
--     row with the action, which carries the import's id (directoryd.import_id, 0014);
--   * PostgreSQL refusing a value (SQLSTATE class 22 or 23) or a matched row that is gone
--     makes that row an error (with PostgreSQL's message) and the others still run; the
--     caller then rolls the whole import back. Anything else fails the statement, and the
--     caller rolls back too.
-- The change log gets one row per entity created or updated (below), so the read model
-- follows.
--
-- What made a row slow besides the round trips, measured here (PostgreSQL CPU, 500 rows):
--   * dir_org_json / dir_person_json / dir_area_json / dir_hours_json were SQL functions,
--     which PostgreSQL 15 plans again on every call (dir_org_json: five sub-queries and
--     the hours view, ~1 ms a call on this machine); they
--     are now the same query in PL/pgSQL, whose plan is kept for the session (~0.06 ms).
--     Every caller gains: API writes, the sync's audit rows, the CSV export.
--   * dir_log_change (0001) looked up the entity of an offering's or a membership's part
--     with a dynamic EXECUTE (planned per row); those two are now static look-ups, the
--     generic EXECUTE stays for any other table.
--   * the change-log trigger wrote one row (and a NOTIFY) per table row: an organisation
--     with two contact points and a service wrote six; while dir_import_rows runs it is
--     silent and the function appends one change-log row per entity it created ('insert')
--     or updated ('update') at the end of each batch, in file order, and one NOTIFY. The
--     read model reads whole entities, so it follows exactly as before.
--   * a re-imported row that changes nothing was written, compared and rolled back; now
--     dir_import_same answers it from the audit JSON before any write when every column,
--     contact point, service and membership the row names is already so (conservative:
--     anything it cannot be sure of takes the full path, which decides as before).

-- The audit JSON functions of 0004, 0007 and 0008 (dir_org_json with the hours, and
-- dir_hours_json), unchanged in what they return, in PL/pgSQL.
CREATE OR REPLACE FUNCTION dir_org_json(org_id bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT to_jsonb(o) || jsonb_build_object(
        'contacts', coalesce((SELECT jsonb_agg(to_jsonb(c) - 'organization_id' - 'person_id'
                                               ORDER BY c.position, c.id)
                              FROM contact_point c WHERE c.organization_id = o.id), '[]'),
        'services', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'code', f.service_code,
                                  'target_groups', coalesce((SELECT jsonb_agg(g.target_group_code ORDER BY g.target_group_code)
                                                             FROM offering_target_group g WHERE g.offering_id = f.id), '[]'),
                                  'areas', coalesce((SELECT jsonb_agg(coalesce(a.area_code, a.group_code) ORDER BY 1)
                                                     FROM offering_area a WHERE a.offering_id = f.id), '[]'))
                                  ORDER BY f.service_code)
                              FROM offering f WHERE f.organization_id = o.id), '[]'),
        'hours', dir_hours_json(o.id))
    FROM organization o WHERE o.id = org_id);
END $$;

CREATE OR REPLACE FUNCTION dir_hours_json(org_id bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT hours FROM schedule_json WHERE organization_id = org_id);
END $$;

CREATE OR REPLACE FUNCTION dir_person_json(pid bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT to_jsonb(p) || jsonb_build_object(
        'contacts', coalesce((SELECT jsonb_agg(to_jsonb(c) - 'organization_id' - 'person_id'
                                               ORDER BY c.position, c.id)
                              FROM contact_point c WHERE c.person_id = p.id), '[]'),
        'memberships', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'organization', m.organization_id, 'team_role', m.team_role,
                                  'title_th', m.title_th, 'title_en', m.title_en,
                                  'areas', coalesce((SELECT jsonb_agg(coalesce(a.area_code, a.group_code) ORDER BY 1)
                                                     FROM membership_area a WHERE a.membership_id = m.id), '[]'))
                                  ORDER BY m.id)
                              FROM membership m WHERE m.person_id = p.id), '[]'))
    FROM person p WHERE p.id = pid);
END $$;

CREATE OR REPLACE FUNCTION dir_area_json(area_code text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT to_jsonb(a) FROM area a WHERE a.code = area_code);
END $$;

-- 0001's change logger with static look-ups for the parts of offerings and memberships,
-- and silent while dir_import_rows runs (directoryd.log_deferred).
CREATE OR REPLACE FUNCTION dir_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r      jsonb;
    idcol  text := TG_ARGV[0];
    ent    text := coalesce(TG_ARGV[1], TG_TABLE_NAME);
    opname text := lower(TG_OP);
    eid    text;
    seqno  bigint;
BEGIN
    -- dir_import_rows logs each entity it changed once, itself (below).
    IF current_setting('directoryd.log_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    -- Writers append to the log one transaction at a time, so sequence order is commit
    -- order and a reader that has seen seq N has seen every change up to N. Edits are rare.
    PERFORM pg_advisory_xact_lock(7270001);
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    eid := r ->> idcol;
    IF TG_TABLE_NAME = 'contact_point' THEN  -- belongs to an organisation or a person
        ent := CASE WHEN (r ->> 'organization_id') IS NOT NULL THEN 'organization' ELSE 'person' END;
        eid := coalesce(r ->> 'organization_id', r ->> 'person_id');
    ELSIF TG_NARGS > 2 THEN
        IF TG_ARGV[2] = 'offering' AND TG_ARGV[3] = 'organization_id' THEN
            SELECT f.organization_id::text INTO eid FROM offering f WHERE f.id = eid::bigint;
        ELSIF TG_ARGV[2] = 'membership' AND TG_ARGV[3] = 'person_id' THEN
            SELECT m.person_id::text INTO eid FROM membership m WHERE m.id = eid::bigint;
        ELSE
            EXECUTE format('SELECT %I::text FROM %I WHERE id = $1', TG_ARGV[3], TG_ARGV[2])
                INTO eid USING eid::bigint;
        END IF;
        IF eid IS NULL THEN RETURN NULL; END IF;  -- the parent is being deleted and logs itself
    END IF;
    IF ent <> TG_TABLE_NAME THEN opname := 'update'; END IF;  -- a part of the entity changed
    INSERT INTO change_log(entity, entity_id, op) VALUES (ent, eid, opname) RETURNING seq INTO seqno;
    PERFORM pg_notify('directoryd_changes', seqno::text);
    RETURN NULL;
END $$;

-- True when import row R (below) would leave the entity whose audit JSON is BEFORE as it
-- is: every column it sets already has that text, and each list it names (contact points,
-- services, memberships) already reads as the list would after the write. False whenever
-- unsure (a column set to now(), opening hours, contact points the sync owns, a column
-- this function does not know): the row then takes the full path.
CREATE FUNCTION dir_import_same(ent text, before jsonb, r jsonb) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sv jsonb;
BEGIN
    IF before IS NULL OR r ? 'h' THEN
        RETURN false;
    END IF;
    FOR sv IN SELECT x FROM jsonb_array_elements(coalesce(r->'s', '[]')) AS t(x) LOOP
        IF coalesce((sv->>2)::boolean, false) OR NOT before ? (sv->>0)
           OR (before->>(sv->>0)) IS DISTINCT FROM (sv->>1) THEN
            RETURN false;
        END IF;
    END LOOP;
    IF r ? 'c' AND (SELECT coalesce(jsonb_agg(c - 'id' - 'version' - 'created_at' - 'updated_at'
                                               - 'demo' - 'position' ORDER BY k), '[]')
                      FROM jsonb_array_elements(before->'contacts') WITH ORDINALITY AS x(c, k))
                   IS DISTINCT FROM
                   (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'kind', c->>'kind', 'value', c->>'value',
                               'extension', c->>'extension', 'label_th', c->>'label_th',
                               'label_en', c->>'label_en',
                               'is_public', coalesce((c->>'public')::boolean, ent = 'organization'),
                               'source', 'manual') ORDER BY k), '[]')
                      FROM jsonb_array_elements(r->'c') WITH ORDINALITY AS x(c, k)) THEN
        RETURN false;
    END IF;
    IF r ? 'v' AND before->'services' IS DISTINCT FROM
                   (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'code', v->>'code',
                               'target_groups', (SELECT coalesce(jsonb_agg(g ORDER BY g), '[]')
                                                   FROM jsonb_array_elements_text(coalesce(v->'target_groups', '[]')) AS y(g)),
                               'areas', (SELECT coalesce(jsonb_agg(a ORDER BY a), '[]')
                                           FROM jsonb_array_elements_text(coalesce(v->'areas', '[]')) AS z(a)))
                               ORDER BY v->>'code'), '[]')
                      FROM jsonb_array_elements(r->'v') AS x(v)) THEN
        RETURN false;
    END IF;
    IF r ? 'm' AND before->'memberships' IS DISTINCT FROM
                   (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'organization', (m->>'organization')::bigint,
                               'team_role', m->>'team_role', 'title_th', m->>'title_th',
                               'title_en', m->>'title_en',
                               'areas', (SELECT coalesce(jsonb_agg(a ORDER BY a), '[]')
                                           FROM jsonb_array_elements_text(coalesce(m->'areas', '[]')) AS z(a)))
                               ORDER BY k), '[]')
                      FROM jsonb_array_elements(r->'m') WITH ORDINALITY AS x(m, k)) THEN
        RETURN false;
    END IF;
    RETURN true;
END $$;

-- Audit JSON J without what every write moves (as dir_db_write.c's norm_json did).
CREATE FUNCTION dir_import_norm(j jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (j - 'version' - 'updated_at')
           || CASE WHEN jsonb_typeof(j->'contacts') = 'array' THEN
                  jsonb_build_object('contacts', coalesce((
                      SELECT jsonb_agg(c - 'id' - 'version' - 'created_at' - 'updated_at'
                                       - 'demo' - 'position' ORDER BY k)
                        FROM jsonb_array_elements(j->'contacts') WITH ORDINALITY AS x(c, k)),
                      '[]'))
              ELSE '{}' END;
END $$;

-- BATCH: [{e: organization|person|area, k: the matched key (null: create), a: the audit
-- action, s: [[column, text value or null, now?], ...], c: contact points, v: services,
-- m: memberships, h: opening hours (absent: unchanged)}]; the lists, when present, replace.
-- Answers one [outcome, key, error] per row: outcome created, updated, unchanged or error.
CREATE FUNCTION dir_import_rows(batch jsonb, actor_kind text, actor text, address text)
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $$
DECLARE
    r       jsonb;
    ent     text;
    key     text;
    tbl     text;
    keycol  text;
    cols    text;
    vals    text;
    sets    text;
    s       jsonb;
    sv      jsonb;
    sid     bigint;
    n       int;
    before  jsonb;
    after   jsonb;
    outcome text;
    err     text;
    res     jsonb[] := '{}';
    loge    text[] := '{}';
    logk    text[] := '{}';
    logo    text[] := '{}';
    seqno   bigint;
BEGIN
    PERFORM set_config('directoryd.log_deferred', 'on', true);
    FOR r IN SELECT x FROM jsonb_array_elements(batch) AS t(x) LOOP
        ent := r->>'e';
        key := r->>'k';
        err := NULL;
        before := NULL;
        IF ent NOT IN ('organization', 'person', 'area') THEN
            RAISE EXCEPTION 'dir_import_rows: cannot import %', ent;
        END IF;
        tbl := ent;
        keycol := CASE WHEN ent = 'area' THEN 'code' ELSE 'id' END;
        IF key IS NOT NULL THEN
            before := CASE ent WHEN 'organization' THEN dir_org_json(key::bigint)
                               WHEN 'person' THEN dir_person_json(key::bigint)
                               ELSE dir_area_json(key) END;
            IF dir_import_same(ent, before, r) THEN
                res := array_append(res, jsonb_build_array('unchanged', key, NULL));
                CONTINUE;
            END IF;
            before := NULL;
        END IF;
        BEGIN
            IF key IS NOT NULL THEN
                IF ent = 'organization' THEN
                    PERFORM 1 FROM organization WHERE id = key::bigint FOR UPDATE;
                ELSIF ent = 'person' THEN
                    PERFORM 1 FROM person WHERE id = key::bigint FOR UPDATE;
                ELSE
                    PERFORM 1 FROM area WHERE code = key FOR UPDATE;
                END IF;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'DI002', MESSAGE = format('no %s %s', tbl, key);
                END IF;
                before := CASE ent WHEN 'organization' THEN dir_org_json(key::bigint)
                                   WHEN 'person' THEN dir_person_json(key::bigint)
                                   ELSE dir_area_json(key) END;
                sets := 'updated_at = clock_timestamp()';
                FOR sv IN SELECT x FROM jsonb_array_elements(coalesce(r->'s', '[]')) AS t(x) LOOP
                    sets := sets || format(', %I = ', sv->>0)
                            || CASE WHEN coalesce((sv->>2)::boolean, false) THEN 'now()'
                                    ELSE coalesce(quote_literal(sv->>1), 'NULL') END;
                END LOOP;
                EXECUTE format('UPDATE %I SET %s WHERE %I = $1%s', tbl, sets, keycol,
                               CASE WHEN ent = 'area' THEN '' ELSE '::bigint' END) USING key;
            ELSE
                cols := '';
                vals := '';
                FOR sv IN SELECT x FROM jsonb_array_elements(coalesce(r->'s', '[]')) AS t(x) LOOP
                    cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END || quote_ident(sv->>0);
                    vals := vals || CASE WHEN vals = '' THEN '' ELSE ', ' END
                            || CASE WHEN coalesce((sv->>2)::boolean, false) THEN 'now()'
                                    ELSE coalesce(quote_literal(sv->>1), 'NULL') END;
                END LOOP;
                EXECUTE format('INSERT INTO %I (%s) VALUES (%s) RETURNING %I::text', tbl, cols,
                               vals, keycol) INTO key;
            END IF;

            IF r ? 'c' AND ent <> 'area' THEN
                IF ent = 'organization' THEN
                    DELETE FROM contact_point WHERE organization_id = key::bigint AND source = 'manual';
                ELSE
                    DELETE FROM contact_point WHERE person_id = key::bigint AND source = 'manual';
                END IF;
                INSERT INTO contact_point (organization_id, person_id, kind, value, extension,
                                           label_th, label_en, is_public, position)
                SELECT CASE WHEN ent = 'organization' THEN key::bigint END,
                       CASE WHEN ent = 'person' THEN key::bigint END,
                       c->>'kind', c->>'value', c->>'extension', c->>'label_th', c->>'label_en',
                       coalesce((c->>'public')::boolean, ent = 'organization'), (k - 1)::int
                  FROM jsonb_array_elements(r->'c') WITH ORDINALITY AS x(c, k) ORDER BY k;
            END IF;

            IF r ? 'v' AND ent = 'organization' THEN
                DELETE FROM offering WHERE organization_id = key::bigint;
                FOR s IN SELECT x FROM jsonb_array_elements(r->'v') WITH ORDINALITY AS t(x, k)
                          ORDER BY k LOOP
                    INSERT INTO offering (organization_id, service_code)
                    VALUES (key::bigint, s->>'code') RETURNING id INTO sid;
                    INSERT INTO offering_target_group (offering_id, target_group_code)
                    SELECT sid, g FROM jsonb_array_elements_text(coalesce(s->'target_groups', '[]'))
                                       WITH ORDINALITY AS x(g, k) ORDER BY k;
                    INSERT INTO offering_area (offering_id, area_code, group_code)
                    SELECT sid, (SELECT code FROM area WHERE code = a),
                           (SELECT code FROM area_group WHERE code = a
                             AND NOT EXISTS (SELECT 1 FROM area WHERE code = a))
                      FROM jsonb_array_elements_text(coalesce(s->'areas', '[]'))
                           WITH ORDINALITY AS x(a, k) ORDER BY k;
                END LOOP;
            END IF;

            IF r ? 'h' AND ent = 'organization' THEN
                PERFORM dir_hours_put(key::bigint, r->'h');
            END IF;

            IF r ? 'm' AND ent = 'person' THEN
                DELETE FROM membership WHERE person_id = key::bigint;
                FOR s, n IN SELECT x, k FROM jsonb_array_elements(r->'m')
                                 WITH ORDINALITY AS t(x, k) ORDER BY k LOOP
                    INSERT INTO membership (person_id, organization_id, team_role, title_th,
                                            title_en, is_primary)
                    VALUES (key::bigint, (s->>'organization')::bigint, s->>'team_role',
                            s->>'title_th', s->>'title_en', n = 1)
                    RETURNING id INTO sid;
                    INSERT INTO membership_area (membership_id, area_code, group_code)
                    SELECT sid, (SELECT code FROM area WHERE code = a),
                           (SELECT code FROM area_group WHERE code = a
                             AND NOT EXISTS (SELECT 1 FROM area WHERE code = a))
                      FROM jsonb_array_elements_text(coalesce(s->'areas', '[]'))
                           WITH ORDINALITY AS x(a, k) ORDER BY k;
                END LOOP;
            END IF;

            after := CASE ent WHEN 'organization' THEN dir_org_json(key::bigint)
                              WHEN 'person' THEN dir_person_json(key::bigint)
                              ELSE dir_area_json(key) END;
            IF before IS NOT NULL AND dir_import_norm(before) = dir_import_norm(after) THEN
                RAISE EXCEPTION USING ERRCODE = 'DI001', MESSAGE = 'unchanged';
            END IF;
            INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, before, after)
            VALUES (dir_import_rows.actor_kind, dir_import_rows.actor, dir_import_rows.address,
                    ent, key, r->>'a', before, after);
            outcome := CASE WHEN before IS NULL THEN 'created' ELSE 'updated' END;
        EXCEPTION
            WHEN SQLSTATE 'DI001' THEN
                outcome := 'unchanged';
            WHEN SQLSTATE 'DI002' OR integrity_constraint_violation OR data_exception THEN
                outcome := 'error';
                err := SQLERRM;
        END;
        res := array_append(res, jsonb_build_array(outcome, key, err));
        IF outcome IN ('created', 'updated') THEN
            loge := loge || ent;
            logk := logk || key;
            logo := logo || CASE outcome WHEN 'created' THEN 'insert' ELSE 'update' END;
        END IF;
    END LOOP;
    PERFORM set_config('directoryd.log_deferred', 'off', true);
    IF cardinality(logk) > 0 THEN
        PERFORM pg_advisory_xact_lock(7270001);  -- as dir_log_change: commit order
        WITH ins AS (
            INSERT INTO change_log (entity, entity_id, op)
            SELECT e, k, o FROM unnest(loge, logk, logo) WITH ORDINALITY AS u(e, k, o, i)
             ORDER BY i
            RETURNING seq)
        SELECT max(seq) INTO seqno FROM ins;
        PERFORM pg_notify('directoryd_changes', seqno::text);
    END IF;
    RETURN to_jsonb(res);
END $$;
