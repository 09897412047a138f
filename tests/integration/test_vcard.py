"""vCard 4.0 (RFC 6350) answers, read with a real parser (Debian's python3-vobject): every
field against the JSON answer the same caller gets (Thai names with the English as the
ALTID alternative, TEL tel: URIs with ;ext=, EMAIL, URL, LINE as IMPP, ORG, TITLE, ADR, GEO,
REV, KIND), lines folded at 75 octets never inside a UTF-8 character (checked on the raw
bytes), and the JSON's visibility: anonymous callers never get people or non-public
contacts."""
import os
import re
import urllib.parse
import urllib.request

import pytest
import vobject

from conftest import ADMIN_KEY, CASEWORKER_KEY, psql, run_cli
from test_organizations import private_values

VCARD = {"Accept": "text/vcard"}


def tel_uri(value, ext):
    """The tel: URI a Thai number should get, computed here independently of the daemon."""
    d = re.sub(r"\D", "", value.replace("+66", "0", 1))
    tail = ";ext=" + ext if ext else ""
    if len(d) >= 9 and d[0] == "0":
        n = d[1:]
        lead = 1 if n[0] == "2" else 2
        return "tel:+66-%s-%s-%s%s" % (n[:lead], n[lead:lead + 3], n[lead + 3:], tail)
    return "tel:%s;phone-context=+66%s" % (d, tail)


def check_raw(raw):
    """RFC 6350 3.2 on the bytes: CRLF line ends, at most 75 octets a line, and each physical
    line valid UTF-8 on its own (a fold never splits a character). Returns the unfolded text."""
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises if a fold cut a character
    return raw.decode("utf-8").replace("\r\n ", "")


def get_raw(api, path, params=None, key=None, headers=None):
    url = api.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=10) as r:
        return r.status, r.headers, r.read()


def cards(raw):
    return list(vobject.readComponents(raw.decode("utf-8")))


def props(card, name):
    return card.contents.get(name.lower(), [])


def by_lang(card, name):
    """{language: value} of NAME's ALTID pair (or single value)."""
    out = {}
    for p in props(card, name):
        out[p.params.get("LANGUAGE", ["?"])[0]] = p.value
    ids = {tuple(p.params.get("ALTID", [])) for p in props(card, name)}
    assert len(ids) == 1, "one ALTID for the Thai and English forms of %s" % name
    return out


def check_contacts(card, contacts):
    tels = sorted(p.value for p in props(card, "tel"))
    want = []
    for c in contacts:
        if c["kind"] in ("phone", "mobile", "fax"):
            for e in (c["extension"] or "").split(",") if c["extension"] else [None]:
                want.append(tel_uri(c["value"], e))
    assert tels == sorted(want)
    for p in props(card, "tel"):
        assert p.params["VALUE"] == ["uri"]
        assert set(p.params["TYPE"]) & {"voice", "cell", "fax"}
    assert sorted(p.value for p in props(card, "email")) == \
        sorted(c["value"] for c in contacts if c["kind"] == "email")
    assert sorted(p.value for p in props(card, "url")) == \
        sorted(c["value"] for c in contacts if c["kind"] == "website")
    lines = [c["value"] for c in contacts if c["kind"] == "line"]
    impp = [p for p in props(card, "impp")]
    assert len(impp) == len(lines)
    for p, v in zip(impp, lines):
        assert p.params["X-SERVICE-TYPE"] == ["LINE"]
        assert p.value == "https://line.me/R/ti/p/" + (v if v.startswith("@") else "~" + v)


def rev_of(iso):
    return re.sub(r"[-:]", "", iso) if iso else None


def check_org(card, o, text=None):
    assert card.kind.value == "org"
    assert card.version.value == "4.0"
    fn = by_lang(card, "fn")
    assert fn["th"] == o["name_th"]
    if o["name_en"]:
        assert fn["en"] == o["name_en"]
    org = by_lang(card, "org")
    assert org["th"][-1] == o["name_th"]
    check_contacts(card, o["contacts"])
    loc = o.get("location")
    if loc and loc["from"] == "organization":  # its own point (not an area's stand-in)
        # vobject reads GEO as vCard 3.0's text list and keeps what precedes the comma of
        # the geo: URI, so the coordinates are read from the unfolded line.
        assert card.geo.value.startswith("geo:")
        lat, lon = re.search(r"\r\nGEO:geo:([-0-9.]+),([-0-9.]+)\r\n", text).groups()
        assert abs(float(lat) - loc["lat"]) < 1e-5 and abs(float(lon) - loc["lon"]) < 1e-5
    if o["address_th"]:
        adr = {p.params["LANGUAGE"][0]: p.value for p in props(card, "adr")}
        assert adr["th"].street == o["address_th"]
        assert adr["th"].country == "ประเทศไทย"
        if o["area"] and o["area"]["kind"] == "district":
            assert adr["th"].city == o["area"]["name_th"]
    if o["verified_at"]:
        assert card.rev.value == rev_of(o["verified_at"])
    assert card.uid.value.startswith("urn:uuid:")


