-- 0017_access_log.sql - the personal-data access log (PDPA, B.E. 2562): who read whose
-- non-public contact points, when, through which face (JSON API, LDAP, export, vCard).
--
-- Design notes
--  * Readers never wait for PostgreSQL: directoryd queues each read in memory and a writer
--    thread copies them here about once a second (dir_pdpa.c). Within one flush, the reads of
--    one actor through one face and operation become ONE row: first and last read time, how
--    many reads, and the sorted ids of every person shown (person_ids). At 20,000 reads/s
--    from a few API clients that is a few rows a second instead of 20,000 (or 400,000 with a
--    row per person shown by a list), so the log costs PostgreSQL almost nothing and still
--    answers "who read X, when (to the second)". One row per person would multiply rows by
--    the page size; one row per read would need 20,000 inserts and index entries a second.
--  * Partitioned by month on "at" (partitions access_log_YYYYMM made ahead by
--    dir_access_log_maintain; a DEFAULT partition catches the rest), so the retention purge
--    drops whole months and only deletes rows in the partly expired month.
--  * Indexes: person_ids (GIN, "who read person X"), actor_id + at ("what did client Y
--    read"), at (the period and the newest-first order).
--  * Like the audit trail it is never changed through the application; only the purge
--    removes rows.

CREATE SEQUENCE access_log_id_seq AS bigint;

CREATE TABLE access_log (
    id          bigint NOT NULL DEFAULT nextval('access_log_id_seq'),
    at          timestamptz NOT NULL,            -- the first read the row stands for
    last_at     timestamptz NOT NULL,            -- the last one (same flush, about 1 s later)
    reads       integer NOT NULL DEFAULT 1 CHECK (reads >= 1),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('api_client','person','local','ldap_bind','cli')),
    actor_id    text NOT NULL,                   -- API client name, username, bind DN, OS user
    face        text NOT NULL CHECK (face IN ('json','ldap','export','vcard')),
    operation   text NOT NULL,                   -- the route pattern, or the LDAP operation
    person_ids  bigint[] NOT NULL
) PARTITION BY RANGE (at);

ALTER SEQUENCE access_log_id_seq OWNED BY access_log.id;

CREATE TABLE access_log_default PARTITION OF access_log DEFAULT;

CREATE INDEX access_log_at_idx ON access_log (at, id);
CREATE INDEX access_log_actor_idx ON access_log (actor_id, at);
CREATE INDEX access_log_person_idx ON access_log USING gin (person_ids);

-- Makes this month's and the next two months' partitions, drops the monthly partitions that
-- ended before now() - KEEP_DAYS and deletes the older rows left elsewhere; returns the
-- number of rows removed. Serialised across daemons by an advisory lock.
CREATE FUNCTION dir_access_log_maintain(keep_days integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    cutoff  timestamptz := now() - make_interval(days => keep_days);
    month   timestamp;
    part    record;
    removed bigint := 0;
    k       bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('directoryd access_log'));
    FOR i IN 0..2 LOOP
        month := date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i);
        BEGIN
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF access_log '
                           'FOR VALUES FROM (%L) TO (%L)',
                           'access_log_' || to_char(month, 'YYYYMM'),
                           month AT TIME ZONE 'UTC',
                           (month + interval '1 month') AT TIME ZONE 'UTC');
        EXCEPTION WHEN others THEN
            -- Rows of that month already sit in the default partition (the daemon was off
            -- at the turn of the month): they stay there, are served and purged all the same.
            RAISE NOTICE 'access_log: no partition for %: %', to_char(month, 'YYYY-MM'), SQLERRM;
        END;
    END LOOP;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'access_log'::regclass AND c.relname ~ '^access_log_[0-9]{6}$'
    LOOP
        IF (to_timestamp(substr(part.relname, 12), 'YYYYMM')::timestamp + interval '1 month')
               AT TIME ZONE 'UTC' <= cutoff THEN
            EXECUTE format('SELECT count(*) FROM %I', part.relname) INTO k;
            EXECUTE format('DROP TABLE %I', part.relname);
            removed := removed + k;
        END IF;
    END LOOP;
    DELETE FROM access_log WHERE at < cutoff;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN removed + k;
END $$;
