-- 0014_imports.sql - spreadsheet imports (CSV): each import is one audited operation, and each
-- row it changes has its own audit row pointing at it (audit.import_id).

CREATE TABLE import (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind  text NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('organizations','people','communities')),
    file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0
);

-- The import a write belongs to: the importing transaction sets directoryd.import_id (SET
-- LOCAL), so the audit rows of its writes carry it without their INSERT naming it.
ALTER TABLE audit ADD COLUMN import_id bigint REFERENCES import(id)
    DEFAULT nullif(current_setting('directoryd.import_id', true), '')::bigint;
CREATE INDEX audit_import_idx ON audit(import_id) WHERE import_id IS NOT NULL;

-- What the CSV export reads: one entity's JSON per row (dir_org_json / dir_person_json /
-- dir_area_json), in key order.
CREATE FUNCTION dir_import_export(k text) RETURNS SETOF jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF k = 'organizations' THEN
        RETURN QUERY SELECT dir_org_json(id) FROM organization ORDER BY id;
    ELSIF k = 'people' THEN
        RETURN QUERY SELECT dir_person_json(id) FROM person ORDER BY id;
    ELSIF k = 'communities' THEN
        RETURN QUERY SELECT dir_area_json(code) FROM area WHERE kind = 'community' ORDER BY code;
    END IF;
END $$;
ALTER FUNCTION dir_import_export(text) SET enable_seqscan = off;
