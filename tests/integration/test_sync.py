"""Staff sync from the city LDAP (issue 6), against a private slapd with BMA staff in Thai:
full (paged) sync, RFC 4533 refreshOnly with the cookie in PostgreSQL, refreshAndPersist,
the modifyTimestamp polling fallback, the safety limits, dry runs, failures, run records.

The tests share one city LDAP and one database and run in file order."""
import base64
import json
import os
import subprocess
import time

import pytest

from conftest import (ADMIN_KEY, CASEWORKER_KEY, Daemon, make_cert, make_demo_db, psql, run_cli,
                      wait_for)
from slapd import ADMIN_DN, ADMIN_PW, BASE, CityLdap

N = 2000
COORD_KEY = "integration-coordinator-key-0123456789"
FIRST = [("สมชาย", "Somchai"), ("สมศรี", "Somsri"), ("วิไล", "Wilai"), ("ประเสริฐ", "Prasoet"),
         ("กนกพร", "Kanokphon"), ("ธนพล", "Thanaphon"), ("สุภาพร", "Suphaphon"), ("อนุชา", "Anucha"),
         ("พรทิพย์", "Phonthip"), ("ณัฐวุฒิ", "Nattawut"), ("จิราพร", "Chiraphon"), ("วีระ", "Wira"),
         ("มาลี", "Mali"), ("ศิริชัย", "Sirichai"), ("อรุณี", "Aruni"), ("ปิยะ", "Piya")]
LAST = [("ใจดี", "Jaidee"), ("สุขสวัสดิ์", "Suksawat"), ("ทองดี", "Thongdee"), ("ศรีสุข", "Srisuk"),
        ("วงศ์ใหญ่", "Wongyai"), ("แก้วมณี", "Kaewmanee"), ("บุญมา", "Boonma"),
        ("รุ่งเรือง", "Rungruang"), ("พึ่งบุญ", "Phuengboon"), ("เจริญผล", "Charoenphon")]
TITLES = [("นักสังคมสงเคราะห์ปฏิบัติการ", "Social Worker, Practitioner Level"),
          ("นักพัฒนาสังคมชำนาญการ", "Social Development Worker, Professional Level"),
          ("ครูข้างถนน", "Street Teacher"), ("นักจิตวิทยา", "Psychologist"),
          ("พยาบาลวิชาชีพ", "Registered Nurse")]
UNITS = ["welfare-10%02d" % d for d in range(1, 11)] + ["cpu"]
UNIT_MAP = ";".join(["welfare-10%02d=district-10%02d-welfare" % (d, d) for d in range(1, 11)]
                    + ["cpu=bma-child-protection-unit"])


def attr(name, value):
    try:
        value.encode("ascii")
        return "%s: %s" % (name, value)
    except UnicodeEncodeError:
        return "%s:: %s" % (name, base64.b64encode(value.encode()).decode())


def dn(i):
    return "uid=bma%05d,ou=people,%s" % (i, BASE)


def staff_ldif(ids):
    out = []
    for i in ids:
        f, l, t = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)], TITLES[i % len(TITLES)]
        lines = ["dn: " + dn(i), "objectClass: inetOrgPerson", "uid: bma%05d" % i,
                 attr("cn", "%s %s" % (f[0], l[0])), attr("cn;lang-en", "%s %s" % (f[1], l[1])),
                 attr("sn", l[0]), attr("title", t[0]), attr("title;lang-en", t[1]),
                 "mail: bma%05d@bangkok.go.th" % i, "telephoneNumber: 02 %03d %04d" % (i % 1000, i),
                 "ou: " + UNITS[i % len(UNITS)]]
        if i % 2 == 0:
            lines.append("mobile: 08%d %03d %04d" % (1 + i % 9, i % 1000, i))
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


@pytest.fixture(scope="module")
def city(workdir):
    c = CityLdap(workdir, "sync")
    t0 = time.time()
    c.add_ldif(staff_ldif(range(N)))
    print("loaded %d entries in %.1f s" % (N, time.time() - t0))
    yield c
    c.stop()


