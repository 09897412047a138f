"""The LDAP face (issue 7): ldapsearch and python-ldap against a real directoryd, raw BER fuzzing,
and GET /v1/search sharing the same filter code."""
import os
import socket
import subprocess
import time

import ldap
import ldap.controls
import ldap.controls.sss
import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, ROOT, SLOW, Daemon, psql, run_cli, wait_for

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"
PEOPLE = "ou=people," + SUFFIX
ORGS = "ou=organizations," + SUFFIX
CW_DN = "cn=it-caseworker,ou=clients," + SUFFIX


def uri(d):
    return "ldap://127.0.0.1:%d" % d.ldap_port


def conn(d, dn=None, pw=None):
    c = ldap.initialize(uri(d))
    c.protocol_version = 3
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    c.set_option(ldap.OPT_TIMEOUT, 30)
    if dn:
        c.simple_bind_s(dn, pw)
    return c


def ldapsearch(d, *args, bind=None):
    cmd = ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri(d)]
    if bind:
        cmd += ["-D", bind[0], "-w", bind[1]]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def dns(out):
    return [l[4:] for l in out.splitlines() if l.startswith("dn: ")]


def txt(entry, attr):
    return [v.decode() for v in entry.get(attr, [])]


# ---- ldapsearch ----

def test_root_dse_and_schema(daemon):
    rc, out, err = ldapsearch(daemon, "-s", "base", "-b", "", "+")
    assert rc == 0, err
    assert "namingContexts: " + SUFFIX in out
    assert "supportedLDAPVersion: 3" in out
    assert "supportedControl: 1.2.840.113556.1.4.319" in out
    assert "supportedControl: 1.2.840.113556.1.4.473" in out
    assert "supportedExtension: 1.3.6.1.4.1.4203.1.11.3" in out
    assert "1.3.6.1.4.1.1466.20037" not in out  # no certificate: StartTLS is not offered
    # The subschema publishes our attributes and classes exactly as the repo's LDIF does.
    rc, out, err = ldapsearch(daemon, "-s", "base", "-b", "cn=Subschema", "(objectClass=*)",
                              "attributeTypes", "objectClasses")
    assert rc == 0, err
    served = {l.split(": ", 1)[1] for l in out.splitlines() if "99999.727" in l}
    with open(os.path.join(ROOT, "schema", "ldap", "directoryd.ldif"), encoding="utf-8") as f:
        ldif = {l.split(": ", 1)[1].strip() for l in f
                if l.startswith(("olcAttributeTypes: ", "olcObjectClasses: "))}
    assert served and served == ldif


def test_thai_substring_finds_lumphini_centre(daemon):
    rc, out, err = ldapsearch(daemon, "-b", SUFFIX, "(cn=*ลุมพินี*)", "cn", "o")
    assert rc == 0, err
    assert "o=coc-lumphini," + ORGS in dns(out)
    # The same search over HTTP, with the same parser and matcher.
    status, _, data = daemon.http.get("/v1/search", {"filter": "(cn=*ลุมพินี*)"})
    assert status == 200
    assert [i["dn"] for i in data["items"]] == dns(out)


def test_anonymous_sees_no_people(daemon):
    rc, out, err = ldapsearch(daemon, "-b", SUFFIX, "(objectClass=inetOrgPerson)", "cn")
    assert rc == 0, err
    assert dns(out) == []
    rc, out, err = ldapsearch(daemon, "-b", PEOPLE, "-s", "one", "(objectClass=*)")
    assert rc == 0 and dns(out) == []
    rc, out, err = ldapsearch(daemon, "-b", "uid=demo-1007-sw," + PEOPLE, "-s", "base")
    assert rc == 32  # noSuchObject
    status, _, data = daemon.http.get("/v1/search", {"filter": "(uid=*)"})
    assert status == 200 and data["items"] == []


