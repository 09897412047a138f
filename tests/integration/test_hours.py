"""Opening hours that are right: structured weekly hours written through the API, read back
in lists, details and resolve answers with open_now / next_change in Bangkok time, checked
field by field, public holidays from the reference file, over real HTTP on a real
PostgreSQL."""
import csv
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ADMIN_KEY, ROOT, Daemon, make_demo_db, psql, run_cli, wait_for

BKK = timezone(timedelta(hours=7))
JSON = {"Content-Type": "application/json"}
DAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"]
# A Monday that is a public holiday (substitution day for 5 December 2026).
FIXED_NOW = "2026-12-07T10:00:00+07:00"


def send(api, method, path, body=None, key=ADMIN_KEY, headers=None):
    h = dict(JSON)
    h.update(headers or {})
    return api.request(method, path, key=key, headers=h,
                       body=json.dumps(body).encode() if body is not None else None)


def org_by_ref(api, ref, key=None):
    status, _, o = api.get("/v1/organizations/" + ref, key=key)
    assert status == 200, o
    return o


def bkk(t):
    """A Bangkok time as the API writes it."""
    return t.astimezone(BKK).strftime("%Y-%m-%dT%H:%M:%S+07:00")


@pytest.fixture(scope="module")
def fixed(pg, workdir):
    """A daemon whose answers are computed for FIXED_NOW (the test_now option)."""
    url = make_demo_db(pg)
    d = Daemon(url, workdir, {"DIRECTORYD_TEST_NOW": FIXED_NOW})
    yield d
    d.stop()


def test_reference_and_demo_hours_on_a_public_holiday(fixed):
    api = fixed.http
    # District offices: Monday-Friday 08:30-16:30, closed on public holidays, so closed on
    # this Monday and open again on Tuesday morning.
    w = org_by_ref(api, "district-1007-welfare")
    assert w["hours"]["weekly"] == [{"day": d, "opens_at": "08:30", "closes_at": "16:30"}
                                    for d in DAYS[:5]]
    assert w["hours"]["closed_on_public_holidays"] is True
    assert w["hours"]["always_open"] is False and w["hours"]["exceptions"] == []
    assert w["open_now"] is False and w["next_change"] == "2026-12-08T08:30:00+07:00"
    assert org_by_ref(api, "district-1007")["open_now"] is False
    # The 1300 hotline: 24 hours, with its public number.
    h = org_by_ref(api, "msdhs-1300")
    assert h["hours"]["always_open"] is True and h["open_now"] is True
    assert h["next_change"] is None
    assert [(c["kind"], c["value"], c["public"]) for c in h["contacts"]] == [("phone", "1300", True)]
    # The child opportunity centres: nothing in the seed, so unknown ("call for hours").
    c = org_by_ref(api, "coc-lumphini")
    assert c["hours"] is None and c["open_now"] is None and c["next_change"] is None
    assert c["hours_th"] is None
    # A demo partner open on Saturdays and holidays alike; the closed centre never opens.
    k = org_by_ref(api, "demo-ngo-street-kids")
    assert k["open_now"] is True and k["next_change"] == "2026-12-07T18:00:00+07:00"
    assert k["hours_th"] == "จันทร์-เสาร์ 09.00-18.00 น."  # the free text stays beside
    assert org_by_ref(api, "demo-hospital")["open_now"] is True
    assert org_by_ref(api, "coc-rama9")["open_now"] is False
    assert org_by_ref(api, "demo-community")["open_now"] is None
    # The same in lists and in resolve answers.
    _, _, lst = api.get("/v1/organizations", {"q": "ปทุมวัน", "limit": 100})
    byref = {o["ref"]: o for o in lst["items"]}
    assert byref["district-1007-welfare"]["open_now"] is False
    assert byref["district-1007-welfare"]["next_change"] == "2026-12-08T08:30:00+07:00"
    _, _, res = api.get("/v1/resolve", {"area": "1007", "need": "counselling",
                                        "group": "street_children"})
    items = {i.get("ref"): i for i in res["items"]}
    assert items["district-1007-welfare"]["open_now"] is False
    assert items["district-1007-welfare"]["hours"]["closed_on_public_holidays"] is True
    assert items["coc-lumphini"]["open_now"] is None and items["coc-lumphini"]["hours"] is None
    assert items["demo-ngo-street-kids"]["open_now"] is True
    last = res["items"][-1]
    assert last["ref"] == "bma-child-protection-unit" and last["open_now"] is False
    assert last["next_change"] == "2026-12-08T08:30:00+07:00"


