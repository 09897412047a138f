"""Coordinators add pilot communities, area groups and programmes; reference areas stay
read-only."""
from conftest import psql
from test_writes import coord, send


def test_pilot_community_added_and_used(api, daemon):
    key = coord(daemon)
    status, hdrs, a = send(api, "POST", "/v1/areas", {
        "parent": "1027", "name_th": "ชุมชนทดสอบนำร่อง", "name_en": "Test Pilot Community",
        "lat": 13.81, "lon": 100.65}, key=key)
    assert status == 201, a
    assert a["kind"] == "community" and a["parent"] == "1027"
    assert a["code"].startswith("C1027-") and a["code"] != "C1027-0001"
    assert [x["code"] for x in a["ancestors"]] == ["TH", "10", "1027"]
    _, _, lst = api.get("/v1/areas", {"parent": "1027", "kind": "community"})
    assert a["code"] in [x["code"] for x in lst["items"]]
    # The resolver answers for it (its district's welfare section first).
    _, _, r = api.get("/v1/resolve", {"area": a["code"]})
    assert r["items"][0]["ref"] == "district-1027-welfare"
    status, _, a2 = send(api, "PATCH", "/v1/areas/" + a["code"], {"name_en": "Renamed Pilot"},
                         key=key, headers={"If-Match": hdrs["ETag"]})
    assert status == 200 and a2["name_en"] == "Renamed Pilot"
    # National reference areas are not edited here.
    status, _, p = send(api, "PATCH", "/v1/areas/1007", {"name_en": "X"}, key=key,
                        headers={"If-Match": '"1"'})
    assert status == 403
    status, _, p = send(api, "POST", "/v1/areas", {"parent": "10", "name_th": "x", "kind": "district"},
                        key=key)
    assert status == 400 and {e["field"] for e in p["errors"]} == {"parent", "kind"}


def test_area_group_for_the_2023_expansion(api, daemon):
    key = coord(daemon)
    status, hdrs, g = send(api, "POST", "/v1/area-groups", {
        "code": "bkk-cp-2023", "kind": "other", "within": "10",
        "name_th": "ชุมชนคุ้มครองเด็ก 2566", "name_en": "Community child protection 2023",
        "members": ["1027", "1006"]}, key=key)
    assert status == 201, g
    assert sorted(m["code"] for m in g["members"]) == ["1006", "1027"]
    status, _, g2 = send(api, "PATCH", "/v1/area-groups/bkk-cp-2023", {"members": ["1027"]},
                         key=key, headers={"If-Match": hdrs["ETag"]})
    assert status == 200 and [m["code"] for m in g2["members"]] == ["1027"]
    _, _, d = api.get("/v1/areas/1027")
    assert "bkk-cp-2023" in [x["code"] for x in d["groups"]]
    status, _, p = send(api, "POST", "/v1/area-groups", {"code": "bkk-z1", "kind": "moon",
                                                          "name_th": "x", "members": ["nowhere"]}, key=key)
    assert status == 400
    assert {e["field"] for e in p["errors"]} == {"code", "kind", "members[0]"}


def test_programmes_listed_and_created(api, daemon):
    key = coord(daemon)
    _, _, lst = api.get("/v1/programmes")
    pilot = [p for p in lst["items"] if p["ref"] == "pilot-2016-suwan-prasit"]
    assert pilot and pilot[0]["areas"][0]["code"] == "C1027-0001"
    assert pilot[0]["organizations"]
    wsec = int(psql(daemon.db_url, "SELECT id FROM organization WHERE ref = 'district-1006-welfare'"))
    status, hdrs, p = send(api, "POST", "/v1/programmes", {
        "ref": "it-safeguarding", "name_th": "นโยบายคุ้มครองเด็กในโรงเรียน", "start_year": 2024,
        "end_year": 2026, "areas": ["1006"],
        "organizations": [{"organization": wsec, "role_th": "ผู้ประสานงาน", "role_en": "coordinator"}]},
        key=key)
    assert status == 201, p
    assert p["organizations"][0]["id"] == wsec and p["areas"][0]["code"] == "1006"
    status, _, same = api.get("/v1/programmes/it-safeguarding")
    assert status == 200 and same["id"] == p["id"]
    status, _, p2 = send(api, "PATCH", "/v1/programmes/%d" % p["id"], {"end_year": 2027}, key=key,
                         headers={"If-Match": hdrs["ETag"]})
    assert status == 200 and p2["end_year"] == 2027
    _, _, a = api.get("/v1/audit", {"entity": "programme", "id": str(p["id"])}, key=key)
    assert [x["action"] for x in a["items"]] == ["update", "create"]
    assert a["items"][0]["before"]["end_year"] == 2026 and a["items"][0]["after"]["end_year"] == 2027