def test_district_and_role_for_a_caseworker(daemon):
    flt = "(&(departmentNumber=1007)(employeeType=socialWorker))"
    rc, out, err = ldapsearch(daemon, "-b", SUFFIX, flt, bind=(CW_DN, CASEWORKER_KEY))
    assert rc == 0, err
    assert dns(out) == ["uid=demo-1007-sw," + PEOPLE]
    assert "mail: " in out and "departmentNumber: 1007" in out
    status, _, data = daemon.http.get("/v1/search", {"filter": flt}, key=CASEWORKER_KEY)
    assert [i["dn"] for i in data["items"]] == dns(out)
    assert data["items"][0]["attributes"]["employeeType"] == ["socialWorker"]


@pytest.fixture(scope="module")
def staff_ldap(demo_db, workdir):
    """A directoryd whose staff log in against a city LDAP (a private slapd)."""
    from slapd import CityLdap
    city = CityLdap(workdir, "ldapbind")
    city.add_user("kanya.p", "กัญญา พรหมมา", "pass-kanya-1", groups=["directory-coordinators"])
    city.add_user("guess.me", "ทดสอบ เดารหัส", "pass-guess-1")
    d = Daemon(demo_db, workdir, extra_env=city.env(workdir))
    yield d
    d.stop()
    city.stop()


def test_binds(staff_ldap):
    d = staff_ldap
    c = conn(d, CW_DN, CASEWORKER_KEY)
    assert c.whoami_s() == "dn:" + CW_DN
    c.unbind_s()
    assert conn(d).whoami_s() == ""
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        conn(d, CW_DN, "wrong")
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        conn(d, CW_DN, "")
    # Staff bind with their city LDAP password, as a DN or the bare username, and see people.
    staff = "uid=kanya.p," + PEOPLE
    for dn in (staff, "kanya.p", "Kanya.P"):
        c = conn(d, dn, "pass-kanya-1")
        assert c.whoami_s() == "dn:" + staff
        assert c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(departmentNumber=1007)", ["1.1"])
        c.unbind_s()
    for dn, pw in ((staff, "wrong-password"), ("uid=nobody.here," + PEOPLE, "pass-kanya-1")):
        with pytest.raises(ldap.INVALID_CREDENTIALS):
            conn(d, dn, pw)


def test_revoked_expired_clients_and_local_accounts_binding(staff_ldap):
    d = staff_ldap
    env = {"DIRECTORYD_DB": d.db_url}
    for name in ("it-ldap-revoked", "it-ldap-expired"):
        run_cli("api-client", name, "caseworker",
                env=dict(env, DIRECTORYD_CLIENT_SECRET=name + "-secret-0123456789"))
    run_cli("local-account", "it.ldap.local", "coordinator",
            env=dict(env, DIRECTORYD_ACCOUNT_PASSWORD="local-pass-0123"))

    def binds(dn, pw):
        try:
            return conn(d, dn, pw).whoami_s()
        except ldap.INVALID_CREDENTIALS:
            return None

    clients = {n: ("cn=%s,ou=clients,%s" % (n, SUFFIX), n + "-secret-0123456789")
               for n in ("it-ldap-revoked", "it-ldap-expired")}
    for dn, pw in clients.values():
        ok, _ = wait_for(lambda: binds(dn, pw) == "dn:" + dn)
        assert ok, dn
    local = "uid=it.ldap.local," + PEOPLE
    assert binds("it.ldap.local", "local-pass-0123") == "dn:" + local
    assert binds(local, "local-pass-0123") == "dn:" + local
    assert binds(local, "local-pass-012") is None
    psql(d.db_url, "UPDATE api_client SET revoked_at = now() WHERE name = 'it-ldap-revoked'; "
                   "UPDATE api_client SET expires_at = now() - interval '1 second' "
                   "WHERE name = 'it-ldap-expired'; "
                   "UPDATE local_account SET disabled = true WHERE username = 'it.ldap.local'")
    for dn, pw in clients.values():
        gone, took = wait_for(lambda: binds(dn, pw) is None, timeout=3 * SLOW)
        assert gone and took < 1.0 * SLOW, (dn, took)
    assert binds(local, "local-pass-0123") is None


