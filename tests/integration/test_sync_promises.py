"""Staff-sync promises of README's "Staff sync from the city LDAP" that no other test held
(issue 16): a full sync that reads no entries is refused; a full sync every 12 intervals;
retries back off 2 s, 4 s ... up to the interval; persist mode holds deletions 2 s; a unit
move to an organisation the person already belongs to drops the LDAP membership; entries
that cannot be people are skipped and counted; the password file must be mode 0600.

Covered elsewhere (not repeated here): the HTTP dry run with deletions and its counts
(test_sync_refresh.py::test_dry_run_counts_what_the_real_run_does and
::test_mass_deletion_is_refused_kept_then_forced), skipped re-link candidates and the
attention status (test_sync_relink.py::test_many_skipped_is_attention_not_ok).

A small city LDAP (40 staff) and one database shared by the tests, in file order."""
import json
import os
import socket
import time

import pytest

from conftest import ADMIN_KEY, Daemon, make_demo_db, psql, run_cli, wait_for
from slapd import ADMIN_DN, ADMIN_PW, BASE, CityLdap

N = 40
COORD_KEY = "integration-coordinator-key-0123456789"
UNITS = ["welfare-1001", "welfare-1002", "cpu"]
UNIT_MAP = "welfare-1001=district-1001-welfare;welfare-1002=district-1002-welfare;" \
           "cpu=bma-child-protection-unit"


def dn(i):
    return "uid=prm%03d,ou=people,%s" % (i, BASE)


def staff_ldif(ids):
    return "\n".join("dn: %s\nobjectClass: inetOrgPerson\nuid: prm%03d\ncn: Staff %03d\nsn: Staff\n"
                     "title: Social Worker\nmail: prm%03d@bangkok.go.th\nou: %s\n"
                     % (dn(i), i, i, i, UNITS[i % len(UNITS)]) for i in ids)


@pytest.fixture(scope="module")
def city(workdir):
    c = CityLdap(workdir, "promises")
    c.add_ldif(staff_ldif(range(N)))
    yield c
    c.stop()


@pytest.fixture(scope="module")
def db(pg):
    return make_demo_db(pg, **{"it-coordinator": ("coordinator", COORD_KEY)})


def sync_env(city, workdir, db, **extra):
    e = city.env(workdir)
    e.update({"DIRECTORYD_DB": db, "DIRECTORYD_SYNC_UNIT_MAP": UNIT_MAP,
              "DIRECTORYD_SYNC_INTERVAL_S": "3600", "DIRECTORYD_SYNC_MODE": "syncrepl",
              "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT": "10"})
    e.update({("DIRECTORYD_" + k.upper()): str(v) for k, v in extra.items()})
    return e


def sync(city, workdir, db, *args, **extra):
    return run_cli("sync", "--once", *args, env=sync_env(city, workdir, db, **extra), check=False)


def last_run(db):
    return json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r ORDER BY id DESC LIMIT 1"))


def person(db, uid):
    row = psql(db, "SELECT row_to_json(p) FROM person p WHERE username = '%s'" % uid)
    return json.loads(row) if row else None


def active(db):
    return int(psql(db, "SELECT count(*) FROM person WHERE source = 'ldap' AND active"))


def test_first_full_sync(city, workdir, db):
    p = sync(city, workdir, db)
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["mode"] == "full" and run["status"] == "ok" and run["created"] == N, run
    assert active(db) == N


def test_full_sync_that_reads_no_entries_is_refused(city, workdir, db):
    # A filter that matches nobody (a typo in the config): even with the percentage limit
    # off (100 %), the run refuses to deactivate everyone and says why.
    seq = psql(db, "SELECT max(seq) FROM change_log")
    p = sync(city, workdir, db, "--full", sync_filter="(uid=nobody-by-this-name)",
             sync_max_deactivate_pct=100)
    assert p.returncode == 3, p.stdout + p.stderr
    run = last_run(db)
    assert run["status"] == "refused", run
    assert "returned no entries" in run["errors"] and "nobody-by-this-name" in run["errors"], run
    assert (run["deactivated"], run["created"], run["updated"]) == (0, 0, 0), run
    assert active(db) == N and psql(db, "SELECT max(seq) FROM change_log") == seq