@pytest.fixture(scope="module")
def db(pg):
    return make_demo_db(pg, **{"it-coordinator": ("coordinator", COORD_KEY)})


def sync_env(city, db, workdir, **extra):
    e = city.env(workdir)
    e.update({"DIRECTORYD_DB": db, "DIRECTORYD_SYNC_UNIT_MAP": UNIT_MAP,
              "DIRECTORYD_SYNC_INTERVAL_S": "3600", "DIRECTORYD_SYNC_MODE": "syncrepl",
              "DIRECTORYD_SYNC_PAGE_SIZE": "500", "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT": "10"})
    e.update({("DIRECTORYD_" + k.upper()): str(v) for k, v in extra.items()})
    return e


def sync(city, db, workdir, *args, **extra):
    return run_cli("sync", "--once", *args, env=sync_env(city, db, workdir, **extra), check=False)


def last_run(db):
    return json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r ORDER BY id DESC LIMIT 1"))


def person(db, uid):
    row = psql(db, "SELECT row_to_json(p) FROM person p WHERE username = '%s'" % uid)
    return json.loads(row) if row else None


def ldap_contacts(db, pid):
    return psql(db, "SELECT string_agg(kind || '=' || value, ',' ORDER BY position) FROM contact_point "
                    "WHERE person_id = %d AND source = 'ldap'" % pid)


def ldap_delete(city, dns):
    city._run(["ldapdelete", "-x", "-H", city.uri, "-D", ADMIN_DN, "-w", ADMIN_PW],
              stdin="\n".join(dns) + "\n")


def set_attr(city, i, name, value):
    city.modify_ldif("dn: %s\nchangetype: modify\nreplace: %s\n%s\n" % (dn(i), name, attr(name, value)))


def counts(run):
    return {k: run[k] for k in ("created", "updated", "deactivated", "unchanged", "skipped")}


def active_synced(db):
    return int(psql(db, "SELECT count(*) FROM person WHERE source = 'ldap' AND active"))


def wait_run(db, after_id, timeout=30):
    """The first finished run with an id above AFTER_ID."""
    def done():
        row = psql(db, "SELECT row_to_json(r) FROM sync_run r WHERE id > %d AND status <> 'running' "
                       "ORDER BY id LIMIT 1" % after_id)
        return json.loads(row) if row else None
    run, _ = wait_for(done, timeout=timeout, step=0.1)
    assert run, "no sync run finished"
    return run


def run_id(db):
    return int(psql(db, "SELECT coalesce(max(id), 0) FROM sync_run"))


# ---- full sync ----