def test_guessing_brake_on_ldap_binds(staff_ldap):
    """5 wrong passwords for a username: its binds are refused (unwillingToPerform) even with
    the right password, and so are its web logins: one brake for both faces."""
    import http.client
    import json
    d = staff_ldap
    dn = "uid=guess.me," + PEOPLE
    for _ in range(5):
        with pytest.raises(ldap.INVALID_CREDENTIALS):
            conn(d, dn, "guess")
    with pytest.raises(ldap.UNWILLING_TO_PERFORM) as e:
        conn(d, dn, "pass-guess-1")
    assert "too many failed logins" in e.value.args[0]["info"]
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        conn(d, "GUESS.ME", "pass-guess-1")
    h = http.client.HTTPConnection("127.0.0.1", d.port, timeout=15)
    h.request("POST", "/v1/session", body=json.dumps({"username": "guess.me",
                                                      "password": "pass-guess-1"}),
              headers={"Content-Type": "application/json"})
    r = h.getresponse()
    r.read()
    assert r.status == 429 and int(r.getheader("Retry-After")) > 0
    # Another staff member is not affected.
    assert conn(d, "uid=kanya.p," + PEOPLE, "pass-kanya-1").whoami_s() == "dn:uid=kanya.p," + PEOPLE


def test_writes_are_refused(daemon):
    c = conn(daemon, "cn=it-admin,ou=clients," + SUFFIX, ADMIN_KEY)
    with pytest.raises(ldap.UNWILLING_TO_PERFORM) as e:
        c.modify_s("o=coc-lumphini," + ORGS, [(ldap.MOD_REPLACE, "description", [b"x"])])
    assert "JSON API" in e.value.args[0]["info"]
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        c.delete_s("o=coc-lumphini," + ORGS)
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        c.add_s("o=x," + ORGS, [("objectClass", [b"organization"]), ("o", [b"x"])])
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):  # modify-DN
        c.rename_s("o=coc-lumphini," + ORGS, "o=coc-renamed")
    assert c.search_s("o=coc-lumphini," + ORGS, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
    with pytest.raises(ldap.UNAVAILABLE):
        c.start_tls_s()


def test_size_limit_and_selection(daemon):
    rc, out, _ = ldapsearch(daemon, "-z", "3", "-b", "ou=areas," + SUFFIX, "(dirAreaKind=district)")
    assert rc == 4 and len(dns(out)) == 3  # sizeLimitExceeded
    rc, out, _ = ldapsearch(daemon, "-b", "l=1007,ou=areas," + SUFFIX, "-s", "base",
                            "(objectClass=*)", "1.1")
    assert rc == 0 and out.strip() == "dn: l=1007,ou=areas," + SUFFIX
    rc, out, _ = ldapsearch(daemon, "-A", "-b", "l=1007,ou=areas," + SUFFIX, "-s", "base")
    assert "\nl:\n" in out and "Pathum Wan" not in out  # typesOnly
    rc, out, _ = ldapsearch(daemon, "-b", "l=1007,ou=areas," + SUFFIX, "-s", "base", "(l=*)",
                            "*", "+")
    assert "l: Pathum Wan" in out and "entryDN: l=1007" in out and "structuralObjectClass" in out
    # The server's own cap (500) applies to a plain search of every area.
    rc, out, _ = ldapsearch(daemon, "-b", "ou=areas," + SUFFIX, "(objectClass=*)", "1.1")
    assert rc == 4 and len(dns(out)) == 500


def test_thunderbird_autocomplete(daemon):
    flt = "(|(cn=som*)(mail=som*)(givenName=som*)(sn=som*))"
    rc, out, err = ldapsearch(daemon, "-b", SUFFIX, flt, "cn", "mail",
                              bind=(CW_DN, CASEWORKER_KEY))
    assert rc == 0, err
    found = dns(out)
    assert found and all(d.endswith(PEOPLE) for d in found)
    rc, out, _ = ldapsearch(daemon, "-b", SUFFIX, flt, "cn")
    assert dns(out) == []  # anonymous: no people


def test_filters_and_matching(daemon):
    c = conn(daemon, CW_DN, CASEWORKER_KEY)
    # telephoneNumberMatch ignores spaces and hyphens
    r = c.search_s(ORGS, ldap.SCOPE_ONELEVEL, "(telephoneNumber=020002001)", ["o"])
    assert [dn for dn, _ in r] == ["o=coc-lumphini," + ORGS]
    # Latin case-insensitive, approx as equality, NOT, extensible, >=
    r = c.search_s(ORGS, ldap.SCOPE_ONELEVEL, "(cn~=LUMPHINI PARK CHILD OPPORTUNITY CENTRE)")
    assert len(r) == 1
    r = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(cn:caseExactMatch:=lumphini park child opportunity centre)")
    assert r == []
    r = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(o:dn:=coc-lumphini)", ["o"])
    assert [dn for dn, _ in r] == ["o=coc-lumphini," + ORGS]
    r = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(cn:1.2.3.4:=x)")
    assert r == []
    r = c.search_s("ou=areas," + SUFFIX, ldap.SCOPE_ONELEVEL,
                   "(&(objectClass=locality)(dirParentArea=10)(dirAreaCode>=1049)(!(dirAreaCode=1049)))", ["l"])
    assert [dn for dn, _ in r] == ["l=1050,ou=areas," + SUFFIX]
    # Unknown attribute: Undefined, and NOT of Undefined is still Undefined.
    assert c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(!(noSuchAttr=1))") == []
    # Closed organisations are not in the tree.
    status, _, data = daemon.http.get("/v1/organizations", {"status": "closed"})
    for o in data["items"]:
        assert c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(dirId=%d)" % o["id"], ["1.1"]) == [] or \
            all("ou=people" in dn for dn, _ in c.search_s(SUFFIX, ldap.SCOPE_SUBTREE,
                                                          "(dirId=%d)" % o["id"], ["1.1"]))
    r = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(o=*rama 9*)", ["1.1"])
    assert r == []
    r = c.compare_s("o=coc-lumphini," + ORGS, "dirAreaCode", b"1007")
    assert r is True


