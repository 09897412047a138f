"""Staff sync after the city LDAP was rebuilt (issue 18, section 4): the same 500 staff in a
new slapd, so every entryUUID changed (as after a restore from LDIF or a move to another
directory server). The runs that follow are 'attention', not 'ok'; a dry run with relink
lists who would be re-linked; `directoryd sync --once --relink` moves each new identity to
the existing person, keeping memberships, roles and what coordinators added, each move
audited. One staff member's uid changed in the move (matched by e-mail), one left.

The tests share the slapds, the database and the daemon, and run in file order."""
import json
import re

import pytest

from conftest import ADMIN_KEY, Daemon, make_demo_db, psql, run_cli, wait_for
from slapd import BASE, CityLdap
from tcp_cut import CutRelay
from test_sync import COORD_KEY
from test_sync_refresh import KINDS, M, UNIT_MAP, UNITS, World, dn, staff_ldif

RENAMED, LEFT, COORD = 7, 9, 5  # stf0007 comes back as stf0007x; stf0009 does not come back


def units_ldif():
    return "\n".join("dn: ou=%s,ou=people,%s\nobjectClass: organizationalUnit\nou: %s\n"
                     % (u, BASE, u) for u in UNITS)


@pytest.fixture(scope="module")
def w(workdir, pg):
    city = CityLdap(workdir, "before-rebuild")
    city.add_ldif(units_ldif())
    city.add_ldif(staff_ldif(range(M)))
    relay = CutRelay(city.port)
    db = make_demo_db(pg, **{"it-coordinator": ("coordinator", COORD_KEY)})
    env = city.env(workdir)
    env.update({"DIRECTORYD_SYNC_URI": relay.uri, "DIRECTORYD_SYNC_MODE": "syncrepl",
                "DIRECTORYD_SYNC_INTERVAL_S": "3600", "DIRECTORYD_SYNC_UNIT_MAP": UNIT_MAP,
                "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT": "10", "DIRECTORYD_DB": db})
    d = Daemon(db, workdir, env)
    world = World("present", city, relay, db, d)
    world.env, world.workdir, world.old = env, workdir, city
    yield world
    d.stop()
    relay.stop()
    for c in (city, getattr(world, "new", None)):
        if c:
            c.stop()


def facts(db, pid):
    """Everything about person PID but its LDAP identity and row version."""
    return json.loads(psql(db, "SELECT dir_person_json(%d) - 'ldap_uuid' - 'ldap_dn' - 'version' "
                               "- 'updated_at' - 'username' - 'contacts' || jsonb_build_object("
                               "'manual', (SELECT jsonb_agg(value ORDER BY id) FROM contact_point "
                               "WHERE person_id = %d AND source = 'manual'))" % (pid, pid)))


def test_staff_synced_and_a_coordinator_adds_facts(w):
    run = w.wait_run(0)
    assert run["status"] == "ok" and run["created"] == M, run
    x = w.person("stf%04d" % COORD)
    org = int(psql(w.db, "SELECT id FROM organization WHERE ref = 'district-1006-welfare'"))
    # The run has committed; the daemon's model shows the person once it has followed it.
    seen, _ = wait_for(lambda: w.d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)[0] == 200)
    assert seen
    _, _, cur = w.d.http.get("/v1/people/%d" % x["id"], key=COORD_KEY)
    body = {"contacts": [{"kind": "line", "value": "stf5.bkk"}], "profession": "social_worker",
            "memberships": [{"organization": org, "team_role": "district_welfare",
                             "areas": ["1006"]}]}
    status, _, p = w.d.http.request("PATCH", "/v1/people/%d" % x["id"], key=COORD_KEY,
                                    headers={"Content-Type": "application/json",
                                             "If-Match": '"%d"' % cur["version"]},
                                    body=json.dumps(body).encode())
    assert status == 200, p
    w.before = {i: (w.person("stf%04d" % i), facts(w.db, w.person("stf%04d" % i)["id"]))
                for i in (COORD, RENAMED, 100, 499)}
    assert w.before[COORD][1]["profession"] == "social_worker"
    assert w.before[COORD][1]["manual"] == ["stf5.bkk"]


def test_rebuilt_ldap_is_refused_and_names_the_way_out(w):
    new = CityLdap(w.workdir, "after-rebuild")
    w.new = new
    new.add_ldif(units_ldif())
    kept = [i for i in range(M) if i not in (RENAMED, LEFT)]
    new.add_ldif(staff_ldif(kept))
    new.add_ldif(staff_ldif([RENAMED]).replace("stf%04d," % RENAMED, "stf%04dx," % RENAMED)
                 .replace("uid: stf%04d\n" % RENAMED, "uid: stf%04dx\n" % RENAMED))
    w.old.stop()
    w.relay.upstream = new.port
    w.city = new
    mark, seq, active = w.audit_mark(), w.seq(), w.active()
    # The new server names none of the old identities (a present phase): everyone would go.
    run = w.sync()
    assert run["status"] == "refused", run
    assert "would deactivate %d of %d" % (M, M) in run["errors"], run["errors"]
    assert "%d entries belong by username or e-mail to synced people with another LDAP " \
           "identity" % (M - 1) in run["errors"] and "relink" in run["errors"]
    cands = run["details"]["relink_candidates"]
    assert len(cands) == M - 1
    by = {c["username"]: c["by"] for c in cands}
    assert by["stf%04d" % RENAMED] == "email" and by["stf0100"] == "username"
    assert w.audit_mark() == mark and w.seq() == seq and w.active() == active
    # A plain dry run lists them too, and says what a run would do.
    run = w.sync(dry_run=True)
    assert run["status"] == "dry-run" and "would_be_refused" in run["details"]
    assert len(run["details"]["relink_candidates"]) == M - 1
    assert run["skipped"] == M - 1 and run["created"] == 0  # nobody created twice


