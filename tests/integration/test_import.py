"""CSV import and export (issue 13 §1 and §4): POST /v1/imports with dry runs, one
transaction per file, per-line reports; the bad inputs each give a clear error with its line
and write nothing; templates and exports; `directoryd import` / `export csv`.

Runs its own database and daemon, so the rows it adds do not disturb other tests.
"""
import csv
import hashlib
import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Daemon, make_demo_db, psql, run_cli, wait_for

COORD_KEY = "integration-import-coordinator-0123456789"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ORG_HEADER = ("ref,name_th,name_en,type,sector,area,phone,email,line,services,target_groups,"
              "coverage\r\n")


@pytest.fixture(scope="module")
def imp(pg, workdir):
    url = make_demo_db(pg, **{"it-import-coord": ("coordinator", COORD_KEY)})
    d = Daemon(url, workdir)
    ok, _ = wait_for(lambda: d.http.get("/v1/people", {"limit": 1}, key=COORD_KEY)[0] == 200)
    assert ok
    yield d
    d.stop()


def post(d, data, kind="organizations", dry=False, name="partners.csv", **params):
    """POST /v1/imports; (status, headers, JSON). A whole file may take a while on a busy
    machine, so this waits longer than the harness's client."""
    q = {"kind": kind}
    if dry:
        q["dry_run"] = "1"
    q.update(params)
    if isinstance(data, str):
        data = data.encode("utf-8")
    req = urllib.request.Request(d.http.base + "/v1/imports?" + urllib.parse.urlencode(q),
                                 method="POST", data=data,
                                 headers={"Content-Type": "text/csv", "X-File-Name": name,
                                          "Authorization": "Bearer " + COORD_KEY})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    return status, hdrs, json.loads(raw)


def count(d, table, where="true"):
    return int(psql(d.db_url, "SELECT count(*) FROM %s WHERE %s" % (table, where)))


def snapshot(d):
    """What a bad import must leave alone: the rows and the audit trail."""
    return tuple(count(d, t) for t in ("organization", "person", "contact_point", "offering",
                                       "audit", "import", "area"))


def org_csv(*rows):
    return "\ufeff" + ORG_HEADER + "".join(r + "\r\n" for r in rows)


GOOD = ('imp.a,ศูนย์ทดสอบนำเข้า ก,Import test A,community_org,ngo,1001,02-123-4567 ext 12,'
        'a@example.org,,counselling,street_children,1001')
GOOD_B = ('imp.b,"มูลนิธิ ""ทดสอบ"" บ้านเด็ก",Import test B,community_org,ngo,1002,'
          '"02-999-8888\n02-111-2222 (สำนักงาน | Office)",,lineid_b,'
          '"counselling:families:1002\nlegal_aid",,')