def test_sorting(daemon):
    c = conn(daemon, CW_DN, CASEWORKER_KEY)
    for attr, rev in (("sn", False), ("cn", True)):
        sort = ldap.controls.sss.SSSRequestControl(ordering_rules=[("-" if rev else "") + attr])
        msgid = c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(employeeType=socialWorker)",
                             [attr], serverctrls=[sort])
        _, data, _, _ = c.result3(msgid)
        keys = [min(v.decode().lower() for v in e[attr]) for _, e in data]
        assert len(keys) >= 50
        assert keys == sorted(keys, reverse=rev)


def sorted_search(c, rules, critical=False):
    """A one-level search of the social workers sorted by RULES: (entries, sort response)."""
    sort = ldap.controls.sss.SSSRequestControl(criticality=critical, ordering_rules=rules)
    msgid = c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(employeeType=socialWorker)",
                         ["sn", "givenName"], serverctrls=[sort])
    _, data, _, ctrls = c.result3(msgid)
    resp = [x for x in ctrls if x.controlType == ldap.controls.sss.SSSResponseControl.controlType]
    return data, resp


def test_sort_response_control_and_keys(daemon):
    """RFC 2891: every sorted answer carries a sort response; an attribute the server cannot
    sort by answers noSuchAttribute (16) in it, unsorted, or fails the search when the control
    is critical; with several keys the first one orders the answer."""
    c = conn(daemon, CW_DN, CASEWORKER_KEY)

    def sn(data):
        return [min(v.decode().lower() for v in e["sn"]) for _, e in data]

    data, resp = sorted_search(c, ["sn"])
    assert len(resp) == 1 and resp[0].sortResult == 0 and len(data) >= 50
    assert sn(data) == sorted(sn(data))
    plain = c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(employeeType=socialWorker)", ["sn"])
    assert sn(plain) != sorted(sn(plain))  # the sort is the server's doing
    data, resp = sorted_search(c, ["noSuchAttribute"])
    assert len(resp) == 1 and resp[0].sortResult == 16
    assert sorted(dn for dn, _ in data) == sorted(dn for dn, _ in plain)
    with pytest.raises(ldap.UNAVAILABLE_CRITICAL_EXTENSION):
        sorted_search(c, ["noSuchAttribute"], critical=True)
    for rules in (["sn", "-givenName"], ["-sn", "givenName"]):
        data, resp = sorted_search(c, rules, critical=True)
        assert len(resp) == 1 and resp[0].sortResult == 0
        assert sn(data) == sorted(sn(data), reverse=rules[0].startswith("-")), rules


