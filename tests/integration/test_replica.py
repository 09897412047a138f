"""Replicas and failover: daemons on a real primary and a real streaming hot standby.

A private primary (scripts/pgctl start) and a hot standby of it (scripts/pgctl standby:
pg_basebackup -R, its own cluster on its own free port). Daemon A reads and writes the primary;
daemon B reads the standby (--db) and writes through a multi-host string naming both with
target_session_attrs=read-write (--db-write), as an operator would set it up for failover.
The tests run in order: they share the clusters and stop the primary half way.
"""
import json
import os
import subprocess

import pytest

from conftest import ADMIN_KEY, BIN, PGCTL, Daemon, free_port, make_demo_db, psql, wait_for

JSON = {"Content-Type": "application/json"}


def new_org(name):
    return {"name_th": "หน่วยทดสอบสำเนา " + name, "name_en": "Replica test " + name,
            "type": "ngo", "sector": "ngo", "area": "1033",
            "contacts": [{"kind": "phone", "value": "02 123 4567"}]}


def post_org(daemon, name):
    return daemon.http.request("POST", "/v1/organizations", key=ADMIN_KEY, headers=JSON,
                               body=json.dumps(new_org(name)).encode())


class Pair:
    """The primary, the standby, and the daemons on them."""


@pytest.fixture(scope="module")
def pair(workdir):
    p = Pair()
    p.p1, p.p2 = free_port(), free_port()
    p.primary_dir = os.path.join(workdir, "replica-primary")
    p.standby_dir = os.path.join(workdir, "replica-standby")
    subprocess.run([PGCTL, "start", p.primary_dir, str(p.p1)], check=True)
    p.primary_url = "postgresql://postgres@127.0.0.1:%d/directoryd" % p.p1
    p.standby_url = "postgresql://postgres@127.0.0.1:%d/directoryd" % p.p2
    make_demo_db(lambda: p.primary_url)
    subprocess.run([PGCTL, "standby", p.standby_dir, str(p.p2), str(p.p1)], check=True)
    p.write_url = ("host=127.0.0.1,127.0.0.1 port=%d,%d user=postgres dbname=directoryd "
                   "target_session_attrs=read-write" % (p.p1, p.p2))
    p.daemons = []
    p.a = Daemon(p.primary_url, workdir)
    p.daemons.append(p.a)
    p.b = Daemon(p.standby_url, workdir, {"DIRECTORYD_DB_WRITE": p.write_url,
                                          "DIRECTORYD_REFRESH_MS": "250"})
    p.daemons.append(p.b)
    p.acked = []  # ids of organisations whose creation was acknowledged
    yield p
    for d in p.daemons:
        d.stop()
    subprocess.run([PGCTL, "stop", p.standby_dir], check=False)
    subprocess.run([PGCTL, "stop", p.primary_dir], check=False)


def health(daemon):
    status, _, h = daemon.http.get("/healthz")
    assert status == 200, h
    return h


def test_serve_starts_on_a_standby_without_writing_to_it(pair, workdir):
    assert psql(pair.standby_url, "SELECT pg_is_in_recovery()") == "t"
    h = health(pair.b)
    assert h["status"] == "ok" and h["writes"] == "available", h
    assert h["read_database"]["state"] == "up" and h["database"]["state"] == "up", h
    assert "not migrating" not in pair.b.read_log()  # its write database is the primary
    # A --db-write libpq cannot parse is a mistake in the settings, not an outage: no start.
    bad = subprocess.run([BIN, "serve"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, DIRECTORYD_DB=pair.standby_url,
                                  DIRECTORYD_DB_WRITE="host=127.0.0.1 port"))
    assert bad.returncode == 1 and "db_write: not a libpq connection string" in bad.stderr, \
        bad.stderr
    # A daemon given only the standby starts too (it migrates nothing, reads the session key)
    # and serves reads; its writes cannot go anywhere.
    c = Daemon(pair.standby_url, workdir)
    try:
        assert "the write database is a standby: not migrating" in c.read_log()
        status, _, orgs = c.http.get("/v1/organizations", {"limit": 1})
        assert status == 200 and orgs["items"], orgs
        status, hdrs, prob = post_org(c, "standby only")
        assert status == 503 and prob["type"].endswith("database-unavailable"), prob
        assert int(hdrs["Retry-After"]) > 0
    finally:
        c.stop()


