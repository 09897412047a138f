"""Organisations over real HTTP: the reference network, filters, visibility and bad input."""
import json

from conftest import CASEWORKER_KEY, psql, wait_for

# Non-public contact points the privacy tests add to organisations anyone can read (the demo
# has none): the database, not the answers' own "public" flag, says what must never show.
PRIVATE_CONTACTS = (("coc-lumphini", "mobile", "089-111-0001"),
                    ("district-1007-welfare", "email", "private.it@welfare-1007.demo.invalid"),
                    ("district-1024-welfare", "line", "private.it.1024"),
                    ("bma-child-protection-unit", "mobile", "089-111-0002"))


def private_values(daemon):
    """Adds PRIVATE_CONTACTS (once) and waits until the read model has them; returns every
    contact value that is non-public in the database and public nowhere."""
    for ref, kind, value in PRIVATE_CONTACTS:
        psql(daemon.db_url, "INSERT INTO contact_point (organization_id, kind, value, is_public) "
                            "SELECT id, '%s', '%s', false FROM organization o WHERE ref = '%s' "
                            "AND NOT EXISTS (SELECT 1 FROM contact_point c WHERE c.value = '%s')"
                            % (kind, value, ref, value))
    last = PRIVATE_CONTACTS[-1]
    oid = psql(daemon.db_url, "SELECT id FROM organization WHERE ref = '%s'" % last[0])
    ok, _ = wait_for(lambda: last[2] in json.dumps(
        daemon.http.get("/v1/organizations/" + oid, key=CASEWORKER_KEY)[2]))
    assert ok
    private = set(psql(daemon.db_url, "SELECT value FROM contact_point WHERE NOT is_public "
                                      "EXCEPT SELECT value FROM contact_point WHERE is_public")
                  .splitlines())
    assert {v for _, _, v in PRIVATE_CONTACTS} <= private
    return private


def leaks(answer, private):
    dump = json.dumps(answer, ensure_ascii=False)
    return [v for v in private if v in dump]


def find(api, **params):
    params.setdefault("limit", 500)
    status, _, data = api.get("/v1/organizations", params)
    assert status == 200, data
    return data["items"]


def test_lumphini_centre_found_by_thai_name(api):
    items = find(api, q="ลุมพินี")
    lum = [o for o in items if o["type"] == "child_opportunity_centre"]
    assert len(lum) == 1
    o = lum[0]
    assert o["name_th"] == "ศูนย์สร้างโอกาสเด็กสวนลุมพินี"
    assert o["status"] == "active"
    assert o["area"]["code"] == "1007"
    assert o["opened_year"] == 1998  # 2541 BE (seed 000)
    assert "1007" in o["areas"]
    for key in ("id", "name_th", "name_en", "type", "status", "areas", "contacts", "verified_at"):
        assert key in o
    # Its own location is unknown: the district's stands in, marked approximate.
    assert o["location"]["approximate"] is True and o["location"]["from"] == "1007"


def test_latin_search_is_case_insensitive(api):
    a = {o["id"] for o in find(api, q="lumphini")}
    b = {o["id"] for o in find(api, q="LUMPHINI PARK")}
    assert a and b and b <= a
    assert {o["id"] for o in find(api, q="LuMpHiNi")} == a


def test_rama9_centre_is_closed(api):
    items = find(api, q="พระราม 9", type="child_opportunity_centre")
    assert len(items) == 1
    r9 = items[0]
    assert r9["status"] == "closed"
    assert r9["status_date"] == "2017-09-30"
    assert r9["area"]["code"] == "1024"
    assert "ธนบุรี" in r9["status_reason_th"] and "Thon Buri" in r9["status_reason_en"]
    closed = find(api, status="closed")
    assert r9["id"] in {o["id"] for o in closed}
    assert all(o["status"] == "closed" for o in closed)


def test_seven_child_opportunity_centres(api):
    items = find(api, type="child_opportunity_centre")
    assert len(items) == 7
    assert sorted(o["area"]["code"] for o in items) == sorted(
        ["1007", "1049", "1025", "1030", "1018", "1006", "1024"])


def test_every_district_has_a_welfare_section(api):
    items = find(api, q="ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม")
    assert sorted(o["area"]["code"] for o in items) == ["%d" % c for c in range(1001, 1051)]


def test_filter_by_area_service_and_group(api):
    got = find(api, area="1007", service="counselling", group="street_children")
    refs = {o["ref"] for o in got}
    assert "coc-lumphini" in refs
    assert "district-1007-welfare" in refs  # serves every group in its district
    assert "coc-chatuchak" not in refs
    assert "district-1030-welfare" not in refs
    for o in got:
        assert any(s["code"] == "counselling" for s in o["services"])


def test_area_filter_covers_sub_districts_and_wider_coverage(api):
    # A sub-district of Pathum Wan is served by what serves Pathum Wan or Bangkok.
    refs = {o["ref"] for o in find(api, area="100701", service="counselling")}
    assert "coc-lumphini" in refs
    central = {o["ref"] for o in find(api, area="100701", service="case_coordination")}
    assert "bma-child-protection-unit" in central


