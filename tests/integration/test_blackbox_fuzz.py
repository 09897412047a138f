"""Black-box fuzzing of the running daemon (issue 11): thousands of mutated LDAP requests and
malformed HTTP requests, from a fixed seed, against whatever build DIRECTORYD_BIN names
(scripts/test runs it on the sanitizer build too). Throughout, the daemon must keep answering
a normal LDAP search and GET /healthz; at the end it must stop cleanly with no sanitizer
report in its log (Daemon.stop checks the exit status and the log).

A hostile city LDAP gets the same treatment: the staff sync reads broken controls and
messages from a scripted server, and the daemon must record a run and keep serving.

The daemons here have their own database (writes with an admin key really run), so nothing leaks
into the other tests. Bounded: a fixed seed and count; well under a minute per build."""
import concurrent.futures
import json
import os
import random
import socket
import threading
import time

import pytest

from conftest import ADMIN_KEY, Daemon, make_demo_db, psql, wait_for
from test_ldap import ber_int, tlv

SUFFIX = b"ou=childnet,dc=bangkok,dc=go,dc=th"
SEED = 11
LDAP_CASES = 3000
HTTP_CASES = 1200
WORKERS = 8
CHECK_EVERY = 250


# ---- BER, just enough to write valid requests ----

def octets(s, tag=0x04):
    return tlv(tag, s if isinstance(s, bytes) else s.encode())


def boolean(v, tag=0x01):
    return tlv(tag, b"\xff" if v else b"\x00")


def control(oid, critical=None, value=None):
    body = octets(oid)
    if critical is not None:
        body += boolean(critical)
    if value is not None:
        body += octets(value)
    return tlv(0x30, body)


def message(msgid, op, controls=None):
    body = ber_int(msgid) + op
    if controls is not None:
        body += tlv(0xa0, b"".join(controls))
    return tlv(0x30, body)


def search(base=SUFFIX, scope=2, filt=None, attrs=(), size=0, typesonly=False):
    filt = filt if filt is not None else tlv(0x87, b"objectClass")
    return tlv(0x63, octets(base) + ber_int(scope, 0x0a) + ber_int(0, 0x0a) + ber_int(size) +
               ber_int(0) + boolean(typesonly) + filt +
               tlv(0x30, b"".join(octets(a) for a in attrs)))


def eq(attr, value):
    return tlv(0xa3, octets(attr) + octets(value))


def substrings(attr, initial=None, anys=(), final=None):
    parts = b""
    if initial is not None:
        parts += octets(initial, 0x80)
    for a in anys:
        parts += octets(a, 0x81)
    if final is not None:
        parts += octets(final, 0x82)
    return tlv(0xa4, octets(attr) + tlv(0x30, parts))


def paged(size, cookie=b""):
    return tlv(0x30, ber_int(size) + octets(cookie))


def sort_keys(*keys):
    return tlv(0x30, b"".join(tlv(0x30, octets(k) + boolean(True, 0x81)) for k in keys))


