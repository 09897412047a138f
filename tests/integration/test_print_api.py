"""What the printed directory (/print in the web app, scripts/print) asks of the API:
GET /v1/organizations?zone= (a zone group or sub-group: organisations located in one of its
districts or serving one), with the other filters, and its bad input."""
from conftest import psql


def refs(api, **params):
    params.setdefault("limit", 500)
    status, _, data = api.get("/v1/organizations", params)
    assert status == 200, data
    assert data["next"] is None
    # Organisations made by other tests may have no ref: their id stands in.
    return {o["ref"] or "#%d" % o["id"] for o in data["items"]}


def zone_districts(daemon, zone):
    return set(psql(daemon.db_url, "SELECT area_code FROM area_group_member WHERE group_code = '%s' "
                                   "AND area_code ~ '^10[0-9]{2}$'" % zone).split())


def test_zone_gives_its_districts_offices_and_the_city_wide_units(api, daemon):
    south = zone_districts(daemon, "bkk-z2")
    assert "1007" in south and "1002" not in south
    got = refs(api, zone="bkk-z2", status="active")
    # Every district of the zone has its welfare section there; no other district's.
    welfare = {r for r in got if r.startswith("district-") and r.endswith("-welfare")}
    assert welfare == {"district-%s-welfare" % d for d in south}
    # The Lumphini Park centre is in Pathum Wan (zone 2); Rama 8 (Bang Phlat) is not.
    assert "coc-lumphini" in got
    # The central unit, serving all of Bangkok, serves the zone too (as area= a district).
    assert "bma-child-protection-unit" in got
    # The same as asking for each district and taking the union.
    union = set()
    for d in south:
        union |= refs(api, area=d, status="active")
    assert got == union


def test_zone_with_other_filters(api, daemon):
    both = refs(api, zone="bkk-z2", area="1007", status="active")
    assert both == refs(api, area="1007", status="active")
    assert refs(api, zone="bkk-z2", area="1002", status="active") == (
        refs(api, area="1002", status="active") & refs(api, zone="bkk-z2", status="active"))
    assert "district-1002-welfare" not in refs(api, zone="bkk-z2", area="1002", status="active")
    svc = refs(api, zone="bkk-z2", service="counselling", status="active")
    union = set()
    for d in zone_districts(daemon, "bkk-z2"):
        union |= refs(api, area=d, service="counselling", status="active")
    assert svc == union and "district-1007-welfare" in svc


def test_unknown_zone_is_a_problem_naming_the_field(api):
    status, _, data = api.get("/v1/organizations", {"zone": "bkk-z9"})
    assert status == 400
    assert [e["field"] for e in data["errors"]] == ["zone"]
    assert "bkk-z9" in data["detail"]
