"""HTTP behaviour: methods, unknown paths, keep-alive, bad bytes, clean shutdown."""
import http.client
import json
import socket
import time

from conftest import Daemon


def test_unsupported_methods_are_405_with_allow(api):
    # Allow names every method the path answers (from the route table).
    for method, path, allow in (("POST", "/v1/services", "GET, HEAD"),
                                ("DELETE", "/v1/organizations/1", "GET, HEAD, PATCH"),
                                ("PUT", "/v1/services", "GET, HEAD"),
                                ("GET", "/v1/organizations/1/close", "POST"),
                                ("DELETE", "/v1/admin/api-clients", "GET, HEAD, POST"),
                                ("GET", "/v1/admin/staff-roles/x", "PUT")):
        status, hdrs, data = api.request(method, path, body=b"{}")
        assert status == 405, (method, path)
        assert hdrs["Allow"] == allow, (method, path)
        assert data["status"] == 405


def test_head_works_wherever_get_does(api):
    """RFC 9110: HEAD answers as GET would, without a body, on every readable route."""
    from conftest import ADMIN_KEY
    for path in ("/v1/admin/api-clients", "/v1/audit", "/v1/organizations"):
        g = api.request("GET", path, key=ADMIN_KEY)
        h = api.request("HEAD", path, key=ADMIN_KEY)
        assert g[0] == 200 and h[0] == 200, path
        assert h[2] in (None, b"", "", {}), path


def test_unknown_path_is_404_problem(api):
    # Paths outside /v1 and /healthz are the browser UI's (test_webui_serving.py): "/" and
    # "/v2/areas" answer its index.html, a missing file a 404 problem.
    for path in ("/v1/nothing", "/v1/areas/1007/extra", "/v1", "/healthz/x", "/v2/areas.json"):
        status, hdrs, data = api.get(path)
        assert status == 404, path
        assert hdrs["Content-Type"] == "application/problem+json"


def test_keep_alive_serves_many_requests_on_one_connection(daemon):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    conn.connect()
    sock = conn.sock
    for _ in range(200):
        conn.request("GET", "/v1/areas/1007")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        assert conn.sock is sock  # the same TCP connection throughout
    conn.close()


def test_invalid_utf8_in_query_is_400(api, daemon):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    conn.request("GET", "/v1/organizations?q=%ff%fe")
    r = conn.getresponse()
    assert r.status == 400
    assert b'"field":"q"' in r.read()


def closed_by_server(s, within=5.0):
    """Reads S until the server closes it (EOF or a reset); False if it is still open after
    WITHIN seconds (a client that merely stopped reading proves nothing)."""
    s.settimeout(within)
    end = time.time() + within
    try:
        while time.time() < end:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def test_garbage_bytes_close_only_that_connection(demo_db, workdir):
    """Bytes that are not HTTP: that connection is closed by the server (EOF within a bound),
    another one open meanwhile goes on. Bytes libmicrohttpd cannot parse are answered 400 and
    closed at once; a request line starting with a NUL byte is read as an empty line, so that
    one is closed when its headers are overdue (http_header_timeout, 2 s here)."""
    d = Daemon(demo_db, workdir, extra_env={"DIRECTORYD_HTTP_HEADER_TIMEOUT": "2"})
    try:
        t0 = time.time()
        for data, within in ((b"\x01\x02 NOT HTTP AT ALL\r\n\r\n" * 10, 1.5),
                             (b"\x00\x01\x02 NOT HTTP AT ALL\r\n\r\n" * 10, 4.0)):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(data)
            assert closed_by_server(s, within), "the server left the connection open: %r" % data[:8]
            s.close()
        assert time.time() - t0 < 6
        status, _, area = d.http.get("/v1/areas/1007")
        assert status == 200 and area["code"] == "1007" and d.proc.poll() is None
    finally:
        d.stop()


def read_answer(s, buf, head):
    """One HTTP/1.1 answer from socket S after the bytes BUF already read: (status, headers,
    body, rest). HEAD answers have no body whatever their Content-Length (RFC 9110)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, "the server closed the connection: %r" % buf
        buf += chunk
    top, buf = buf.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), lines[0]
    hdrs = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = 0 if head else int(hdrs["content-length"])
    while len(buf) < n:
        chunk = s.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        buf += chunk
    return int(lines[0].split()[1]), hdrs, buf[:n], buf[n:]


def test_head_has_no_body(daemon):
    """http.client reads every HEAD answer as empty whatever came: on one raw connection, a
    HEAD then a GET, and the bytes after the HEAD's headers must be the GET's answer."""
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=5)
    req = "%s /v1/areas/1007 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    s.sendall((req % "HEAD").encode())
    status, head, body, rest = read_answer(s, b"", head=True)
    assert status == 200 and body == b""
    time.sleep(0.2)  # a body sent after the headers would be here by now
    s.sendall((req % "GET").encode())
    status, hdrs, body, rest = read_answer(s, rest, head=False)
    assert status == 200 and rest == b""
    assert json.loads(body)["code"] == "1007"
    # The HEAD promised the GET's headers: same type and length.
    assert head["content-type"] == hdrs["content-type"]
    assert head["content-length"] == hdrs["content-length"] == str(len(body))
    s.close()


def listeners(port):
    """The local addresses listening on PORT, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:
                    found.append(addr)
    return found


def test_listens_on_loopback_only(daemon):
    """The bound addresses themselves, as the kernel has them (not the daemon's log line):
    127.0.0.1 only, for the API and the LDAP face."""
    for port in (daemon.port, daemon.ldap_port):
        assert set(listeners(port)) == {"0100007F"}, (port, listeners(port))


def test_sigterm_stops_cleanly(demo_db, workdir):
    d = Daemon(demo_db, workdir)
    log = d.stop()  # asserts exit status 0 and no sanitizer report
    assert "stopped" in log


def test_sigint_stops_cleanly(demo_db, workdir):
    """Ctrl-C (SIGINT, as scripts/run's foreground daemon gets) stops it like SIGTERM."""
    import signal
    d = Daemon(demo_db, workdir)
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(timeout=30) == 0
    log = d.stop()
    assert "stopped" in log