def orgs(api, key=None):
    items, cursor = [], None
    while True:
        params = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        _, _, d = api.get("/v1/organizations", params, key=key)
        items += d["items"]
        cursor = d["next"]
        if not cursor:
            return items


def test_organisations_every_field(api, daemon):
    private_values(daemon)
    all_orgs = orgs(api, ADMIN_KEY)
    def has(o, kind, ext=False):
        return any(c["kind"] == kind and (not ext or c["extension"]) for c in o["contacts"])
    # A sample that between them has every kind of field.
    picks = {}
    for o in all_orgs:
        for feat, ok in (("ext", has(o, "phone", True)), ("email", has(o, "email")),
                         ("web", has(o, "website")), ("addr", bool(o["address_th"])),
                         ("geo", (o["location"] or {}).get("from") == "organization"),
                         ("rev", bool(o["verified_at"])), ("multi", any(
                             "," in (c["extension"] or "") for c in o["contacts"]))):
            if ok and feat not in picks:
                picks[feat] = o
    assert set(picks) == {"ext", "email", "web", "addr", "geo", "rev", "multi"}, picks.keys()
    for key in (None, CASEWORKER_KEY):
        for o in picks.values():
            _, _, j = api.get("/v1/organizations/%d" % o["id"], key=key)
            status, hdrs, raw = get_raw(api, "/v1/organizations/%d" % o["id"], key=key,
                                        headers=VCARD)
            assert status == 200 and hdrs["Content-Type"] == "text/vcard; charset=utf-8"
            assert "Accept" in hdrs["Vary"]
            text = check_raw(raw)
            (card,) = cards(raw)
            check_org(card, j, text)


def test_folding_never_splits_a_thai_character(api):
    # Long Thai names fold; every fold lands between characters.
    status, _, raw = get_raw(api, "/v1/search", {"filter": "(objectClass=dirOrganization)",
                                                 "limit": 500}, headers=VCARD)
    assert status == 200
    text = check_raw(raw)
    folded = [l for l in raw.split(b"\r\n") if l.startswith(b" ")]
    assert folded
    assert any(len(l) >= 73 for l in raw.split(b"\r\n"))  # full lines, cut short of 75 only
    assert any(re.match(rb" [\xe0-\xef]", l) for l in folded)  # by a Thai character
    # Escaping: commas and semicolons inside values come back as they were.
    cs = cards(raw)
    assert len(cs) == text.count("BEGIN:VCARD") > 100
    names = {c.fn.value for c in cs}
    _, _, d = api.get("/v1/organizations", {"limit": 500})
    comma = [o["name_en"] for o in d["items"] if o["name_en"] and "," in o["name_en"]]
    assert comma and set(comma) <= {v.value for c in cs for v in props(c, "fn")}
    assert names