def test_full_sync_creates_everyone_then_changes_nothing(city, db, workdir):
    seq0 = int(psql(db, "SELECT max(seq) FROM change_log"))
    t0 = time.time()
    p = sync(city, db, workdir, "--full")
    took = time.time() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["status"] == "ok" and run["mode"] == "full", run
    assert counts(run) == {"created": N, "updated": 0, "deactivated": 0, "unchanged": 0, "skipped": 0}
    assert len(run["details"]["created"]) == N
    assert active_synced(db) == N
    print("full sync of %d entries: %.1f s" % (N, took))
    # Mapped fields, in Thai and English.
    x = person(db, "bma00007")
    assert x["source"] == "ldap" and x["active"] and x["ldap_dn"] == dn(7)
    assert x["name_th"] == "%s %s" % (FIRST[7][0], LAST[0][0])
    assert x["name_en"] == "%s %s" % (FIRST[7][1], LAST[0][1])
    assert (x["title_th"], x["title_en"]) == TITLES[7 % len(TITLES)]
    assert ldap_contacts(db, x["id"]) == "email=bma00007@bangkok.go.th,phone=02 007 0007"
    assert ldap_contacts(db, person(db, "bma00008")["id"]).endswith("mobile=089 008 0008")
    org = psql(db, "SELECT o.ref FROM membership m JOIN organization o ON o.id = m.organization_id "
                   "WHERE m.person_id = %d AND m.source = 'ldap'" % x["id"])
    assert org == "district-1008-welfare"
    assert int(psql(db, "SELECT count(*) FROM audit WHERE actor = 'sync' AND action = 'create'")) == N
    # Each audit row holds the person as created (contacts and membership included).
    assert psql(db, "SELECT count(*) FROM audit a WHERE actor = 'sync' AND action = 'create' "
                    "AND a.after = dir_person_json(a.entity_id::bigint)") == str(N)
    # A mirror following /v1/changes sees each new person once, as an insert (not once per
    # contact point and membership).
    assert psql(db, "SELECT entity || ' ' || op || ' ' || count(*) || ' ' || count(DISTINCT entity_id) "
                    "FROM change_log WHERE seq > %d GROUP BY entity, op" % seq0) == "person insert %d %d" % (N, N)
    # Where the run's time went, for the admin reading the run.
    assert set(run["details"]["phases_ms"]) == {"read", "prepare", "apply", "deactivate"}, run["details"]
    # The resume point is in PostgreSQL.
    assert psql(db, "SELECT mode, cookie IS NOT NULL, last_full_at IS NOT NULL FROM sync_state") == "syncrepl|t|t"

    seq = psql(db, "SELECT max(seq) FROM change_log")
    p = sync(city, db, workdir, "--full")
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert counts(run) == {"created": 0, "updated": 0, "deactivated": 0, "unchanged": N, "skipped": 0}
    assert psql(db, "SELECT max(seq) FROM change_log") == seq  # nothing written at all


def test_dry_run_prints_and_changes_nothing(city, db, workdir):
    set_attr(city, 10, "title", "หัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคม")
    city.add_ldif(staff_ldif([90000]))
    before = person(db, "bma00010")
    p = sync(city, db, workdir, "--full", "--dry-run")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "dry run" in p.stdout
    lines = p.stdout.splitlines()
    assert any(l.startswith("create") and "bma90000" in l for l in lines), p.stdout
    assert any(l.startswith("update") and "bma00010" in l for l in lines), p.stdout
    assert person(db, "bma90000") is None
    assert person(db, "bma00010") == before
    run = last_run(db)
    assert run["status"] == "dry-run"
    assert counts(run) == {"created": 1, "updated": 1, "deactivated": 0, "unchanged": N - 1, "skipped": 0}


# ---- incremental: refreshOnly, the cookie across restarts, admin routes ----

