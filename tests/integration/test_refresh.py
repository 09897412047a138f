"""The read model follows PostgreSQL: edits by hand show within a second; outages are survived."""
import os
import subprocess
import time

from conftest import ADMIN_KEY, BIN, PGCTL, Daemon, Http, free_port, psql, run_cli, wait_for


def test_psql_edit_visible_within_one_second(api, daemon):
    oid = psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-chatuchak'")
    _, _, before = api.get("/v1/healthz".replace("/v1", ""))
    psql(daemon.db_url, "UPDATE organization SET name_en = 'Chatuchak Centre (renamed)' "
                        "WHERE id = %s" % oid)
    got, took = wait_for(lambda: api.get("/v1/organizations/" + oid)[2]["name_en"]
                         == "Chatuchak Centre (renamed)", timeout=3)
    assert got and took < 1.0, took
    _, _, after = api.get("/healthz")
    assert after["seq"] > before["seq"]
    psql(daemon.db_url, "UPDATE organization SET name_en = 'Chatuchak Child Opportunity Centre' "
                        "WHERE id = %s" % oid)


def test_deactivated_person_disappears_within_one_second(api, daemon):
    pid = psql(daemon.db_url, "SELECT min(p.id) FROM person p JOIN membership m ON m.person_id = p.id "
                              "WHERE p.active AND m.team_role = 'district_welfare'")

    def listed():
        _, _, d = api.get("/v1/people", {"limit": 500}, key=ADMIN_KEY)
        return any(str(p["id"]) == pid for p in d["items"])

    assert listed()
    psql(daemon.db_url, "UPDATE person SET active = false WHERE id = %s" % pid)
    gone, took = wait_for(lambda: not listed(), timeout=3)
    assert gone and took < 1.0, took
    psql(daemon.db_url, "UPDATE person SET active = true WHERE id = %s" % pid)


def test_revoked_key_stops_working(api, daemon):
    key = "integration-revoke-me-0123456789"
    run_cli("api-client", "it-revoke", "caseworker",
            env={"DIRECTORYD_DB": daemon.db_url, "DIRECTORYD_CLIENT_SECRET": key})
    ok, _ = wait_for(lambda: api.get("/v1/people", {"limit": 1}, key=key)[0] == 200, timeout=3)
    assert ok
    psql(daemon.db_url, "UPDATE api_client SET revoked_at = now() WHERE name = 'it-revoke'")
    revoked, took = wait_for(lambda: api.get("/v1/people", {"limit": 1}, key=key)[0] == 401,
                             timeout=3)
    assert revoked and took < 1.0


def test_survives_postgresql_restart(workdir):
    """PostgreSQL goes away: for the whole outage (2 s and more) answers keep coming from the
    last snapshot, /healthz says degraded with the database down, and a write answers 503;
    when it is back, new edits show again."""
    import json
    data = os.path.join(workdir, "pg-restart")
    port = free_port()
    subprocess.run([PGCTL, "start", data, str(port)], check=True)
    url = subprocess.run([PGCTL, "url", data, str(port)], check=True, capture_output=True,
                         text=True).stdout.strip()
    try:
        run_cli("migrate", env={"DIRECTORYD_DB": url})
        run_cli("api-client", "it-outage", "coordinator",
                env={"DIRECTORYD_DB": url, "DIRECTORYD_CLIENT_SECRET": ADMIN_KEY})
        d = Daemon(url, workdir)
        try:
            _, _, h = d.http.get("/healthz")
            assert h["status"] == "ok" and h["database"]["state"] == "up"
            subprocess.run([PGCTL, "stop", data], check=True)
            t0, reads, degraded = time.time(), 0, None
            while time.time() - t0 < 2.5:
                status, _, body = d.http.get("/v1/organizations", {"q": "ลุมพินี"})
                assert status == 200 and body["items"], (status, body)
                reads += 1
                status, _, h = d.http.get("/healthz")
                assert status == 200 and h["status"] in ("ok", "degraded"), h
                if h["status"] == "degraded":
                    degraded = h
                time.sleep(0.1)
            assert reads >= 10
            assert degraded and degraded["database"]["state"] == "down", degraded
            assert degraded["database"]["error"] and degraded["database"]["since"] > 0
            status, hdrs, p = d.http.request(
                "POST", "/v1/organizations", key=ADMIN_KEY,
                headers={"Content-Type": "application/json"},
                body=json.dumps({"name_th": "ระหว่างฐานข้อมูลล่ม", "type": "ngo", "sector": "ngo",
                                 "area": "1033"}).encode())
            assert status == 503 and hdrs["Content-Type"] == "application/problem+json", p
            subprocess.run([PGCTL, "start", data, str(port)], check=True)
            assert psql(url, "SELECT count(*) FROM organization WHERE name_th = 'ระหว่างฐานข้อมูลล่ม'") == "0"
            psql(url, "UPDATE organization SET name_en = 'Back again' WHERE ref = 'coc-lumphini'")
            ok, _ = wait_for(lambda: d.http.get("/v1/organizations", {"q": "back again"})[2]
                             .get("items"), timeout=15)
            assert ok, d.read_log()
            ok, _ = wait_for(lambda: d.http.get("/healthz")[2]["status"] == "ok", timeout=15)
            assert ok
        finally:
            d.stop()
    finally:
        subprocess.run([PGCTL, "stop", data], check=True)