def test_pipelining_and_http_errors(daemon):
    c = conn(daemon, CW_DN, CASEWORKER_KEY)
    ids = [c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(departmentNumber=10%02d)" % i,
                         ["uid", "departmentNumber"])
           for i in range(1, 51)]
    for i, msgid in enumerate(ids, 1):
        _, data, _, _ = c.result3(msgid)
        assert all("10%02d" % i in txt(e, "departmentNumber") for _, e in data)
        assert len(data) >= 2
    status, _, data = daemon.http.get("/v1/search", {"filter": "(&(cn=x)(sn=y)"})
    assert status == 400
    assert "position 14" in data["errors"][0]["message_en"]
    assert data["errors"][0]["field"] == "filter"
    status, _, data = daemon.http.get("/v1/search", {"filter": "(cn=\\zz)"})
    assert status == 400 and "position 4" in data["detail"]
    status, _, _ = daemon.http.get("/v1/search", {"scope": "deep"})
    assert status == 400
    status, _, _ = daemon.http.get("/v1/search", {"base": "ou=nowhere," + SUFFIX})
    assert status == 404
    status, _, data = daemon.http.get("/v1/search", {"base": "ou=areas," + SUFFIX, "scope": "one",
                                                      "filter": "(dirAreaKind=district)",
                                                      "limit": "20"})
    assert status == 200 and len(data["items"]) == 20 and data["next"]
    status, _, more = daemon.http.get("/v1/search", {"base": "ou=areas," + SUFFIX, "scope": "one",
                                                      "filter": "(dirAreaKind=district)",
                                                      "limit": "20", "cursor": data["next"]})
    assert status == 200 and more["items"][0]["dn"] not in [i["dn"] for i in data["items"]]


# ---- BER fuzzing on raw sockets ----

def tlv(tag, body):
    n = len(body)
    if n < 128:
        return bytes([tag, n]) + body
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b + body


def ber_int(v, tag=0x02):
    return tlv(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def search_pdu(msgid, filt):
    body = (tlv(0x04, SUFFIX.encode()) + tlv(0x0a, b"\x02") + tlv(0x0a, b"\x00") +
            ber_int(0) + ber_int(0) + tlv(0x01, b"\x00") + filt + tlv(0x30, b""))
    return tlv(0x30, ber_int(msgid) + tlv(0x63, body))


def raw_exchange(d, data, wait=5.0):
    """Sends DATA, then reads until the server closes; returns (bytes, closed)."""
    s = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=wait)
    got = b""
    try:
        s.sendall(data)
        end = time.time() + wait
        while time.time() < end:
            chunk = s.recv(65536)
            if not chunk:
                return got, True
            got += chunk
    except socket.timeout:
        return got, False
    except ConnectionResetError:
        return got, True
    finally:
        s.close()
    return got, False


NOTICE = b"1.3.6.1.4.1.1466.20036"


