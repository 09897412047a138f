"""HTTP behaviour: methods, unknown paths, keep-alive, bad bytes, clean shutdown."""
import http.client
import socket

from conftest import Daemon


def test_unsupported_methods_are_405_with_allow(api):
    # Allow names every method the path answers (from the route table).
    for method, path, allow in (("POST", "/v1/services", "GET, HEAD"),
                                ("DELETE", "/v1/organizations/1", "GET, HEAD, PATCH"),
                                ("PUT", "/v1/services", "GET, HEAD"),
                                ("GET", "/v1/organizations/1/close", "POST"),
                                ("DELETE", "/v1/admin/api-clients", "GET, POST"),
                                ("GET", "/v1/admin/staff-roles/x", "PUT")):
        status, hdrs, data = api.request(method, path, body=b"{}")
        assert status == 405, (method, path)
        assert hdrs["Allow"] == allow, (method, path)
        assert data["status"] == 405


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


def test_garbage_bytes_close_only_that_connection(api, daemon):
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=5)
    s.sendall(b"\x00\x01\x02 NOT HTTP AT ALL\r\n\r\n" * 10)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()
    status, _, _ = api.get("/healthz")
    assert status == 200


def test_head_has_no_body(daemon):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    conn.request("HEAD", "/v1/areas/1007")
    r = conn.getresponse()
    assert r.status == 200 and r.read() == b""


def test_listens_on_loopback_only(daemon):
    log = daemon.read_log()
    assert "http://127.0.0.1:%d/" % daemon.port in log


def test_sigterm_stops_cleanly(demo_db, workdir):
    d = Daemon(demo_db, workdir)
    log = d.stop()  # asserts exit status 0 and no sanitizer report
    assert "stopped" in log