def test_refresh_only_runs_and_the_cookie_survives_a_restart(city, db, workdir):
    before = run_id(db)
    d = Daemon(db, workdir, sync_env(city, db, workdir))
    try:
        # The run at start-up is incremental: only the two entries changed since the last run
        # are read; the others are named present (RFC 4533 present phase), so unchanged.
        run = wait_run(db, before)
        assert run["status"] == "ok" and run["mode"] == "syncrepl", run
        assert counts(run) == {"created": 1, "updated": 1, "deactivated": 0, "unchanged": N - 1, "skipped": 0}
        assert run["details"]["phase"] == "present" and run["details"]["presents"] >= N - 1
        assert run["details"]["received"] == 2
        assert person(db, "bma00010")["title_th"] == "หัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคม"

        # The admin routes.
        assert d.http.request("POST", "/v1/admin/sync")[0] == 401
        assert d.http.request("POST", "/v1/admin/sync", key=CASEWORKER_KEY)[0] == 403
        assert d.http.get("/v1/admin/sync/runs", key=CASEWORKER_KEY)[0] == 403
        status, _, page = d.http.get("/v1/admin/sync/runs", {"limit": 2}, key=ADMIN_KEY)
        assert status == 200 and len(page["items"]) == 2 and page["items"][0]["id"] == run["id"]
        status, _, bad = d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY,
                                        headers={"Content-Type": "application/json"},
                                        body=b'{"fulll": true}')
        assert status == 400 and bad["errors"][0]["field"] == "fulll"

        # A phone changed in LDAP shows after the next run.
        pid = person(db, "bma00020")["id"]
        set_attr(city, 20, "telephoneNumber", "02 224 1234")
        before = run_id(db)
        status, _, acc = d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY)
        assert status == 202 and acc["accepted"] is True
        run = wait_run(db, before)
        assert run["status"] == "ok" and run["trigger"] == "api" and run["mode"] == "syncrepl"
        assert counts(run)["updated"] == 1 and run["details"]["received"] == 1

        def phone_is(number):
            _, _, p = d.http.get("/v1/people/%d" % pid, key=ADMIN_KEY)
            return number in [c["value"] for c in p["contacts"]]
        assert wait_for(lambda: phone_is("02 224 1234"))[0]
        _, _, h = d.http.get("/healthz")
        assert h["sync"]["last_status"] == "ok" and h["sync"]["last_run"] == run["id"]
        # obs: /metrics counts both runs and what they changed (created 1, updated 1 + 1).
        from prometheus_client.parser import text_string_to_metric_families
        _, _, text = d.http.get("/metrics")
        fam = {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples}
               for f in text_string_to_metric_families(text)}
        assert fam["directoryd_sync_runs"][(("status", "ok"),)] == 2
        assert fam["directoryd_sync_entries"][(("change", "updated"),)] == 2
        assert fam["directoryd_sync_entries"][(("change", "created"),)] == 1
    finally:
        d.stop()

    # Restart: the stored cookie is used, so only the one change is read.
    set_attr(city, 21, "telephoneNumber", "02 225 9999")
    before = run_id(db)
    d = Daemon(db, workdir, sync_env(city, db, workdir))
    try:
        run = wait_run(db, before)
        assert run["mode"] == "syncrepl" and run["details"]["received"] == 1, run
        assert counts(run) == {"created": 0, "updated": 1, "deactivated": 0, "unchanged": N, "skipped": 0}
        assert "02 225 9999" in ldap_contacts(db, person(db, "bma00021")["id"])
    finally:
        d.stop()


def test_persist_shows_a_change_within_two_seconds(city, db, workdir):
    d = Daemon(db, workdir, sync_env(city, db, workdir, sync_mode="persist"))
    try:
        ok, _ = wait_for(lambda: "persistent" in d.http.get("/healthz")[2]["sync"]["last_message"],
                         timeout=20)
        assert ok, d.http.get("/healthz")[2]
        time.sleep(0.5)  # the refresh phase
        pid = person(db, "bma00030")["id"]

        def phone_is(number):
            _, _, p = d.http.get("/v1/people/%d" % pid, key=ADMIN_KEY)
            return number in [c["value"] for c in p["contacts"]]
        t0 = time.time()
        set_attr(city, 30, "telephoneNumber", "02 230 3030")
        ok, took = wait_for(lambda: phone_is("02 230 3030"), timeout=5, step=0.02)
        took = time.time() - t0
        assert ok and took < 2.0, took
        print("persist: visible after %.2f s" % took)
        # A deletion arrives too.
        pid31 = person(db, "bma00031")["id"]
        ldap_delete(city, [dn(31)])
        ok, _ = wait_for(lambda: d.http.get("/v1/people/%d" % pid31, key=ADMIN_KEY)[2]["active"] is False,
                         timeout=5)
        assert ok
        run = json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r WHERE mode = 'persist' "
                                  "ORDER BY id DESC LIMIT 1"))
        assert run["status"] == "running" and run["updated"] >= 1 and run["deactivated"] == 1, run

        # A mass deletion cannot trickle through one change at a time: refused, nobody
        # deactivated; a forced full run applies it.
        active = active_synced(db)
        gone = list(range(1200, 1500))
        ldap_delete(city, [dn(i) for i in gone])
        ok, _ = wait_for(lambda: d.http.get("/healthz")[2]["sync"]["last_status"] == "refused", timeout=10)
        assert ok, d.http.get("/healthz")[2]
        assert "would deactivate" in d.http.get("/healthz")[2]["sync"]["last_message"]
        assert active_synced(db) == active
        before = run_id(db)
        status, _, _ = d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY,
                                      body=b'{"full": true, "force": true}')
        assert status == 202
        run, _ = wait_for(lambda: json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r WHERE "
                                                      "id > %d AND trigger = 'api' AND status <> 'running' "
                                                      "LIMIT 1" % before) or "null"), timeout=20)
        assert run and run["status"] == "ok" and run["deactivated"] == len(gone), run
        assert active_synced(db) == active - len(gone)
    finally:
        d.stop()
    assert psql(db, "SELECT count(*) FROM sync_run WHERE status = 'running'") == "0"


