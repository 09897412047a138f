"""Staff sync from Active Directory (issue 18 §3), against a real Samba AD DC from Debian's
packages, provisioned for this run into a temporary directory.

A DC answers LDAP on the standard ports (389, 636), which the machine may already use, so
the tests run in a network namespace of their own: run normally, this file has one test that
starts pytest again on this same file under `unshare -n` (its own loopback, nothing else),
where the Samba DC, a private PostgreSQL and directoryd all run; the inner run's tests are
the ones below. It skips, saying why, only when it cannot: no Samba packages (scripts/test
installs them), or no right to make a network namespace (not root).

directoryd syncs in `poll` mode (AD has no RFC 4533): a paged full read within AD's
MaxPageSize, then what changed since the highest uSNChanged seen on that DC (its
invocationId remembered), deletions found as tombstones with the Show Deleted control,
disabled accounts (userAccountControl 0x2) deactivated and re-enabled ones reactivated;
identity is objectGUID, the username sAMAccountName, Thai names in displayName. Staff log in
with their AD password, by sAMAccountName or userPrincipalName. The tests run in file order
on one DC and one database.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import ADMIN_KEY, Daemon, make_cert, make_demo_db, psql, run_cli, wait_for

INNER = os.environ.get("DIRECTORYD_AD_NETNS") == "1"
REALM, DOMAIN = "BANGKOK.TEST", "BANGKOK"
NC = "DC=bangkok,DC=test"
STAFF = "OU=Staff," + NC
ADMIN_UPN, ADMIN_PW = "Administrator@bangkok.test", "Adm1n-Pass-2026!"
UNITS = ["Welfare-1007", "Welfare-1008", "CPU"]
UNIT_MAP = "Welfare-1007=district-1007-welfare;Welfare-1008=district-1008-welfare;" \
           "CPU=bma-child-protection-unit"
N = 1100  # more than AD's MaxPageSize (1,000): the full read must page
NAMES = [("สมชาย ใจดี", "Somchai Jaidee"), ("วิไล ทองดี", "Wilai Thongdee"),
         ("ประเสริฐ ศรีสุข", "Prasoet Srisuk"), ("กนกพร บุญมา", "Kanokphon Boonma")]
USER_PW = "Staff-Pass-2569!"
ENABLED, DISABLED = 512 | 32, 512 | 32 | 2  # NORMAL_ACCOUNT | PASSWD_NOTREQD (| ACCOUNTDISABLE)


def sam(i):
    return "ad%05d" % i


def user_dn(i, unit=None):
    return "CN=%s,OU=%s,%s" % (sam(i), unit or UNITS[i % len(UNITS)], STAFF)


# ---- outside: re-run this file in a network namespace of its own ----

@pytest.mark.skipif(INNER, reason="the inner run's tests are below")
def test_active_directory_in_a_network_namespace_of_its_own():
    missing = [c for c in ("samba", "samba-tool", "unshare", "ip") if not shutil.which(c)]
    # Since Debian's samba 4.17.12+dfsg-0+deb12u4 the AD schema files provisioning reads are a
    # package of their own (only recommended by samba, so --no-install-recommends left it out).
    if not os.path.isdir("/usr/share/samba/setup/ad-schema"):
        missing.append("samba-ad-provision")
    if missing and os.environ.get("DIRECTORYD_REQUIRE_AD") == "1":
        pytest.fail("%s not installed: scripts/test installs Debian's samba, samba-ad-dc and "
                    "samba-ad-provision and iproute2 (DIR_AD_PACKAGES)" % ", ".join(missing))
    if missing:
        pytest.skip("Samba AD DC tests skipped: %s not installed (scripts/test installs Debian's "
                    "samba and samba-ad-dc)" % ", ".join(missing))
    if os.geteuid() != 0:
        pytest.skip("Samba AD DC tests skipped: a network namespace of their own needs root")
    here = os.path.abspath(__file__)
    env = dict(os.environ, DIRECTORYD_AD_NETNS="1")
    p = subprocess.run(["unshare", "-n", "--", "sh", "-c",
                        'ip link set lo up && exec "$0" -m pytest -q -rs --tb=short -p no:cacheprovider '
                        '-k "not network_namespace_of_its_own" "$1"',
                        sys.executable, here], env=env, capture_output=True, text=True,
                       timeout=900, cwd=os.path.dirname(here))
    print(p.stdout[-20000:], p.stderr[-5000:])
    assert p.returncode == 0, "the Active Directory tests failed (inner run):\n%s\n%s" % (
        p.stdout[-20000:], p.stderr[-5000:])
    assert " passed" in p.stdout and " skipped" not in p.stdout, p.stdout[-3000:]




# ---- inside: a Samba AD DC ----

class SambaDC:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "samba-dc")
        self.cert, self.key = make_cert(workdir, "samba-dc")
        os.chmod(self.key, 0o600)
        t0 = time.time()
        subprocess.run(["samba-tool", "domain", "provision", "--realm=" + REALM,
                        "--domain=" + DOMAIN, "--server-role=dc", "--dns-backend=NONE",
                        "--adminpass=" + ADMIN_PW, "--targetdir=" + self.dir,
                        "--option=interfaces=lo", "--option=bind interfaces only=yes",
                        "--option=tls enabled=yes", "--option=tls keyfile=" + self.key,
                        "--option=tls certfile=" + self.cert, "--option=tls cafile=",
                        # only what the tests use: no DNS, no printing, no file shares
                        "--option=server services=-dns -smb -nbt -winbindd -kdc",
                        "--option=ldb:nosync=true",  # a throw-away DC: no fsync per change
                        ], check=True, capture_output=True, text=True, timeout=300)
        self.provision_s = time.time() - t0
        self.log = open(os.path.join(workdir, "samba.log"), "wb")
        self.proc = subprocess.Popen(["samba", "-i", "-s", os.path.join(self.dir, "etc", "smb.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        ok, _ = wait_for(lambda: self.ldap(["ldapsearch", "-LLL", "-b", "", "-s", "base",
                                            "highestCommittedUSN"], check=False).returncode == 0,
                         timeout=60, step=0.3)
        assert ok, "the Samba DC did not answer LDAP"

    def env(self):
        return dict(os.environ, LDAPTLS_CACERT=self.cert)

    def ldap(self, args, stdin=None, check=True):
        """An OpenLDAP client tool against the DC over LDAPS, bound as Administrator."""
        p = subprocess.run([args[0], "-H", "ldaps://127.0.0.1", "-x", "-D", ADMIN_UPN, "-w", ADMIN_PW,
                            *args[1:]], input=stdin, capture_output=True, text=True,
                           env=self.env(), timeout=300)
        if check and p.returncode != 0:
            raise AssertionError("%s failed: %s%s" % (args[0], p.stdout, p.stderr))
        return p

    def add(self, ldif):
        self.ldap(["ldapadd", "-c"], stdin=ldif)

    def modify(self, ldif):
        self.ldap(["ldapmodify"], stdin=ldif)

    def delete(self, dns):
        self.ldap(["ldapdelete"], stdin="\n".join(dns) + "\n")

    def guid(self, dn):
        """objectGUID of DN rendered as a GUID (the first three fields little-endian)."""
        out = self.ldap(["ldapsearch", "-LLL", "-b", dn, "-s", "base", "objectGUID"]).stdout
        for line in out.splitlines():
            if line.startswith("objectGUID:: "):
                return str(uuid.UUID(bytes_le=base64.b64decode(line.split(" ", 1)[1])))
        raise AssertionError("no objectGUID for %s: %s" % (dn, out))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def b64(name, value):
    try:
        value.encode("ascii")
        return "%s: %s" % (name, value)
    except UnicodeEncodeError:
        return "%s:: %s" % (name, base64.b64encode(value.encode()).decode())


def user_ldif(i, uac=ENABLED, unit=None):
    th, en = NAMES[i % len(NAMES)]
    return "\n".join([
        "dn: " + user_dn(i, unit), "objectClass: user", "sAMAccountName: " + sam(i),
        "userPrincipalName: %s@bangkok.test" % sam(i),
        b64("displayName", "%s %d" % (th, i)), b64("givenName", th.split()[0]),
        b64("sn", th.split()[1]), b64("title", "นักสังคมสงเคราะห์"),
        "mail: %s@bangkok.go.th" % sam(i), "telephoneNumber: 02 100 %04d" % i,
        "userAccountControl: %d" % uac]) + "\n"


@pytest.fixture(scope="module")
def dc(workdir):
    d = SambaDC(workdir)
    ous = ["dn: %s\nobjectClass: organizationalUnit\n" % STAFF] + \
          ["dn: OU=%s,%s\nobjectClass: organizationalUnit\n" % (u, STAFF) for u in UNITS + ["Leavers"]] + \
          ["dn: OU=Elsewhere,%s\nobjectClass: organizationalUnit\n" % NC]
    d.add("\n".join(ous))
    t0 = time.time()
    d.add("\n".join(user_ldif(i) for i in range(N)))
    print("provisioned in %.1f s; %d users added in %.1f s" % (d.provision_s, N, time.time() - t0))
    yield d
    d.stop()


@pytest.fixture(scope="module")
def db(pg):
    return make_demo_db(pg)


def sync_env(dc, db, workdir, **extra):
    pw = os.path.join(workdir, "ad-sync.pw")
    with open(pw, "w") as f:
        f.write(ADMIN_PW)
    os.chmod(pw, 0o600)
    e = {"DIRECTORYD_DB": db, "DIRECTORYD_SYNC_URI": "ldaps://127.0.0.1",
         "DIRECTORYD_SYNC_CA_FILE": dc.cert, "DIRECTORYD_SYNC_BINDDN": ADMIN_UPN,
         "DIRECTORYD_SYNC_PASSWORD_FILE": pw, "DIRECTORYD_SYNC_BASE": STAFF,
         "DIRECTORYD_SYNC_FILTER": "(&(objectCategory=person)(objectClass=user))",
         "DIRECTORYD_SYNC_MODE": "poll", "DIRECTORYD_SYNC_UNIT_MAP": UNIT_MAP,
         "DIRECTORYD_SYNC_PAGE_SIZE": "1000", "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT": "10",
         "DIRECTORYD_SYNC_INTERVAL_S": "3600"}
    e.update({("DIRECTORYD_" + k.upper()): str(v) for k, v in extra.items()})
    return e


def sync(dc, db, workdir, *args, **extra):
    p = run_cli("sync", "--once", *args, env=sync_env(dc, db, workdir, **extra), check=False)
    run = last_run(db)
    return p, run


def last_run(db):
    return json.loads(psql(db, "SELECT row_to_json(r) FROM sync_run r ORDER BY id DESC LIMIT 1"))


def person(db, username):
    row = psql(db, "SELECT row_to_json(p) FROM person p WHERE username = '%s'" % username)
    return json.loads(row) if row else None


def counts(run):
    return {k: run[k] for k in ("created", "updated", "deactivated", "reactivated", "unchanged")}


def changed_since(db, t):
    """Audit rows by the sync since T, by action: what the database says changed."""
    rows = psql(db, "SELECT action, count(*) FROM audit WHERE actor = 'sync' AND at > '%s' "
                    "GROUP BY action ORDER BY action" % t)
    return dict((a, int(c)) for a, c in (r.split("|") for r in rows.splitlines() if r))


def now(db):
    return psql(db, "SELECT clock_timestamp()")


def active_synced(db):
    return int(psql(db, "SELECT count(*) FROM person WHERE source = 'ldap' AND active"))


def test_full_sync_pages_past_max_page_size_with_objectguid_and_thai_names(dc, db, workdir):
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert p.returncode == 0, p.stdout + p.stderr
    assert run["status"] == "ok" and run["mode"] == "full", run
    assert run["created"] == N and run["deactivated"] == 0, counts(run)
    assert run["details"]["received"] == N, run["details"]
    assert changed_since(db, t) == {"create": N}
    assert active_synced(db) == N
    p7 = person(db, sam(7))
    assert p7["name_th"] == "%s %d" % (NAMES[7 % 4][0], 7), p7
    assert p7["title_th"] == "นักสังคมสงเคราะห์"
    assert p7["ldap_uuid"] == dc.guid(user_dn(7)), "identity must be objectGUID as a GUID"
    org = psql(db, "SELECT o.ref FROM membership m JOIN organization o ON o.id = m.organization_id "
                   "WHERE m.person_id = %d AND m.source = 'ldap'" % p7["id"])
    assert org == "district-1008-welfare", org  # 7 % 3 = 1: OU=Welfare-1008
    st = psql(db, "SELECT mode || ' ' || watermark FROM sync_state")
    assert st.startswith("poll usn:"), st


def test_incremental_run_reads_only_what_changed_by_usn(dc, db, workdir):
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["mode"] == "poll", run
    assert run["details"]["received"] == 0 and counts(run) == dict(
        created=0, updated=0, deactivated=0, reactivated=0, unchanged=0), run
    dc.modify("dn: %s\nchangetype: modify\nreplace: telephoneNumber\ntelephoneNumber: 02 999 0011\n"
              % user_dn(11))
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["mode"] == "poll", run
    assert run["details"]["received"] == 1 and run["updated"] == 1, run
    assert changed_since(db, t) == {"update": 1}
    phones = psql(db, "SELECT string_agg(value, ',') FROM contact_point WHERE person_id = %d "
                      "AND kind = 'phone'" % person(db, sam(11))["id"])
    assert "02 999 0011" in phones or "029990011" in phones.replace(" ", ""), phones


def test_disabled_account_is_deactivated_and_reenabled_reactivated(dc, db, workdir):
    dc.modify("dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %d\n"
              % (user_dn(21), DISABLED))
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["deactivated"] == 1, run
    assert [x["username"] for x in run["details"]["deactivated"]] == [sam(21)], run["details"]
    assert changed_since(db, t) == {"deactivate": 1}
    assert person(db, sam(21))["active"] is False
    dc.modify("dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %d\n"
              % (user_dn(21), ENABLED))
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["reactivated"] == 1 and run["deactivated"] == 0, run
    assert changed_since(db, t) == {"reactivate": 1}
    assert person(db, sam(21))["active"] is True


def test_deleted_user_is_found_as_a_tombstone(dc, db, workdir):
    gone = dc.guid(user_dn(31))
    dc.delete([user_dn(31)])
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["deactivated"] == 1, run
    assert [x["uuid"] for x in run["details"]["deactivated"]] == [gone], run["details"]
    assert changed_since(db, t) == {"deactivate": 1}
    p31 = person(db, sam(31))
    assert p31["active"] is False


def test_moves_between_and_out_of_the_base(dc, db, workdir):
    # 40 (Welfare-1008) moves to OU=CPU: its membership moves; 41 leaves OU=Staff: gone
    dc.ldap(["ldapmodrdn", "-r", "-s", "OU=CPU," + STAFF, user_dn(40), "CN=" + sam(40)])
    dc.ldap(["ldapmodrdn", "-r", "-s", "OU=Elsewhere," + NC, user_dn(41), "CN=" + sam(41)])
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok", run
    assert run["updated"] == 1 and run["deactivated"] == 1, counts(run)
    assert changed_since(db, t) == {"deactivate": 1, "move": 1}, changed_since(db, t)
    org = psql(db, "SELECT o.ref FROM membership m JOIN organization o ON o.id = m.organization_id "
                   "WHERE m.person_id = %d AND m.source = 'ldap'" % person(db, sam(40))["id"])
    assert org == "bma-child-protection-unit"
    assert person(db, sam(41))["active"] is False


def test_mass_deletion_is_refused_dry_run_tells_then_forced(dc, db, workdir):
    # 15% of the staff deleted at once, past the 10% guard (fewer than slapd's 40%: a Samba DC
    # deletes about 20 entries a second)
    doomed = [user_dn(i) for i in range(100, 100 + int(N * 0.15))]
    dc.delete(doomed)
    before = active_synced(db)
    p, run = sync(dc, db, workdir)
    assert p.returncode == 3 and run["status"] == "refused", (p.stdout, run)
    assert len(run["details"]["would_deactivate_people"]) == len(doomed), run["details"].keys()
    assert active_synced(db) == before
    # refused changes nothing and keeps the watermark: the next run sees the same deletions
    p, dry = sync(dc, db, workdir, "--dry-run", "--force")
    assert dry["status"] == "dry-run" and dry["deactivated"] == len(doomed), counts(dry)
    t = now(db)
    p, run = sync(dc, db, workdir, "--force")
    assert run["status"] == "ok" and counts(run) == counts(dry), (counts(run), counts(dry))
    assert changed_since(db, t) == {"deactivate": len(doomed)}
    assert active_synced(db) == before - len(doomed)


def test_another_domain_controller_means_a_full_read(dc, db, workdir):
    psql(db, "UPDATE sync_state SET watermark = 'usn:00000000-0000-0000-0000-000000000001:5'")
    t = now(db)
    p, run = sync(dc, db, workdir)
    assert run["status"] == "ok" and run["mode"] == "full", run
    assert run["details"].get("dc_changed") is True, run["details"]
    assert counts(run)["created"] == 0 and counts(run)["deactivated"] == 0, counts(run)
    assert changed_since(db, t) == {}
    assert psql(db, "SELECT watermark FROM sync_state").startswith("usn:")
    assert not psql(db, "SELECT watermark FROM sync_state").startswith("usn:00000000-")


def test_staff_log_in_with_their_ad_password(dc, db, workdir):
    # a password for one user (LDAPS: AD takes unicodePwd only over an encrypted connection)
    pw = base64.b64encode(('"%s"' % USER_PW).encode("utf-16-le")).decode()
    dc.modify("dn: %s\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: %s\n" % (user_dn(50), pw))
    # the role from an AD group
    dc.add("dn: CN=directory-coordinators,%s\nobjectClass: group\nsAMAccountName: directory-coordinators\n"
           "member: %s\n" % (STAFF, user_dn(50)))
    env = sync_env(dc, db, workdir)
    env.pop("DIRECTORYD_DB")
    d = Daemon(db, workdir, extra_env=env)
    try:
        for typed in (sam(50), "%s@bangkok.test" % sam(50), sam(50).upper()):
            st, hdrs, body = d.http.request("POST", "/v1/session", headers={"Content-Type": "application/json"},
                                            body=json.dumps({"username": typed, "password": USER_PW}).encode())
            assert st == 200, (typed, st, body)
            assert body["username"] == sam(50) and body["role"] == "coordinator", body
        st, _, body = d.http.request("POST", "/v1/session", headers={"Content-Type": "application/json"},
                                     body=json.dumps({"username": sam(50), "password": "wrong"}).encode())
        assert st == 401, body
        # a disabled account cannot log in
        dc.modify("dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %d\n"
                  % (user_dn(50), 512 | 2))
        st, _, body = d.http.request("POST", "/v1/session", headers={"Content-Type": "application/json"},
                                     body=json.dumps({"username": sam(50), "password": USER_PW}).encode())
        assert st == 401, body
    finally:
        d.stop()


if not INNER:
    # The outer run holds only the wrapper test above; the others run inside it (not listed
    # here as skipped: they are not skipped, the wrapper fails if any of them fails).
    for _name in [n for n in list(globals()) if n.startswith("test_")
                  and n != "test_active_directory_in_a_network_namespace_of_its_own"]:
        del globals()[_name]
