-- 0004_writes.sql - what writes through the API need: the audit trail, idempotency keys, and
-- the JSON form of an organisation or a person (with its parts) used for audit before/after.

CREATE TABLE audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('api_client','person','local','system')),
    actor       text NOT NULL,          -- API client name, username, or 'system'
    address     text,                   -- the caller's IP address
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    action      text NOT NULL,          -- create, update, close, reopen, verify, deactivate...
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_entity_idx ON audit(entity, entity_id, id);
CREATE INDEX audit_actor_idx ON audit(actor, id);

-- Audit rows are never changed or removed through the application.
CREATE FUNCTION dir_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION dir_audit_append_only();

-- A retried POST with the same Idempotency-Key gets the first result.
CREATE TABLE idempotency_key (
    actor        text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    entity       text NOT NULL,
    entity_id    bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);

CREATE FUNCTION dir_org_json(org_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(o) || jsonb_build_object(
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
                              FROM offering f WHERE f.organization_id = o.id), '[]'))
    FROM organization o WHERE o.id = org_id
$$;

CREATE FUNCTION dir_person_json(pid bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(p) || jsonb_build_object(
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
    FROM person p WHERE p.id = pid
$$;

-- Whether a contact point came from the city LDAP (the sync owns it; the API may not change it).
ALTER TABLE contact_point ADD COLUMN source text NOT NULL DEFAULT 'manual'
    CHECK (source IN ('ldap','manual'));