# ---- deletions and the safety limits ----

def test_deleted_entry_is_deactivated_memberships_kept(city, db, workdir):
    x = person(db, "bma00040")
    ldap_delete(city, [dn(40)])
    p = sync(city, db, workdir, "--full")
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["deactivated"] == 1 and run["details"]["deactivated"][0]["username"] == "bma00040"
    y = person(db, "bma00040")
    assert y["active"] is False and y["id"] == x["id"]
    assert int(psql(db, "SELECT count(*) FROM membership WHERE person_id = %d" % x["id"])) == 1
    assert psql(db, "SELECT action FROM audit WHERE entity = 'person' AND entity_id = '%d' "
                    "ORDER BY id DESC LIMIT 1" % x["id"]) == "deactivate"


def test_coordinator_facts_survive_a_title_change(city, db, workdir):
    d = Daemon(db, workdir, sync_env(city, db, workdir, sync_mode="off"))
    try:
        x = person(db, "bma00050")
        org = int(psql(db, "SELECT id FROM organization WHERE ref = 'district-1007-welfare'"))
        ok, _ = wait_for(lambda: d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)[0] == 200)
        _, _, cur = d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)
        body = {"contacts": [{"kind": "line", "value": "somchai.bkk"}],
                "memberships": [{"organization": org, "team_role": "district_welfare", "areas": ["1007"]}],
                "profession": "social_worker"}
        status, _, p = d.http.request("PATCH", "/v1/people/%d" % x["id"], key=COORD_KEY,
                                      headers={"Content-Type": "application/json",
                                               "If-Match": '"%d"' % cur["version"]},
                                      body=json.dumps(body).encode())
        assert status == 200, p
    finally:
        d.stop()
    set_attr(city, 50, "title", "นักสังคมสงเคราะห์ชำนาญการพิเศษ")
    p = sync(city, db, workdir)
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["mode"] == "syncrepl" and run["updated"] == 1, run
    y = person(db, "bma00050")
    assert y["title_th"] == "นักสังคมสงเคราะห์ชำนาญการพิเศษ" and y["profession"] == "social_worker"
    assert psql(db, "SELECT string_agg(kind || '=' || value || '/' || source, ',' ORDER BY source, position) "
                    "FROM contact_point WHERE person_id = %d" % y["id"]) == \
        "email=bma00050@bangkok.go.th/ldap,phone=02 050 0050/ldap,mobile=086 050 0050/ldap,line=somchai.bkk/manual"
    assert psql(db, "SELECT string_agg(organization_id || ':' || coalesce(team_role, '-'), ',') "
                    "FROM membership WHERE person_id = %d" % y["id"]) == "%d:district_welfare" % org


def test_moving_unit_moves_the_membership(city, db, workdir):
    x = person(db, "bma00060")
    unit_org = "SELECT o.ref FROM membership m JOIN organization o ON o.id = m.organization_id " \
               "WHERE m.person_id = %d AND m.source = 'ldap'" % x["id"]
    assert psql(db, unit_org) == "district-1006-welfare"
    set_attr(city, 60, "ou", "cpu")
    p = sync(city, db, workdir)
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["updated"] == 1 and run["details"]["updated"][0]["unit"] == "cpu", run
    assert psql(db, unit_org) == "bma-child-protection-unit"
    assert psql(db, "SELECT action FROM audit WHERE entity = 'person' AND entity_id = '%d' "
                    "ORDER BY id DESC LIMIT 1" % x["id"]) == "move"
    # A unit the map does not know: the LDAP membership goes, the person stays.
    set_attr(city, 60, "ou", "somewhere-else")
    assert sync(city, db, workdir).returncode == 0
    assert psql(db, unit_org) == "" and person(db, "bma00060")["active"] is True


