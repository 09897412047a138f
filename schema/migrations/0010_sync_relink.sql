-- 0010_sync_relink.sql - a city LDAP rebuilt or migrated (restored from LDIF, moved from
-- OpenLDAP to Active Directory): the same staff come back with new entryUUIDs / objectGUIDs.
-- The sync lists the entries whose username or e-mail belongs to a synced person with
-- another LDAP identity, and on an admin's confirmed re-link moves the new identity to the
-- existing person (memberships, roles, directory-only facts and history kept), each move
-- audited. A run that skips more than the guard's share of what it read is 'attention',
-- not 'ok'.

ALTER TABLE sync_run ADD COLUMN relinked integer NOT NULL DEFAULT 0;
ALTER TABLE sync_run DROP CONSTRAINT sync_run_status_check;
ALTER TABLE sync_run ADD CONSTRAINT sync_run_status_check
    CHECK (status IN ('running','ok','attention','failed','refused','dry-run'));

-- The lookups of a re-link: synced people by username and by LDAP e-mail, case-insensitive.
CREATE INDEX person_ldap_username_lower_idx ON person (lower(username)) WHERE source = 'ldap';
CREATE INDEX contact_point_ldap_email_idx ON contact_point (lower(value))
    WHERE source = 'ldap' AND kind = 'email';

DROP FUNCTION dir_sync_run_add(bigint, text, int, int, int, int, int, int, text, jsonb);

-- Adds counts and list items to a run (arrays in DETAILS are appended, scalars replaced),
-- and sets its status (and end time) when STATUS is not NULL.
CREATE FUNCTION dir_sync_run_add(run bigint, st text, n_created int, n_updated int,
                                 n_deactivated int, n_reactivated int, n_relinked int,
                                 n_unchanged int, n_skipped int, err text, d jsonb)
RETURNS void LANGUAGE plpgsql AS $$
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
           reactivated = reactivated + n_reactivated, relinked = relinked + n_relinked,
           unchanged = unchanged + n_unchanged, skipped = skipped + n_skipped,
           errors = coalesce(err, errors), details = cur, status = coalesce(st, status),
           ended_at = CASE WHEN st IS NOT NULL AND st <> 'running' THEN clock_timestamp()
                           ELSE ended_at END
     WHERE id = run;
END $$;

-- The entries of E (a JSON array of dir_sync_person entries) whose LDAP identity is new to
-- directoryd but whose username belongs to a synced person with another identity, or whose
-- LDAP e-mail belongs to an active one (a leaver's recycled address is not a match):
-- [{uuid, dn, id, old_uuid, username, name_th, active, by: username|email}] (one row per
-- entry and person; by username when both match).
CREATE FUNCTION dir_sync_relink_candidates(e jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH x AS (
        SELECT v->>'uuid' AS uuid, v->>'dn' AS dn, lower(v->>'username') AS uname, v
          FROM jsonb_array_elements(e) v
    ), fresh AS (
        SELECT * FROM x WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.ldap_uuid = x.uuid)
    ), m AS (
        SELECT f.uuid, f.dn, p.id, 'username' AS by
          FROM fresh f JOIN person p ON p.source = 'ldap' AND lower(p.username) = f.uname
        UNION ALL
        SELECT f.uuid, f.dn, c.person_id, 'email'
          FROM fresh f CROSS JOIN LATERAL jsonb_array_elements(f.v->'contacts') ec
          JOIN contact_point c ON c.source = 'ldap' AND c.kind = 'email'
                              AND lower(c.value) = lower(ec->>'value')
          JOIN person q ON q.id = c.person_id AND q.active
         WHERE ec->>'kind' = 'email'
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('uuid', m.uuid, 'dn', m.dn, 'id', p.id,
               'old_uuid', p.ldap_uuid, 'username', p.username, 'name_th', p.name_th,
               'active', p.active, 'by', m.by) ORDER BY p.id, m.uuid), '[]')
      FROM (SELECT uuid, dn, id, max(by) AS by FROM m GROUP BY uuid, dn, id) m
      JOIN person p ON p.id = m.id AND p.source = 'ldap'
$$;

-- Moves synced person PID to the LDAP identity NEW_UUID (entry NEW_DN): only the identity
-- changes; everything else stays, and the next upsert of the entry finds the person. The
-- audit row 'relink' has the old identity (before) and the new (after). False when PID is
-- not a synced person or NEW_UUID already belongs to someone.
CREATE FUNCTION dir_sync_relink(pid bigint, new_uuid text, new_dn text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := dir_person_json(pid);
BEGIN
    IF EXISTS (SELECT 1 FROM person WHERE ldap_uuid = new_uuid) THEN
        RETURN false;
    END IF;
    PERFORM 1 FROM person WHERE id = pid AND source = 'ldap' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE person SET ldap_uuid = new_uuid, ldap_dn = new_dn WHERE id = pid;
    INSERT INTO audit (actor_kind, actor, entity, entity_id, action, before, after)
    VALUES ('system', 'sync', 'person', pid::text, 'relink', before, dir_person_json(pid));
    RETURN true;
END $$;
