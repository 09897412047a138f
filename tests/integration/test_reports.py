"""Report a mistake: anyone sends POST /v1/reports about an organisation, a person (signed in)
or an area; coordinators read the worklist (GET /v1/reports) and resolve or reopen reports;
every step is audited; bodies are checked field by field; new reports are limited per client
address. Real daemon, real PostgreSQL."""
import http.client
import json

import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, Daemon, make_demo_db, psql, run_cli

COORD_KEY = "integration-report-coordinator-0123456789"


@pytest.fixture(scope="module")
def db(pg):
    return make_demo_db(pg, **{"it-report-coordinator": ("coordinator", COORD_KEY)})


@pytest.fixture(scope="module")
def rd(db, workdir):
    """The daemon for everything but the limit (no cap: the tests send many reports)."""
    d = Daemon(db, workdir, extra_env={"DIRECTORYD_REPORT_RATE": "0"})
    yield d
    d.stop()


def call(d, method, path, body=None, key=None, cookie=None, headers=None, raw=None,
         source="127.0.0.1"):
    """(status, response, parsed JSON or bytes); BODY goes as JSON, RAW as it is."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=15,
                                      source_address=(source, 0))
    h = {}
    if body is not None or raw is not None:
        h["Content-Type"] = "application/json"
    if key:
        h["Authorization"] = "Bearer " + key
    if cookie:
        h["Cookie"] = cookie
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    out = r.read()
    conn.close()
    if out and "json" in (r.getheader("Content-Type") or ""):
        out = json.loads(out)
    return r.status, r, out


def fields(problem):
    return [e["field"] for e in problem.get("errors", [])]


def org_id(d, ref):
    return int(psql(d.db_url, "SELECT id FROM organization WHERE ref = '%s'" % ref))


def count_reports(d):
    return int(psql(d.db_url, "SELECT count(*) FROM report"))


def worklist(d, key=COORD_KEY, **params):
    q = "&".join("%s=%s" % kv for kv in params.items())
    status, _, data = call(d, "GET", "/v1/reports" + ("?" + q if q else ""), key=key)
    assert status == 200, data
    return data


def test_anonymous_report_reaches_the_coordinators_worklist(rd):
    oid = org_id(rd, "coc-lumphini")
    body = {"entity": "organization", "id": str(oid),
            "message": "  เบอร์โทรศัพท์ 02-000-2001 ไม่มีผู้รับสาย ย้ายไปแล้ว\n",
            "contact": "ครูสมศรี 081-111-2222"}
    status, r, rep = call(rd, "POST", "/v1/reports", body)
    assert status == 201, rep
    assert rep["status"] == "open" and rep["entity"] == "organization"
    assert rep["entity_id"] == str(oid) and rep["created_at"].endswith("Z")
    assert r.getheader("Cache-Control") == "no-store"
    items = worklist(rd, status="open", entity="organization", id=str(oid))["items"]
    mine = [i for i in items if i["id"] == rep["id"]]
    assert len(mine) == 1, items
    got = mine[0]
    assert got["entity_name_th"] == "ศูนย์สร้างโอกาสเด็กสวนลุมพินี"
    assert got["entity_name_en"] == "Lumphini Park Child Opportunity Centre"
    assert got["message"] == "เบอร์โทรศัพท์ 02-000-2001 ไม่มีผู้รับสาย ย้ายไปแล้ว"  # trimmed
    assert got["contact"] == "ครูสมศรี 081-111-2222"
    assert got["reporter"] == "anonymous" and got["reporter_kind"] == "anonymous"
    assert got["status"] == "open" and got["created_at"] == rep["created_at"]
    # The organisation may be named by its ref too; the report keeps its id.
    status, _, rep2 = call(rd, "POST", "/v1/reports",
                           {"entity": "organization", "id": "coc-lumphini", "message": "อีเมลผิด"})
    assert status == 201 and rep2["entity_id"] == str(oid)
    # Areas by code, with their names.
    status, _, rep3 = call(rd, "POST", "/v1/reports",
                           {"entity": "area", "id": "1007", "message": "Wrong postal code"})
    assert status == 201, rep3
    got = [i for i in worklist(rd, entity="area", id="1007")["items"] if i["id"] == rep3["id"]]
    assert got and got[0]["entity_name_th"] == "ปทุมวัน" and got[0]["entity_name_en"] == "Pathum Wan"


def test_only_coordinators_and_admins_read_the_worklist(rd):
    status, _, p = call(rd, "GET", "/v1/reports")
    assert status == 401 and p["status"] == 401
    status, _, p = call(rd, "GET", "/v1/reports", key=CASEWORKER_KEY)
    assert status == 403
    assert call(rd, "GET", "/v1/reports", key=COORD_KEY)[0] == 200
    assert call(rd, "GET", "/v1/reports", key=ADMIN_KEY)[0] == 200
    status, r, _ = call(rd, "DELETE", "/v1/reports", key=ADMIN_KEY)
    assert status == 405 and "POST" in r.getheader("Allow")


def test_a_caseworker_session_reads_no_reports_and_needs_csrf_to_send_one(rd):
    run_cli("local-account", "report.caseworker", "caseworker",
            env={"DIRECTORYD_DB": rd.db_url, "DIRECTORYD_ACCOUNT_PASSWORD": "report-pass-123"})
    status, r, s = call(rd, "POST", "/v1/session",
                        {"username": "report.caseworker", "password": "report-pass-123"})
    assert status == 200, s
    cookie = r.getheader("Set-Cookie").split(";")[0]
    assert call(rd, "GET", "/v1/reports", cookie=cookie)[0] == 403
    body = {"entity": "area", "id": "1007", "message": "ชื่อแขวงสะกดผิด"}
    before = count_reports(rd)
    status, _, p = call(rd, "POST", "/v1/reports", body, cookie=cookie)
    assert status == 403 and p["type"].endswith("/csrf")
    assert count_reports(rd) == before
    status, _, rep = call(rd, "POST", "/v1/reports", body, cookie=cookie,
                          headers={"X-CSRF-Token": s["csrf_token"]})
    assert status == 201, rep
    got = [i for i in worklist(rd, entity="area", id="1007")["items"] if i["id"] == rep["id"]][0]
    assert got["reporter"] == "report.caseworker" and got["reporter_kind"] == "local"


def test_reports_about_people_need_a_signed_in_caller(rd):
    pid = psql(rd.db_url, "SELECT id FROM person WHERE active ORDER BY id LIMIT 1")
    body = {"entity": "person", "id": int(pid), "message": "ย้ายไปเขตอื่นแล้ว"}
    status, _, p = call(rd, "POST", "/v1/reports", body)
    assert status == 401 and fields(p) == ["entity"]
    # The same answer whether or not the person exists: anonymous callers learn nothing.
    status, _, p2 = call(rd, "POST", "/v1/reports", dict(body, id=999999999))
    assert status == 401 and p2["detail"] == p["detail"]
    status, _, rep = call(rd, "POST", "/v1/reports", body, key=CASEWORKER_KEY)
    assert status == 201 and rep["entity_id"] == pid
    got = [i for i in worklist(rd, entity="person", id=pid)["items"] if i["id"] == rep["id"]][0]
    name = psql(rd.db_url, "SELECT name_th FROM person WHERE id = %s" % pid)
    assert got["entity_name_th"] == name
    assert got["reporter"] == "it-caseworker" and got["reporter_kind"] == "api_client"


LUMPHINI = {"entity": "organization", "id": "coc-lumphini"}
TOO_LONG = "ก" * 2001


@pytest.mark.parametrize("body, status, field", [
    ({"entity": "organization", "id": "coc-lumphini"}, 400, "message"),
    (dict(LUMPHINI, message=""), 400, "message"),
    (dict(LUMPHINI, message=" \n\t\u3000\u200b "), 400, "message"),
    (dict(LUMPHINI, message=TOO_LONG), 400, "message"),
    (dict(LUMPHINI, message=5), 400, "message"),
    (dict(LUMPHINI, message=["ผิด"]), 400, "message"),
    (dict(LUMPHINI, message="bell \u0007 here"), 400, "message"),
    (dict(LUMPHINI, message="ok", contact="x" * 201), 400, "contact"),
    (dict(LUMPHINI, message="ok", contact="081\n222"), 400, "contact"),
    (dict(LUMPHINI, message="ok", contact=81), 400, "contact"),
    ({"id": "coc-lumphini", "message": "ok"}, 400, "entity"),
    (dict(LUMPHINI, entity="school", message="ok"), 400, "entity"),
    (dict(LUMPHINI, entity=1, message="ok"), 400, "entity"),
    ({"entity": "organization", "message": "ok"}, 400, "id"),
    (dict(LUMPHINI, id=True, message="ok"), 400, "id"),
    (dict(LUMPHINI, id={"ref": "coc-lumphini"}, message="ok"), 400, "id"),
    (dict(LUMPHINI, id="x" * 81, message="ok"), 400, "id"),
    (dict(LUMPHINI, message="ok", mesage="typo"), 400, "mesage"),
    (dict(LUMPHINI, id="no-such-org", message="ok"), 404, "id"),
    (dict(LUMPHINI, id=987654321, message="ok"), 404, "id"),
    ({"entity": "area", "id": "9999", "message": "ok"}, 404, "id"),
])
def test_bad_bodies_answer_a_problem_naming_the_field(rd, body, status, field):
    before = count_reports(rd)
    got, r, p = call(rd, "POST", "/v1/reports", body)
    assert got == status, p
    assert r.getheader("Content-Type") == "application/problem+json"
    assert field in fields(p), p
    assert count_reports(rd) == before  # nothing stored


@pytest.mark.parametrize("raw, ctype, status", [
    (b"{\"entity\": \"area\", ", "application/json", 400),          # not JSON
    (b"[\"area\", \"1007\", \"x\"]", "application/json", 400),      # JSON, not an object
    (b"{\"entity\":\"area\",\"id\":\"1007\",\"message\":\"\xff\xfe\"}", "application/json", 400),
    (b"{\"entity\":\"area\",\"entity\":\"area\",\"id\":\"1007\",\"message\":\"x\"}",
     "application/json", 400),                                      # duplicate key
    (b"{\"entity\":\"area\",\"id\":\"1007\",\"message\":\"a\\u0000b\"}", "application/json", 400),
    (b"entity=area&id=1007&message=x", "application/x-www-form-urlencoded", 415),
])
def test_bodies_that_are_not_a_json_object(rd, raw, ctype, status):
    before = count_reports(rd)
    got, _, p = call(rd, "POST", "/v1/reports", raw=raw, headers={"Content-Type": ctype})
    assert got == status, p
    if status == 400:
        assert fields(p) == ["body"]
    assert count_reports(rd) == before


def test_the_longest_message_fits_and_an_oversized_body_is_413(rd):
    # 2,000 Thai characters, escaped as \\uXXXX by json.dumps: 12,000 bytes, within the cap.
    longest = "ข" * 2000
    status, _, rep = call(rd, "POST", "/v1/reports", dict(LUMPHINI, message=longest))
    assert status == 201, rep
    got = [i for i in worklist(rd, entity="organization", id="coc-lumphini", limit=500)["items"]
           if i["id"] == rep["id"]]
    assert got[0]["message"] == longest
    before = count_reports(rd)
    big = json.dumps(dict(LUMPHINI, message="x" * 20000)).encode()
    status, _, p = call(rd, "POST", "/v1/reports", raw=big)
    assert status == 413 and fields(p) == ["body"]
    assert count_reports(rd) == before


def test_each_report_and_status_change_is_audited(rd):
    status, _, rep = call(rd, "POST", "/v1/reports",
                          {"entity": "area", "id": "1033", "message": "ตรวจสอบชื่อภาษาอังกฤษ"})
    assert status == 201
    status, _, a = call(rd, "GET", "/v1/audit?entity=report&id=%d" % rep["id"], key=COORD_KEY)
    assert status == 200 and len(a["items"]) == 1, a
    row = a["items"][0]
    assert row["action"] == "create" and row["actor_kind"] == "anonymous"
    assert row["actor"] == "anonymous" and row["address"] == "127.0.0.1"
    assert row["after"]["message"] == "ตรวจสอบชื่อภาษาอังกฤษ" and row["before"] is None
    status, _, done = call(rd, "POST", "/v1/reports/%d/resolve" % rep["id"],
                           {"note": "แก้ไขแล้ว", "resolution": "fixed"}, key=COORD_KEY)
    assert status == 200, done
    _, _, a = call(rd, "GET", "/v1/audit?entity=report&id=%d" % rep["id"], key=COORD_KEY)
    assert [x["action"] for x in a["items"]] == ["resolve", "create"]
    row = a["items"][0]
    assert row["actor"] == "it-report-coordinator" and row["actor_kind"] == "api_client"
    assert row["before"]["status"] == "open" and row["after"]["status"] == "resolved"
    assert row["after"]["note"] == "แก้ไขแล้ว" and row["after"]["resolution"] == "fixed"


def test_resolve_and_reopen(rd):
    status, _, rep = call(rd, "POST", "/v1/reports",
                          {"entity": "organization", "id": "coc-lumphini", "message": "ปิดทำการวันเสาร์"})
    rid = rep["id"]
    path = "/v1/reports/%d/" % rid
    # Only coordinators and admins.
    assert call(rd, "POST", path + "resolve")[0] == 401
    assert call(rd, "POST", path + "resolve", key=CASEWORKER_KEY)[0] == 403
    # Checked bodies.
    status, _, p = call(rd, "POST", path + "resolve", {"resolution": "maybe"}, key=COORD_KEY)
    assert status == 400 and fields(p) == ["resolution"]
    status, _, p = call(rd, "POST", path + "reopen", {"resolution": "fixed"}, key=COORD_KEY)
    assert status == 400 and fields(p) == ["resolution"]
    status, _, p = call(rd, "POST", path + "resolve", {"note": 3}, key=COORD_KEY)
    assert status == 400 and fields(p) == ["note"]
    # Resolve with a note: gone from the open list, in the resolved one.
    status, _, done = call(rd, "POST", path + "resolve",
                           {"note": "ไม่ใช่ข้อผิดพลาด ศูนย์ปิดวันเสาร์จริง", "resolution": "not_a_mistake"},
                           key=COORD_KEY)
    assert status == 200, done
    assert done["status"] == "resolved" and done["resolved_by"] == "it-report-coordinator"
    assert done["resolution"] == "not_a_mistake" and done["resolved_at"].endswith("Z")
    assert done["entity_name_en"] == "Lumphini Park Child Opportunity Centre"
    open_ids = [i["id"] for i in worklist(rd, status="open", limit=500)["items"]]
    resolved_ids = [i["id"] for i in worklist(rd, status="resolved", limit=500)["items"]]
    assert rid not in open_ids and rid in resolved_ids
    # Twice is a conflict that changes nothing.
    status, _, p = call(rd, "POST", path + "resolve", key=COORD_KEY)
    assert status == 409 and "it-report-coordinator" in p["detail"]
    # Reopen (no body needed): open again, the resolution cleared.
    status, _, again = call(rd, "POST", path + "reopen", key=ADMIN_KEY)
    assert status == 200, again
    assert again["status"] == "open" and again["resolved_at"] is None
    assert again["resolution"] is None and again["note"] is None
    assert call(rd, "POST", path + "reopen", key=ADMIN_KEY)[0] == 409
    assert rid in [i["id"] for i in worklist(rd, status="open", limit=500)["items"]]
    # Unknown and malformed report ids.
    assert call(rd, "POST", "/v1/reports/987654321/resolve", key=COORD_KEY)[0] == 404
    assert call(rd, "POST", "/v1/reports/12abc/resolve", key=COORD_KEY)[0] == 404
    status, r, _ = call(rd, "GET", path + "resolve", key=COORD_KEY)
    assert status == 405 and r.getheader("Allow") == "POST"


def test_worklist_pages_and_filters(rd):
    ids = []
    for n in range(5):
        status, _, rep = call(rd, "POST", "/v1/reports",
                              {"entity": "area", "id": "1050", "message": "รายงานที่ %d" % n})
        assert status == 201
        ids.append(rep["id"])
    seen, cursor = [], None
    while True:
        params = {"entity": "area", "id": "1050", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = worklist(rd, **params)
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
        assert isinstance(cursor, str)
    assert seen == ids  # oldest first, each once
    assert all(i["entity_id"] == "1050" for i in worklist(rd, entity="area", id="1050")["items"])


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=5abc", "limit"), ("limit=+5", "limit"),
    ("cursor=-1", "cursor"), ("cursor=1e3", "cursor"), ("status=closed", "status"),
    ("entity=school", "entity"), ("id=1007", "id"), ("aera=1007", "aera"),
])
def test_worklist_parameters_are_checked(rd, query, field):
    status, _, p = call(rd, "GET", "/v1/reports?" + query, key=COORD_KEY)
    assert status == 400 and fields(p) == [field], p


# ---- the limit per address ----

@pytest.fixture(scope="module")
def limited(db, workdir):
    """A daemon with the default limit (10 reports an hour per address)."""
    d = Daemon(db, workdir)
    yield d
    d.stop()


def test_too_many_reports_from_one_address_answer_429(limited):
    # The daemon listens on 127.0.0.1; connections come from other loopback addresses.
    body = {"entity": "area", "id": "1007", "message": "ทดสอบการจำกัดจำนวน"}
    # Refused bodies are not counted.
    for _ in range(12):
        assert call(limited, "POST", "/v1/reports", {"entity": "area"}, source="127.0.0.2")[0] == 400
    for n in range(10):
        status, _, rep = call(limited, "POST", "/v1/reports", body, source="127.0.0.2")
        assert status == 201, (n, rep)
    before = count_reports(limited)
    status, r, p = call(limited, "POST", "/v1/reports", body, source="127.0.0.2")
    assert status == 429 and p["status"] == 429
    assert 0 < int(r.getheader("Retry-After")) <= 3600
    assert count_reports(limited) == before
    # Other addresses are not affected, nor a signed-in caller from the same address.
    assert call(limited, "POST", "/v1/reports", body, source="127.0.0.3")[0] == 201
    assert call(limited, "POST", "/v1/reports", body, key=CASEWORKER_KEY, source="127.0.0.2")[0] == 201
    assert call(limited, "POST", "/v1/reports", body, source="127.0.0.2")[0] == 429


# ---- behind a reverse proxy (--http-trusted-proxies) ----

def test_behind_a_trusted_proxy_each_caller_has_its_own_limit_and_audit_address(db, workdir):
    """A load balancer on 127.0.0.5 forwards every caller: without trusting it, all callers
    would share its one address (and its one limit); trusted, X-Forwarded-For names them. A
    caller talking to the daemon directly cannot choose its address with the header."""
    d = Daemon(db, workdir, extra_env={"DIRECTORYD_HTTP_TRUSTED_PROXIES": "127.0.0.5/32"})
    try:
        body = {"entity": "area", "id": "1010", "message": "ผ่านตัวกระจายโหลด"}

        def via_proxy(client, extra=""):
            xff = (extra + ", " if extra else "") + client
            return call(d, "POST", "/v1/reports", body, source="127.0.0.5",
                        headers={"X-Forwarded-For": xff})

        for n in range(10):
            status, _, rep = via_proxy("203.0.113.7")
            assert status == 201, (n, rep)
        # The 11th from that caller waits; another caller through the same proxy does not.
        assert via_proxy("203.0.113.7")[0] == 429
        # A caller that sent its own header naming someone else is still itself.
        assert via_proxy("203.0.113.7", extra="198.51.100.99")[0] == 429
        status, _, rep = via_proxy("198.51.100.20")
        assert status == 201, rep
        status, _, a = call(d, "GET", "/v1/audit?entity=report&id=%d" % rep["id"], key=COORD_KEY)
        assert status == 200 and a["items"][0]["address"] == "198.51.100.20", a
        # Straight to the daemon from an untrusted address: the header is ignored.
        status, _, rep = call(d, "POST", "/v1/reports", body, source="127.0.0.6",
                              headers={"X-Forwarded-For": "192.0.2.1"})
        assert status == 201
        status, _, a = call(d, "GET", "/v1/audit?entity=report&id=%d" % rep["id"], key=COORD_KEY)
        assert a["items"][0]["address"] == "127.0.0.6", a
    finally:
        d.stop()


def test_a_bad_trusted_proxy_list_stops_the_start(db, workdir):
    d = None
    try:
        d = Daemon(db, workdir, extra_env={"DIRECTORYD_HTTP_TRUSTED_PROXIES": "lb.example"})
    except RuntimeError as e:
        assert "http_trusted_proxies: 'lb.example' is not an IPv4 or IPv6 address" in str(e)
    else:
        d.stop()
        raise AssertionError("directoryd started with a bad --http-trusted-proxies")