def test_mass_deletion_is_refused_then_forced(city, db, workdir):
    active = active_synced(db)
    gone = list(range(100, 100 + int(active * 0.3)))
    ldap_delete(city, [dn(i) for i in gone])
    seq = psql(db, "SELECT max(seq) FROM change_log")
    p = sync(city, db, workdir, "--full")
    assert p.returncode == 3, p.stdout + p.stderr
    run = last_run(db)
    assert run["status"] == "refused" and "would deactivate %d of %d" % (len(gone), active) in run["errors"]
    assert counts(run) == {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0, "skipped": 0}
    assert active_synced(db) == active
    assert psql(db, "SELECT max(seq) FROM change_log") == seq
    # What a forced run would do is in the refused run (for the admin screen), person by
    # person; the refused run's own lists stay empty.
    would = run["details"]["would"]
    assert would["counts"]["deactivated"] == len(gone) and would["counts"]["created"] == 0
    assert sorted(x["username"] for x in would["deactivated"]) == sorted("bma%05d" % i for i in gone)
    assert run["details"]["deactivated"] == [] and run["details"]["created"] == []
    p = sync(city, db, workdir, "--full", "--force")
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["status"] == "ok" and run["deactivated"] == len(gone)
    assert run["deactivated"] == would["counts"]["deactivated"]
    assert run["unchanged"] == would["counts"]["unchanged"]
    assert active_synced(db) == active - len(gone)


# ---- failures ----

def test_wrong_credentials_fail_clearly(city, db, workdir):
    bad = os.path.join(workdir, "wrong.pw")
    with open(bad, "w") as f:
        f.write("not-the-password-xyzzy\n")
    os.chmod(bad, 0o600)  # a wrong password, not a loose file
    p = sync(city, db, workdir, sync_password_file=bad)
    assert p.returncode == 1
    run = last_run(db)
    assert run["status"] == "failed" and "refused the credentials" in run["errors"], run
    assert "xyzzy" not in p.stdout + p.stderr + run["errors"]


def test_ldap_stopped_mid_sync_then_back(city, db, workdir):
    d = Daemon(db, workdir, sync_env(city, db, workdir))
    try:
        before_titles = psql(db, "SELECT string_agg(title_th, '|' ORDER BY username) FROM person "
                                 "WHERE username IN ('bma01001', 'bma01998')")
        set_attr(city, 1001, "title", "ผู้อำนวยการ")
        set_attr(city, 1998, "title", "ผู้อำนวยการ")
        active = active_synced(db)
        env = sync_env(city, db, workdir, sync_page_size=50)
        env["DIRECTORYD_SYNC_TEST_PAGE_DELAY_MS"] = "100"
        e = dict(os.environ)
        e.update(env)
        before = run_id(db)
        proc = subprocess.Popen([os.environ.get("DIRECTORYD_BIN", "build/directoryd"), "sync", "--once",
                                 "--full"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Stop the city LDAP once the run is reading (40 pages, 0.1 s apart).
        assert wait_for(lambda: psql(db, "SELECT count(*) FROM sync_run WHERE id > %d" % before) == "1",
                        timeout=20)[0]
        time.sleep(1.0)
        city.stop()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, out + err
        run = wait_run(db, before)
        assert run["status"] == "failed" and "nothing was changed" in run["errors"], run
        assert "dropped during the search" in run["errors"], run
        assert counts(run) == {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0, "skipped": 0}
        assert psql(db, "SELECT string_agg(title_th, '|' ORDER BY username) FROM person "
                        "WHERE username IN ('bma01001', 'bma01998')") == before_titles
        assert active_synced(db) == active

        # The daemon's run fails too, and it keeps serving.
        before = run_id(db)
        assert d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY)[0] == 202
        run = wait_run(db, before)
        assert run["status"] == "failed" and "city LDAP" in run["errors"]
        status, _, h = d.http.get("/healthz")
        assert status == 200 and h["sync"]["last_status"] == "failed" and h["sync"]["failures"] >= 1
        assert d.http.get("/v1/people", {"limit": 1}, key=ADMIN_KEY)[0] == 200

        # LDAP back: the retry (with backoff) succeeds.
        city.start()
        before = run_id(db)
        run, _ = wait_for(lambda: json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r WHERE "
                                                      "id > %d AND status = 'ok' LIMIT 1" % before) or "null"),
                          timeout=30, step=0.2)
        assert run and run["updated"] == 2, run
        assert psql(db, "SELECT string_agg(title_th, '|' ORDER BY username) FROM person "
                        "WHERE username IN ('bma01001', 'bma01998')") == "ผู้อำนวยการ|ผู้อำนวยการ"
    finally:
        if not city.pid:
            city.start()
        d.stop()


