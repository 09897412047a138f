-- 0015_hsds_import.sql - HSDS data-package imports: an import of kind 'hsds', and the ids
-- another system gave the objects directoryd imported from it (hsds_foreign_id), so that
-- importing that system's package again matches the same organisations instead of adding
-- them twice (docs/hsds.md, "Import").

ALTER TABLE import DROP CONSTRAINT import_kind_check;
ALTER TABLE import ADD CONSTRAINT import_kind_check
    CHECK (kind IN ('organizations','people','communities','hsds'));

-- One row per foreign HSDS id: the package's organization, service or location id and the
-- directoryd organisation it was imported into (services: with their service code). Ids
-- directoryd derives itself (dir_hsds_uuid) are not stored: they are recomputed.
CREATE TABLE hsds_foreign_id (
    object          text NOT NULL CHECK (object IN ('organization','service','location')),
    hsds_id         text NOT NULL CHECK (length(hsds_id) BETWEEN 1 AND 200),
    organization_id bigint NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
    service_code    text,
    import_id       bigint REFERENCES import(id),
    PRIMARY KEY (object, hsds_id)
);
CREATE INDEX hsds_foreign_id_org_idx ON hsds_foreign_id(organization_id);
