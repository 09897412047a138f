"""Staff sync that tells the truth at once (issue 18, sections 1 and 2): the RFC 4533 refresh
applied completely, and every run's report equal to what changed.

Each test runs twice, against a private slapd with syncprov:
  present  no session log: a refresh names every entry still there (present phase, RFC 4533
           3.3.1), and the people it does not name are the deleted ones;
  delete   syncprov-sessionlog: a refresh names the deleted entries (delete phase, 3.3.2).
500 BMA staff live in unit OUs (ou=welfare-1001 ... under ou=people); the unit map gives the
unit from the DN. A daemon syncs them in syncrepl mode through a relay that can drop the
connection part-way; every run is asked for over HTTP, and after each one the test checks
that the run's counts and lists are the people whose rows changed that way (the sync's
audit rows), and that GET /v1/admin/sync/runs and /healthz say the same numbers.

The tests of one kind share the slapd, the database and the daemon, and run in file order."""
import base64
import json
import time

import pytest

from conftest import ADMIN_KEY, Daemon, make_demo_db, psql, wait_for
from slapd import ADMIN_DN, ADMIN_PW, BASE, CityLdap
from tcp_cut import CutRelay

M = 500
UNITS = ["welfare-10%02d" % d for d in range(1, 11)]
UNIT_MAP = ";".join("welfare-10%02d=district-10%02d-welfare" % (d, d) for d in range(1, 11))
FIRST = ["สมชาย", "สมศรี", "วิไล", "ประเสริฐ", "กนกพร", "ธนพล", "สุภาพร", "อนุชา"]
LAST = ["ใจดี", "สุขสวัสดิ์", "ทองดี", "ศรีสุข", "วงศ์ใหญ่", "แก้วมณี", "บุญมา"]
KINDS = ("created", "updated", "reactivated", "relinked", "deactivated", "unchanged", "skipped")


def attr(name, value):
    try:
        value.encode("ascii")
        return "%s: %s" % (name, value)
    except UnicodeEncodeError:
        return "%s:: %s" % (name, base64.b64encode(value.encode()).decode())


def unit(i):
    return UNITS[i % len(UNITS)]


def dn(i, u=None, uid=None):
    return "uid=%s,ou=%s,ou=people,%s" % (uid or "stf%04d" % i, u or unit(i), BASE)


def staff_ldif(ids, uuids=None):
    """LDIF of staff IDS; UUIDS ({i: entryUUID}) restores entries with their old identity
    (an LDIF restore: ldapadd with the Relax Rules control)."""
    out = []
    for i in ids:
        lines = ["dn: " + dn(i), "objectClass: inetOrgPerson", "uid: stf%04d" % i,
                 attr("cn", "%s %s" % (FIRST[i % len(FIRST)], LAST[i % len(LAST)])),
                 attr("sn", LAST[i % len(LAST)]), attr("title", "นักสังคมสงเคราะห์"),
                 "mail: stf%04d@bangkok.go.th" % i]
        if uuids and i in uuids:
            lines.append("entryUUID: " + uuids[i])
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