def test_edits_show_by_polling_when_no_notification_comes(api, daemon):
    """The daemon polls the change log every refresh_ms as well as listening, so it keeps
    current where LISTEN gives nothing (a hot standby refuses it): here the writer's session
    sends no notification at all (its pg_notify is a no-op), and the edit still shows."""
    oid = psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-saphan-phra-pokklao'")
    psql(daemon.db_url, "CREATE SCHEMA IF NOT EXISTS it_quiet; "
                        "CREATE OR REPLACE FUNCTION it_quiet.pg_notify(text, text) RETURNS void "
                        "LANGUAGE sql AS 'SELECT NULL::void'")
    with_quiet = "SET search_path = it_quiet, pg_catalog, public; "
    quiet = psql(daemon.db_url, with_quiet + "SELECT pg_notify('directoryd_changes', 'x') IS NULL")
    assert quiet == "t"
    for name in ("Quiet edit", "Saphan Phra Pokklao Child Opportunity Centre"):
        psql(daemon.db_url, with_quiet + "UPDATE organization SET name_en = '%s' WHERE id = %s"
             % (name, oid))
        got, took = wait_for(lambda: api.get("/v1/organizations/" + oid)[2]["name_en"] == name,
                             timeout=3)
        assert got and took < 1.0, took