def test_dry_run_with_relink_lists_the_moves(w):
    mark, seq = w.audit_mark(), w.seq()
    run = w.sync(dry_run=True, relink=True)
    assert run["status"] == "dry-run" and run["mode"] == "full", run
    assert (run["relinked"], run["deactivated"], run["created"], run["skipped"]) == (M - 1, 1, 0, 0)
    moved = {p["username"]: p for p in run["details"]["relinked"]}
    assert moved["stf%04dx" % RENAMED]["by"] == "email"
    assert moved["stf0100"]["old_uuid"] == w.before[100][0]["ldap_uuid"]
    assert [p["username"] for p in run["details"]["deactivated"]] == ["stf%04d" % LEFT]
    assert w.audit_mark() == mark and w.seq() == seq
    w.dry = run


def test_relink_keeps_the_people(w):
    mark = w.audit_mark()
    env = dict(w.env, DIRECTORYD_SYNC_URI=w.city.uri)
    p = run_cli("sync", "--once", "--relink", env=env, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    run = json.loads(psql(w.db, "SELECT row_to_json(r) FROM sync_run r ORDER BY id DESC LIMIT 1"))
    assert run["status"] == "ok" and run["trigger"] == "cli" and run["mode"] == "full", run
    assert {k: run[k] for k in KINDS} == {k: w.dry[k] for k in KINDS}
    assert sorted(p["uuid"] for p in run["details"]["relinked"]) == \
        sorted(p["uuid"] for p in w.dry["details"]["relinked"])
    # Each move audited, old identity before, new after.
    a = w.changes_since(mark)
    assert sorted(a["relink"]) == sorted(p["id"] for p in run["details"]["relinked"])
    assert a["deactivate"] == [w.person("stf%04d" % LEFT)["id"]]
    pid = w.before[100][0]["id"]
    old_new = psql(w.db, "SELECT before->>'ldap_uuid', after->>'ldap_uuid' FROM audit WHERE "
                         "action = 'relink' AND entity_id = '%d'" % pid)
    new_uuid = w.person("stf0100")["ldap_uuid"]
    assert old_new == "%s|%s" % (w.before[100][0]["ldap_uuid"], new_uuid)
    assert new_uuid != w.before[100][0]["ldap_uuid"]
    # Same people, same facts: memberships, team roles, what coordinators added.
    for i, (was, f) in w.before.items():
        uid = "stf%04dx" % i if i == RENAMED else "stf%04d" % i
        now = w.person(uid)
        assert now["id"] == was["id"] and now["active"], (i, now)
        assert facts(w.db, now["id"]) == f, i
    assert w.person("stf%04d" % LEFT)["active"] is False
    assert int(psql(w.db, "SELECT count(*) FROM person WHERE source = 'ldap'")) == M


def test_next_run_is_ok_again(w):
    mark, active = w.audit_mark(), w.active()
    run = w.sync()
    assert run["status"] == "ok" and run["mode"] == "syncrepl", run
    assert run["skipped"] == 0 and "relink_candidates" not in run["details"], run
    assert w.audit_mark() == mark and w.active() == active
    w.city.modify_ldif("dn: %s\nchangetype: modify\nreplace: title\ntitle: Director\n" % dn(100))
    run = w.sync()
    assert run["status"] == "ok" and run["updated"] == 1, run
    assert run["details"]["updated"][0]["id"] == w.before[100][0]["id"]


def copies_ldif(ids):
    return re.sub(r"^dn: uid=(stf\d+),ou=[^,]+,ou=people,", r"dn: uid=\1,ou=copies,ou=people,",
                  staff_ldif(ids), flags=re.M)


def test_many_skipped_is_attention_not_ok(w):
    # Someone copies 60 staff into a second OU: their usernames belong to other people, so
    # the run skips all it read. It applies what it can, but it is not "ok".
    dup = list(range(100, 160))
    w.city.add_ldif("dn: ou=copies,ou=people,%s\nobjectClass: organizationalUnit\nou: copies\n"
                    % BASE)
    w.city.add_ldif(copies_ldif(dup))
    mark = w.audit_mark()
    run = w.sync()
    assert run["status"] == "attention", run
    assert run["skipped"] == len(dup) and run["details"]["received"] == len(dup), run
    assert "%d of %d entries read were skipped" % (len(dup), len(dup)) in \
        run["details"]["attention"]
    assert "relink" not in run["details"]["attention"]  # the old identities are still there
    assert "belongs to person" in run["details"]["skipped"][0]["reason"]
    assert w.audit_mark() == mark
    h = w.d.http.get("/healthz")[2]["sync"]
    assert h["last_status"] == "attention" and h["last_counts"]["skipped"] == len(dup)
    assert "were skipped" in h["last_message"]
    status, _, page = w.d.http.get("/v1/admin/sync/runs", {"limit": 1}, key=ADMIN_KEY)
    assert status == 200 and page["items"][0]["status"] == "attention"
    w.delete([line[4:] for line in copies_ldif(dup).splitlines() if line.startswith("dn: ")])
    run = w.sync()
    assert run["status"] == "ok" and run["skipped"] == 0, run
