"""The JSON API under hostile input (issue 11): numbers out of range, secrets with NUL bytes,
bytes that are not UTF-8, cursors probing for hidden entries, odd methods and transfer
codings, and slow clients holding connections. Every answer is a problem detail that decodes
as UTF-8 and names the field at fault; nothing crashes (the sanitizer build aborts on UB)."""
import json
import re
import socket
import time
import urllib.parse

import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, Daemon


def raw(daemon, request, timeout=10.0):
    """Sends REQUEST (bytes) on a fresh connection; returns (status, headers, body bytes)."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                hdrs = parse_headers(head)
                n = int(hdrs.get("content-length", "-1"))
                if n >= 0 and len(body) >= n:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        return None, {}, b""
    return int(head.split(b" ")[1]), parse_headers(head), body


def parse_headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        out[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    return out


def get(daemon, target, headers=b"", method=b"GET"):
    """A raw GET of TARGET (bytes, sent as is)."""
    return raw(daemon, method + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers +
               b"Connection: close\r\n\r\n")


def problem(body):
    """The body must be UTF-8 JSON (a problem detail); returns it parsed."""
    text = body.decode("utf-8")  # raises on invalid UTF-8
    return json.loads(text)


def fields(p):
    return [e["field"] for e in p.get("errors", [])]


# ---- finding 3: numbers ----

def test_changes_since_at_the_top_of_the_range(daemon):
    """since=2^63-1 was signed overflow (UB; the sanitizer build aborted)."""
    status, _, body = get(daemon, b"/v1/changes?since=9223372036854775807")
    assert status == 200, body
    page = json.loads(body)
    assert page["items"] == [] and page["next"] is None
    for bad in (b"9223372036854775808", b"-1", b"1e3", b"5abc", b"+5", b"%205", b"0x10", b""):
        status, _, body = get(daemon, b"/v1/changes?since=" + bad)
        assert status == 400, (bad, body)
        assert fields(problem(body)) == ["since"]


@pytest.mark.parametrize("path", [b"/v1/areas", b"/v1/organizations", b"/v1/changes",
                                  b"/v1/resolve?area=10&", b"/v1/search"])
@pytest.mark.parametrize("value", [b"5abc", b"1e3", b"+5", b"%205", b"0", b"501",
                                   b"99999999999999999999", b"-1", b""])
def test_limit_is_a_whole_number_in_range(daemon, path, value):
    sep = b"&" if b"?" in path and not path.endswith(b"&") else (b"" if path.endswith(b"&") else b"?")
    status, _, body = get(daemon, path + sep + b"limit=" + value)
    assert status == 400, body
    assert fields(problem(body)) == ["limit"]


@pytest.mark.parametrize("path,name", [(b"/v1/organizations", b"cursor"),
                                       (b"/v1/people", b"cursor"),
                                       (b"/v1/people", b"org")])
@pytest.mark.parametrize("value", [b"9223372036854775808", b"1e3", b"5abc", b"-3", b"0"])
def test_ids_are_checked(daemon, path, name, value):
    status, _, body = get(daemon, path + b"?" + name + b"=" + value,
                          b"Authorization: Bearer " + CASEWORKER_KEY.encode() + b"\r\n")
    assert status == 400, body
    assert fields(problem(body)) == [name.decode()]


def test_big_ids_in_paths_are_404(daemon):
    for target in (b"/v1/organizations/9223372036854775807",
                   b"/v1/organizations/99999999999999999999999"):
        status, _, body = get(daemon, target)
        assert status == 404, body
        problem(body)


@pytest.mark.parametrize("path", [b"/v1/audit", b"/v1/admin/sync/runs"])
@pytest.mark.parametrize("value", [b"5abc", b"1e3", b"99999999999999999999"])
def test_admin_lists_check_limit(daemon, path, value):
    status, _, body = get(daemon, path + b"?limit=" + value,
                          b"Authorization: Bearer " + ADMIN_KEY.encode() + b"\r\n")
    if status == 404 and path.endswith(b"runs"):
        pytest.skip("no staff sync configured")
    assert status == 400, body
    assert fields(problem(body)) == ["limit"]


# ---- finding 7: secrets are compared whole ----

def test_bearer_key_with_nul_and_junk_is_refused(daemon):
    key = CASEWORKER_KEY.encode()
    status, _, body = get(daemon, b"/v1/people?limit=1", b"Authorization: Bearer " + key + b"\r\n")
    assert status == 200, body
    for tail in (b"\x00junk", b"\x00", b"\x01x", b"\x7f"):
        status, _, body = get(daemon, b"/v1/people?limit=1",
                              b"Authorization: Bearer " + key + tail + b"\r\n")
        assert status in (400, 401), (tail, status, body)
        p = problem(body)
        assert "items" not in p


def test_cookie_with_nul_is_refused(daemon):
    status, _, body = get(daemon, b"/v1/areas?limit=1", b"Cookie: dird_session=v1.x\x00junk\r\n")
    assert status in (400, 401), body
    problem(body)


# ---- finding 8: answers are valid UTF-8 ----

THAI = "กรุงเทพมหานครและปริมณฑล".encode()  # 3 bytes a character


@pytest.mark.parametrize("target,field", [
    (b"/v1/areas?kind=%ff", "kind"),
    (b"/v1/areas?%ff=1", "\ufffd"),
    (b"/v1/areas?parent=%ff%fe", "parent"),
    (b"/v1/organizations?status=%e0%b8", "status"),
    (b"/v1/organizations?type=" + urllib.parse.quote_from_bytes(THAI).encode(), "type"),
    (b"/v1/areas?kind=" + urllib.parse.quote_from_bytes(THAI * 3).encode(), "kind"),
    (b"/v1/areas?kind=a" + urllib.parse.quote_from_bytes(THAI * 3).encode(), "kind"),
    (b"/v1/search?%ff=1", "\ufffd"),
    (b"/v1/resolve?area=%ff", "area"),
])
def test_problems_are_utf8_and_name_the_field(daemon, target, field):
    status, hdrs, body = get(daemon, target)
    assert status == 400, body
    p = problem(body)
    assert hdrs["content-type"] == "application/problem+json"
    assert fields(p) == [field]
    assert "\ufffd\ufffd\ufffd" not in p["detail"] or b"%ff%fe" in target or b"%e0" in target


def test_thai_values_are_cut_on_character_boundaries(daemon):
    value = THAI * 3
    status, _, body = get(daemon, b"/v1/areas?kind=" + urllib.parse.quote_from_bytes(value).encode())
    p = problem(body)
    shown = p["detail"].split("'")[3]  # "Query parameter 'kind' is invalid: '<value>' is not ..."
    assert "\ufffd" not in shown
    assert shown.endswith("\u2026") and value.decode().startswith(shown[:-1])


def test_unknown_path_with_invalid_bytes(daemon):
    for target in (b"/v1/%ff", b"/v1/%ff/x", b"/%ff%c0.js", b"/v1/organizations/%ff",
                   b"/v1/areas/" + b"%e0%b8" * 200):
        status, _, body = get(daemon, target)
        assert status == 404, (target, body)
        p = problem(body)
        assert p["status"] == 404


# ---- finding 9: cursors are no existence oracle ----

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"


def search(daemon, params, key=None):
    h = b"Authorization: Bearer " + key.encode() + b"\r\n" if key else b""
    return get(daemon, b"/v1/search?" + urllib.parse.urlencode(params).encode(), h)


def test_search_cursor_does_not_tell_whether_a_hidden_person_exists(daemon):
    status, _, body = search(daemon, {"base": "ou=people," + SUFFIX, "scope": "one", "limit": 1},
                             CASEWORKER_KEY)
    assert status == 200, body
    real = json.loads(body)["items"][0]["dn"]
    assert real.startswith("uid=")
    unknown = "uid=no-such-person-here,ou=people," + SUFFIX
    # The caseworker may page on from the real person.
    assert search(daemon, {"limit": 1, "cursor": real}, CASEWORKER_KEY)[0] == 200
    # Anonymous: the real person and an unknown uid get the very same answer.
    s1, _, b1 = search(daemon, {"limit": 1, "cursor": real})
    s2, _, b2 = search(daemon, {"limit": 1, "cursor": unknown})
    assert s1 == s2 == 400
    # The same bytes but for each answer's own request id (obs).
    assert re.sub(rb'"request_id":"[^"]*"', b"", b1) == re.sub(rb'"request_id":"[^"]*"', b"", b2)
    assert fields(problem(b1)) == ["cursor"]
    # The same for a search based at the person: no such entry, either way.
    s1, _, b1 = search(daemon, {"base": real, "scope": "base"})
    s2, _, b2 = search(daemon, {"base": unknown, "scope": "base"})
    assert s1 == s2 == 404
    assert problem(b1)["title"] == problem(b2)["title"]
    # A cursor the anonymous caller was given still works.
    status, _, body = search(daemon, {"limit": 1})
    nxt = json.loads(body)["next"]
    assert nxt and search(daemon, {"limit": 1, "cursor": nxt})[0] == 200


# ---- finding 10: /healthz and transfer codings ----

def test_healthz_answers_get_and_head_only(daemon):
    assert get(daemon, b"/healthz")[0] == 200
    assert get(daemon, b"/healthz", method=b"HEAD")[0] == 200
    for method in (b"DELETE", b"POST", b"PUT", b"PATCH", b"OPTIONS", b"X" * 10240):
        status, hdrs, body = get(daemon, b"/healthz", method=method)
        assert status in (405, 400, 413, 414, 431), (method[:20], status)
        if status == 405:
            assert hdrs["allow"] == "GET, HEAD"
            assert problem(body)["status"] == 405


def test_unsupported_transfer_coding_is_answered_at_once(daemon):
    for coding in (b"gzip", b"gzip, chunked", b"deflate", b"identity", b"chunked, gzip"):
        t0 = time.time()
        status, hdrs, body = raw(daemon, b"POST /v1/organizations HTTP/1.1\r\nHost: x\r\n"
                                 b"Transfer-Encoding: " + coding + b"\r\n"
                                 b"Content-Type: application/json\r\n\r\n", timeout=5)
        took = time.time() - t0
        assert status in (400, 501), (coding, status)
        assert took < 1.0, (coding, took)
        if body:
            problem(body)


def test_healthz_says_degraded_while_postgresql_is_down(workdir):
    """Liveness stays 200 (reads are served from memory), but the answer says the database is
    down, and says so no more once it is back."""
    import os
    import subprocess

    from conftest import PGCTL, free_port, run_cli, wait_for

    data = os.path.join(workdir, "pg-health")
    port = free_port()
    subprocess.run([PGCTL, "start", data, str(port)], check=True)
    url = subprocess.run([PGCTL, "url", data, str(port)], check=True, capture_output=True,
                         text=True).stdout.strip()
    try:
        run_cli("migrate", env={"DIRECTORYD_DB": url})
        d = Daemon(url, workdir)
        try:
            h, _ = wait_for(lambda: (lambda s, _h, b: b if b["database"]["state"] == "up" else None)(
                *d.http.get("/healthz")), timeout=5)
            assert h and h["status"] == "ok"
            subprocess.run([PGCTL, "stop", data], check=True)
            h, _ = wait_for(lambda: (lambda s, _h, b: b if s == 200 and b["status"] == "degraded"
                                     else None)(*d.http.get("/healthz")), timeout=10)
            assert h, "still ok with the database down"
            assert h["database"]["state"] == "down" and h["database"]["error"]
            assert d.http.get("/v1/areas", {"limit": 1})[0] == 200  # reads go on
            subprocess.run([PGCTL, "start", data, str(port)], check=True)
            h, _ = wait_for(lambda: (lambda s, _h, b: b if b["status"] == "ok" else None)(
                *d.http.get("/healthz")), timeout=15)
            assert h and h["database"]["state"] == "up"
        finally:
            d.stop()
    finally:
        subprocess.run([PGCTL, "stop", data], check=True)


# ---- finding 4 (HTTP): slow clients cannot crowd out the others ----

class Slowloris:
    """Connections that send a request's headers one byte at a time, from several loopback
    addresses, refilling as the server closes them."""

    def __init__(self, port, addrs, per_addr):
        self.port, self.addrs, self.per_addr = port, addrs, per_addr
        self.socks = {}  # socket -> (address, opened at)
        self.closed_after = []  # seconds each connection lived once the server closed it
        self.refused = 0

    def fill(self):
        have = {}
        for s, (a, _) in self.socks.items():
            have[a] = have.get(a, 0) + 1
        for a in self.addrs:
            for _ in range(self.per_addr - have.get(a, 0)):
                s = socket.socket()
                s.setblocking(True)
                s.settimeout(1)
                try:
                    s.bind((a, 0))
                    s.connect(("127.0.0.1", self.port))
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                except OSError:
                    self.refused += 1
                    s.close()
                    continue
                s.setblocking(False)
                self.socks[s] = (a, time.time())

    def drip(self):
        for s in list(self.socks):
            gone = False
            try:
                if s.recv(4096) == b"":
                    gone = True
            except BlockingIOError:
                pass
            except OSError:
                gone = True
            if not gone:
                try:
                    s.send(b"a")
                except OSError:
                    gone = True
            if gone:
                a, t0 = self.socks.pop(s)
                self.closed_after.append(time.time() - t0)
                s.close()

    def close(self):
        for s in self.socks:
            s.close()
        self.socks.clear()


def probe(port, path=b"/healthz"):
    t0 = time.time()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    took = time.time() - t0
    return int(data.split(b" ")[1]) if data else None, took


def test_slow_clients_do_not_starve_healthz(demo_db, workdir):
    from conftest import free_port
    health_port = free_port()
    d = Daemon(demo_db, workdir, extra_env={
        "DIRECTORYD_HTTP_MAX_CONNS": "48", "DIRECTORYD_HTTP_MAX_CONNS_PER_ADDR": "6",
        "DIRECTORYD_HTTP_HEADER_TIMEOUT": "2", "DIRECTORYD_HTTP_HEALTH_PORT": str(health_port)})
    few = Slowloris(d.port, ["127.0.0.%d" % i for i in range(2, 7)], 10)  # 5 addresses
    many = Slowloris(d.port, ["127.0.0.%d" % i for i in range(10, 30)], 6)  # 20 addresses
    try:
        # The per-address cap: of 10 silent connections from one address, 4 are closed at once.
        one = []
        for _ in range(10):
            s = socket.socket()
            s.bind(("127.0.0.40", 0))
            s.connect(("127.0.0.1", d.port))
            one.append(s)
        time.sleep(0.7)
        shut = 0
        for s in one:
            s.setblocking(False)
            try:
                shut += s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                shut += 1
            s.close()
        assert shut == 4, shut
        # Phase 1: five addresses each try 10 slow connections; 6 each are let in (30 < 48),
        # so the main port still answers /healthz at once.
        times = []
        t_end = time.time() + 6
        while time.time() < t_end:
            few.fill()
            few.drip()
            status, took = probe(d.port)
            assert status == 200
            times.append(took)
            time.sleep(0.1)
        # Connections trickling one byte at a time are closed after the header timeout.
        assert few.closed_after and max(few.closed_after) < 4.5, few.closed_after
        # Phase 2: twenty addresses fill the main port (120 > 48); the /healthz listener
        # answers throughout.
        t_end = time.time() + 5
        health, peak = [], 0
        while time.time() < t_end:
            many.fill()
            many.drip()
            status, took = probe(health_port)
            assert status == 200
            health.append(took)
            peak = max(peak, len(many.socks) + len(few.socks))
            time.sleep(0.1)
        assert peak >= 40, peak  # the main port was (about) full
        assert probe(health_port, b"/v1/areas")[0] == 404  # probes only there
        assert probe(health_port, b"/readyz")[0] == 200  # readiness too (obs)
        many.close()
        few.close()
        times.sort()
        health.sort()
        print("healthz main port: median %.1f ms, p95 %.1f ms, max %.1f ms (%d probes)" % (
            1000 * times[len(times) // 2], 1000 * times[int(len(times) * 0.95)],
            1000 * times[-1], len(times)))
        print("healthz health port under a full main port: median %.1f ms, p95 %.1f ms, "
              "max %.1f ms (%d probes)" % (1000 * health[len(health) // 2],
                                           1000 * health[int(len(health) * 0.95)],
                                           1000 * health[-1], len(health)))
        # A crowded port shows as probes waiting seconds (the header timeout); the bound
        # leaves room for a machine whose two cores are busy with other work.
        assert times[int(len(times) * 0.95)] < 0.5 and times[-1] < 1.0
        assert health[int(len(health) * 0.95)] < 0.5 and health[-1] < 1.0
        # Once the slow clients are gone, the main port serves again.
        from conftest import wait_for
        def main_ok():
            try:
                return probe(d.port)[0] == 200
            except OSError:
                return False
        ok, took = wait_for(main_ok, timeout=20)
        assert ok
        print("main port answers again %.1f s after the slow clients left" % took)
    finally:
        many.close()
        few.close()
        d.stop()


# ---- issue 11 review, item 3: a trickled body is held to its own deadline ----

def test_a_trickled_body_is_closed_at_the_body_timeout(demo_db, workdir):
    d = Daemon(demo_db, workdir, extra_env={"DIRECTORYD_HTTP_HEADER_TIMEOUT": "2",
                                            "DIRECTORYD_HTTP_BODY_TIMEOUT": "3"})
    head = (b"POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 60000\r\n\r\n")
    try:
        # Complete headers, then one body byte a second (each byte restarts libmicrohttpd's
        # idle timeout of 30 s): the connection used to stay open for as long as it dripped.
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(head)
        t0, closed = time.time(), None
        s.setblocking(False)
        while time.time() - t0 < 10:
            try:
                if s.recv(4096) == b"":
                    closed = time.time() - t0
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = time.time() - t0
                break
            try:
                s.send(b" ")
            except OSError:
                closed = time.time() - t0
                break
            time.sleep(1)
        s.close()
        assert closed is not None and 2.5 <= closed < 5, closed
        # A body that arrives within the deadline, in pieces, is answered as usual.
        body = json.dumps({"username": "nobody.here", "password": "x"}).encode()
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(head.replace(b"60000", str(len(body)).encode()))
        for i in range(0, len(body), 8):
            time.sleep(0.15)
            s.sendall(body[i:i + 8])
        data = s.recv(65536)
        s.close()
        assert data.startswith(b"HTTP/1.1 401"), data[:80]
    finally:
        d.stop()


# ---- issue 11 review, item 6: a value cut at NUL is found line by line ----

def test_nul_junk_is_refused_even_with_spaces_saved_elsewhere(daemon):
    key = CASEWORKER_KEY.encode()
    # Four "A:b" lines without the space made up for "\0xyz" when only sizes were compared.
    status, _, body = get(daemon, b"/v1/people?limit=1",
                          b"Authorization: Bearer " + key +
                          b"\x00xyz\r\nA:b\r\nB:c\r\nD:e\r\nF:g\r\n")
    assert status in (400, 401), (status, body)
    assert "items" not in problem(body)
    # Junk after a NUL in the last header, and in the cookie, too.
    req = (b"GET /v1/people?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nA:b\r\nB:c\r\nD:e\r\n"
           b"Authorization: Bearer " + key + b"\x00xy\r\n\r\n")
    status, _, body = raw(daemon, req)
    assert status in (400, 401), (status, body)


def test_optional_whitespace_is_not_taken_for_junk(daemon):
    key = CASEWORKER_KEY.encode()
    # Extra spaces around values used to make the block longer than "key: value" lines and
    # the request was refused.
    status, _, body = get(daemon, b"/v1/people?limit=1",
                          b"Authorization:    Bearer " + key + b"\r\nX-Pad:   a  b   \r\n"
                          b"Accept:\t*/*\t\r\n")
    assert status == 200, body
    # Bare LF line ends are read as before.
    req = (b"GET /v1/people?limit=1 HTTP/1.1\nHost: x\nAuthorization: Bearer " + key +
           b"\nConnection: close\n\n")
    status, _, body = raw(daemon, req)
    assert status == 200, body
