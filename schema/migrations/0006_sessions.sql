-- 0006_sessions.sql - staff sessions and local accounts.
--
-- Sessions are stateless signed tokens (HMAC with server_key), so several directoryd
-- daemons on replicas accept each other's sessions; logging out records the session id in
-- session_revoked, which reaches every daemon through the change log.

CREATE TABLE server_key (
    id  integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    key bytea NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Partners' coordinators who are not in the city LDAP. Passwords are argon2id hashes
-- (libsodium crypto_pwhash_str); directoryd never stores staff (LDAP) passwords.
CREATE TABLE local_account (
    username      text PRIMARY KEY CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('caseworker','coordinator','admin')),
    person_id     bigint REFERENCES person(id),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE session_revoked (
    sid        text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER session_revoked_log AFTER INSERT OR UPDATE OR DELETE ON session_revoked
    FOR EACH ROW EXECUTE FUNCTION dir_log_change('sid', 'session');

-- An admin may set a staff member's role, over the LDAP group mapping.
CREATE TABLE staff_role (
    username   text PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('caseworker','coordinator','admin')),
    set_by     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
