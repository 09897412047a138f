-- 0012_accounts.sql - local accounts managed by admins over HTTP, and API clients' last use.
--
-- Admins create, reset and disable local accounts from the web UI (/v1/admin/accounts): a
-- display name for the list, and when the account was disabled. An API client's last use
-- is kept apart from api_client (whose every change reaches the change log and rebuilds the
-- served snapshot): directoryd notes it at most once a minute per client and daemon.

ALTER TABLE local_account ADD COLUMN display_name text
    CHECK (display_name IS NULL OR length(display_name) BETWEEN 1 AND 200);
ALTER TABLE local_account ADD COLUMN disabled_at timestamptz;

CREATE TABLE api_client_use (
    client_id    bigint PRIMARY KEY REFERENCES api_client(id) ON DELETE CASCADE,
    last_used_at timestamptz NOT NULL
);