def test_ber_fuzz_closes_only_that_connection(daemon):
    present = tlv(0x87, b"objectClass")
    deep = present
    for _ in range(200):
        deep = tlv(0xa2, deep)
    cases = [
        b"\x30\x84\x7f\xff\xff\xff",                       # huge length
        tlv(0x30, b"\x02\x05\x01" + tlv(0x42, b"")),       # inner length past the end
        b"\x04\x01a",                                      # not an LDAPMessage
        tlv(0x30, ber_int(1) + tlv(0x7f, b"\x00")),         # unknown operation
        tlv(0x30, ber_int(2) + b"\x63\x03\x04\x01"),        # truncated search
        search_pdu(3, b"\xa0\x85\x00\x00\x00\x00\x10"),    # bad length form in a filter
        tlv(0x30, b"\x02\x01\x01\x60" + b"\x84\xff\xff\xff\xff"),
        b"\x30\x83" + (300000).to_bytes(3, "big") + b"\x00" * 300000,  # over ldap_max_message
    ]
    for data in cases:
        got, closed = raw_exchange(daemon, data)
        assert closed, data[:20]
        if data[:2] != b"\x04\x01":
            assert NOTICE in got, data[:20]
    # Deep nesting that is valid BER gets an error answer, not a crash.
    got, _ = raw_exchange(daemon, search_pdu(9, deep), wait=1.0)
    assert b"nested too deeply" in got
    # A request cut off mid-way, then the client goes away.
    got, closed = raw_exchange(daemon, search_pdu(4, present)[:20], wait=1.0)
    assert got == b""
    # Still serving, and a pipelined well-formed pair on one raw socket is answered in order:
    # 5's entries and its SearchResultDone, then 6's entries and its done.
    s = socket.create_connection(("127.0.0.1", daemon.ldap_port), timeout=10)
    s.sendall(search_pdu(5, tlv(0x87, b"l")) + search_pdu(6, present))
    got, end = b"", time.time() + 10
    try:
        while b"\x02\x01\x06\x65" not in got and time.time() < end:
            chunk = s.recv(65536)
            assert chunk, "closed after %d bytes" % len(got)
            got += chunk
    except socket.timeout:
        pass
    s.close()
    at = [got.find(p) for p in (b"\x02\x01\x05\x64", b"\x02\x01\x05\x65",
                                b"\x02\x01\x06\x64", b"\x02\x01\x06\x65")]
    assert all(i >= 0 for i in at) and at == sorted(at), at
    rc, out, _ = ldapsearch(daemon, "-b", SUFFIX, "(cn=*ลุมพินี*)", "1.1")
    assert rc == 0 and dns(out)


# ---- a fresh directory with 2,000 extra people ----

@pytest.fixture(scope="module")
def big(pg, workdir):
    url = pg()
    env = {"DIRECTORYD_DB": url}
    run_cli("migrate", env=env)
    run_cli("load-demo", env=env)
    run_cli("api-client", "it-caseworker", "caseworker",
            env=dict(env, DIRECTORYD_CLIENT_SECRET=CASEWORKER_KEY))
    psql(url, "INSERT INTO person (ref, name_th, name_en, profession, active) "
              "SELECT 'gen-' || g, 'ทดสอบ นามสกุล' || g, 'Test Person' || lpad(g::text, 4, '0'), "
              "'volunteer', g % 100 <> 0 FROM generate_series(1, 2000) g")
    psql(url, "INSERT INTO contact_point (organization_id, kind, value, is_public) "
              "SELECT id, 'email', 'hidden@lumphini.demo.invalid', false FROM organization "
              "WHERE ref = 'coc-lumphini'")
    d = Daemon(url, workdir)
    yield d
    d.stop()


