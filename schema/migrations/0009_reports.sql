-- 0009_reports.sql - "report a mistake": what caseworkers and the public tell coordinators is
-- wrong in an entry (POST /v1/reports), and the coordinators' worklist of them
-- (GET /v1/reports, POST /v1/reports/{id}/resolve and /reopen).
--
-- Reports are not part of the directory: no change-log trigger, so a report never makes the
-- daemons load a new snapshot. Every report and every change of its status has an audit row
-- (entity 'report') written in the same statement.

CREATE TABLE report (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What it is about: an organisation or a person (id), or an area (code). Kept as text
    -- without a foreign key: the report outlives a later change of the entry.
    entity        text NOT NULL CHECK (entity IN ('organization','person','area')),
    entity_id     text NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 80),
    message       text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    contact       text CHECK (length(contact) BETWEEN 1 AND 200),  -- how to reach the reporter
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Who sent it: the API client or staff member when signed in, else anonymous (their
    -- address is in the audit row only).
    reporter_kind text NOT NULL CHECK (reporter_kind IN ('anonymous','api_client','person','local')),
    reporter      text,
    -- The last resolve or reopen: who, when, the outcome of a resolve and the note given.
    resolved_at   timestamptz,
    resolved_by   text,
    resolution    text CHECK (resolution IN ('fixed','not_a_mistake')),
    note          text CHECK (length(note) BETWEEN 1 AND 2000),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((reporter_kind = 'anonymous') = (reporter IS NULL)),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND resolved_by IS NOT NULL)),
    CHECK (status = 'resolved' OR resolution IS NULL)
);

-- The worklist: open (or resolved) reports oldest first, and the reports about one entry.
CREATE INDEX report_status_idx ON report (status, id);
CREATE INDEX report_entity_idx ON report (entity, entity_id, id);

-- Anonymous callers write too now (their reports): the audit row says so.
ALTER TABLE audit DROP CONSTRAINT audit_actor_kind_check;
ALTER TABLE audit ADD CONSTRAINT audit_actor_kind_check
    CHECK (actor_kind IN ('api_client','person','local','system','anonymous'));