def test_a_write_through_the_standby_daemon_is_read_back_everywhere(pair):
    status, hdrs, org = post_org(pair.b, "one")
    assert status == 201, org
    # B's own answer shows the write although B reads from the standby.
    assert org["name_en"] == "Replica test one" and hdrs["ETag"] == '"1"', org
    assert "X-Directoryd-Stale" not in hdrs
    pair.acked.append(org["id"])
    status, _, again = pair.b.http.get("/v1/organizations/%d" % org["id"])
    assert status == 200 and again["name_en"] == "Replica test one"
    # A, on the primary, within a second (polled, not slept).
    seen, took = wait_for(lambda: pair.a.http.get("/v1/organizations/%d" % org["id"])[0] == 200,
                          timeout=1.0, step=0.02)
    assert seen, "daemon A did not show B's write within 1 s"
    # And the other way round: a write through A reaches B's standby-fed model.
    status, _, org2 = post_org(pair.a, "two")
    assert status == 201, org2
    pair.acked.append(org2["id"])
    seen, _ = wait_for(lambda: pair.b.http.get("/v1/organizations/%d" % org2["id"])[0] == 200,
                       timeout=1.0, step=0.02)
    assert seen, "daemon B did not show A's write within 1 s"


def test_a_write_the_standby_has_not_replayed_says_so(pair):
    # The standby stops replaying: B's write commits on the primary, but B's model cannot
    # show it within write_wait_ms (2 s by default), and the answer says so.
    psql(pair.standby_url, "SELECT pg_wal_replay_pause()")
    try:
        status, hdrs, org = post_org(pair.b, "lagging")
        assert status == 201, org
        assert hdrs["X-Directoryd-Stale"] == "write not yet visible here", dict(hdrs)
        assert pair.b.http.get("/v1/organizations/%d" % org["id"])[0] == 404
    finally:
        psql(pair.standby_url, "SELECT pg_wal_replay_resume()")
    pair.acked.append(org["id"])
    seen, _ = wait_for(lambda: pair.b.http.get("/v1/organizations/%d" % org["id"])[0] == 200,
                       timeout=2.0, step=0.02)
    assert seen, "B did not catch up once the standby replayed again"


def test_stopping_the_primary_keeps_reads_and_refuses_writes_clearly(pair):
    subprocess.run([PGCTL, "stop", pair.primary_dir], check=True)
    for d in (pair.a, pair.b):
        degraded, _ = wait_for(lambda: health(d)["status"] == "degraded", timeout=5)
        assert degraded, health(d)
        h = health(d)
        assert h["database"]["state"] == "down" and h["writes"] == "unavailable", h
        for oid in pair.acked:
            status, _, o = d.http.get("/v1/organizations/%d" % oid)
            assert status == 200, o
        status, hdrs, prob = post_org(d, "refused")
        assert status == 503, prob
        assert prob["type"].endswith("database-unavailable") and prob["title"], prob
        assert "nothing was changed" in prob["detail"], prob
        assert int(hdrs["Retry-After"]) > 0
    # B still reads from the standby, which is up.
    assert health(pair.b)["read_database"]["state"] == "up"


def test_promoting_the_standby_brings_writes_back_with_nothing_lost(pair):
    subprocess.run([PGCTL, "promote", pair.standby_dir], check=True)
    assert psql(pair.standby_url, "SELECT pg_is_in_recovery()") == "f"
    got = {}

    def write():
        status, hdrs, org = post_org(pair.b, "three")
        got.update(status=status, hdrs=hdrs, org=org)
        return status == 201

    ok, _ = wait_for(write, timeout=15, step=0.2)
    assert ok, got
    org = got["org"]
    assert org["name_en"] == "Replica test three" and "X-Directoryd-Stale" not in got["hdrs"]
    pair.acked.append(org["id"])
    # Every write acknowledged before the failover is on the new primary and in B's answers.
    ids = psql(pair.standby_url, "SELECT string_agg(id::text, ',') FROM organization "
               "WHERE id IN (%s)" % ",".join(str(i) for i in pair.acked))
    assert sorted(int(i) for i in ids.split(",")) == sorted(pair.acked)
    for oid in pair.acked:
        assert pair.b.http.get("/v1/organizations/%d" % oid)[0] == 200
    recovered, _ = wait_for(lambda: health(pair.b)["status"] == "ok", timeout=5)
    assert recovered, health(pair.b)