def test_holidays_come_from_the_database(fixed):
    api = fixed.http
    # Take the substitution day out: the district office is open this Monday after all.
    psql(fixed.db_url, "DELETE FROM public_holiday WHERE day = '2026-12-07'")
    try:
        ok, _ = wait_for(lambda: org_by_ref(api, "district-1007-welfare")["open_now"] is True)
        assert ok
        assert org_by_ref(api, "district-1007-welfare")["next_change"] == "2026-12-07T16:30:00+07:00"
    finally:
        psql(fixed.db_url, "INSERT INTO public_holiday VALUES ('2026-12-07', 'วันหยุดชดเชย', "
                           "'Substitution day', 'substitute', 'cabinet-substitution', true)")
    ok, _ = wait_for(lambda: org_by_ref(api, "district-1007-welfare")["open_now"] is False)
    assert ok


def test_public_holidays_match_the_reference_file(demo_db):
    path = os.path.join(ROOT, "schema", "reference", "thai_public_holidays.tsv")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    db = psql(demo_db, "SELECT day, name_th, name_en, kind, source, confirmed FROM public_holiday "
                       "ORDER BY day")
    got = [line.split("|") for line in db.splitlines()]
    want = [[r["date"], r["name_th"], r["name_en"], r["kind"], r["source"],
             "t" if r["confirmed"] == "yes" else "f"] for r in rows]
    assert got == want
    years = {r["date"][:4] for r in rows}
    assert {"2026", "2027"} <= years
    # Every year has New Year's Day and Songkran; dates are unique and in order.
    for y in years:
        assert y + "-01-01" in [r["date"] for r in rows]
        assert y + "-04-13" in [r["date"] for r in rows]
    assert [r["date"] for r in rows] == sorted({r["date"] for r in rows})


def around_now(start_min, end_min):
    """A weekly interval from START_MIN to END_MIN minutes from now (Bangkok), belonging to
    the day it opens; with the expected next_change of a schedule holding only it."""
    now = datetime.now(BKK).replace(second=0, microsecond=0)
    a, b = now + timedelta(minutes=start_min), now + timedelta(minutes=end_min)
    return {"day": DAYS[a.weekday()], "opens_at": a.strftime("%H:%M"),
            "closes_at": b.strftime("%H:%M")}, a, b


