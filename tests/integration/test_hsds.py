"""The HSDS 3.0 read API at /hsds/ over real HTTP: every object it returns validates against
Open Referral's HSDS 3.0 JSON schemas (../shared/reference/hsds, read in place, never copied),
lists match the page envelope of the official openapi.json, anonymous callers never see
non-public contacts, CORS is open, pagination and filters work, bad parameters are named."""
import json
import os
import re

import pytest

from conftest import ROOT
from test_organizations import private_values

HSDS = os.path.join(os.path.dirname(ROOT), "shared", "reference", "hsds", "3.0", "schema")
pytestmark = pytest.mark.skipif(not os.path.isdir(HSDS),
                                reason="../shared/reference/hsds is absent: HSDS schema "
                                       "tests skipped")

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BASE = "file://" + HSDS + "/"


def validator(name):
    """A validator of schema NAME (Debian's python3-jsonschema), resolving its "$ref"s to the
    schema files beside it."""
    import jsonschema
    with open(os.path.join(HSDS, name)) as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    resolver = jsonschema.RefResolver(base_uri=BASE + name, referrer=schema)
    return cls(schema, resolver=resolver, format_checker=cls.FORMAT_CHECKER)


_validators = {}


def check(obj, name):
    """Validates OBJ against schema NAME; fails with every error."""
    if name not in _validators:
        _validators[name] = validator(name)
    errors = sorted(_validators[name].iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, "%s: %s" % (name, "; ".join("%s: %s" % (list(e.path), e.message)
                                                    for e in errors[:5]))


def openapi():
    with open(os.path.join(HSDS, "openapi.json")) as f:
        return json.load(f)


def response_schema(path):
    """The openapi.json's 200 schema of PATH: (envelope properties or None, item schema file)."""
    op = openapi()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    s = op["schema"]
    ref = (s.get("properties", {}).get("contents", {}).get("items") or s)["$ref"]
    name = ref.split("/schema/", 1)[1]
    return ("allOf" in s), name


def check_page(answer, list_path):
    paged, item = response_schema(list_path)
    assert paged
    page = openapi()["components"]["schemas"]["Page"]
    import jsonschema
    env = dict(page, properties=dict(page["properties"], contents={"type": "array"}),
               required=list(page["properties"]) + ["contents"])
    jsonschema.validate(answer, env)
    for obj in answer["contents"]:
        check(obj, item)
        assert UUID.match(obj["id"]), obj["id"]
    return answer["contents"]


FULL = ["/services", "/organizations", "/service_at_locations"]
LISTS = ["/services", "/organizations", "/service_at_locations", "/taxonomies",
         "/taxonomy_terms"]


def get_all(api, path, **params):
    params.setdefault("per_page", 500)
    s, h, body = api.get("/hsds" + path, params)
    assert s == 200, body
    assert body["total_items"] == len(body["contents"])
    return body


def test_root_says_the_version(api):
    s, h, body = api.get("/hsds/")
    assert s == 200
    assert body["version"] == "3.0"
    assert h["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", LISTS)
def test_every_listed_object_validates(api, path):
    body = get_all(api, path)
    assert body["total_items"] > 0, path
    check_page(body, path)


@pytest.mark.parametrize("path", ["/services", "/organizations", "/service_at_locations"])
def test_full_lists_validate_against_the_full_schemas(api, path):
    body = get_all(api, path, full="true", **({"full_service": "true"}
                                             if path == "/organizations" else {}))
    full = {"/services": "compiled/service.json", "/organizations": "compiled/organization.json",
            "/service_at_locations": "compiled/service_at_location.json"}[path]
    for obj in body["contents"]:
        check(obj, full)


def sample(items, n=12):
    step = max(1, len(items) // n)
    return items[::step][:n]


@pytest.mark.parametrize("path", LISTS)
def test_objects_by_id_validate_and_match_the_list(api, path):
    items = get_all(api, path)["contents"]
    _, detail = response_schema(path + "/{id}")
    if path == "/service_at_locations":
        # openapi.json names compiled/service.json here, but the operation is described as
        # "fully nested service_at_location": we answer that, and validate it as such.
        detail = "compiled/service_at_location.json"
    for item in sample(items):
        s, h, obj = api.get("/hsds%s/%s" % (path, item["id"]))
        assert s == 200, obj
        assert h["Access-Control-Allow-Origin"] == "*"
        check(obj, detail)
        assert obj["id"] == item["id"]
        for k, v in item.items():
            if not isinstance(v, (dict, list)):
                assert obj[k] == v, (path, k)


def test_ids_are_stable_uuids(api):
    a = get_all(api, "/services")["contents"]
    b = get_all(api, "/services")["contents"]
    assert [x["id"] for x in a] == [x["id"] for x in b]
    assert len({x["id"] for x in a}) == len(a)
    assert all(UUID.match(x["id"]) for x in a)


def test_service_carries_taxonomy_schedule_area_and_dates(api, daemon):
    services = get_all(api, "/services", full="true")["contents"]
    terms = {t["id"]: t for t in get_all(api, "/taxonomy_terms")["contents"]}
    assert any(s["schedules"] for s in services), "no opening hours became schedules"
    assert all(s["service_areas"] for s in services)
    for s in services:
        assert s["attributes"], s["id"]
        for a in s["attributes"]:
            assert a["taxonomy_term_id"] in terms
            assert a["link_id"] == s["id"]
    # assured_date is the organisation's verification date.
    orgs = {}
    for s in services:
        org = s["organization"]
        orgs.setdefault(org["name"], s.get("assured_date"))
    from conftest import psql
    rows = psql(daemon.db_url, "SELECT name_th, to_char(verified_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD') FROM organization WHERE verified_at IS NOT NULL")
    verified = dict(line.split("|") for line in rows.splitlines())
    checked = [n for n in orgs if n in verified]
    assert checked
    for n in checked:
        assert orgs[n] == verified[n], n
    # The taxonomies are directoryd's services, target groups and organisation types.
    taxa = get_all(api, "/taxonomies")["contents"]
    assert len(taxa) == 3
    codes = {t["code"] for t in terms.values()}
    svc = json.loads(json.dumps(api.get("/v1/services")[2]))
    assert {x["code"] for x in svc["items"]} <= codes


def test_anonymous_never_sees_private_contacts(api, daemon):
    private = private_values(daemon)
    dumps = []
    for path in LISTS:
        body = get_all(api, path, **({"full": "true"} if path in FULL else {}))
        dumps.append(json.dumps(body, ensure_ascii=False))
    for o in get_all(api, "/organizations")["contents"]:
        dumps.append(json.dumps(api.get("/hsds/organizations/" + o["id"])[2], ensure_ascii=False))
    text = "\n".join(dumps)
    leaked = [v for v in private if v in text]
    assert not leaked
    # ... while the public ones are there.
    assert '"phones": [{' in text.replace('":[{', '": [{') or '"number"' in text


def test_pagination(api):
    everything = get_all(api, "/services")["contents"]
    n = len(everything)
    assert n > 7
    seen = []
    page = 1
    while True:
        s, _, body = api.get("/hsds/services", {"page": page, "per_page": 7})
        assert s == 200
        assert body["page_number"] == page
        assert body["total_items"] == n
        assert body["total_pages"] == (n + 6) // 7
        assert body["first_page"] == (page == 1)
        assert body["size"] == len(body["contents"])
        seen += [x["id"] for x in body["contents"]]
        if body["last_page"]:
            break
        assert body["size"] == 7
        page += 1
    assert seen == [x["id"] for x in everything]
    s, _, body = api.get("/hsds/services", {"page": page + 1, "per_page": 7})
    assert s == 200 and body["contents"] == [] and not body["empty"]


def test_filters(api):
    services = get_all(api, "/services", full="true")["contents"]
    org = services[0]["organization_id"]
    mine = get_all(api, "/services", organization_id=org)["contents"]
    assert mine and all(s["organization_id"] == org for s in mine)
    assert len(mine) == sum(1 for s in services if s["organization_id"] == org)
    term = services[0]["attributes"][0]["taxonomy_term_id"]
    hits = get_all(api, "/services", taxonomy_term_id=term)["contents"]
    want = [s["id"] for s in services if any(a["taxonomy_term_id"] == term
                                             for a in s["attributes"])]
    assert [s["id"] for s in hits] == want
    assert get_all(api, "/services", organization_id="00000000-0000-5000-8000-000000000000")[
        "empty"]
    name = services[0]["organization"]["name"]
    found = get_all(api, "/services", search=name)["contents"]
    assert services[0]["id"] in [s["id"] for s in found]
    assert len(found) < len(services)
    newest = max(s["last_modified"] for s in services if s.get("last_modified"))
    recent = get_all(api, "/services", modified_after=newest)["contents"]
    assert recent and all(s["last_modified"] >= newest for s in recent)
    assert get_all(api, "/services", modified_after="2999-01-01")["empty"]
    minimal = get_all(api, "/services", minimal="true")["contents"]
    assert set(minimal[0]) <= {"id", "last_modified"}


def test_postcode_filter(api, daemon):
    from conftest import psql
    sals = get_all(api, "/service_at_locations")["contents"]
    services = {s["id"]: s for s in get_all(api, "/services", full="true")["contents"]}
    sal = sals[0]
    area = services[sal["service_id"]]["service_areas"][0]
    assert area["extent_type"] == "directoryd-area"
    pc = psql(daemon.db_url, "SELECT postal_code FROM area WHERE postal_code IS NOT NULL AND "
                             "(code = '{0}' OR parent_code = '{0}' OR parent_code IN (SELECT "
                             "code FROM area WHERE parent_code = '{0}')) ORDER BY code LIMIT 1"
              .format(area["extent"]))
    assert pc
    hits = get_all(api, "/service_at_locations", postcode=pc)["contents"]
    assert sal["id"] in [h["id"] for h in hits]
    assert len(hits) < len(sals)
    assert get_all(api, "/service_at_locations", postcode="00000")["empty"]


def test_ndjson_streams_everything(api):
    import urllib.request
    with urllib.request.urlopen(api.base + "/hsds/taxonomy_terms?format=ndjson") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.read().decode().splitlines()]
    assert len(lines) == get_all(api, "/taxonomy_terms")["total_items"]


@pytest.mark.parametrize("params,field", [
    ({"per_page": "0"}, "per_page"), ({"page": "x"}, "page"), ({"full": "maybe"}, "full"),
    ({"modified_after": "yesterday"}, "modified_after"), ({"colour": "red"}, "colour"),
    ({"format": "xml"}, "format"), ({"proximity": "500"}, "proximity")])
def test_bad_parameters_are_named(api, params, field):
    path = "/hsds/service_at_locations" if field != "colour" else "/hsds/services"
    s, h, body = api.get(path, params)
    assert s == 400, body
    assert h["Content-Type"].startswith("application/problem+json")
    assert h["Access-Control-Allow-Origin"] == "*"
    assert body["errors"][0]["field"] == field


def test_unknown_ids_are_404_with_cors(api):
    for path in ["services", "organizations", "service_at_locations", "taxonomies",
                 "taxonomy_terms"]:
        s, h, body = api.get("/hsds/%s/%s" % (path, "00000000-0000-5000-8000-000000000000"))
        assert s == 404, path
        assert h["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(api):
    s, h, _ = api.request("OPTIONS", "/hsds/services", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert s == 204
    assert h["Access-Control-Allow-Origin"] == "*"
    assert "GET" in h["Access-Control-Allow-Methods"]
    # The rest of the API is not opened to other origins.
    s, h, _ = api.get("/v1/areas")
    assert "Access-Control-Allow-Origin" not in h