class World:
    """One kind's slapd, relay, database and daemon, with the checks every run gets."""

    def __init__(self, kind, city, relay, db, daemon):
        self.kind, self.city, self.relay, self.db, self.d = kind, city, relay, db, daemon

    def ldap(self, tool, text, *args):
        self.city._run([tool, "-x", "-H", self.city.uri, "-D", ADMIN_DN, "-w", ADMIN_PW, *args],
                       stdin=text)

    def delete(self, dns):
        self.ldap("ldapdelete", "\n".join(dns) + "\n")

    def modify(self, i, name, value, u=None):
        self.city.modify_ldif("dn: %s\nchangetype: modify\nreplace: %s\n%s\n"
                              % (dn(i, u), name, attr(name, value)))

    def person(self, uid):
        row = psql(self.db, "SELECT row_to_json(p) FROM person p WHERE username = '%s'" % uid)
        return json.loads(row) if row else None

    def active(self):
        return int(psql(self.db, "SELECT count(*) FROM person WHERE source = 'ldap' AND active"))

    def audit_mark(self):
        return int(psql(self.db, "SELECT coalesce(max(id), 0) FROM audit"))

    def seq(self):
        return psql(self.db, "SELECT max(seq) FROM change_log")

    def cookie(self):
        return psql(self.db, "SELECT encode(cookie, 'hex') FROM sync_state")

    def run_id(self):
        return int(psql(self.db, "SELECT coalesce(max(id), 0) FROM sync_run"))

    def wait_run(self, after, timeout=60):
        def done():
            row = psql(self.db, "SELECT row_to_json(r) FROM sync_run r WHERE id > %d AND "
                                "status <> 'running' ORDER BY id LIMIT 1" % after)
            return json.loads(row) if row else None
        run, _ = wait_for(done, timeout=timeout, step=0.1)
        assert run, "no sync run finished:\n" + self.d.read_log()[-3000:]
        return self.agrees(run)

    def agrees(self, run):
        """GET /v1/admin/sync/runs and /healthz show the run with the same numbers."""
        status, _, page = self.d.http.get("/v1/admin/sync/runs", {"limit": 1}, key=ADMIN_KEY)
        assert status == 200 and page["items"][0]["id"] == run["id"], page
        item = page["items"][0]
        assert {k: item[k] for k in KINDS} == {k: run[k] for k in KINDS}
        assert item["status"] == run["status"] and item["details"] == run["details"]
        h, _ = wait_for(lambda: (lambda x: x if x["last_run"] == run["id"] else None)(
            self.d.http.get("/healthz")[2]["sync"]), timeout=5)
        assert h, self.d.http.get("/healthz")[2]
        assert h["last_status"] == run["status"] and h["last_counts"] == {k: run[k] for k in KINDS}
        return run

    def sync(self, **flags):
        before = self.run_id()
        body = json.dumps(flags).encode() if flags else None
        status, _, acc = self.d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY, body=body,
                                             headers={"Content-Type": "application/json"})
        assert status == 202, acc
        return self.wait_run(before)

    def changes_since(self, mark):
        """The sync's audit rows after MARK: {action: [person ids]}."""
        rows = psql(self.db, "SELECT action, entity_id FROM audit WHERE actor = 'sync' AND "
                             "entity = 'person' AND id > %d ORDER BY id" % mark)
        out = {}
        for line in rows.splitlines():
            action, pid = line.split("|")
            out.setdefault(action, []).append(int(pid))
        return out

    def truthful(self, run, mark, unchanged):
        """RUN's counts and lists are exactly the people whose rows changed after MARK."""
        a = self.changes_since(mark)
        ids = {k: sorted(p["id"] for p in run["details"][k])
               for k in ("created", "updated", "reactivated", "deactivated")}
        want = {"created": sorted(a.get("create", [])),
                "updated": sorted(a.get("update", []) + a.get("move", [])),
                "reactivated": sorted(a.get("reactivate", [])),
                "deactivated": sorted(a.get("deactivate", []))}
        assert ids == want, (run, a)
        assert sum(len(v) for v in a.values()) == sum(len(v) for v in want.values()), a
        for k in want:
            assert run[k] == len(want[k]), (k, run)
        assert run["unchanged"] == unchanged, run
        assert run["skipped"] == 0, run

    def expect_phase(self, run):
        """The phase this kind's slapd uses for a refresh after changes."""
        assert run["mode"] == "syncrepl", run
        assert run["details"]["phase"] == self.kind, run["details"]

    def unchanged_after(self, run, active_before):
        """What `unchanged` must be: in a present phase every active person still in LDAP
        was named (those not changed are unchanged); in a delete phase only what was sent."""
        if run["details"]["phase"] in ("present", "present+delete", "full"):
            return active_before - run["updated"] - run["deactivated"]
        return 0


