"""Coordinators keep the directory current: validated writes, If-Match, audit, idempotency,
roles and API clients, over real HTTP on a real PostgreSQL."""
import json
import threading

from conftest import ADMIN_KEY, CASEWORKER_KEY, psql, run_cli, wait_for

COORD_KEY = "integration-coordinator-key-0123456789"
JSON = {"Content-Type": "application/json"}


def send(api, method, path, body=None, key=None, headers=None, raw=None):
    h = dict(JSON)
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return api.request(method, path, key=key, headers=h, body=data)


def coord(daemon):
    run_cli("api-client", "it-coordinator", "coordinator",
            env={"DIRECTORYD_DB": daemon.db_url, "DIRECTORYD_CLIENT_SECRET": COORD_KEY})
    ok, _ = wait_for(lambda: daemon.http.get("/v1/people", {"limit": 1}, key=COORD_KEY)[0] == 200)
    assert ok
    return COORD_KEY


NEW_ORG = {
    "name_th": "มูลนิธิเพื่อนเด็กทดสอบ", "name_en": "Test Friends of Children Foundation",
    "type": "ngo", "sector": "ngo", "area": "1033",
    "contacts": [{"kind": "phone", "value": "02 123 4567", "extension": "12",
                  "label_th": "สำนักงาน", "label_en": "office"},
                 {"kind": "mobile", "value": "081-234-5678", "public": False},
                 {"kind": "email", "value": "info@Example.ORG"},
                 {"kind": "line", "value": "@TestFriends"}],
    "services": [{"code": "counselling", "target_groups": ["street_children"],
                  "areas": ["1033", "bkk-z2.1"]}],
}


def test_create_read_patch_with_etags_and_audit(api, daemon):
    key = coord(daemon)
    status, hdrs, org = send(api, "POST", "/v1/organizations", NEW_ORG, key=key)
    assert status == 201, org
    assert hdrs["ETag"] == '"1"' and org["version"] == 1
    oid = org["id"]
    phones = {c["kind"]: c for c in org["contacts"]}
    assert phones["phone"]["value"] == "02-123-4567" and phones["phone"]["extension"] == "12"
    assert phones["mobile"]["value"] == "081-234-5678" and phones["mobile"]["public"] is False
    assert phones["email"]["value"] == "info@example.org"
    assert phones["line"]["value"] == "@testfriends"
    # Visible to everyone at once (anonymous: public contacts only), and in resolve.
    status, _, anon = api.get("/v1/organizations/%d" % oid)
    assert status == 200 and all(c["public"] for c in anon["contacts"])
    _, _, res = api.get("/v1/resolve", {"area": "103301", "need": "counselling", "group": "street_children"})
    assert oid in [i["id"] for i in res["items"]]
    # PATCH needs If-Match.
    status, _, p = send(api, "PATCH", "/v1/organizations/%d" % oid, {"hours_th": "จ-ศ 8:30-16:30"}, key=key)
    assert status == 428
    status, hdrs, o2 = send(api, "PATCH", "/v1/organizations/%d" % oid,
                            {"hours_th": "จ-ศ 8:30-16:30", "name_en": "Renamed"}, key=key,
                            headers={"If-Match": '"1"'})
    assert status == 200 and o2["version"] == 2 and hdrs["ETag"] == '"2"'
    assert o2["hours_th"] == "จ-ศ 8:30-16:30" and o2["contacts"] == org["contacts"]
    # A stale version changes nothing and answers 412 with the current state.
    status, hdrs, cur = send(api, "PATCH", "/v1/organizations/%d" % oid, {"name_en": "Lost"},
                             key=key, headers={"If-Match": '"1"'})
    assert status == 412 and cur["name_en"] == "Renamed" and hdrs["ETag"] == '"2"'
    assert psql(daemon.db_url, "SELECT name_en FROM organization WHERE id = %d" % oid) == "Renamed"
    # Verify, close with reason and successor, reopen.
    status, _, v = send(api, "POST", "/v1/organizations/%d/verify" % oid, key=key, headers={"If-Match": '"2"'}, raw=b"")
    assert status == 200 and v["stale"] is False and v["verified_at"] and v["verified_by"] == "it-coordinator"
    succ = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-lumphini'"))
    status, _, c = send(api, "POST", "/v1/organizations/%d/close" % oid,
                        {"date": "2026-11-01", "reason_th": "ย้ายที่ทำการ", "reason_en": "moved office",
                         "successor": succ}, key=key, headers={"If-Match": '"%d"' % v["version"]})
    assert status == 200 and c["status"] == "closed" and c["status_date"] == "2026-11-01"
    assert c["successor"] == succ and c["status_reason_en"] == "moved office"
    _, _, res = api.get("/v1/resolve", {"area": "103301", "need": "counselling", "group": "street_children"})
    assert oid not in [i["id"] for i in res["items"]]
    status, _, r = send(api, "POST", "/v1/organizations/%d/reopen" % oid, key=key,
                        headers={"If-Match": '"%d"' % c["version"]}, raw=b"")
    assert status == 200 and r["status"] == "active" and r["status_date"] is None
    # The audit trail: who, what, before and after.
    status, _, a = api.get("/v1/audit", {"entity": "organization", "id": str(oid)}, key=key)
    assert status == 200
    actions = [x["action"] for x in a["items"]]
    assert actions == ["reopen", "close", "verify", "update", "create"]
    upd = a["items"][3]
    assert upd["actor"] == "it-coordinator" and upd["actor_kind"] == "api_client"
    assert upd["before"]["name_en"] == NEW_ORG["name_en"] and upd["after"]["name_en"] == "Renamed"
    assert upd["address"] == "127.0.0.1"
    assert a["items"][4]["before"] is None