def valid_requests():
    """Well-formed requests of every kind the LDAP face reads."""
    person = "uid=demo.caseworker,ou=people," + SUFFIX.decode()
    ext = lambda oid, value=None: tlv(0x77, octets(oid, 0x80) +
                                      (octets(value, 0x81) if value is not None else b""))
    bind = lambda dn, pw: tlv(0x60, ber_int(3) + octets(dn) + octets(pw, 0x80))
    filters = [
        tlv(0x87, b"objectClass"),
        eq("uid", "demo.caseworker"),
        substrings("cn", anys=["ลุมพินี"]),
        substrings("mail", initial="a", anys=["b", "c"], final="org"),
        tlv(0xa0, eq("objectClass", "inetOrgPerson") + tlv(0xa1, eq("l", "1033") +
                                                             eq("ou", "x"))),
        tlv(0xa2, eq("cn", "x")),
        tlv(0xa5, octets("createTimestamp") + octets("20200101000000Z")),
        tlv(0xa6, octets("uid") + octets("m")),
        tlv(0xa8, octets("cn") + octets("somchai")),
        tlv(0xa9, octets("2.5.13.2", 0x81) + octets("cn", 0x82) + octets("Lumphini", 0x83) +
            boolean(True, 0x84)),
        tlv(0xa0, b""), tlv(0xa1, b""),
    ]
    reqs = [message(1, bind("", "")), message(2, bind(person, "wrong")),
            message(3, tlv(0x60, ber_int(3) + octets("") + tlv(0xa3, octets("EXTERNAL"))))]
    for i, f in enumerate(filters):
        reqs.append(message(10 + i, search(filt=f, attrs=("cn", "mail", "+", "*", "1.1"))))
    reqs += [
        message(30, search(base=b"", scope=0, attrs=("supportedControl", "namingContexts"))),
        message(31, search(base=b"cn=Subschema", scope=0, attrs=("objectClasses",))),
        message(32, search(base=b"ou=people," + SUFFIX), [
            control("1.2.840.113556.1.4.319", True, paged(2))]),
        message(33, search(base=b"ou=organizations," + SUFFIX, scope=1), [
            control("1.2.840.113556.1.4.473", False, sort_keys("cn", "l"))]),
        message(34, search(), [control("2.16.840.1.113730.3.4.2", False),
                               control("1.2.840.113556.1.4.319", False, paged(5, b"\x00" * 8))]),
        message(35, search(), [control("1.2.3.4.5", True, b"x")]),
        message(36, search(), [control("1.3.6.1.4.1.4203.1.9.1.1", True,
                                       tlv(0x30, ber_int(1, 0x0a)))]),
        message(37, search(size=3)),
        message(38, tlv(0x6e, octets("uid=x,ou=people," + SUFFIX.decode()) +
                        tlv(0x30, octets("cn") + octets("x")))),
        message(39, ext("1.3.6.1.4.1.4203.1.11.3")),                    # Who am I?
        message(40, ext("1.3.6.1.4.1.1466.20037")),                     # StartTLS
        message(41, ext("1.3.6.1.4.1.4203.1.11.1", tlv(0x30, octets("x", 0x80)))),
        message(42, ext("1.2.3")),
        message(43, tlv(0x50, b"\x05")),                                # abandon
        message(44, tlv(0x66, octets(SUFFIX) + tlv(0x30, b""))),       # modify
        message(45, tlv(0x4a, SUFFIX)),                                 # delete
        message(46, tlv(0x68, octets("cn=x," + SUFFIX.decode()) + tlv(0x30, b""))),  # add
    ]
    # Controls with an absent, empty or wrong value, critical or not (issue 11's crash).
    for i, oid in enumerate(["1.2.840.113556.1.4.319", "1.2.840.113556.1.4.473",
                             "1.3.6.1.4.1.4203.1.9.1.1", "2.16.840.1.113730.3.4.2"]):
        for k, (crit, value) in enumerate([(None, None), (True, None), (False, b""),
                                           (True, b""), (False, b"\x04\x00"),
                                           (True, b"\x30\x03\x02\x01")]):
            reqs.append(message(100 + i * 10 + k, search(), [control(oid, crit, value)]))
    return reqs


def mutate(rng, data, pool):
    """One to four mutations of DATA: bit flips, inserts, deletes, length bytes changed,
    truncation, splices with another request."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        if not b:
            b = bytearray(rng.choice(pool))
        i = rng.randrange(len(b))
        if kind == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif kind == 2:
            del b[i:i + rng.randint(1, 4)]
        elif kind == 3:  # a length byte: the byte after a tag
            j = rng.randrange(1, len(b)) if len(b) > 1 else 0
            b[j] = rng.choice([0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0xff, (b[j] + 1) & 0xff,
                               (b[j] - 1) & 0xff])
        elif kind == 4:
            del b[rng.randrange(1, len(b) + 1):]
        elif kind == 5:
            other = rng.choice(pool)
            k = rng.randrange(len(other))
            b = b[:i] + bytearray(other[k:])
        else:
            b[i] = rng.choice([0x00, 0x04, 0x30, 0x0a, 0x80, 0xa0, 0xa3, 0x87, 0xff])
    return bytes(b)


SENTINEL = message(0x7ff0, search(filt=eq("objectClass", "organizationalUnit"), attrs=("1.1",)))
SENTINEL_DONE = b"\x02\x02\x7f\xf0\x65"  # messageID 0x7ff0, SearchResultDone


def ldap_case(port, data, wait=0.3):
    """DATA on a fresh connection, then a valid search: returns 'answered', 'closed' or
    'waiting' (a changed length left the server reading)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = b""
    try:
        s.sendall(data)
        s.sendall(SENTINEL)
        end = time.time() + wait
        while time.time() < end:
            chunk = s.recv(65536)
            if not chunk:
                return "closed"
            got += chunk
            if SENTINEL_DONE in got:
                return "answered"
    except socket.timeout:
        return "waiting"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        s.close()
    return "waiting"


# ---- HTTP ----