def test_person_every_field_and_the_vcf_link(api):
    _, _, d = api.get("/v1/people", {"limit": 200}, key=CASEWORKER_KEY)
    p = next(x for x in d["items"]
             if any(c["kind"] == "line" for c in x["contacts"]) and x["name_en"])
    _, _, j = api.get("/v1/people/%d" % p["id"], key=CASEWORKER_KEY)
    status, hdrs, raw = get_raw(api, "/v1/people/%d/vcard" % p["id"], key=CASEWORKER_KEY)
    assert status == 200
    assert hdrs["Content-Disposition"] == 'attachment; filename="person-%d.vcf"' % p["id"]
    check_raw(raw)
    (card,) = cards(raw)
    assert card.kind.value == "individual"
    fn = by_lang(card, "fn")
    assert fn == {"th": j["name_th"], "en": j["name_en"]}
    n = by_lang(card, "n")
    given_th, family_th = j["name_th"].split(" ", 1)
    assert (n["th"].given, n["th"].family) == (given_th, family_th)
    assert n["en"].family == j["name_en"].split(" ", 1)[1]
    if j["title_th"]:
        titles = [t.value for t in props(card, "title")]
        assert j["title_th"] in titles and (not j["title_en"] or j["title_en"] in titles)
    orgs_th = [o.value[-1] for o in props(card, "org") if o.params["LANGUAGE"] == ["th"]]
    assert orgs_th == [m["organization"]["name_th"] for m in j["memberships"]]
    check_contacts(card, j["contacts"])  # a caseworker sees every contact, as in the JSON
    assert props(card, "impp")
    if j["verified_at"]:
        assert card.rev.value == rev_of(j["verified_at"])
    # The same card through Accept; the organisation's link too.
    status, hdrs, raw2 = get_raw(api, "/v1/people/%d" % p["id"], key=CASEWORKER_KEY,
                                 headers=VCARD)
    assert raw2 == raw and "Content-Disposition" not in hdrs
    oid = j["memberships"][0]["organization"]["id"]
    status, hdrs, raw = get_raw(api, "/v1/organizations/%d/vcard" % oid)
    assert hdrs["Content-Disposition"] == 'attachment; filename="organization-%d.vcf"' % oid


def appears(value, text):
    """VALUE (a contact value) in vCard TEXT, phones as their tel: URI."""
    if re.fullmatch(r"[0-9 +.-]+", value):
        return tel_uri(value, None) in text or (tel_uri(value, None) + ";ext=") in text
    return value in text


def test_anonymous_callers_get_no_people_and_no_private_contacts(api, daemon):
    private = private_values(daemon)
    # People: 401 as in JSON, whatever the rendering.
    _, _, d = api.get("/v1/people", {"limit": 1}, key=CASEWORKER_KEY)
    pid = d["items"][0]["id"]
    for path in ("/v1/people/%d" % pid, "/v1/people/%d/vcard" % pid):
        status, hdrs, body = api.get(path, headers=VCARD)
        assert status == 401 and hdrs["Content-Type"] == "application/problem+json"
    # Organisations: the non-public contacts only for staff.
    everyone = "(|(objectClass=dirOrganization)(objectClass=dirPerson))"
    _, _, raw = get_raw(api, "/v1/search", {"filter": everyone, "limit": 500}, headers=VCARD)
    anon = raw.decode()
    assert "KIND:individual" not in anon
    _, _, raw = get_raw(api, "/v1/search", {"filter": everyone, "limit": 500},
                        key=CASEWORKER_KEY, headers=VCARD)
    staff = raw.decode()
    assert "KIND:individual" in staff
    assert private
    leaked = [v for v in private if appears(v, anon)]
    assert not leaked
    shown = [v for v in private if appears(v, staff)]
    assert shown
    for o in orgs(api):  # each organisation page too, as anonymous
        if o["id"] % 7:
            continue
        _, _, raw = get_raw(api, "/v1/organizations/%d/vcard" % o["id"])
        assert not [v for v in private if appears(v, raw.decode())]
    # The resolver: staff get the district's welfare staff, anonymous callers do not.
    _, _, raw = get_raw(api, "/v1/resolve", {"area": "1001"}, headers=VCARD)
    anon = cards(raw)
    _, _, raw = get_raw(api, "/v1/resolve", {"area": "1001"}, key=CASEWORKER_KEY, headers=VCARD)
    staff = cards(raw)
    assert {c.kind.value for c in anon} == {"org"}
    assert "individual" in {c.kind.value for c in staff}
    # Rank order as the JSON answer.
    _, _, j = api.get("/v1/resolve", {"area": "1001"}, key=CASEWORKER_KEY)
    assert [c.fn.value for c in staff] == [i["name_th"] for i in j["items"]]