def test_paged_results_return_each_person_once(big):
    c = conn(big, CW_DN, CASEWORKER_KEY)
    total = int(psql(big.db_url, "SELECT count(*) FROM person WHERE active"))
    seen = []
    page = ldap.controls.SimplePagedResultsControl(True, size=300, cookie="")
    pages = 0
    while True:
        msgid = c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=inetOrgPerson)", ["uid"],
                             serverctrls=[page])
        _, data, _, ctrls = c.result3(msgid)
        pages += 1
        seen += [dn for dn, _ in data]
        pc = [x for x in ctrls if x.controlType == ldap.controls.SimplePagedResultsControl.controlType]
        assert pc
        if not pc[0].cookie:
            break
        page.cookie = pc[0].cookie
    assert len(seen) == total == len(set(seen))
    assert total > 2000 and pages == (total + 299) // 300
    # Inactive people are not in the tree.
    assert "uid=gen-100," + PEOPLE not in seen and "uid=gen-99," + PEOPLE in seen
    # Without paging the server's cap answers sizeLimitExceeded.
    with pytest.raises(ldap.SIZELIMIT_EXCEEDED):
        c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=*)", ["1.1"])
    # Paged and sorted by sn, across pages.
    sort = ldap.controls.sss.SSSRequestControl(ordering_rules=["sn"])
    page = ldap.controls.SimplePagedResultsControl(True, size=500, cookie="")
    keys = []
    while True:
        msgid = c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(uid=gen-*)", ["sn"],
                             serverctrls=[sort, page])
        _, data, _, ctrls = c.result3(msgid)
        keys += [min(v.decode() for v in e["sn"]) for _, e in data]
        pc = [x for x in ctrls if x.controlType == ldap.controls.SimplePagedResultsControl.controlType]
        if not pc[0].cookie:
            break
        page.cookie = pc[0].cookie
    assert len(keys) == 1980 and keys == sorted(keys)


def test_non_public_contacts_need_a_bind(big):
    rc, out, _ = ldapsearch(big, "-b", "o=coc-lumphini," + ORGS, "-s", "base", "mail")
    assert rc == 0 and "hidden@" not in out
    rc, out, _ = ldapsearch(big, "-b", SUFFIX, "(mail=hidden@*)", "1.1")
    assert dns(out) == []
    rc, out, _ = ldapsearch(big, "-b", "o=coc-lumphini," + ORGS, "-s", "base", "mail",
                            bind=(CW_DN, CASEWORKER_KEY))
    assert "mail: hidden@lumphini.demo.invalid" in out


def test_many_connections(big):
    conns = [conn(big) for _ in range(100)]
    for c in conns:
        assert c.search_s("l=1007,ou=areas," + SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)", ["l"])
    for c in conns:
        c.unbind_s()


# ---- time limits and the connection cap, on a directory slow enough to search ----

def slow_filter():
    """An OR of 1,000 substring filters on objectClass that nothing matches: no index helps,
    so every entry is tried against all of them (some 4 to 8 s over 70,000 entries)."""
    def sub(parts):
        return tlv(0xa4, tlv(0x04, b"objectClass") +
                   tlv(0x30, b"".join(tlv(0x81, p) for p in parts)))
    return tlv(0xa1, b"".join(sub([b"o", b"c", b"zq%d" % i]) for i in range(1000)))


def timed_search(d, time_limit):
    """Binds as the caseworker and runs the slow search with TIME_LIMIT on a raw socket:
    (result code, seconds)."""
    s = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=60)
    bind = tlv(0x30, ber_int(1) + tlv(0x60, ber_int(3) + tlv(0x04, CW_DN.encode()) +
                                     tlv(0x80, CASEWORKER_KEY.encode())))
    body = (tlv(0x04, SUFFIX.encode()) + tlv(0x0a, b"\x02") + tlv(0x0a, b"\x00") +
            ber_int(0) + ber_int(time_limit) + tlv(0x01, b"\x00") + slow_filter() +
            tlv(0x30, tlv(0x04, b"1.1")))
    s.sendall(bind)
    got = b""
    while b"\x02\x01\x01\x61" not in got:
        got += s.recv(4096)
    t0 = time.time()
    s.sendall(tlv(0x30, ber_int(2) + tlv(0x63, body)))
    got = b""
    while True:
        chunk = s.recv(65536)
        assert chunk, "closed"
        got += chunk
        i = got.find(b"\x02\x01\x02\x65")
        if i >= 0 and len(got) >= i + 8:
            took = time.time() - t0
            s.close()
            assert got[i + 5:i + 7] == b"\x0a\x01", got[i:i + 8]
            return got[i + 7], took  # the ENUMERATED resultCode's value