def test_idempotency_key_returns_the_first_result(api, daemon):
    key = coord(daemon)
    body = dict(NEW_ORG, name_th="มูลนิธิซ้ำไม่ได้")
    h = {"Idempotency-Key": "it-create-once"}
    s1, _, a = send(api, "POST", "/v1/organizations", body, key=key, headers=h)
    s2, _, b = send(api, "POST", "/v1/organizations", body, key=key, headers=h)
    assert s1 == 201 and s2 == 200 and a["id"] == b["id"]
    assert psql(daemon.db_url, "SELECT count(*) FROM organization WHERE name_th = 'มูลนิธิซ้ำไม่ได้'") == "1"
    s3, _, e = send(api, "POST", "/v1/organizations", dict(body, name_en="other"), key=key, headers=h)
    assert s3 == 422


def test_validation_lists_every_invalid_field_and_changes_nothing(api, daemon):
    key = coord(daemon)
    before = psql(daemon.db_url, "SELECT count(*) FROM organization")
    status, hdrs, p = send(api, "POST", "/v1/organizations", {
        "name_th": "", "type": "castle", "sector": "ngo", "area": "9999", "lat": 51.5, "lon": -0.1,
        "contacts": [{"kind": "mobile", "value": "02-123-4567"}, {"kind": "email", "value": "a@b"},
                     {"kind": "line", "value": "x!"}, {"kind": "fax", "value": "12"},
                     {"kind": "phone", "value": "02-123-4567", "extension": "abc"}],
        "services": [{"code": "flying"}], "status": "closed", "colour": "red"}, key=key)
    assert status == 400 and hdrs["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in p["errors"]}
    assert {"name_th", "type", "area", "lat", "contacts[0].value", "contacts[1].value",
            "contacts[2].value", "contacts[3].value", "contacts[4].extension",
            "services[0].code", "status", "colour"} <= fields
    assert all(e["message_th"] and e["message_en"] for e in p["errors"])
    assert psql(daemon.db_url, "SELECT count(*) FROM organization") == before


def test_bad_bodies(api, daemon):
    key = coord(daemon)
    before = psql(daemon.db_url, "SELECT count(*) FROM change_log")
    cases = [
        (b"{not json", 400), (b"[1,2]", 400), (b'{"name_th": "a", "name_th": "b"}', 400),
        (b'{"name_th": "\xff\xfe"}', 400), (b"x" * (1024 * 1024 + 10), 413),
        (json.dumps({"name_th": 5, "type": ["ngo"], "sector": None, "area": {}}).encode(), 400),
    ]
    for raw, want in cases:
        status, hdrs, p = send(api, "POST", "/v1/organizations", key=key, raw=raw)
        assert status == want, (raw[:40], status, p)
        assert hdrs["Content-Type"] == "application/problem+json"
    status, _, _ = api.request("POST", "/v1/organizations", key=key, body=b"{}",
                               headers={"Content-Type": "text/plain"})
    assert status == 415
    # SQL metacharacters are just text.
    evil = dict(NEW_ORG, name_th="มูลนิธิ'); DROP TABLE organization; --", contacts=[], services=[])
    status, _, o = send(api, "POST", "/v1/organizations", evil, key=key)
    assert status == 201 and o["name_th"] == evil["name_th"]
    assert int(psql(daemon.db_url, "SELECT count(*) FROM change_log")) > int(before)


def test_role_matrix(api, daemon):
    key = coord(daemon)
    oid = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-chatuchak'"))
    ver = psql(daemon.db_url, "SELECT version FROM organization WHERE id = %d" % oid)
    run_cli("api-client", "it-expired", "coordinator",
            env={"DIRECTORYD_DB": daemon.db_url, "DIRECTORYD_CLIENT_SECRET": "it-expired-key-0123456789"})
    psql(daemon.db_url, "UPDATE api_client SET expires_at = now() - interval '1 day' WHERE name = 'it-expired'")
    wait_for(lambda: api.get("/v1/organizations", {"limit": 1}, key="it-expired-key-0123456789")[0] == 401)
    cases = [
        # (method, path, body, {key: expected status})
        ("PATCH", "/v1/organizations/%d" % oid, {"hours_en": "9-5"},
         {None: 401, CASEWORKER_KEY: 403, "it-expired-key-0123456789": 401, key: 200}),
        ("POST", "/v1/admin/api-clients", {"name": "it-matrix", "role": "caseworker"},
         {None: 401, CASEWORKER_KEY: 403, key: 403, ADMIN_KEY: 201}),
        ("GET", "/v1/audit", None, {None: 401, CASEWORKER_KEY: 403, key: 200, ADMIN_KEY: 200}),
        ("GET", "/v1/people", None, {None: 401, CASEWORKER_KEY: 200, key: 200}),
        ("GET", "/v1/organizations", None, {None: 200, CASEWORKER_KEY: 200, "bogus": 401}),
    ]
    for method, path, body, expect in cases:
        for k, want in expect.items():
            headers = {"If-Match": '"%s"' % ver} if method == "PATCH" else {}
            if method == "GET":
                status, _, _ = api.get(path, key=k)
            else:
                status, _, r = send(api, method, path, body, key=k, headers=headers)
                if status == 200 and method == "PATCH":
                    ver = str(r["version"])
            assert status == want, (method, path, k, status)


def test_api_clients_created_once_revoked_and_listed(api, daemon):
    status, _, c = send(api, "POST", "/v1/admin/api-clients",
                        {"name": "it-mirror", "role": "caseworker"}, key=ADMIN_KEY)
    assert status == 201 and c["secret"].startswith("dk_")
    secret = c["secret"]
    assert api.get("/v1/people", {"limit": 1}, key=secret)[0] == 200
    status, _, dup = send(api, "POST", "/v1/admin/api-clients", {"name": "it-mirror", "role": "admin"}, key=ADMIN_KEY)
    assert status == 409
    _, _, lst = api.get("/v1/admin/api-clients", key=ADMIN_KEY)
    mirror = [x for x in lst["items"] if x["name"] == "it-mirror"][0]
    assert "secret" not in mirror and "secret_hash" not in json.dumps(lst)
    status, _, _ = send(api, "POST", "/v1/admin/api-clients/it-mirror/revoke", key=ADMIN_KEY, raw=b"")
    assert status == 200
    assert api.get("/v1/people", {"limit": 1}, key=secret)[0] == 401
    _, _, a = api.get("/v1/audit", {"entity": "api_client", "actor": "it-admin"}, key=ADMIN_KEY)
    assert [x["action"] for x in a["items"]][:2] == ["revoke", "create"]
    assert secret not in json.dumps(a) and "secret_hash" not in json.dumps(a)
    assert secret[3:] not in daemon.read_log()


def test_people_create_memberships_deactivate(api, daemon):
    key = coord(daemon)
    wsec = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'district-1033-welfare'"))
    status, _, p = send(api, "POST", "/v1/people", {
        "name_th": "ทดสอบ ระบบ", "name_en": "Thotsop Rabop", "title_th": "นักสังคมสงเคราะห์",
        "profession": "social_worker",
        "contacts": [{"kind": "mobile", "value": "0899999999"}, {"kind": "line", "value": "thotsop1"}],
        "memberships": [{"organization": wsec, "team_role": "district_welfare", "areas": ["1033"]}]},
        key=key)
    assert status == 201, p
    assert p["source"] == "manual" and p["active"] is True
    assert p["memberships"][0]["organization"]["id"] == wsec
    assert all(c["public"] is False for c in p["contacts"])  # people's contacts are private by default
    _, _, res = api.get("/v1/resolve", {"area": "1033"}, key=key)
    assert p["id"] in [i["id"] for i in res["items"] if i["kind"] == "person"]
    status, _, d = send(api, "POST", "/v1/people/%d/deactivate" % p["id"], key=key,
                        headers={"If-Match": '"%d"' % p["version"]}, raw=b"")
    assert status == 200 and d["active"] is False
    _, _, res = api.get("/v1/resolve", {"area": "1033"}, key=key)
    assert p["id"] not in [i["id"] for i in res["items"] if i["kind"] == "person"]
    status, _, bad = send(api, "PATCH", "/v1/people/%d" % p["id"],
                          {"memberships": [{"organization": 999999}], "profession": "wizard"},
                          key=key, headers={"If-Match": '"%d"' % d["version"]})
    assert status == 400
    assert {e["field"] for e in bad["errors"]} == {"memberships[0].organization", "profession"}


def test_ldap_owned_fields_are_read_only(api, daemon):
    key = coord(daemon)
    pid = psql(daemon.db_url, """INSERT INTO person (name_th, name_en, source, ldap_uuid, username)
        VALUES ('สมศรี จากแอลดีเอพี', 'Somsri Ldap', 'ldap', 'it-uuid-1', 'it.somsri') RETURNING id""")
    ok, _ = wait_for(lambda: api.get("/v1/people/" + pid, key=key)[0] == 200)
    assert ok
    status, _, p = send(api, "PATCH", "/v1/people/" + pid,
                        {"name_th": "เปลี่ยนชื่อ", "contacts": [{"kind": "email", "value": "x@example.org"}]},
                        key=key, headers={"If-Match": '"1"'})
    assert status == 400
    assert {e["field"] for e in p["errors"]} == {"name_th", "contacts[0].kind"}
    # Directory-only facts are fine; the membership the sync made comes back with a role.
    unit = psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'district-1001-welfare'")
    other = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-lumphini'"))
    psql(daemon.db_url, "INSERT INTO membership (person_id, organization_id, source) "
                        "VALUES (%s, %s, 'ldap')" % (pid, unit))
    ok, _ = wait_for(lambda: api.get("/v1/people/" + pid, key=key)[2]["memberships"])
    assert ok
    _, hdrs, _ = api.get("/v1/people/" + pid, key=key)
    status, _, p = send(api, "PATCH", "/v1/people/" + pid,
                        {"contacts": [{"kind": "line", "value": "somsri.bkk"}], "profession": "social_worker",
                         "memberships": [{"organization": int(unit), "team_role": "district_welfare",
                                          "areas": ["1001"]},
                                         {"organization": other, "team_role": "agency_partner"}]},
                        key=key, headers={"If-Match": hdrs["ETag"]})
    assert status == 200 and p["profession"] == "social_worker"
    got = sorted((m["organization"]["id"], m["team_role"]) for m in p["memberships"])
    assert got == sorted([(int(unit), "district_welfare"), (other, "agency_partner")])


def test_close_as_moved_names_the_successor(api, daemon):
    """close with moved: true gives status "moved" (not "closed"), listed by status=moved,
    never offered by resolve, and audited as a close."""
    key = coord(daemon)
    body = dict(NEW_ORG, name_th="มูลนิธิทดสอบย้ายที่ทำการ", contacts=[],
                services=[{"code": "goods", "target_groups": [], "areas": ["1033"]}])
    status, _, o = send(api, "POST", "/v1/organizations", body, key=key)
    assert status == 201, o
    succ = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-chatuchak'"))
    _, _, res = api.get("/v1/resolve", {"area": "1033", "need": "goods"})
    assert o["id"] in [i["id"] for i in res["items"]]
    status, _, m = send(api, "POST", "/v1/organizations/%d/close" % o["id"],
                        {"date": "2026-10-01", "reason_en": "moved to Chatuchak",
                         "successor": succ, "moved": True},
                        key=key, headers={"If-Match": '"%d"' % o["version"]})
    assert status == 200 and m["status"] == "moved" and m["successor"] == succ, m
    assert m["status_date"] == "2026-10-01"
    assert psql(daemon.db_url, "SELECT status FROM organization WHERE id = %d" % o["id"]) == "moved"
    _, _, lst = api.get("/v1/organizations", {"status": "moved", "limit": 500})
    assert o["id"] in [x["id"] for x in lst["items"]]
    assert all(x["status"] == "moved" for x in lst["items"])
    _, _, closed = api.get("/v1/organizations", {"status": "closed", "limit": 500})
    assert o["id"] not in [x["id"] for x in closed["items"]]
    _, _, res = api.get("/v1/resolve", {"area": "1033", "need": "goods"})
    assert o["id"] not in [i["id"] for i in res["items"]]
    _, _, a = api.get("/v1/audit", {"entity": "organization", "id": str(o["id"])}, key=key)
    assert a["items"][0]["action"] == "close" and a["items"][0]["after"]["status"] == "moved"


def test_people_reactivate_and_verify(api, daemon):
    key = coord(daemon)
    wsec = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'district-1034-welfare'"))
    status, _, p = send(api, "POST", "/v1/people", {
        "name_th": "ทดสอบ กลับมา", "name_en": "Test Comeback",
        "memberships": [{"organization": wsec, "team_role": "district_welfare", "areas": ["1034"]}]},
        key=key)
    assert status == 201, p
    assert p["stale"] is True and p["verified_at"] is None

    def offered():
        _, _, r = api.get("/v1/resolve", {"area": "1034"}, key=key)
        return p["id"] in [i["id"] for i in r["items"] if i["kind"] == "person"]

    status, _, d = send(api, "POST", "/v1/people/%d/deactivate" % p["id"], key=key,
                        headers={"If-Match": '"%d"' % p["version"]}, raw=b"")
    assert status == 200 and d["active"] is False and not offered()
    status, _, r = send(api, "POST", "/v1/people/%d/reactivate" % p["id"], key=key,
                        headers={"If-Match": '"%d"' % d["version"]}, raw=b"")
    assert status == 200 and r["active"] is True and r["version"] > d["version"]
    assert offered()
    assert psql(daemon.db_url, "SELECT active FROM person WHERE id = %d" % p["id"]) == "t"
    status, _, v = send(api, "POST", "/v1/people/%d/verify" % p["id"], key=key,
                        headers={"If-Match": '"%d"' % r["version"]}, raw=b"")
    assert status == 200 and v["stale"] is False and v["verified_at"], v
    # A stale ETag changes nothing.
    status, _, _ = send(api, "POST", "/v1/people/%d/verify" % p["id"], key=key,
                        headers={"If-Match": '"%d"' % r["version"]}, raw=b"")
    assert status == 412
    _, _, a = api.get("/v1/audit", {"entity": "person", "id": str(p["id"])}, key=key)
    assert [x["action"] for x in a["items"]][:3] == ["verify", "reactivate", "deactivate"]
    assert a["items"][0]["actor"] == "it-coordinator"


def test_idempotency_key_is_scoped_per_client(api, daemon):
    """Two clients using the same Idempotency-Key get their own answers: the second's create
    is made (201), never a replay of the first client's answer nor a 422."""
    key = coord(daemon)
    h = {"Idempotency-Key": "it-shared-key"}
    a_body = dict(NEW_ORG, name_th="มูลนิธิของลูกค้าเอ", contacts=[], services=[])
    b_body = dict(NEW_ORG, name_th="มูลนิธิของลูกค้าบี", contacts=[], services=[])
    s1, _, a = send(api, "POST", "/v1/organizations", a_body, key=key, headers=h)
    s2, _, b = send(api, "POST", "/v1/organizations", b_body, key=ADMIN_KEY, headers=h)
    assert s1 == 201 and s2 == 201, (s1, s2, b)
    assert a["id"] != b["id"] and b["name_th"] == b_body["name_th"]
    # The same body too: still the other client's own create.
    s3, _, c = send(api, "POST", "/v1/organizations", a_body, key=ADMIN_KEY,
                    headers={"Idempotency-Key": "it-shared-key-2"})
    s4, _, e = send(api, "POST", "/v1/organizations", a_body, key=key,
                    headers={"Idempotency-Key": "it-shared-key-2"})
    assert s3 == 201 and s4 == 201 and c["id"] != e["id"]
    # Each client's own retry replays its own answer.
    s5, _, b2 = send(api, "POST", "/v1/organizations", b_body, key=ADMIN_KEY, headers=h)
    assert s5 == 200 and b2["id"] == b["id"]
    assert psql(daemon.db_url, "SELECT count(*) FROM organization WHERE name_th IN "
                               "('มูลนิธิของลูกค้าเอ', 'มูลนิธิของลูกค้าบี')") == "4"


def test_concurrent_patches_exactly_one_wins(api, daemon):
    """8 writers with the same ETag released together by a barrier, 12 rounds: exactly one
    wins each round, the others get 412, and the row holds the winner's edit."""
    key = coord(daemon)
    oid = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'coc-khlong-chan'"))
    writers, rounds = 8, 12
    for rnd in range(rounds):
        _, hdrs, cur = api.get("/v1/organizations/%d" % oid, key=key)
        etag = hdrs["ETag"]
        results = []
        barrier = threading.Barrier(writers)

        def go(who):
            body = json.dumps({"hours_en": "round %d by %s" % (rnd, who)}).encode()
            barrier.wait()
            s, _, _ = send(api, "PATCH", "/v1/organizations/%d" % oid, key=key,
                           headers={"If-Match": etag}, raw=body)
            results.append((s, who))

        ts = [threading.Thread(target=go, args=(w,)) for w in range(writers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(s for s, _ in results)
        assert codes == [200] + [412] * (writers - 1), (rnd, codes)
        winner = [w for s, w in results if s == 200][0]
        assert psql(daemon.db_url, "SELECT hours_en FROM organization WHERE id = %d" % oid) == \
            "round %d by %s" % (rnd, winner)
        assert int(psql(daemon.db_url, "SELECT version FROM organization WHERE id = %d" % oid)) == \
            cur["version"] + 1
    n = psql(daemon.db_url, "SELECT count(*) FROM audit WHERE entity = 'organization' AND entity_id = '%d' "
                            "AND action = 'update'" % oid)
    assert int(n) == rounds


def test_postgresql_restart_during_writes_loses_nothing(workdir):
    """Every write that got a 2xx is in the database afterwards; the others got a clear 503
    and retrying them (same Idempotency-Key) works, without duplicates."""
    import os
    import subprocess
    import time

    from conftest import PGCTL, Daemon, free_port

    data = os.path.join(workdir, "pg-writes")
    port = free_port()
    subprocess.run([PGCTL, "start", data, str(port)], check=True)
    url = subprocess.run([PGCTL, "url", data, str(port)], check=True, capture_output=True,
                         text=True).stdout.strip()
    try:
        run_cli("migrate", env={"DIRECTORYD_DB": url})
        run_cli("api-client", "it-writer", "coordinator",
                env={"DIRECTORYD_DB": url, "DIRECTORYD_CLIENT_SECRET": COORD_KEY})
        d = Daemon(url, workdir)
        try:
            results = {}
            for i in range(40):
                if i == 12:
                    subprocess.run([PGCTL, "stop", data], check=True)
                if i == 20:
                    subprocess.run([PGCTL, "start", data, str(port)], check=True)
                body = dict(NEW_ORG, name_th="ทดสอบรีสตาร์ท %d" % i, contacts=[], services=[])
                status, hdrs, r = send(d.http, "POST", "/v1/organizations", body, key=COORD_KEY,
                                       headers={"Idempotency-Key": "restart-%d" % i})
                results[i] = status
                if status >= 300:
                    assert status == 503 and hdrs["Content-Type"] == "application/problem+json", r
                time.sleep(0.05)
            assert any(s == 201 for s in results.values())
            assert any(s == 503 for s in results.values())
            # A 503 changed nothing: none of those is in the database (a write that committed
            # but answered 503 would be hidden by the replay below).
            pg_up, _ = wait_for(lambda: subprocess.run(["psql", url, "-qAtc", "SELECT 1"],
                                                       capture_output=True).returncode == 0,
                                timeout=15)
            assert pg_up
            failed = sorted(i for i, s in results.items() if s == 503)
            there = psql(url, "SELECT name_th FROM organization WHERE name_th LIKE 'ทดสอบรีสตาร์ท %'")
            assert not set(there.split("\n")) & {"ทดสอบรีสตาร์ท %d" % i for i in failed}, there
            # Retry the failures until they succeed.
            for i, s in results.items():
                if s == 503:
                    body = dict(NEW_ORG, name_th="ทดสอบรีสตาร์ท %d" % i, contacts=[], services=[])
                    ok, _ = wait_for(lambda: send(d.http, "POST", "/v1/organizations", body,
                                                  key=COORD_KEY,
                                                  headers={"Idempotency-Key": "restart-%d" % i})[0]
                                     in (200, 201), timeout=15, step=0.3)
                    assert ok, i
            names = psql(url, "SELECT name_th FROM organization WHERE name_th LIKE 'ทดสอบรีสตาร์ท %'").split("\n")
            assert sorted(names) == sorted("ทดสอบรีสตาร์ท %d" % i for i in range(40))
        finally:
            d.stop()
    finally:
        subprocess.run([PGCTL, "stop", data], check=True)