@pytest.fixture(scope="module", params=["present", "delete"])
def w(request, workdir, pg):
    kind = request.param
    city = CityLdap(workdir, "refresh-" + kind, sessionlog=100000 if kind == "delete" else 0,
                    reloadhint=True)
    city.add_ldif("\n".join("dn: ou=%s,ou=people,%s\nobjectClass: organizationalUnit\nou: %s\n"
                            % (u, BASE, u) for u in UNITS))
    city.add_ldif(staff_ldif(range(M)))
    relay = CutRelay(city.port)
    db = make_demo_db(pg)
    env = city.env(workdir)
    env.update({"DIRECTORYD_SYNC_URI": relay.uri, "DIRECTORYD_SYNC_MODE": "syncrepl",
                "DIRECTORYD_SYNC_INTERVAL_S": "3600", "DIRECTORYD_SYNC_UNIT_MAP": UNIT_MAP,
                "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT": "10"})
    d = Daemon(db, workdir, env)
    world = World(kind, city, relay, db, d)
    world.env, world.workdir = env, workdir
    yield world
    d.stop()
    relay.stop()
    city.stop()


def test_first_run_reads_everyone(w):
    run = w.wait_run(0)
    assert run["status"] == "ok" and run["mode"] == "full", run
    w.truthful(run, 0, unchanged=0)
    assert run["created"] == M and w.active() == M
    x = w.person("stf0007")
    org = psql(w.db, "SELECT o.ref FROM membership m JOIN organization o ON o.id = "
                     "m.organization_id WHERE m.person_id = %d AND m.source = 'ldap'" % x["id"])
    assert org == "district-1008-welfare"  # the unit from the DN
    assert w.cookie()


def test_added_person_is_created(w):
    mark, active = w.audit_mark(), w.active()
    w.city.add_ldif(staff_ldif([M]))
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["created"] == 1 and run["details"]["created"][0]["username"] == "stf%04d" % M
    if w.kind == "present":
        assert run["details"]["presents"] >= M  # every unchanged entry was named
        assert run["unchanged"] == M


def test_modified_person_is_updated(w):
    mark, active = w.audit_mark(), w.active()
    w.modify(1, "title", "หัวหน้าฝ่ายพัฒนาชุมชน")
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["updated"] == 1 and w.person("stf0001")["title_th"] == "หัวหน้าฝ่ายพัฒนาชุมชน"


def test_renamed_entry_is_the_same_person(w):
    mark, active = w.audit_mark(), w.active()
    before = w.person("stf0002")
    w.city.modify_ldif("dn: %s\nchangetype: modrdn\nnewrdn: uid=stf0002r\ndeleteoldrdn: 1\n" % dn(2))
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert (run["created"], run["updated"], run["deactivated"]) == (0, 1, 0), run
    after = w.person("stf0002r")
    assert after["id"] == before["id"] and after["ldap_uuid"] == before["ldap_uuid"]
    assert after["active"] and after["ldap_dn"] == dn(2, uid="stf0002r")
    assert w.person("stf0002") is None


def test_moved_entry_moves_the_membership(w):
    mark, active = w.audit_mark(), w.active()
    x = w.person("stf0003")
    w.city.modify_ldif("dn: %s\nchangetype: modrdn\nnewrdn: uid=stf0003\ndeleteoldrdn: 1\n"
                       "newsuperior: ou=welfare-1009,ou=people,%s\n" % (dn(3), BASE))
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["updated"] == 1 and run["details"]["updated"][0]["unit"] == "welfare-1009", run
    assert psql(w.db, "SELECT o.ref FROM membership m JOIN organization o ON o.id = "
                      "m.organization_id WHERE m.person_id = %d AND m.source = 'ldap'"
                % x["id"]) == "district-1009-welfare"
    assert w.changes_since(mark) == {"move": [x["id"]]}