@pytest.fixture(scope="module")
def slow_db(pg):
    url = pg()
    env = {"DIRECTORYD_DB": url}
    run_cli("migrate", env=env)
    run_cli("api-client", "it-caseworker", "caseworker",
            env=dict(env, DIRECTORYD_CLIENT_SECRET=CASEWORKER_KEY))
    psql(url, "INSERT INTO person (ref, name_th, name_en, profession) "
              "SELECT 'slow-' || g, 'ทดสอบ ช้า' || g, 'Slow Person' || g, 'volunteer' "
              "FROM generate_series(1, 60000) g")
    return url


def test_time_limits(slow_db, workdir):
    """--ldap-time-limit caps every search (2 s here: timeLimitExceeded (3) at 2 s, not the
    4 s and more the search needs), and a client's own smaller time limit applies (1 s)."""
    d = Daemon(slow_db, workdir, extra_env={"DIRECTORYD_LDAP_TIME_LIMIT": "2"})
    try:
        rc, server = timed_search(d, 0)
        assert rc == 3 and 2.0 <= server < 2.0 + 1.5 * SLOW, (rc, server)
        rc, client = timed_search(d, 1)
        assert rc == 3 and 1.0 <= client < server - 0.5, (rc, client, server)
    finally:
        d.stop()


def test_max_conns_refuses_then_replaces_the_longest_idle(demo_db, workdir):
    """At --ldap-max-conns a new connection is closed at once while none is idle 5 s, then
    replaces the one idle the longest."""
    d = Daemon(demo_db, workdir, extra_env={"DIRECTORYD_LDAP_MAX_CONNS": "4",
                                            "DIRECTORYD_LDAP_THREADS": "1"})
    root = tlv(0x30, ber_int(1) + tlv(0x63, tlv(0x04, b"") + tlv(0x0a, b"\x00") +
                                     tlv(0x0a, b"\x00") + ber_int(0) + ber_int(0) +
                                     tlv(0x01, b"\x00") + tlv(0x87, b"objectClass") +
                                     tlv(0x30, tlv(0x04, b"namingContexts"))))

    def served(s):
        s.sendall(root)
        got = b""
        try:
            while b"\x02\x01\x01\x65" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    return False
                got += chunk
        except (socket.timeout, ConnectionResetError):
            return False
        return SUFFIX.encode() in got

    try:
        conns = [socket.create_connection(("127.0.0.1", d.ldap_port), timeout=3)]
        assert served(conns[0])
        t_first = time.time()
        time.sleep(1.1)  # idle times count in whole seconds: the first is the oldest
        for _ in range(3):
            conns.append(socket.create_connection(("127.0.0.1", d.ldap_port), timeout=3))
            assert served(conns[-1])
        extra = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=3)
        assert not served(extra)  # closed at once: nobody idle for 5 s yet
        extra.close()
        # All four idle 5 s and more now: the first, idle a second longer, makes room.
        time.sleep(max(0.0, t_first + 6.4 - time.time()))
        newer = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=3)
        assert served(newer)
        # The one idle the longest (the first) was closed to make room; the others hold.
        conns[0].settimeout(3)
        try:
            rest = conns[0].recv(65536)
            while rest:
                rest = conns[0].recv(65536)
        except ConnectionResetError:
            pass
        for c in conns[1:]:
            assert served(c)
        for c in conns + [newer]:
            c.close()
    finally:
        d.stop()
