"""The browser UI's files served by the real daemon at / (issue 12, section 1): content types,
strong ETags and 304, gzip only when asked for (and the same bytes once decompressed), the
Content-Security-Policy and the other security headers, deep links answered with index.html,
/v1 staying JSON, 405 for other methods, HEAD without a body on a kept-alive connection, and
path traversal: no request, however encoded, returns a file from outside the folder.

The files are a fixture made here in a temporary folder (--webui-dir), independent of the
real app in webui/, with a secret file beside the folder."""
import gzip
import json
import os
import socket

import pytest

from conftest import Daemon, make_demo_db

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'")
SECRET = b"SECRET-BESIDE-THE-WEBUI-FOLDER-0451"
INDEX = (b"<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\"><title>test</title>"
         b"<script type=\"module\" src=\"/app/main.js\"></script></head><body>"
         + "<p>ทดสอบหน้าแรก webui-fixture-index</p>".encode() * 40 + b"</body></html>\n")
YEAR = "public, max-age=31536000, immutable"

# name -> (bytes, content type, compressible)
FILES = {
    "index.html": (INDEX, "text/html; charset=utf-8", True),
    "app/main.js": (b"import { t } from './lib.mjs';\n" + b"console.log(t('hello'));\n" * 60,
                    "text/javascript; charset=utf-8", True),
    "app/lib.mjs": (b"export function t(s) { return s; }\n" * 30, "text/javascript; charset=utf-8",
                    True),
    "app/style.css": (b"body { margin: 0; font-family: sans-serif; }\n" * 40,
                      "text/css; charset=utf-8", True),
    "app/main.js.map": (json.dumps({"version": 3, "sources": ["main.js"] * 50}).encode(),
                        "application/json; charset=utf-8", True),
    "icons/logo.svg": (b"<svg xmlns=\"http://www.w3.org/2000/svg\">" + b"<rect/>" * 80 + b"</svg>",
                       "image/svg+xml", True),
    "icons/icon-192.png": (b"\x89PNG\r\n\x1a\n" + os.urandom(600), "image/png", False),
    "favicon.ico": (b"\x00\x00\x01\x00" + os.urandom(300), "image/x-icon", False),
    "fonts/sarabun.woff2": (b"wOF2" + os.urandom(800), "font/woff2", False),
    "manifest.webmanifest": (json.dumps({"name": "ทำเนียบ", "start_url": "/", "icons": []} |
                                        {"k%d" % i: "v" for i in range(30)}).encode(),
                             "application/manifest+json", True),
    "sw.js": (b"self.addEventListener('fetch', () => {});\n" * 20,
              "text/javascript; charset=utf-8", True),
    "data/strings-th.json": (json.dumps({"k%d" % i: "ค่า" for i in range(60)},
                                        ensure_ascii=False).encode(),
                             "application/json; charset=utf-8", True),
    "robots.txt": (b"User-agent: *\nDisallow:\n" * 10, "text/plain; charset=utf-8", True),
    "assets/main.3f2a9c1b.js": (b"export const v = 1;\n" * 30, "text/javascript; charset=utf-8",
                                True),
    "ไทย.txt": ("ภาษาไทย\n".encode() * 20, "text/plain; charset=utf-8", True),
}
NOT_SERVED = {"README.md": b"# not served\n", ".hidden.js": b"hidden()\n",
              "node_modules/pkg/index.js": b"module.exports = 1;\n", "notes.php": b"<?php ?>"}


@pytest.fixture(scope="module")
def ui(pg, workdir):
    """A daemon serving a fixture folder; yields (daemon, folder)."""
    base = os.path.join(workdir, "webui-fixture")
    folder = os.path.join(base, "ui")
    for name, content in list({k: v[0] for k, v in FILES.items()}.items()) + list(NOT_SERVED.items()):
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(base, "ui.txt"), "wb") as f:  # "ui" + ".txt": a prefix trap
        f.write(SECRET)
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(folder, "link.txt"))
    os.symlink(base, os.path.join(folder, "up"))
    d = Daemon(make_demo_db(pg), workdir, {"DIRECTORYD_WEBUI_DIR": folder})
    yield d, folder
    d.stop()