def test_deleted_person_is_deactivated_at_once(w):
    mark, active = w.audit_mark(), w.active()
    x = w.person("stf0004")
    w.delete([dn(4)])
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["deactivated"] == 1 and run["details"]["deactivated"][0]["username"] == "stf0004"
    assert w.person("stf0004")["active"] is False and w.active() == active - 1
    # Told by omission (present phase) or by name (delete phase).
    assert run["details"]["server_deleted"] == (0 if w.kind == "present" else 1), run["details"]
    assert psql(w.db, "SELECT count(*) FROM membership WHERE person_id = %d" % x["id"]) == "1"


def test_restored_entry_is_reactivated(w):
    mark, active = w.audit_mark(), w.active()
    x = w.person("stf0004")
    w.ldap("ldapadd", staff_ldif([4], {4: x["ldap_uuid"]}), "-e", "relax")
    run = w.sync()
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert (run["created"], run["updated"], run["reactivated"]) == (0, 0, 1), run
    y = w.person("stf0004")
    assert y["active"] and y["id"] == x["id"]
    assert run["details"]["reactivated"][0]["id"] == x["id"]


def test_dry_run_counts_what_the_real_run_does(w):
    w.city.add_ldif(staff_ldif([M + 1, M + 2]))
    w.modify(10, "title", "นักจิตวิทยา")
    w.modify(11, "mail", "stf0011@bkk.go.th")
    w.delete([dn(12), dn(13)])
    w.city.modify_ldif("dn: %s\nchangetype: modrdn\nnewrdn: uid=stf0014r\ndeleteoldrdn: 1\n" % dn(14))
    mark, seq, cookie, active = w.audit_mark(), w.seq(), w.cookie(), w.active()
    dry = w.sync(dry_run=True)
    assert dry["status"] == "dry-run" and "would_be_refused" not in dry["details"], dry
    assert w.audit_mark() == mark and w.seq() == seq and w.cookie() == cookie
    real = w.sync()
    w.expect_phase(real)
    w.truthful(real, mark, unchanged=w.unchanged_after(real, active))
    assert {k: dry[k] for k in KINDS} == {k: real[k] for k in KINDS}
    assert {k: real[k] for k in ("created", "updated", "deactivated")} == \
        {"created": 2, "updated": 3, "deactivated": 2}
    for k in ("created", "updated", "deactivated"):
        assert sorted(p["uuid"] for p in dry["details"][k]) == \
            sorted(p["uuid"] for p in real["details"][k]), k


def test_mass_deletion_is_refused_kept_then_forced(w):
    active = w.active()
    gone = list(range(200, 200 + int(active * 0.4)))
    names = sorted("stf%04d" % i for i in gone)
    w.delete([dn(i) for i in gone])
    mark, seq, cookie = w.audit_mark(), w.seq(), w.cookie()
    for attempt in range(2):  # the cookie stays, so the next run sees the same deletion
        run = w.sync()
        assert run["status"] == "refused", run
        assert "would deactivate %d of %d" % (len(gone), active) in run["errors"], run
        assert sorted(p["username"] for p in run["details"]["would_deactivate_people"]) == names
        assert all(run[k] == 0 for k in KINDS), run
        assert w.audit_mark() == mark and w.seq() == seq and w.cookie() == cookie
        assert w.active() == active
    dry = w.sync(dry_run=True, force=True)
    assert dry["status"] == "dry-run" and dry["deactivated"] == len(gone)
    run = w.sync(force=True)
    assert run["status"] == "ok" and run["details"]["phase"] == w.kind, run
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["deactivated"] == len(gone) and w.active() == active - len(gone)
    assert {k: dry[k] for k in KINDS} == {k: run[k] for k in KINDS}
    assert w.cookie() != cookie