def test_full_sync_every_12_intervals(city, workdir, db):
    # With a 1-hour interval the full sync is due 12 hours after the last one.
    def last_full_ago(seconds):
        psql(db, "UPDATE sync_state SET last_full_at = now() - interval '%d seconds'" % seconds)
    last_full_ago(12 * 3600 - 120)
    assert sync(city, workdir, db).returncode == 0
    run = last_run(db)
    assert run["mode"] == "syncrepl" and run["status"] == "ok", run
    last_full_ago(12 * 3600 + 5)
    assert sync(city, workdir, db).returncode == 0
    run = last_run(db)
    assert run["mode"] == "full" and run["status"] == "ok" and run["unchanged"] == N, run
    # The full run is the new reference point: the next run is incremental again.
    assert sync(city, workdir, db).returncode == 0
    assert last_run(db)["mode"] == "syncrepl"


def test_entries_that_cannot_be_people_are_skipped_and_counted(city, workdir, db):
    # An account entry without cn or displayName, read by a filter that takes it in.
    city.add_ldif("dn: uid=svc-printer,ou=people,%s\nobjectClass: account\nuid: svc-printer\n" % BASE)
    try:
        p = sync(city, workdir, db, "--full",
                 sync_filter="(|(objectClass=inetOrgPerson)(objectClass=account))")
        assert p.returncode == 0, p.stdout + p.stderr
        run = last_run(db)
        assert run["status"] == "ok" and run["skipped"] == 1 and run["created"] == 0, run
        assert run["unchanged"] == N and run["details"]["received"] == N + 1, run
        assert run["details"]["skipped"] == [
            {"dn": "uid=svc-printer,ou=people,%s" % BASE, "reason": "no cn or displayName"}]
        assert person(db, "svc-printer") is None
    finally:
        city._run(["ldapdelete", "-x", "-H", city.uri, "-D", ADMIN_DN, "-w", ADMIN_PW,
                   "uid=svc-printer,ou=people," + BASE])


def test_unit_move_to_an_organisation_the_person_belongs_to(city, workdir, db):
    # prm000 is in welfare-1001 (LDAP membership); a coordinator also put them, with a
    # team role, in district-1002-welfare. LDAP then moves them to welfare-1002: the LDAP
    # membership is dropped, the coordinator's stays, nothing is doubled.
    x = person(db, "prm000")
    org1 = int(psql(db, "SELECT id FROM organization WHERE ref = 'district-1001-welfare'"))
    org2 = int(psql(db, "SELECT id FROM organization WHERE ref = 'district-1002-welfare'"))
    d = Daemon(db, workdir, sync_env(city, workdir, db, sync_mode="off"))
    try:
        ok, _ = wait_for(lambda: d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)[0] == 200)
        assert ok
        _, _, cur = d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)
        body = {"memberships": [{"organization": org2, "team_role": "district_welfare",
                                 "areas": ["1002"]}]}
        status, _, p = d.http.request("PATCH", "/v1/people/%d" % x["id"], key=COORD_KEY,
                                      headers={"Content-Type": "application/json",
                                               "If-Match": '"%d"' % cur["version"]},
                                      body=json.dumps(body).encode())
        assert status == 200, p
    finally:
        d.stop()
    members = "SELECT string_agg(organization_id || ':' || source || ':' || coalesce(team_role, '-'), " \
              "',' ORDER BY source) FROM membership WHERE person_id = %d" % x["id"]
    # The list replaced every membership; the next run gives back the LDAP unit's.
    assert psql(db, members) == "%d:manual:district_welfare" % org2
    assert sync(city, workdir, db, "--full").returncode == 0
    assert psql(db, members) == "%d:ldap:-,%d:manual:district_welfare" % (org1, org2)
    city.modify_ldif("dn: %s\nchangetype: modify\nreplace: ou\nou: welfare-1002\n" % dn(0))
    p = sync(city, workdir, db)
    assert p.returncode == 0, p.stdout + p.stderr
    run = last_run(db)
    assert run["status"] == "ok" and run["updated"] == 1, run
    assert run["details"]["updated"][0]["unit"] == "welfare-1002", run
    assert psql(db, members) == "%d:manual:district_welfare" % org2
    assert psql(db, "SELECT action FROM audit WHERE entity = 'person' AND entity_id = '%d' "
                    "ORDER BY id DESC LIMIT 1" % x["id"]) == "move"
    # The next run changes nothing (no LDAP membership comes back).
    assert sync(city, workdir, db).returncode == 0
    run = last_run(db)
    assert run["updated"] == 0 and psql(db, members) == "%d:manual:district_welfare" % org2, run