def raw(port, data, timeout=10.0):
    """Sends DATA on a fresh connection and reads until the server closes; returns the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    return out


def parse_one(data, head_only=False):
    """Parses one HTTP/1.1 response at the start of DATA; returns (status, headers, body,
    the rest of DATA). A HEAD or 304 answer has no body whatever its Content-Length says."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, data[:300]
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 "), lines[0]
    status = int(lines[0].split(b" ")[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    if head_only or status == 304:
        return status, hdrs, b"", rest
    n = int(hdrs["content-length"])
    return status, hdrs, rest[:n], rest[n:]


def get(port, target, headers=(), method=b"GET"):
    """One request with TARGET sent as is (bytes); returns (status, headers, body)."""
    req = method + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(
        h + b"\r\n" for h in headers) + b"Connection: close\r\n\r\n"
    data = raw(port, req)
    if not data:
        return None, {}, b""
    status, hdrs, body, _ = parse_one(data, head_only=method == b"HEAD")
    return status, hdrs, body


def quoted(name):
    from urllib.parse import quote
    return quote(name).encode()


def assert_ui_headers(hdrs):
    assert hdrs["content-security-policy"] == CSP
    assert hdrs["x-content-type-options"] == "nosniff"
    assert hdrs["referrer-policy"] == "no-referrer"
    assert hdrs["x-frame-options"] == "DENY"


def test_files_have_their_content_types_and_headers(ui):
    d, _ = ui
    for name, (content, ctype, _) in FILES.items():
        status, hdrs, body = get(d.port, b"/" + quoted(name))
        assert status == 200, (name, status, body[:200])
        assert hdrs["content-type"] == ctype, name
        assert body == content, name
        assert "content-encoding" not in hdrs, name
        assert_ui_headers(hdrs)
        etag = hdrs["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20, etag
        expected = YEAR if name == "assets/main.3f2a9c1b.js" else "no-cache"
        assert hdrs["cache-control"] == expected, name
    status, hdrs, body = get(d.port, b"/")
    assert status == 200 and body == INDEX and hdrs["content-type"] == "text/html; charset=utf-8"


def test_etag_revalidation_answers_304(ui):
    d, _ = ui
    _, hdrs, _ = get(d.port, b"/app/main.js")
    etag = hdrs["etag"]
    for inm in (etag, "W/" + etag, '"nope", ' + etag, "*"):
        status, h, body = get(d.port, b"/app/main.js", [b"If-None-Match: " + inm.encode()])
        assert status == 304, inm
        assert body == b"" and h["etag"] == etag and h["cache-control"] == "no-cache"
        # RFC 9110 8.6: a Content-Length on a 304 is the 200's, never 0.
        assert h.get("content-length", str(len(FILES["app/main.js"][0]))) == \
            str(len(FILES["app/main.js"][0]))
        assert_ui_headers(h)
    status, _, body = get(d.port, b"/app/main.js", [b'If-None-Match: "other"'])
    assert status == 200 and body == FILES["app/main.js"][0]
    # Another file's ETag does not validate this one.
    _, h2, _ = get(d.port, b"/app/style.css")
    assert h2["etag"] != etag
    assert get(d.port, b"/app/main.js", [b"If-None-Match: " + h2["etag"].encode()])[0] == 200
    # A deep link is index.html and revalidates as index.html.
    _, hi, _ = get(d.port, b"/")
    assert get(d.port, b"/org/12", [b"If-None-Match: " + hi["etag"].encode()])[0] == 304


def test_gzip_only_when_accepted(ui):
    d, _ = ui
    for name, (content, _, text) in FILES.items():
        target = b"/" + quoted(name)
        status, hdrs, body = get(d.port, target, [b"Accept-Encoding: gzip, deflate, br"])
        assert status == 200, name
        if text:
            assert hdrs["content-encoding"] == "gzip", name
            assert hdrs["vary"] == "Accept-Encoding", name
            assert len(body) < len(content), name
            assert gzip.decompress(body) == content, name
            _, plain, _ = get(d.port, target)
            assert plain["vary"] == "Accept-Encoding"
            assert plain["etag"] != hdrs["etag"], name  # another representation
            # Revalidating the gzip copy.
            assert get(d.port, target, [b"Accept-Encoding: gzip",
                                        b"If-None-Match: " + hdrs["etag"].encode()])[0] == 304
        else:
            assert "content-encoding" not in hdrs and body == content, name
    for ae in (b"identity", b"gzip;q=0", b"br", b"*;q=0", b"gzip;q=0, *"):
        status, hdrs, body = get(d.port, b"/app/main.js", [b"Accept-Encoding: " + ae])
        assert status == 200 and "content-encoding" not in hdrs, ae
        assert body == FILES["app/main.js"][0], ae
    status, hdrs, body = get(d.port, b"/app/main.js", [b"Accept-Encoding: *"])
    assert hdrs["content-encoding"] == "gzip" and gzip.decompress(body) == FILES["app/main.js"][0]


def test_deep_links_get_the_app_and_missing_files_a_404(ui):
    d, _ = ui
    for target in (b"/org/12", b"/search", b"/person/5/", b"/resolve/1007/counselling",
                   b"/%E0%B8%84%E0%B9%89%E0%B8%99", b"/v1x", b"/healthzz", b"/app"):
        status, hdrs, body = get(d.port, target)
        assert status == 200 and body == INDEX, target
        assert hdrs["content-type"] == "text/html; charset=utf-8"
        assert hdrs["cache-control"] == "no-cache"
        assert_ui_headers(hdrs)
    for target in (b"/missing.js", b"/app/missing.css", b"/README.md", b"/.hidden.js",
                   b"/node_modules/pkg/index.js", b"/notes.php", b"/link.txt", b"/up/secret.txt",
                   b"/index.html.bak", b"/favicon.png"):
        status, hdrs, body = get(d.port, target)
        assert status == 404, (target, status)
        assert hdrs["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 404
        assert_ui_headers(hdrs)


def test_api_paths_stay_json(ui):
    d, _ = ui
    for target in (b"/v1/nope", b"/v1", b"/v1/", b"/v1/organizations/999999", b"/healthz/x"):
        status, hdrs, body = get(d.port, target)
        assert status == 404, target
        assert hdrs["content-type"] == "application/problem+json", target
        assert json.loads(body)["status"] == 404
        # The API's own headers: nosniff, no framing; not the UI's policy.
        assert hdrs["x-content-type-options"] == "nosniff"
        assert hdrs["x-frame-options"] == "DENY"
        assert hdrs["content-security-policy"] == "frame-ancestors 'none'"
    status, hdrs, body = get(d.port, b"/v1/areas?kind=district&parent=10&limit=100")
    assert status == 200 and len(json.loads(body)["items"]) == 50
    assert hdrs["x-frame-options"] == "DENY"
    status, _, body = get(d.port, b"/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_ui_is_served_to_callers_with_stale_credentials(ui):
    """The browser sends its (maybe expired) session cookie with every request: the app must
    still load, so the UI's files need no authentication."""
    d, _ = ui
    for h in ([b"Cookie: dird_session=expired.0000"], [b"Authorization: Bearer wrong-key"]):
        status, _, body = get(d.port, b"/", h)
        assert status == 200 and body == INDEX
        assert get(d.port, b"/v1/areas", h)[0] == 401  # while the API still says who is wrong


TRAVERSAL = [
    b"/../secret.txt", b"/../../secret.txt", b"/app/../../secret.txt", b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt", b"/.%2e/secret.txt", b"/%2e./secret.txt", b"/..%2fsecret.txt",
    b"/..%2Fsecret.txt", b"/%2e%2e%2fsecret.txt", b"/app%2f..%2f..%2fsecret.txt",
    b"/..\\secret.txt", b"/..%5csecret.txt", b"/%5c..%5csecret.txt", b"/app\\..\\..\\secret.txt",
    b"/secret.txt%00.html", b"/..%00/secret.txt", b"/%00../secret.txt", b"/index.html%00",
    b"//secret.txt", b"/./../secret.txt", b"/%252e%252e/secret.txt", b"/..;/secret.txt",
    b"/%c0%ae%c0%ae/secret.txt", b"/..%c0%afsecret.txt", b"/up/secret.txt", b"/up/../secret.txt",
    b"/../ui.txt", b"/%2e%2e/ui.txt", b"/../../../../../../etc/passwd",
    b"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", b"/....//secret.txt", b"/app/./main.js",
    b"/app/.%2e/.%2e/secret.txt", b"/link.txt", b"/%2e%2e", b"/..", b"/.",
]


def test_traversal_never_leaves_the_folder(ui):
    d, _ = ui
    for target in TRAVERSAL:
        status, hdrs, body = get(d.port, target)
        assert SECRET not in body, target
        assert b"root:" not in body, target
        assert status in (400, 404) or (status == 200 and body == INDEX), (target, status)
        if status in (400, 404):
            assert hdrs["content-type"] == "application/problem+json", target
            assert json.loads(body)["status"] == status
    # Dot segments and encoded separators are refused outright, not looked up.
    for target in (b"/../secret.txt", b"/%2e%2e/secret.txt", b"/..%2fsecret.txt",
                   b"/..\\secret.txt", b"/secret.txt%00.html", b"//secret.txt",
                   b"/app/./main.js", b"/app%2fmain.js"):
        status, hdrs, body = get(d.port, target)
        assert status == 400, (target, status)
        assert json.loads(body)["type"].endswith("/invalid-path")
        assert_ui_headers(hdrs)
    # The daemon is still fine.
    assert get(d.port, b"/app/main.js")[0] == 200


def test_other_methods_answer_405(ui):
    d, _ = ui
    for method, target in ((b"POST", b"/"), (b"PUT", b"/app/main.js"), (b"DELETE", b"/org/1"),
                           (b"PATCH", b"/index.html"), (b"OPTIONS", b"/"),
                           (b"POST", b"/missing.js")):
        status, hdrs, body = get(d.port, target, [b"Content-Length: 0"], method=method)
        assert status == 405, (method, target)
        assert hdrs["allow"] == "GET, HEAD"
        assert json.loads(body)["status"] == 405
        assert_ui_headers(hdrs)


def test_head_has_no_body_and_the_connection_goes_on(ui):
    d, _ = ui
    content = FILES["app/main.js"][0]
    robots = FILES["robots.txt"][0]
    # HEAD, then GET on the same connection: the GET's answer must start right after the
    # HEAD's headers (a body sent after HEAD would be read as the next answer).
    data = raw(d.port, b"HEAD /app/main.js HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, hdrs, _, rest = parse_one(data, head_only=True)
    assert status == 200
    assert int(hdrs["content-length"]) == len(content)
    assert hdrs["content-type"] == "text/javascript; charset=utf-8"
    assert_ui_headers(hdrs)
    status, hdrs, body, rest = parse_one(rest)
    assert status == 200 and body == robots and rest == b""
    # The same after a HEAD of a gzipped deep link and after a 304.
    _, h, _ = get(d.port, b"/")
    data = raw(d.port, b"HEAD /org/7 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
               b"GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + h["etag"].encode() + b"\r\n\r\n"
               b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, hdrs, _, rest = parse_one(data, head_only=True)
    assert status == 200 and hdrs["content-encoding"] == "gzip"
    status, hdrs, _, rest = parse_one(rest)
    assert status == 304
    status, hdrs, body, rest = parse_one(rest)
    assert status == 200 and body == robots and rest == b""


def test_default_serves_the_repository_webui(daemon):
    """Without --webui-dir the daemon serves the repository's webui/ (the installed one once
    there is an install)."""
    status, hdrs, body = get(daemon.port, b"/")
    assert status == 200
    assert hdrs["content-type"] == "text/html; charset=utf-8"
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "webui", "index.html"), "rb") as f:
        assert body == f.read()


def test_empty_webui_dir_serves_no_ui_and_a_missing_one_stops_the_start(pg, workdir):
    url = make_demo_db(pg)
    conf = os.path.join(workdir, "no-webui.conf")
    with open(conf, "w") as f:
        f.write('webui_dir = ""\n')
    d = Daemon(url, workdir, {"DIRECTORYD_CONFIG": conf})
    try:
        status, hdrs, body = get(d.port, b"/")
        assert status == 404 and hdrs["content-type"] == "application/problem+json"
        assert get(d.port, b"/v1/areas")[0] == 200
    finally:
        d.stop()
    with pytest.raises(RuntimeError) as e:
        Daemon(url, workdir, {"DIRECTORYD_WEBUI_DIR": os.path.join(workdir, "no-such-folder")})
    assert "no-such-folder" in str(e.value)