def test_dry_run_reports_per_line_and_writes_nothing(imp):
    before = snapshot(imp)
    st, _, rep = post(imp, org_csv(GOOD, GOOD_B), dry=True)
    assert st == 200, rep.get("lines", rep)
    assert rep["dry_run"] is True and rep["written"] is False
    assert rep["kind"] == "organizations" and rep["file_name"] == "partners.csv"
    assert [(l["line"], l["action"]) for l in rep["lines"]] == [(2, "create"), (3, "create")]
    assert rep["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert snapshot(imp) == before


def test_import_then_reimport_unchanged_then_update(imp):
    data = org_csv(GOOD, GOOD_B)
    st, _, rep = post(imp, data)
    assert st == 200, rep.get("lines", rep)
    assert rep["written"] is True and rep["counts"]["created"] == 2
    assert rep["sha256"] == hashlib.sha256(data.encode("utf-8")).hexdigest()
    ids = [l["id"] for l in rep["lines"]]
    # The read model shows them (the answer waited for it).
    st, _, org = imp.http.get("/v1/organizations/%d" % ids[1], key=COORD_KEY)
    assert st == 200 and org["name_th"] == 'มูลนิธิ "ทดสอบ" บ้านเด็ก'
    assert [c["value"] for c in org["contacts"] if c["kind"] == "phone"] == ["02-999-8888",
                                                                             "02-111-2222"]
    assert any(c["value"] == "02-111-2222" and c.get("label_en") == "Office" for c in org["contacts"])
    # The same file again changes nothing.
    audit_before = count(imp, "audit")
    st, _, rep2 = post(imp, data)
    assert st == 200, rep2
    assert [l["action"] for l in rep2["lines"]] == ["unchanged", "unchanged"]
    assert [l["id"] for l in rep2["lines"]] == ids
    assert count(imp, "audit") == audit_before + 1  # only the import's own audit row
    # An updated file updates: matched by ref.
    changed = GOOD.replace("Import test A", "Import test A (renamed)")
    st, _, rep3 = post(imp, org_csv(changed, GOOD_B))
    assert st == 200, rep3
    assert [l["action"] for l in rep3["lines"]] == ["update", "unchanged"]
    _, _, org = imp.http.get("/v1/organizations/%d" % ids[0], key=COORD_KEY)
    assert org["name_en"] == "Import test A (renamed)"


def test_audit_rows_point_at_the_import(imp):
    row = GOOD.replace("imp.a", "imp.audit").replace("ก,", "ข,")
    st, _, rep = post(imp, org_csv(row), name="audit-test.csv")
    assert st == 200, rep.get("lines", rep)
    iid = rep["import_id"]
    got = psql(imp.db_url, "SELECT file_name, sha256, created, actor FROM import WHERE id = %d" % iid)
    assert got == "audit-test.csv|%s|1|it-import-coord" % rep["sha256"]
    op = json.loads(psql(imp.db_url, "SELECT after FROM audit WHERE entity = 'import' "
                                     "AND entity_id = '%d'" % iid))
    assert op["file_name"] == "audit-test.csv" and op["counts"]["created"] == 1
    rows = psql(imp.db_url, "SELECT entity || ':' || entity_id || ':' || action FROM audit "
                            "WHERE import_id = %d AND entity <> 'import'" % iid)
    assert rows == "organization:%d:create" % rep["lines"][0]["id"]


def test_match_by_thai_name_and_district(imp):
    # No id, no ref: the Thai name + the district find the row imported above.
    st, _, rep = post(imp, org_csv(GOOD.replace("imp.a", "").replace("Import test A", "By name")))
    assert st == 200, rep.get("lines", rep)
    assert rep["lines"][0]["action"] == "update"
    # A sub-district in the same district matches too.
    st, _, rep = post(imp, org_csv(GOOD.replace("imp.a", "").replace(",1001,", ",100101,", 1)
                                   .replace("Import test A", "By name")), dry=True)
    assert rep["lines"][0]["action"] == "update", rep


def errors_of(rep):
    return [(l["line"], e["column"], e["value"], e["reason_en"])
            for l in rep["lines"] for e in l["errors"]]


def bad(imp, data, **kw):
    before = snapshot(imp)
    st, _, rep = post(imp, data, **kw)
    assert snapshot(imp) == before, "a refused file wrote something"
    return st, rep


def test_unknown_district_code(imp):
    st, rep = bad(imp, org_csv(GOOD.replace("imp.a", "imp.x1"),
                               GOOD_B.replace("imp.b", "imp.x2").replace(",1002,", ",9999,", 1)))
    assert st == 422 and rep["written"] is False
    assert rep["lines"][0]["action"] == "create"
    errs = errors_of(rep)
    assert errs == [(3, "area", "9999", "no area has this code")]
    assert rep["lines"][1]["errors"][0]["reason_th"]


def test_failing_phone(imp):
    st, rep = bad(imp, org_csv(GOOD.replace("imp.a", "imp.x3").replace("02-123-4567", "12345")))
    assert st == 422
    (line, col, value, reason), = errors_of(rep)
    assert (line, col, value) == (2, "phone", "12345 ext 12") and reason


def test_failing_email_and_line(imp):
    st, rep = bad(imp, org_csv(GOOD.replace("imp.a", "imp.x4").replace("a@example.org", "not-mail")
                               .replace(",,counselling", ",x!,counselling")))
    assert st == 422
    cols = sorted(c for _, c, _, _ in errors_of(rep))
    assert cols == ["email", "line"]


def test_duplicate_row(imp):
    row = GOOD.replace("imp.a", "imp.dup")
    st, rep = bad(imp, org_csv(row, row))
    assert st == 422
    assert errors_of(rep) == [(3, None, None, "duplicates line 2")]


def test_formula_injection(imp):
    row = GOOD.replace("imp.a", "imp.f").replace("Import test A",
                                                  '"=HYPERLINK(""http://evil.example"",""x"")"')
    st, rep = bad(imp, org_csv(row))
    assert st == 422
    (line, col, value, reason), = errors_of(rep)
    assert line == 2 and col == "name_en" and value.startswith("=HYPERLINK") and "formula" in reason


def test_broken_quote(imp):
    st, rep = bad(imp, org_csv(GOOD, 'imp.q,"ไม่ปิด,x,community_org,ngo,1001,,,,,,'))
    assert st == 422
    assert errors_of(rep) == [(3, None, None, 'a quoted field (") is never closed')]


def test_wrong_encoding(imp):
    data = org_csv(GOOD.replace("imp.a", "imp.enc")).encode("cp874", errors="ignore")
    st, rep = bad(imp, data, encoding="utf-8")
    assert st == 422
    (line, col, value, reason), = errors_of(rep)
    assert line == 2 and "not UTF-8" in reason


def test_utf16_refused(imp):
    st, rep = bad(imp, org_csv(GOOD).encode("utf-16"))
    assert st == 422 and "UTF-16" in errors_of(rep)[0][3]


def test_empty_file_and_only_header(imp):
    st, rep = bad(imp, b"")
    assert st == 422 and errors_of(rep) == [(1, None, None, "the file is empty: use the template "
                                                            "and fill rows under its header")]
    st, rep = bad(imp, org_csv())
    assert st == 422 and errors_of(rep) == [(1, None, None, "the file has only its header, no rows")]


def test_unknown_header(imp):
    st, rep = bad(imp, "ref,name_th,colour\r\nimp.h,ชื่อ,red\r\n")
    assert st == 422 and errors_of(rep) == [(1, "colour", None, "unknown column header (see the template)")]


def test_over_size_limit(imp):
    before = snapshot(imp)
    big = org_csv(GOOD).encode() + b"#" * (20 * 1024 * 1024)
    st, _, p = post(imp, big)
    assert st == 413 and p["status"] == 413 and "20 MB" in p["detail"]
    assert snapshot(imp) == before


def test_windows_874_with_semicolons(imp):
    text = ("ref;name_th;type;sector;area;phone\r\n"
            "imp.w874;ศูนย์พัฒนาเด็กเล็กวัดทดสอบ;community_org;ngo;1003;02-222-3333\r\n")
    st, _, rep = post(imp, text.encode("cp874"))
    assert st == 200, rep.get("lines", rep)
    assert rep["encoding"] == "windows-874" and rep["delimiter"] == "semicolon"
    _, _, org = imp.http.get("/v1/organizations/%d" % rep["lines"][0]["id"], key=COORD_KEY)
    assert org["name_th"] == "ศูนย์พัฒนาเด็กเล็กวัดทดสอบ"
    # Given explicitly, with tabs.
    st, _, rep = post(imp, text.replace(";", "\t").encode("cp874"), dry=True,
                      encoding="windows-874", delimiter="tab")
    assert st == 200 and rep["lines"][0]["action"] == "unchanged", rep


def test_thai_headers_and_one_error_writes_nothing(imp):
    tpl = imp.http.get("/v1/imports/templates/organizations.csv", key=COORD_KEY)
    st, hdrs, body = tpl
    assert st == 200 and hdrs["Content-Type"].startswith("text/csv")
    assert body.startswith("\ufeff") and "ชื่อหน่วยงาน (ไทย)" in body
    header = next(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    row = {h: "" for h in header}
    row["ชื่อหน่วยงาน (ไทย)"] = "ศูนย์หัวคอลัมน์ไทย"
    row["ประเภทหน่วยงาน (รหัส)"] = "community_org"
    row["ภาคส่วน (รหัส)"] = "ngo"
    row["พื้นที่ตั้ง (รหัสเขต/แขวง)"] = "1004"
    bad_row = dict(row, **{"ชื่อหน่วยงาน (ไทย)": "อีกแห่ง", "ภาคส่วน (รหัส)": "nope"})
    out = io.StringIO()
    w = csv.DictWriter(out, header)
    w.writeheader()
    w.writerow(row)
    w.writerow(bad_row)
    st, rep = bad(imp, out.getvalue())
    assert st == 422 and rep["lines"][0]["action"] == "create"
    assert errors_of(rep) == [(3, "ภาคส่วน (รหัส)", "nope", "unknown code")]


def test_export_neutralises_and_round_trips(imp):
    # A value that starts like a formula, stored through the JSON API.
    st, _, org = imp.http.request(
        "POST", "/v1/organizations", key=COORD_KEY,
        headers={"Content-Type": "application/json"},
        body=json.dumps({"name_th": "ศูนย์ส่งออก", "name_en": "-minus start", "type": "community_org",
                         "sector": "ngo", "area": "1005", "ref": "imp.export"}).encode())
    assert st == 201, org
    st, hdrs, body = imp.http.get("/v1/export/organizations.csv", key=COORD_KEY)
    assert st == 200 and "attachment" in hdrs["Content-Disposition"]
    assert body.startswith("\ufeff")
    assert ",\"'-minus start\"," in body
    # Export -> import: nothing changes.
    st, _, rep = post(imp, body.encode("utf-8"), dry=True, name="export.csv")
    assert st == 200, [l for l in rep["lines"] if l["errors"]][:3]
    changed = [l for l in rep["lines"] if l["action"] != "unchanged"]
    assert changed == [], changed[:3]
    # People: the demo data's phones are not all in their normal form, which the first
    # import writes (as the API would); from then on export -> import changes nothing.
    for kind in ("people", "communities"):
        st, _, body = imp.http.get("/v1/export/%s.csv" % kind, key=COORD_KEY)
        assert st == 200
        st, _, rep = post(imp, body.encode("utf-8"), kind=kind)
        assert st == 200, [l for l in rep["lines"] if l["errors"]][:3]
        st, _, body = imp.http.get("/v1/export/%s.csv" % kind, key=COORD_KEY)
        st, _, rep = post(imp, body.encode("utf-8"), kind=kind, dry=True)
        assert st == 200, [l for l in rep["lines"] if l["errors"]][:3]
        assert all(l["action"] == "unchanged" for l in rep["lines"]), \
            [l for l in rep["lines"] if l["action"] != "unchanged"][:3]


def test_people_and_communities(imp):
    people = ("name_th,profession,mobile,email,memberships\r\n"
              "นางทดสอบ นำเข้า,social_worker,081-555-0000,t@example.org,"
              "imp.a:district_welfare:นักสังคมสงเคราะห์::1001\r\n")
    st, _, rep = post(imp, people, kind="people")
    assert st == 200, rep.get("lines", rep)
    pid = rep["lines"][0]["id"]
    _, _, p = imp.http.get("/v1/people/%d" % pid, key=COORD_KEY)
    assert p["profession"] == "social_worker"
    assert post(imp, people, kind="people")[2]["lines"][0]["action"] == "unchanged"
    comm = "name_th,parent,postal_code\r\nชุมชนทดสอบนำเข้า,1001,10200\r\n"
    st, _, rep = post(imp, comm, kind="communities")
    assert st == 200, rep.get("lines", rep)
    code = rep["lines"][0]["id"]
    assert code.startswith("C1001-")
    assert post(imp, comm, kind="communities")[2]["lines"][0]["action"] == "unchanged"


def test_roles_and_options(imp):
    st, _, _ = imp.http.request("POST", "/v1/imports", {"kind": "organizations"},
                                headers={"Content-Type": "text/csv"}, body=b"x")
    assert st == 401
    st, _, p = post(imp, org_csv(GOOD), kind="widgets")
    assert st == 400 and p["errors"][0]["field"] == "kind"
    st, _, p = post(imp, org_csv(GOOD), encoding="latin-1")
    assert st == 400 and p["errors"][0]["field"] == "encoding"


def test_cli_import_and_export(imp, workdir):
    path = os.path.join(workdir, "cli-import.csv")
    with open(path, "w", encoding="utf-8-sig") as f:
        f.write(ORG_HEADER + GOOD.replace("imp.a", "imp.cli") + "\r\n")
    env = {"DIRECTORYD_DB": imp.db_url}
    p = run_cli("import", "organizations", path, "--dry-run", env=env)
    rep = json.loads(p.stdout)
    assert rep["lines"][0]["action"] == "create" and "dry run" in p.stderr
    assert count(imp, "organization", "ref = 'imp.cli'") == 0
    run_cli("import", "organizations", path, env=env)
    assert count(imp, "organization", "ref = 'imp.cli'") == 1
    p = run_cli("import", "organizations", path, "--encoding", "bogus", env=env, check=False)
    assert p.returncode == 3
    out = os.path.join(workdir, "cli-export.csv")
    run_cli("export", "csv", "organizations", "--out", out, env=env)
    with open(out, encoding="utf-8-sig") as f:
        assert "imp.cli" in f.read()


def test_repo_templates_match_the_served_ones(imp):
    for kind in ("organizations", "people", "communities"):
        with open(os.path.join(ROOT, "import", "templates", kind + ".csv"), encoding="utf-8",
                  newline="") as f:
            assert f.read() == imp.http.get("/v1/imports/templates/%s.csv" % kind,
                                            key=COORD_KEY)[2]


def test_reimport_tells_every_kind_of_change_from_none(imp):
    """A matched row whose cells already hold what the directory holds is unchanged (answered
    without writing it); any difference in a column, a contact point (value, extension,
    label, public flag), a service, its target groups or its coverage is an update."""
    def row(phone="02-123-4000", email="chg@example.org", services="counselling",
            groups="street_children,families", cover="1006", en="Change test"):
        return ('imp.chg,ศูนย์ทดสอบการเปลี่ยนแปลง,%s,community_org,ngo,1006,"%s","%s",,"%s","%s","%s"'
                % (en, phone, email, services, groups, cover))
    st, _, rep = post(imp, org_csv(row()))
    assert st == 200 and rep["lines"][0]["action"] == "create", rep.get("lines", rep)
    audit_before = count(imp, "audit")
    for kw, want in (({}, "unchanged"),
                     ({"groups": "families,street_children"}, "unchanged"),
                     ({"en": "Change test 2"}, "update"),
                     ({"phone": "02-123-4000 ext 5"}, "update"),
                     ({"phone": "02-123-4000 (สำนักงาน | Office)"}, "update"),
                     ({"email": "chg@example.org [private]"}, "update"),
                     ({"phone": "02-123-4000\n02-123-4001"}, "update"),
                     ({"services": "counselling;legal_aid"}, "update"),
                     ({"groups": "street_children"}, "update"),
                     ({"cover": "1006,1007"}, "update")):
        st, _, rep = post(imp, org_csv(row(**kw)), dry=True)
        assert st == 200 and rep["lines"][0]["action"] == want, (kw, rep["lines"])
    assert count(imp, "audit") == audit_before