def test_persist_holds_deletions_two_seconds(city, workdir, db):
    d = Daemon(db, workdir, sync_env(city, workdir, db, sync_mode="persist"))
    try:
        ok, _ = wait_for(lambda: "persistent" in d.http.get("/healthz")[2]["sync"]["last_message"],
                         timeout=20)
        assert ok, d.read_log()[-3000:]
        time.sleep(0.5)  # the refresh phase

        def deactivated():
            return person(db, "prm005")["active"] is False

        def titled():
            return person(db, "prm006")["title_th"] == "Senior Social Worker"
        t0 = time.time()
        city._run(["ldapdelete", "-x", "-H", city.uri, "-D", ADMIN_DN, "-w", ADMIN_PW, dn(5)])
        city.modify_ldif("dn: %s\nchangetype: modify\nreplace: title\ntitle: Senior Social Worker\n"
                         % dn(6))
        # A change shows at once; the deletion is held (judged with what follows) ...
        assert wait_for(titled, timeout=5, step=0.02)[0]
        assert not deactivated(), "the deletion was not held: %.2f s" % (time.time() - t0)
        time.sleep(max(0.0, 0.9 - (time.time() - t0)))
        assert not deactivated(), "the deletion was not held: %.2f s" % (time.time() - t0)
        # ... and applied about 2 s after it arrived.
        ok, _ = wait_for(deactivated, timeout=5, step=0.02)
        took = time.time() - t0
        assert ok and took < 3.5, took
        print("persist: deletion applied after %.2f s" % took)
    finally:
        d.stop()


def test_failed_runs_back_off_up_to_the_interval(workdir, db):
    # The city LDAP is unreachable: runs fail and are retried after 2 s, 4 s, then the
    # interval (5 s) caps the 8 s.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    port = hole.getsockname()[1]
    hole.close()  # nobody listens: connections are refused at once
    pwfile = os.path.join(workdir, "backoff.pw")
    with open(pwfile, "w") as f:
        f.write("secret\n")
    os.chmod(pwfile, 0o600)
    before = int(psql(db, "SELECT coalesce(max(id), 0) FROM sync_run"))
    d = Daemon(db, workdir, {"DIRECTORYD_SYNC_URI": "ldap://127.0.0.1:%d" % port,
                             "DIRECTORYD_SYNC_BINDDN": "cn=directoryd,dc=city",
                             "DIRECTORYD_SYNC_PASSWORD_FILE": pwfile, "DIRECTORYD_SYNC_BASE": BASE,
                             "DIRECTORYD_SYNC_MODE": "syncrepl", "DIRECTORYD_SYNC_INTERVAL_S": "5"})
    try:
        q = "SELECT string_agg(extract(epoch FROM started_at)::text, ',' ORDER BY id) FROM sync_run " \
            "WHERE id > %d AND status = 'failed'" % before
        ok, _ = wait_for(lambda: len((psql(db, q) or "").split(",")) >= 4, timeout=25, step=0.1)
        assert ok, d.read_log()[-3000:]
        starts = [float(x) for x in psql(db, q).split(",")][:4]
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        # The schedule counts whole seconds: a wait of W s lasts between W-1 and W s.
        assert 1.0 <= gaps[0] <= 2.6 and 3.0 <= gaps[1] <= 4.6 and 4.0 <= gaps[2] <= 5.6, gaps
        assert "cannot reach the city LDAP" in last_run(db)["errors"]
        _, _, h = d.http.get("/healthz")
        assert h["sync"]["last_status"] == "failed" and h["sync"]["failures"] >= 4, h["sync"]
        assert "retrying in 4 s (failure 2)" in d.read_log()
    finally:
        d.stop()


def test_password_file_readable_by_others_is_refused(city, workdir, db):
    # The bind password's file must be mode 0600 (or stricter): one others can read is
    # refused with a clear message, before anything is sent to the city LDAP.
    pwfile = os.path.join(workdir, "loose.pw")
    with open(pwfile, "w") as f:
        f.write(open(city.env(workdir)["DIRECTORYD_SYNC_PASSWORD_FILE"]).read())
    secret = open(pwfile).read().strip()
    for mode in (0o644, 0o640, 0o604):
        os.chmod(pwfile, mode)
        p = sync(city, workdir, db, sync_password_file=pwfile)
        assert p.returncode == 1, (oct(mode), p.stdout + p.stderr)
        run = last_run(db)
        assert run["status"] == "failed", run
        assert pwfile in run["errors"] and "0600" in run["errors"], run
        assert "%04o" % mode in run["errors"], run
        assert secret not in p.stdout + p.stderr + run["errors"]
    for mode in (0o600, 0o400):
        os.chmod(pwfile, mode)
        p = sync(city, workdir, db, sync_password_file=pwfile)
        assert p.returncode == 0, (oct(mode), p.stdout + p.stderr)
        assert last_run(db)["status"] == "ok"