def test_write_hours_and_read_them_everywhere(api, daemon):
    body = {
        "name_th": "มูลนิธิทดสอบเวลาทำการ", "name_en": "Hours Test Foundation",
        "type": "ngo", "sector": "ngo", "area": "1033",
        "services": [{"code": "counselling", "target_groups": ["street_children"],
                      "areas": ["1033"]}],
        "hours": {"weekly": [{"day": "mo", "opens_at": "08:30", "closes_at": "16:30"}],
                  "closed_on_public_holidays": True, "note_th": "นัดล่วงหน้า"},
    }
    status, hdrs, o = send(api, "POST", "/v1/organizations", body)
    assert status == 201, o
    oid, version = o["id"], o["version"]
    assert o["hours"]["weekly"] == body["hours"]["weekly"]
    assert o["hours"]["note_th"] == "นัดล่วงหน้า" and o["hours"]["note_en"] is None
    assert o["open_now"] in (True, False)

    # Open now: an interval from an hour ago to an hour ahead (past midnight when it must).
    iv, _, end = around_now(-60, 60)
    status, hdrs, o = send(api, "PATCH", "/v1/organizations/%d" % oid,
                           {"hours": {"weekly": [iv]}}, headers={"If-Match": '"%d"' % version})
    assert status == 200, o
    assert o["version"] == version + 1 and hdrs["ETag"] == '"%d"' % (version + 1)
    version = o["version"]
    assert o["hours"]["weekly"] == [iv] and o["hours"]["closed_on_public_holidays"] is False
    assert o["open_now"] is True and o["next_change"] == bkk(end)
    for key in (None, ADMIN_KEY):
        d = org_by_ref(api, str(oid), key=key)
        assert d["open_now"] is True and d["next_change"] == bkk(end) and d["hours"]["weekly"] == [iv]
    _, _, lst = api.get("/v1/organizations", {"q": "ทดสอบเวลาทำการ"})
    assert [(i["id"], i["open_now"], i["next_change"]) for i in lst["items"]] == [(oid, True, bkk(end))]
    _, _, res = api.get("/v1/resolve", {"area": "103301", "need": "counselling",
                                        "group": "street_children"})
    mine = [i for i in res["items"] if i.get("id") == oid]
    assert len(mine) == 1 and mine[0]["open_now"] is True and mine[0]["next_change"] == bkk(end)
    assert mine[0]["hours"]["weekly"] == [iv]

    # Closed now: it opens in an hour; a closed exception for today wins over the week.
    iv, start, _ = around_now(60, 120)
    status, _, o = send(api, "PATCH", "/v1/organizations/%d" % oid, {"hours": {"weekly": [iv]}},
                        headers={"If-Match": '"%d"' % version})
    assert status == 200 and o["open_now"] is False and o["next_change"] == bkk(start)
    version = o["version"]
    iv, _, _ = around_now(-60, 60)
    today = datetime.now(BKK)
    exc = {"from": (today - timedelta(days=1)).strftime("%Y-%m-%d"),
           "to": (today + timedelta(days=1)).strftime("%Y-%m-%d"), "closed": True,
           "note_th": "ปิดปรับปรุง", "note_en": "closed for repairs"}
    status, _, o = send(api, "PATCH", "/v1/organizations/%d" % oid,
                        {"hours": {"weekly": [iv], "exceptions": [exc]}},
                        headers={"If-Match": '"%d"' % version})
    assert status == 200, o
    assert o["open_now"] is False
    assert o["hours"]["exceptions"] == [dict(exc, opens_at=None, closes_at=None)]
    version = o["version"]
    assert psql(daemon.db_url, "SELECT count(*) FROM schedule_exception WHERE organization_id = %d"
                % oid) == "1"

    # The audit row carries the hours before and after.
    _, _, a = api.get("/v1/audit", {"entity": "organization", "id": str(oid)}, key=ADMIN_KEY)
    last = a["items"][0]
    assert last["action"] == "update"
    assert last["after"]["hours"]["exceptions"][0]["note_en"] == "closed for repairs"
    assert last["before"]["hours"]["exceptions"] == []

    # null: unknown again ("call for hours"); the free text is untouched.
    status, _, o = send(api, "PATCH", "/v1/organizations/%d" % oid,
                        {"hours": None, "hours_th": "โทรถามก่อน"}, headers={"If-Match": '"%d"' % version})
    assert status == 200
    assert o["hours"] is None and o["open_now"] is None and o["next_change"] is None
    assert o["hours_th"] == "โทรถามก่อน"
    assert psql(daemon.db_url, "SELECT count(*) FROM schedule WHERE organization_id = %d" % oid) == "0"