# ---- servers without RFC 4533 ----

def test_polling_fallback_without_syncprov(pg, workdir):
    plain = CityLdap(workdir, "nosync", syncprov=False)
    try:
        plain.add_ldif(staff_ldif(range(50)))
        # modifyTimestamp has one-second steps and a poll reads the newest second again:
        # make the newest entry the only one in its second.
        time.sleep(1.1)
        set_attr(plain, 0, "title", "ผู้อำนวยการ")
        url = pg()
        run_cli("migrate", env={"DIRECTORYD_DB": url})
        p = sync(plain, url, workdir, sync_mode="auto", sync_unit_map="")
        assert p.returncode == 0, p.stdout + p.stderr
        run = last_run(url)
        assert run["mode"] == "full" and run["created"] == 50
        assert psql(url, "SELECT mode, cookie IS NULL, watermark IS NOT NULL FROM sync_state") == "poll|t|t"
        time.sleep(1.1)
        set_attr(plain, 7, "telephoneNumber", "02 777 7777")
        p = sync(plain, url, workdir, sync_mode="auto", sync_unit_map="")
        assert p.returncode == 0, p.stdout + p.stderr
        run = last_run(url)
        assert run["mode"] == "poll" and run["updated"] == 1 and run["details"]["received"] == 2, run
        assert "02 777 7777" in ldap_contacts(url, person(url, "bma00007")["id"])
        ldap_delete(plain, [dn(8)])
        p = sync(plain, url, workdir, "--full", sync_mode="auto", sync_unit_map="")
        run = last_run(url)
        assert run["deactivated"] == 1 and person(url, "bma00008")["active"] is False
    finally:
        plain.stop()


# ---- TLS ----

def test_starttls_with_the_ca_file(pg, workdir):
    tls = CityLdap(workdir, "tls", syncprov=False)
    try:
        tls.add_ldif(staff_ldif(range(5)))
        cert, key = make_cert(workdir, "city-ldap")
        other, _ = make_cert(workdir, "someone-else")
        tls.stop()
        tls._run(["slapmodify", "-n0", "-F", os.path.join(tls.dir, "config")], stdin=(
            "dn: cn=config\nchangetype: modify\nadd: olcTLSCertificateFile\nolcTLSCertificateFile: %s\n-\n"
            "add: olcTLSCertificateKeyFile\nolcTLSCertificateKeyFile: %s\n" % (cert, key)))
        tls.start()
        url = pg()
        run_cli("migrate", env={"DIRECTORYD_DB": url})
        p = sync(tls, url, workdir, sync_starttls=1, sync_ca_file=other, sync_unit_map="", sync_mode="auto")
        assert p.returncode == 1
        assert "StartTLS" in last_run(url)["errors"], last_run(url)
        p = sync(tls, url, workdir, sync_starttls=1, sync_ca_file=cert, sync_unit_map="", sync_mode="auto")
        assert p.returncode == 0, p.stdout + p.stderr
        assert last_run(url)["created"] == 5
    finally:
        tls.stop()