def test_search_pages_and_negotiation(api):
    params = {"filter": "(objectClass=dirOrganization)", "limit": 3}
    status, hdrs, raw = get_raw(api, "/v1/search", params, headers=VCARD)
    assert status == 200 and len(cards(raw)) == 3
    link = hdrs["Link"]
    m = re.match(r'<(/v1/search\?[^>]+)>; rel="next"$', link)
    assert m and "limit=3" in m.group(1)
    status, _, raw2 = get_raw(api, m.group(1), headers=VCARD)
    assert status == 200 and not set(c.uid.value for c in cards(raw2)) & set(
        c.uid.value for c in cards(raw))
    # JSON unless vCard is preferred.
    for accept, vcard in (("text/vcard", True), ("text/vcard, */*;q=0.1", True),
                          ("application/json, text/vcard", False),
                          ("text/vcard;q=0.5, application/json", False),
                          ("application/json;q=0.2, text/vcard;q=0.9", True),
                          ("text/vcard;q=0", False), ("*/*", False), (None, False)):
        h = {"Accept": accept} if accept else {}
        status, hdrs, _ = api.get("/v1/organizations/1", headers=h)
        assert status == 200
        assert hdrs["Content-Type"].startswith("text/vcard" if vcard else "application/json"), accept
    # Bad parameters are the same problems as for JSON.
    status, hdrs, d = api.get("/v1/search", {"filter": "(cn=", "limit": 1}, headers=VCARD)
    assert status == 400 and d["errors"][0]["field"] == "filter" if "errors" in d else status == 400
    status, _, _ = api.get("/v1/organizations/999999/vcard")
    assert status == 404
    status, _, _ = api.get("/v1/resolve", {"area": "10"}, headers=VCARD)
    assert status == 400


def test_cli_export_vcard_whole_directory(api, daemon, workdir):
    """`directoryd export vcard`: every organisation and active person in one file that a
    real parser reads: Thai names, TEL, EMAIL, ORG; public contacts unless --full."""
    private = private_values(daemon)
    env = {"DIRECTORYD_DB": daemon.db_url}
    path = os.path.join(workdir, "directory.vcf")
    run_cli("export", "vcard", "--out", path, env=env)
    with open(path, "rb") as f:
        raw = f.read()
    text = check_raw(raw)
    cs = cards(raw)
    by_fn = {}
    for c in cs:
        by_fn.setdefault(by_lang(c, "fn")["th"], []).append(c)
    all_orgs = orgs(api, ADMIN_KEY)
    assert sum(c.kind.value == "org" for c in cs) == len(all_orgs)
    assert all(o["name_th"] in by_fn for o in all_orgs)
    people, cursor = [], None
    while True:
        params = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        _, _, d = api.get("/v1/people", params, key=ADMIN_KEY)
        people += d["items"]
        cursor = d["next"]
        if not cursor:
            break
    assert sum(c.kind.value == "individual" for c in cs) == len(people) > 0
    # A person with a phone and an e-mail: by default the card carries only their public
    # contact points (the demo's people have few), with --full all of them; both name the
    # organisations they belong to in Thai.
    def public(p):
        return [c for c in p["contacts"] if c["public"]]
    kinds = lambda p: {c["kind"] for c in p["contacts"]}
    p = next(x for x in people if {"email"} <= kinds(x) and kinds(x) & {"phone", "mobile"}
             and x["memberships"])
    (card,) = [c for c in by_fn[p["name_th"]] if c.kind.value == "individual"]
    check_contacts(card, public(p))
    orgs_th = [o.value[-1] for o in props(card, "org") if o.params["LANGUAGE"] == ["th"]]
    assert orgs_th == [m["organization"]["name_th"] for m in p["memberships"]]
    o = next(x for x in all_orgs if x["contacts"])
    check_contacts(by_fn[o["name_th"]][0], [c for c in o["contacts"] if c["public"]])
    # Non-public contacts: never by default, all of them with --full.
    assert private and not [v for v in private if appears(v, text)]
    full = os.path.join(workdir, "directory-full.vcf")
    run_cli("export", "vcard", "--full", "--out", full, env=env)
    with open(full, "rb") as f:
        raw = f.read()
    text = check_raw(raw)
    gone = set(psql(daemon.db_url, "SELECT c.value FROM contact_point c JOIN person p ON "
                                   "p.id = c.person_id WHERE NOT p.active").splitlines())
    assert gone and [v for v in private - gone if not appears(v, text)] == []
    assert not [v for v in gone if appears(v, text)]  # inactive people are not exported
    (card,) = [c for c in cards(raw) if c.kind.value == "individual"
               and by_lang(c, "fn")["th"] == p["name_th"]]
    check_contacts(card, p["contacts"])
    assert props(card, "tel") and props(card, "email")
    p = run_cli("export", "vcard", "--bogus", env=env, check=False)
    assert p.returncode == 2