def test_healthz_is_503_before_the_first_snapshot(demo_db, workdir):
    """While the first load cannot finish (a table it reads is locked; lock_timeout makes it
    fail), the daemon serves already: /healthz and the API answer 503 "starting"; once the
    lock goes, the snapshot loads and /healthz turns 200."""
    import signal
    import urllib.request
    lock = subprocess.Popen(["psql", demo_db, "-qAtc", "BEGIN; LOCK TABLE offering_target_group "
                             "IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;"],
                            stdout=subprocess.DEVNULL)
    ok, _ = wait_for(lambda: psql(demo_db, "SELECT count(*) FROM pg_locks l JOIN pg_class c "
                                           "ON c.oid = l.relation WHERE c.relname = "
                                           "'offering_target_group' AND l.mode = "
                                           "'AccessExclusiveLock' AND l.granted") == "1")
    assert ok
    port = free_port()
    env = dict(os.environ, DIRECTORYD_DB=demo_db, DIRECTORYD_HTTP_PORT=str(port),
               DIRECTORYD_LDAP_PORT=str(free_port()), DIRECTORYD_REFRESH_MS="100",
               PGOPTIONS="-c lock_timeout=500")
    log = open(os.path.join(workdir, "starting-%d.log" % port), "wb")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    http = Http("http://127.0.0.1:%d" % port)

    def answer(path):
        try:
            return http.get(path)
        except OSError:
            return None

    try:
        got, _ = wait_for(lambda: answer("/healthz"), timeout=10)
        assert got, "no answer while the first load waits"
        status, _, body = got
        assert status == 503 and body == {"status": "starting"}, got
        status, hdrs, p = http.get("/v1/organizations")
        assert status == 503 and hdrs["Content-Type"] == "application/problem+json", p
        ok, _ = wait_for(lambda: http.get("/healthz")[0] == 200, timeout=20)
        assert ok
        assert http.get("/v1/organizations", {"q": "ลุมพินี"})[2]["items"]
    finally:
        lock.wait(timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.close()


def test_changes_feed_for_mirrors(api, daemon):
    _, _, h = api.get("/healthz")
    since = h["seq"]
    oid = psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-thung-khru'")
    pid = psql(daemon.db_url, "SELECT min(id) FROM person")
    psql(daemon.db_url, "BEGIN; UPDATE organization SET hours_th = 'จันทร์-ศุกร์ 08:30-16:30' WHERE id = %s; "
                        "INSERT INTO contact_point (person_id, kind, value, is_public) "
                        "VALUES (%s, 'line', 'it_line_id', false); COMMIT;" % (oid, pid))

    def feed():
        status, _, d = api.get("/v1/changes", {"since": since})
        assert status == 200
        return d if len(d["items"]) >= 2 else None

    d, took = wait_for(feed)
    assert d and took < 1.0
    got = [(c["entity"], c["id"], c["op"]) for c in d["items"]]
    assert ("organization", oid, "update") in got
    assert ("person", pid, "update") in got  # a contact point is part of its person
    assert all(c["seq"] > since and c["at"].endswith("Z") for c in d["items"])
    assert d["seq"] >= max(c["seq"] for c in d["items"])
    # Paging: one at a time gives the same changes.
    _, _, p1 = api.get("/v1/changes", {"since": since, "limit": 1})
    assert len(p1["items"]) == 1 and p1["next"] == str(p1["items"][0]["seq"])
    # API client changes are not exposed.
    _, _, all_changes = api.get("/v1/changes", {"limit": 500})
    assert all(c["entity"] != "api_client" for c in all_changes["items"])
    for bad in ("abc", "-5"):
        status, _, e = api.get("/v1/changes", {"since": bad})
        assert status == 400 and e["errors"][0]["field"] == "since"


def test_changes_feed_names_every_entity(api, daemon):
    """Areas, zone groups, services, target groups and programmes are in the feed too, by
    their codes and ids; a member of a zone group is reported as its group."""
    _, _, h = api.get("/healthz")
    since = h["seq"]
    prog = psql(daemon.db_url, "SELECT min(id) FROM programme")
    assert prog
    psql(daemon.db_url, "BEGIN; "
                        "UPDATE area SET name_en = name_en WHERE code = '1007'; "
                        "UPDATE area_group SET name_en = name_en WHERE code = 'bkk-z1'; "
                        "UPDATE service SET name_en = name_en WHERE code = 'legal_aid'; "
                        "UPDATE target_group SET name_en = name_en WHERE code = 'families'; "
                        "UPDATE programme SET name_en = name_en WHERE id = %s; "
                        "UPDATE area_group_member SET area_code = area_code "
                        "WHERE group_code = 'bkk-z2' AND area_code = '1004'; COMMIT;" % prog)
    want = {("area", "1007"), ("area_group", "bkk-z1"), ("service", "legal_aid"),
            ("target_group", "families"), ("programme", prog), ("area_group", "bkk-z2")}

    def feed():
        d = api.get("/v1/changes", {"since": since})[2]
        got = {(c["entity"], c["id"]) for c in d["items"]}
        return d if want <= got else None

    d, took = wait_for(feed)
    assert d, api.get("/v1/changes", {"since": since})[2]
    assert all(c["op"] == "update" for c in d["items"] if (c["entity"], c["id"]) in want)


def test_changes_too_old_is_410(demo_db, workdir):
    # The newest changes are six organisation edits (API client changes are not listed).
    psql(demo_db, "UPDATE organization SET hours_en = hours_en WHERE id IN "
                  "(SELECT id FROM organization ORDER BY id LIMIT 6)")
    d = Daemon(demo_db, workdir, extra_env={"DIRECTORYD_CHANGES_KEPT": "10"})
    try:
        status, hdrs, e = d.http.get("/v1/changes", {"since": "1"})
        assert status == 410 and hdrs["Content-Type"] == "application/problem+json"
        _, _, h = d.http.get("/healthz")
        newest = int(psql(demo_db, "SELECT max(seq) FROM change_log"))
        assert h["seq"] == newest
        status, _, ok = d.http.get("/v1/changes", {"since": newest - 5})
        assert status == 200 and [c["seq"] for c in ok["items"]] == list(range(newest - 4, newest + 1))
        assert all(c["entity"] == "organization" for c in ok["items"]) and ok["next"] is None
        # since=0 means "from the oldest kept": the 10 newest rows, oldest first.
        kept = [int(x) for x in psql(demo_db, "SELECT seq FROM change_log WHERE seq > %d AND "
                                              "entity NOT IN ('api_client', 'session') "
                                              "ORDER BY seq" % (newest - 10)).split()]
        assert len(kept) >= 6
        status, _, first = d.http.get("/v1/changes", {"since": "0", "limit": 3})
        assert status == 200, first
        assert [c["seq"] for c in first["items"]] == kept[:3] and first["next"] == str(kept[2])
        status, _, again = d.http.get("/v1/changes", {"since": kept[0] - 1, "limit": 3})
        assert status == 200 and again["items"] == first["items"]
    finally:
        d.stop()