def test_connection_dropped_mid_refresh_applies_nothing(w):
    active = w.active()
    for i in range(400, 430):
        w.modify(i, "title", "พยาบาลวิชาชีพ")
    w.delete([dn(430), dn(431)])
    mark, seq, cookie = w.audit_mark(), w.seq(), w.cookie()
    w.relay.cut(3000)  # the bind's answer, then part of the refresh; the retries too
    run = w.sync()
    assert w.relay.cuts >= 1
    assert run["status"] == "failed" and "dropped during the search" in run["errors"], run
    assert "nothing was changed" in run["errors"]
    assert all(run[k] == 0 for k in KINDS), run
    assert w.audit_mark() == mark and w.seq() == seq and w.cookie() == cookie
    assert w.active() == active and w.person("stf0400")["title_th"] != "พยาบาลวิชาชีพ"
    # The connection back: the daemon's retry (backoff) sees the whole refresh again.
    failed = run["id"]
    w.relay.heal()
    ok, _ = wait_for(lambda: psql(w.db, "SELECT row_to_json(r) FROM sync_run r WHERE id > %d "
                                        "AND status = 'ok' LIMIT 1" % failed), timeout=30, step=0.2)
    assert ok, w.d.read_log()[-3000:]
    run = w.agrees(json.loads(ok))
    assert run["trigger"] == "schedule"
    w.expect_phase(run)
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert (run["updated"], run["deactivated"]) == (30, 2), run
    assert w.person("stf0400")["title_th"] == "พยาบาลวิชาชีพ" and w.active() == active - 2


def test_persist_refresh_applies_what_happened_while_away(w):
    active = w.active()
    mark = w.audit_mark()
    w.delete([dn(440)])
    w.modify(441, "title", "ครูข้างถนน")
    env = dict(w.env, DIRECTORYD_SYNC_MODE="persist", DIRECTORYD_SYNC_URI=w.city.uri)
    before = w.run_id()
    d = Daemon(w.db, w.workdir, env)
    try:
        ok, _ = wait_for(lambda: w.person("stf0440")["active"] is False and
                         w.person("stf0441")["title_th"] == "ครูข้างถนน", timeout=20)
        assert ok, d.read_log()[-3000:]
    finally:
        d.stop()
    run = json.loads(psql(w.db, "SELECT row_to_json(r) FROM sync_run r WHERE id > %d AND "
                                "mode = 'persist' ORDER BY id LIMIT 1" % before))
    assert run["status"] == "ok", run
    w.truthful(run, mark, unchanged=run["unchanged"])
    assert (run["updated"], run["deactivated"]) == (1, 1), run
    assert w.active() == active - 1


def test_refresh_required_reads_everything(w):
    # Every entry changed since the cookie (description is not synced) and slapd restarted:
    # no entry's CSN covers the stored cookie any more, so syncprov (reloadhint) answers
    # e-syncRefreshRequired.
    w.modify(450, "title", "ผู้อำนวยการ")
    p = w.city._run(["ldapsearch", "-x", "-LLL", "-H", w.city.uri, "-D", ADMIN_DN, "-w", ADMIN_PW,
                     "-b", BASE, "1.1"])
    dns = [line[4:] for line in p.splitlines() if line.startswith("dn: ")]
    w.city.modify_ldif("".join("dn: %s\nchangetype: modify\nreplace: description\n"
                               "description: restored\n\n" % x for x in dns))
    w.city.stop()
    w.city.start()
    mark, active, cookie = w.audit_mark(), w.active(), w.cookie()
    run = w.sync()
    assert run["status"] == "ok" and run["mode"] == "full", run
    assert run["details"]["refresh_required"] is True, run["details"]
    w.truthful(run, mark, unchanged=active - 1)
    assert run["updated"] == 1 and w.person("stf0450")["title_th"] == "ผู้อำนวยการ"
    assert w.cookie() and w.cookie() != cookie
    # The new cookie works: the next run is incremental again and finds nothing.
    mark = w.audit_mark()
    run = w.sync()
    assert run["status"] == "ok" and run["mode"] == "syncrepl", run
    w.truthful(run, mark, unchanged=w.unchanged_after(run, active))
    assert run["updated"] + run["created"] + run["deactivated"] == 0