def test_organization_by_id_with_etag(api):
    lum = find(api, q="ลุมพินี", type="child_opportunity_centre")[0]
    status, hdrs, o = api.get("/v1/organizations/%d" % lum["id"])
    assert status == 200 and o["id"] == lum["id"]
    assert hdrs["ETag"] == '"%d"' % o["version"]
    # The same organisation by its stable ref, with the same ETag.
    status, by_ref_hdrs, by_ref = api.get("/v1/organizations/coc-lumphini")
    assert status == 200 and by_ref == o and by_ref_hdrs["ETag"] == hdrs["ETag"]
    for bad in ("999999", "abc", "-1", "0", "coc-nowhere"):
        status, hdrs, data = api.get("/v1/organizations/" + bad)
        assert status == 404 and hdrs["Content-Type"] == "application/problem+json"


def test_anonymous_sees_only_public_contact_points(api, daemon):
    private = private_values(daemon)
    anon = find(api)
    assert any(o["contacts"] for o in anon)
    assert all(c["public"] for o in anon for c in o["contacts"])
    assert all("verified_by" not in o for o in anon)
    assert not leaks(anon, private)
    for o in anon:
        if o["ref"] in {r for r, _, _ in PRIVATE_CONTACTS}:
            status, _, one = api.get("/v1/organizations/%d" % o["id"])
            assert status == 200 and not leaks(one, private), o["ref"]
    status, _, data = api.get("/v1/organizations", {"limit": 500}, key=CASEWORKER_KEY)
    assert status == 200
    assert len(data["items"]) == len(anon)
    assert all("verified_by" in o for o in data["items"])
    # A caseworker does see them: the check above is not vacuous.
    assert {v for _, _, v in PRIVATE_CONTACTS} <= set(leaks(data["items"], private))


def test_paging_organizations(api):
    everything = find(api)
    seen, cursor = [], None
    while True:
        params = {"limit": 40}
        if cursor:
            params["cursor"] = cursor
        _, _, page = api.get("/v1/organizations", params)
        seen += [o["id"] for o in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [o["id"] for o in everything]
    assert len(seen) == len(set(seen))


def test_bad_filters_are_400_naming_the_parameter(api):
    for params, field in [({"service": "teleportation"}, "service"),
                          ({"group": "adults"}, "group"), ({"type": "castle"}, "type"),
                          ({"status": "sleeping"}, "status"), ({"area": "1099"}, "area"),
                          ({"cursor": "xyz"}, "cursor"), ({"q": "x" * 201}, "q"),
                          ({"parent": "999999"}, "parent"), ({"parent": "no-such-ref"}, "parent")]:
        status, hdrs, data = api.get("/v1/organizations", params)
        assert status == 400, params
        assert hdrs["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in data["errors"]] == [field]


def test_children_of_an_organisation_by_parent_id_or_ref(api):
    """The organisation page lists its child organisations with ?parent= (id or ref)."""
    everything = find(api, limit=500)
    kids = {}
    for o in everything:
        if o["parent"]:
            kids.setdefault(o["parent"], set()).add(o["id"])
    assert kids, "the reference network has organisations with a parent"
    pid, want = max(kids.items(), key=lambda kv: len(kv[1]))
    assert {o["id"] for o in find(api, parent=str(pid))} == want
    status, _, parent = api.get("/v1/organizations/%d" % pid)
    assert status == 200
    if parent.get("ref"):
        assert {o["id"] for o in find(api, parent=parent["ref"])} == want
    # An organisation with no children lists none.
    leaf = next(o["id"] for o in everything if o["id"] not in kids)
    assert find(api, parent=str(leaf)) == []


def test_reads_vary_with_the_caller(api):
    """An organisation's answer differs for a signed-in caller (non-public contacts), so a
    cache between the daemon and the browser must key on who asks."""
    status, hdrs, _ = api.get("/v1/organizations", {"limit": 1})
    assert status == 200
    assert {v.strip().lower() for v in hdrs["Vary"].split(",")} >= {"authorization", "cookie"}


def test_services_and_target_groups(api):
    _, _, s = api.get("/v1/services")
    codes = [x["code"] for x in s["items"]]
    for need in ("counselling", "emergency_shelter", "medical_care", "education_support",
                 "vocational_training", "daily_living_support", "goods", "family_visits",
                 "referral_return_home", "legal_aid", "early_childhood_screening"):
        assert need in codes
    assert all(x["name_th"] and x["name_en"] for x in s["items"])
    _, _, g = api.get("/v1/target-groups")
    assert {x["code"] for x in g["items"]} >= {
        "street_children", "at_risk_children", "difficult_circumstances", "abused_exploited",
        "poor_early_childhood", "out_of_school", "families"}