def http_raw(port, data, wait=2.0):
    """Sends DATA; returns the status code of the first answer, or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = b""
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # a request cut short ends here, not at a timeout
        end = time.time() + wait
        while time.time() < end and b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:  # timeouts, resets, a socket the server already closed
        pass
    finally:
        s.close()
    if not got.startswith(b"HTTP/1."):
        return None
    try:
        return int(got.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return -1


def http_req(method, target, headers=(), body=None, auth=True):
    h = [b"Host: 127.0.0.1"]
    if auth:
        h.append(b"Authorization: Bearer " + ADMIN_KEY.encode())
    h += list(headers)
    if body is not None and not any(x.lower().startswith(b"transfer-encoding") for x in headers):
        h.append(b"Content-Length: %d" % len(body))
    h.append(b"Connection: close")
    return method + b" " + target + b" HTTP/1.1\r\n" + b"\r\n".join(h) + b"\r\n\r\n" + (body or b"")


WRITE_ROUTES = [
    (b"POST", b"/v1/organizations"), (b"PATCH", b"/v1/organizations/1"),
    (b"POST", b"/v1/organizations/1/close"), (b"POST", b"/v1/organizations/1/verify"),
    (b"POST", b"/v1/people"), (b"PATCH", b"/v1/people/1"), (b"POST", b"/v1/people/1/deactivate"),
    (b"POST", b"/v1/areas"), (b"PATCH", b"/v1/areas/1033"), (b"POST", b"/v1/area-groups"),
    (b"PATCH", b"/v1/area-groups/bkk-z2"), (b"POST", b"/v1/programmes"),
    (b"PATCH", b"/v1/programmes/1"), (b"POST", b"/v1/admin/api-clients"),
    (b"POST", b"/v1/admin/api-clients/nobody/revoke"), (b"PUT", b"/v1/admin/staff-roles/x"),
    (b"POST", b"/v1/admin/sync"), (b"POST", b"/v1/session"), (b"DELETE", b"/v1/session"),
    (b"POST", b"/v1/reports"), (b"POST", b"/v1/reports/1/resolve"), (b"POST", b"/v1/reports/1/reopen"),
]

BODIES = [
    json.dumps({"name_th": "ทดสอบ", "type": "ngo", "sector": "ngo", "area": "1033",
                "contacts": [{"kind": "phone", "value": "02 123 4567"}],
                "services": [{"code": "counselling", "areas": ["1033"]}]},
               ensure_ascii=False).encode(),
    json.dumps({"name_th": "คน", "memberships": [{"organization": 1, "team_role": "x"}]}).encode(),
    b'{"name":"bb-client","role":"caseworker"}', b'{"role":null}', b'{"username":"a","password":"b"}',
    b'{"moved":true,"successor":2}', b"{}", b"[]",
    json.dumps({"entity": "organization", "id": "coc-lumphini", "message": " เบอร์ผิด\n",
                "contact": "081-111-2222"}, ensure_ascii=False).encode(),
    json.dumps({"note": "แก้แล้ว", "resolution": "fixed"}, ensure_ascii=False).encode(), b'{"a":' * 50 + b"1" + b"}" * 50,
    b'{"name_th":"\\u0000"}', b'{"name_th":"\\ud800"}', b'{"name_th":"\xff\xfe"}', b"\xef\xbb\xbf{}",
]


def http_cases(rng):
    """Hand-made malformed requests, then mutations of valid ones."""
    cases = [
        b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz\r\n\r\n",
        b"G\x00T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"A" * 10000 + b" / HTTP/1.1\r\n\r\n",
        http_req(b"BREW", b"/healthz"), http_req(b"DELETE", b"/healthz"),
        http_req(b"GET", b"/" + b"a" * 20000), http_req(b"GET", b"/v1/areas?kind=%zz"),
        http_req(b"GET", b"/v1/areas?kind=%"), http_req(b"GET", b"/v1/areas?kind=%f"),
        http_req(b"GET", b"/v1/%ff%fe"), http_req(b"GET", b"/v1/areas?%ff=1"),
        http_req(b"GET", b"/v1/areas?kind=\xe0\xb8"), http_req(b"GET", b"/v1/search?filter=(cn=\xff)"),
        http_req(b"GET", b"/v1/search?filter=" + b"(" * 5000),
        http_req(b"GET", b"/v1/changes?since=99999999999999999999999"),
        http_req(b"GET", b"/v1/people?limit=-1&cursor=%00"),
        http_req(b"GET", b"/v1/areas", [b"X-Odd header: 1"]), http_req(b"GET", b"/v1/areas", [b"NoColon"]),
        http_req(b"GET", b"/v1/areas", [b"X: " + b"v" * 60000]),
        http_req(b"GET", b"/v1/areas", [b"X: a", b" folded continuation"]),
        http_req(b"GET", b"/v1/areas", [b"Authorization: Bearer"], auth=False),
        http_req(b"GET", b"/v1/areas", [b"Authorization: Basic !!!"], auth=False),
        http_req(b"GET", b"/v1/areas", [b"Cookie: dir_session=" + b"A" * 4000], auth=False),
        http_req(b"GET", b"/v1/areas", [b"Content-Length: -5"]),
        http_req(b"GET", b"/v1/areas", [b"Content-Length: 99999999999999999999"]),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Transfer-Encoding: chunked"], b"zz\r\n{}\r\n0\r\n\r\n"),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Transfer-Encoding: chunked"],
                 b"ffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Transfer-Encoding: chunked"], b"2\r\n{}0\r\n\r\n"),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Transfer-Encoding: gzip"], b"{}"),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Transfer-Encoding: chunked, gzip"], b"0\r\n\r\n"),
        http_req(b"POST", b"/v1/organizations", [b"Content-Type: application/json",
                                                 b"Content-Length: 2", b"Transfer-Encoding: chunked"],
                 b"2\r\n{}\r\n0\r\n\r\n"),
    ]
    for method, path in WRITE_ROUTES:
        for body in BODIES:
            cases.append(http_req(method, path, [b"Content-Type: application/json",
                                                 b'If-Match: "1"'], body))
    valid = list(cases[-len(WRITE_ROUTES) * len(BODIES):]) + [
        http_req(b"GET", b"/v1/search?filter=(cn=*a*)&limit=2"),
        http_req(b"GET", b"/v1/organizations?area=1033&service=counselling"),
        http_req(b"GET", b"/v1/people?limit=5", auth=True),
        http_req(b"GET", b"/v1/resolve?area=1033&service=counselling"),
    ]
    while len(cases) < HTTP_CASES:
        cases.append(mutate(rng, rng.choice(valid), valid))
    return cases


def alive(d):
    """GET /healthz answers 200 and a normal LDAP search answers, both within 5 s."""
    status = http_raw(d.port, http_req(b"GET", b"/healthz", auth=False), wait=5.0)
    assert status == 200, "GET /healthz: %r\n%s" % (status, d.read_log()[-3000:])
    assert ldap_case(d.ldap_port, b"", wait=5.0) == "answered", d.read_log()[-3000:]


@pytest.fixture(scope="module")
def fuzzd(pg, workdir):
    d = Daemon(make_demo_db(pg), workdir)
    yield d
    d.stop()  # exit 0, no sanitizer report in the log


def run_batch(d, fn, cases):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        results = []
        for start in range(0, len(cases), CHECK_EVERY):
            results += list(pool.map(fn, cases[start:start + CHECK_EVERY]))
            assert d.proc.poll() is None, "directoryd died:\n" + d.read_log()[-5000:]
            alive(d)
    return results


def test_mutated_ldap_requests(fuzzd):
    rng = random.Random(SEED)
    pool = valid_requests()
    cases = [mutate(rng, rng.choice(pool), pool) for _ in range(LDAP_CASES)]
    # Valid ones first (the known-good answers), then the mutations.
    t0 = time.time()
    valid = run_batch(fuzzd, lambda c: ldap_case(fuzzd.ldap_port, c, wait=10.0), pool)
    assert all(r == "answered" for r in valid), list(zip(valid, pool))
    results = run_batch(fuzzd, lambda c: ldap_case(fuzzd.ldap_port, c), cases)
    print("LDAP cases: %d answered, %d closed, %d left waiting" % (
        results.count("answered"), results.count("closed"), results.count("waiting")))
    assert time.time() - t0 < 120


def test_malformed_http_requests(fuzzd):
    rng = random.Random(SEED + 1)
    cases = http_cases(rng)
    t0 = time.time()
    results = run_batch(fuzzd, lambda c: http_raw(fuzzd.port, c), cases)
    print("HTTP cases: %d answered, %d not" % (sum(r is not None for r in results),
                                               results.count(None)))
    assert 500 not in results, [c[:80] for c, r in zip(cases, results) if r == 500][:5]
    assert time.time() - t0 < 120


# ---- a hostile city LDAP: the staff sync must survive what it sends ----

PAGED = "1.2.840.113556.1.4.319"
SYNC_STATE = "1.3.6.1.4.1.4203.1.9.1.2"
SYNC_DONE = "1.3.6.1.4.1.4203.1.9.1.3"


def ctl(oid, value=None):
    return tlv(0x30, octets(oid) + (octets(value) if value is not None else b""))


def search_entry(msgid, dn, attrs, controls=None):
    body = octets(dn) + tlv(0x30, b"".join(
        tlv(0x30, octets(a) + tlv(0x31, b"".join(octets(v) for v in vals))) for a, vals in attrs))
    return message(msgid, tlv(0x64, body), controls)


def search_done(msgid, controls=None):
    return message(msgid, tlv(0x65, ber_int(0, 0x0a) + octets("") + octets("")), controls)


def read_messages(conn):
    """Yields (msgid, operation tag) of each request the client sends until it closes."""
    buf = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while len(buf) >= 2:
            n, hdr = buf[1], 2
            if n & 0x80:
                k = n & 0x7f
                if len(buf) < 2 + k:
                    break
                n, hdr = int.from_bytes(buf[2:2 + k], "big"), 2 + k
            if len(buf) < hdr + n:
                break
            msg, buf = buf[hdr:hdr + n], buf[hdr + n:]
            idlen = msg[1]
            yield int.from_bytes(msg[2:2 + idlen], "big"), msg[2 + idlen]


class HostileLdap:
    """Answers binds with success and every search with SCRIPT(msgid) (bytes)."""

    def __init__(self, script):
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.searches = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        with conn:
            for msgid, op in read_messages(conn):
                try:
                    if op == 0x60:
                        conn.sendall(message(msgid, tlv(0x61, ber_int(0, 0x0a) + octets("") +
                                                         octets(""))))
                    elif op == 0x63:
                        self.searches += 1
                        conn.sendall(self.script(msgid))
                    elif op == 0x42:
                        return
                except OSError:
                    return

    def close(self):
        self.sock.close()


def full_paged_without_value(msgid):
    """Finding: a paged-results control without a value (libldap asserted: the daemon died)."""
    return (search_entry(msgid, "uid=a,dc=city", [("entryUUID", ["0d6a1c2e-0000-4000-8000-000000000001"]),
                                                  ("cn", ["A"]), ("uid", ["a"])]) +
            search_done(msgid, [ctl(PAGED)]))


def full_paged_empty_value(msgid):
    return search_done(msgid, [ctl(PAGED, b"")])


def syncrepl_broken(msgid):
    """Empty Sync State value, an intermediate response named NUL (ldap_parse_intermediate
    asserted), a Sync Info value that is empty, a Sync Done control without a value."""
    return (search_entry(msgid, "uid=b,dc=city", [("cn", ["B"])], [ctl(SYNC_STATE, b"")]) +
            message(msgid, tlv(0x79, octets(b"\x00", 0x80) + octets(b"x", 0x81))) +
            message(msgid, tlv(0x79, octets("1.3.6.1.4.1.4203.1.9.1.4", 0x80) + octets(b"", 0x81))) +
            search_done(msgid, [ctl(SYNC_DONE)]))


@pytest.mark.parametrize("mode,script", [("poll", full_paged_without_value),
                                         ("poll", full_paged_empty_value),
                                         ("syncrepl", syncrepl_broken)])
def test_hostile_city_ldap_does_not_stop_the_daemon(pg, workdir, mode, script):
    city = HostileLdap(script)
    db = make_demo_db(pg)
    pwfile = os.path.join(workdir, "hostile.pw")
    with open(pwfile, "w") as f:
        f.write("secret\n")
    os.chmod(pwfile, 0o600)
    d = Daemon(db, workdir, {"DIRECTORYD_SYNC_URI": "ldap://127.0.0.1:%d" % city.port,
                             "DIRECTORYD_SYNC_BINDDN": "cn=directoryd,dc=city",
                             "DIRECTORYD_SYNC_PASSWORD_FILE": pwfile,
                             "DIRECTORYD_SYNC_BASE": "dc=city", "DIRECTORYD_SYNC_MODE": mode,
                             "DIRECTORYD_SYNC_INTERVAL_S": "3600"})
    try:
        # The run at start reads the hostile answer; it ends (ok or failed) and is recorded.
        run, _ = wait_for(lambda: psql(db, "SELECT status FROM sync_run WHERE status <> 'running' "
                                           "ORDER BY id DESC LIMIT 1"), timeout=30, step=0.2)
        assert run in ("ok", "failed", "refused"), (run, d.read_log()[-3000:])
        assert city.searches >= 1
        assert d.proc.poll() is None, d.read_log()[-5000:]
        alive(d)
        # And again on demand.
        assert d.http.request("POST", "/v1/admin/sync", key=ADMIN_KEY)[0] == 202
        time.sleep(1.0)
        assert d.proc.poll() is None, d.read_log()[-5000:]
        alive(d)
    finally:
        d.stop()  # exit 0, no sanitizer report
        city.close()