def test_open_around_the_clock_and_past_midnight(api, daemon):
    status, _, o = send(api, "POST", "/v1/organizations", {
        "name_th": "สายด่วนทดสอบ", "type": "ngo", "sector": "ngo", "area": "1033",
        "hours": {"always_open": True}})
    assert status == 201 and o["open_now"] is True and o["next_change"] is None
    # An interval that started yesterday evening and ends after now is still open.
    iv, _, end = around_now(-23 * 60, 30)
    status, _, o = send(api, "PATCH", "/v1/organizations/%d" % o["id"], {"hours": {"weekly": [iv]}},
                        headers={"If-Match": '"%d"' % o["version"]})
    assert status == 200, o
    assert o["open_now"] is True and o["next_change"] == bkk(end)


def test_bad_hours_are_refused_field_by_field(api, daemon):
    w = org_by_ref(api, "demo-cdc")
    bad = {"hours": {
        "weekly": [{"day": "mo", "opens_at": "08:00", "closes_at": "12:00"},
                   {"day": "monday", "opens_at": "8:00", "closes_at": "12:00"},
                   {"day": "mo", "opens_at": "09:00", "closes_at": "25:00"},
                   {"day": "mo", "opens_at": "11:00", "closes_at": "13:00"}],
        "exceptions": [{"from": "2027-01-10", "to": "2027-01-09"},
                       {"from": "2027-02-30", "closed": True},
                       {"from": "2027-03-01", "closed": True, "opens_at": "09:00"}],
        "open": True}}
    status, _, p = send(api, "PATCH", "/v1/organizations/%d" % w["id"], bad,
                        headers={"If-Match": '"%d"' % w["version"]})
    assert status == 400, p
    assert p["status"] == 400 and p["type"].endswith("/invalid-body")
    fields = {e["field"]: e["message_en"] for e in p["errors"]}
    assert fields == {
        "hours.open": "unknown field",
        "hours.weekly[1].day": "one of mo, tu, we, th, fr, sa, su",
        "hours.weekly[1].opens_at": "a time as HH:MM from 00:00 to 23:59",
        "hours.weekly[2].closes_at": "a time as HH:MM from 00:00 to 24:00",
        "hours.weekly[3].opens_at": "overlaps hours.weekly[0] (mo 08:00-12:00)",
        "hours.exceptions[0].to": "must not be before from",
        "hours.exceptions[1].from": "a date as YYYY-MM-DD (Common Era)",
        "hours.exceptions[2].opens_at": "must be null when closed is true",
    }
    assert all(e["message_th"] for e in p["errors"])
    # Nothing was written.
    after = org_by_ref(api, "demo-cdc")
    assert after["version"] == w["version"] and after["hours"] == w["hours"]
    # open_now and next_change are computed, not written; hours are for organisations only.
    status, _, p = send(api, "PATCH", "/v1/organizations/%d" % w["id"], {"open_now": True},
                        headers={"If-Match": '"%d"' % w["version"]})
    assert status == 400 and p["errors"][0]["field"] == "open_now"
    assert p["errors"][0]["message_en"] == "computed from hours"
    status, _, p = send(api, "POST", "/v1/organizations", {
        "name_th": "ผิด", "type": "ngo", "sector": "ngo", "area": "1033", "hours": "24 ชั่วโมง"})
    assert status == 400 and [e["field"] for e in p["errors"]] == ["hours"]
    pid = psql(daemon.db_url, "SELECT id FROM person WHERE ref = 'demo-central-1'")
    status, _, p = send(api, "PATCH", "/v1/people/%s" % pid, {"hours": None},
                        headers={"If-Match": '"1"'})
    assert status == 400 and p["errors"][0]["field"] == "hours"


def test_test_now_must_be_a_bangkok_or_utc_time(pg):
    p = run_cli("serve", env={"DIRECTORYD_DB": "postgresql://127.0.0.1:1/none",
                              "DIRECTORYD_TEST_NOW": "next tuesday"}, check=False)
    assert p.returncode == 2 and "test_now" in p.stderr
