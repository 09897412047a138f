"""People over real HTTP: only with an API key, with their contact points; inactive hidden."""
import json

from conftest import ADMIN_KEY, CASEWORKER_KEY, psql


def test_anonymous_callers_get_401(api):
    for path in ("/v1/people", "/v1/people/1"):
        status, hdrs, data = api.get(path)
        assert status == 401
        assert hdrs["Content-Type"] == "application/problem+json"
        assert "Bearer" in data["detail"]


def test_wrong_key_is_401_not_anonymous(api):
    status, _, data = api.get("/v1/organizations", key="not-a-real-key")
    assert status == 401
    status, _, _ = api.get("/v1/organizations", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert status == 401


def test_welfare_staff_of_pathum_wan(api):
    status, _, data = api.get("/v1/people", {"area": "1007", "role": "district_welfare"},
                              key=CASEWORKER_KEY)
    assert status == 200
    assert len(data["items"]) >= 1
    for p in data["items"]:
        assert p["active"] is True
        m = [x for x in p["memberships"] if x["team_role"] == "district_welfare"]
        assert m and any("1007" in x["areas"] for x in m)
    # People's personal contact points are shown to authenticated callers.
    kinds = {c["kind"] for p in data["items"] for c in p["contacts"]}
    assert kinds & {"mobile", "email"}


def test_every_bangkok_district_has_an_active_welfare_contact(api):
    for d in range(1001, 1051):
        _, _, data = api.get("/v1/people", {"area": str(d), "role": "district_welfare"},
                             key=ADMIN_KEY)
        assert data["items"], d


def test_people_search_and_by_id(api):
    _, _, data = api.get("/v1/people", {"limit": 5}, key=ADMIN_KEY)
    first = data["items"][0]
    status, hdrs, p = api.get("/v1/people/%d" % first["id"], key=ADMIN_KEY)
    assert status == 200 and p["name_th"] == first["name_th"]
    assert hdrs["ETag"] == '"%d"' % p["version"]
    _, _, found = api.get("/v1/people", {"q": first["name_th"][:4]}, key=ADMIN_KEY)
    assert first["id"] in [x["id"] for x in found["items"]]
    status, _, _ = api.get("/v1/people/987654", key=ADMIN_KEY)
    assert status == 404


def test_inactive_people_are_not_listed(api, daemon):
    ids = psql(daemon.db_url, "SELECT id FROM person WHERE NOT active").split()
    assert ids, "the demo has inactive people"
    listed = set()
    cursor = None
    while True:
        params = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        _, _, page = api.get("/v1/people", params, key=ADMIN_KEY)
        listed |= {str(p["id"]) for p in page["items"]}
        cursor = page["next"]
        if not cursor:
            break
    assert not listed & set(ids)
    status, _, p = api.get("/v1/people/" + ids[0], key=ADMIN_KEY)
    assert status == 200 and p["active"] is False


def test_bad_people_filters(api):
    for params, field in [({"role": "wizard"}, "role"), ({"org": "abc"}, "org"),
                          ({"org": "999999"}, "org"), ({"area": "nowhere"}, "area")]:
        status, _, data = api.get("/v1/people", params, key=ADMIN_KEY)
        assert status == 400
        assert [e["field"] for e in data["errors"]] == [field]


def test_anonymous_never_gets_a_non_public_contact_anywhere(api, daemon):
    """Lists, single reads and resolve, for every Bangkok district: no value the database
    holds as non-public (people's, and organisations' added here) is in any answer."""
    from test_organizations import leaks, private_values
    private = private_values(daemon)
    seen = 0

    def check(obj):
        nonlocal seen
        if isinstance(obj, dict):
            if "contacts" in obj:
                for c in obj["contacts"]:
                    assert c["public"] is True, obj.get("name_en")
                    seen += 1
            for v in obj.values():
                check(v)
        elif isinstance(obj, list):
            for v in obj:
                check(v)

    _, _, orgs = api.get("/v1/organizations", {"limit": 500})
    check(orgs)
    assert not leaks(orgs, private)
    for o in orgs["items"][:40]:
        one = api.get("/v1/organizations/%d" % o["id"])[2]
        check(one)
        assert not leaks(one, private), o["id"]
    for d in range(1001, 1051):
        _, _, r = api.get("/v1/resolve", {"area": str(d)})
        assert all(i["kind"] == "organization" for i in r["items"])
        check(r)
        assert not leaks(r, private), d
    assert seen > 50


def test_anonymous_search_shows_no_people_and_no_private_contact(api):
    """The same rule holds for /v1/search (the LDAP tree over HTTP)."""
    private = set()
    _, _, orgs = api.get("/v1/organizations", {"limit": 500}, key=ADMIN_KEY)
    for o in orgs["items"]:
        private |= {c["value"] for c in o["contacts"] if not c["public"]}
    _, _, ppl = api.get("/v1/people", {"limit": 500}, key=ADMIN_KEY)
    for p in ppl["items"]:
        private |= {c["value"] for c in p["contacts"] if not c["public"]}
    assert private
    status, _, anon = api.get("/v1/search", {"filter": "(objectClass=organization)", "limit": 500})
    assert status == 200 and len(anon["items"]) > 100
    status, _, nobody = api.get("/v1/search", {"filter": "(objectClass=inetOrgPerson)"})
    assert status == 200 and nobody["items"] == []
    dump = json.dumps(anon, ensure_ascii=False)
    assert "02-" in dump  # public phones are there
    leaked = [v for v in private if v in dump]
    assert not leaked, leaked[:5]
    status, _, authed = api.get("/v1/search", {"filter": "(objectClass=inetOrgPerson)", "limit": 50},
                                key=CASEWORKER_KEY)
    assert status == 200 and authed["items"]
