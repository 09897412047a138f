"""Areas and area groups over real HTTP: the Bangkok reference data, paging and bad input."""


def problem_names(data, field):
    assert data["status"] >= 400
    assert any(e["field"] == field for e in data.get("errors", [])), data
    assert field in data["detail"]


def test_bangkok_has_exactly_50_districts(api):
    status, hdrs, data = api.get("/v1/areas", {"kind": "district", "parent": "10", "limit": 100})
    assert status == 200
    assert hdrs["Content-Type"].startswith("application/json")
    codes = [a["code"] for a in data["items"]]
    assert codes == ["%d" % c for c in range(1001, 1051)]
    assert data["next"] is None
    by_code = {a["code"]: a for a in data["items"]}
    assert by_code["1007"]["name_th"] == "ปทุมวัน"
    assert by_code["1007"]["name_en"] == "Pathum Wan"
    assert by_code["1007"]["parent"] == "10"
    assert by_code["1007"]["lat"] is not None


def test_77_provinces_and_paging_with_cursor(api):
    status, _, data = api.get("/v1/areas", {"kind": "province", "limit": 100})
    assert status == 200 and len(data["items"]) == 77
    # Default page of 50, then the rest via the cursor, with no overlap.
    _, _, p1 = api.get("/v1/areas", {"kind": "province"})
    assert len(p1["items"]) == 50 and p1["next"]
    _, _, p2 = api.get("/v1/areas", {"kind": "province", "cursor": p1["next"]})
    assert len(p2["items"]) == 27 and p2["next"] is None
    got = [a["code"] for a in p1["items"] + p2["items"]]
    assert got == sorted(a["code"] for a in data["items"])


def test_sub_districts_of_bangkok(api):
    total = 0
    for d in range(1001, 1051):
        _, _, data = api.get("/v1/areas", {"parent": str(d), "kind": "subdistrict", "limit": 500})
        total += len(data["items"])
    assert total == 180


def test_area_detail_has_parent_chain_and_groups(api):
    status, hdrs, a = api.get("/v1/areas/100701")
    assert status == 200
    assert a["kind"] == "subdistrict" and a["parent"] == "1007"
    assert [x["code"] for x in a["ancestors"]] == ["TH", "10", "1007"]
    status, hdrs, d = api.get("/v1/areas/1004")
    assert {g["code"] for g in d["groups"]} == {"bkk-z2", "bkk-z2.1"}
    assert d["children"] > 0
    assert hdrs.get("ETag")


def test_area_groups_six_zones_twelve_subgroups(api):
    status, _, data = api.get("/v1/area-groups")
    assert status == 200
    zones = [g for g in data["items"] if g["kind"] == "zone"]
    subs = [g for g in data["items"] if g["kind"] == "subzone"]
    assert len(zones) == 6 and len(subs) == 12
    assert sum(len(z["members"]) for z in zones) == 50
    assert sum(len(s["members"]) for s in subs) == 50
    z1 = next(z for z in zones if z["code"] == "bkk-z1")
    assert z1["name_th"] == "กลุ่มเขตกรุงเทพกลาง"
    assert all(s["parent"] in {z["code"] for z in zones} for s in subs)
    _, _, only = api.get("/v1/area-groups", {"kind": "zone"})
    assert len(only["items"]) == 6


def test_area_search_thai_and_latin_case_insensitive(api):
    _, _, th = api.get("/v1/areas", {"q": "ปทุมวัน", "kind": "district"})
    assert [a["code"] for a in th["items"]] == ["1007"]
    _, _, en = api.get("/v1/areas", {"q": "PATHUM wan", "kind": "district"})
    assert [a["code"] for a in en["items"]] == ["1007"]


def test_unknown_area_is_404_problem(api):
    status, hdrs, data = api.get("/v1/areas/9999")
    assert status == 404
    assert hdrs["Content-Type"] == "application/problem+json"
    assert data["status"] == 404 and data["title"] and data["type"].startswith("https://")
    assert data["instance"] == "/v1/areas/9999"


def test_bad_parameters_are_400_naming_them(api):
    for params, field in [({"kind": "planet"}, "kind"), ({"limit": "0"}, "limit"),
                          ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
                          ({"parent": "77777"}, "parent"), ({"aera": "1007"}, "aera")]:
        status, hdrs, data = api.get("/v1/areas", params)
        assert status == 400, params
        assert hdrs["Content-Type"] == "application/problem+json"
        problem_names(data, field)
        assert all(e["message_th"] and e["message_en"] for e in data["errors"])
