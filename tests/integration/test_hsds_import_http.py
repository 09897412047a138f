"""POST /v1/imports?kind=hsds (issue 13 §2, the HSDS import through the API): the ZIP that
GET /v1/export/hsds.zip gives, and its JSON form, import with a dry run first; the
directory's own export matches every organisation (by its derived HSDS id) and changes
nothing; an edited package updates exactly the organisation that changed, audited as one
import; a package from another system (foreign ids) imported twice adds its organisations
once; a damaged archive, a zip bomb and an oversized upload each get a clear problem and
write nothing.

Runs its own database and daemon (the imports change what they hold). Needs no ../shared.
"""
import io
import json
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import pytest

from conftest import CASEWORKER_KEY, Daemon, make_demo_db, psql, wait_for

COORD_KEY = "integration-hsds-import-coordinator-0123"
FOREIGN_ORG = "0b7a1c2e-1111-4222-8333-944455556666"


@pytest.fixture(scope="module")
def hd(pg, workdir):
    url = make_demo_db(pg, **{"it-hsds-import-coord": ("coordinator", COORD_KEY)})
    d = Daemon(url, workdir)
    ok, _ = wait_for(lambda: d.http.get("/v1/organizations", {"limit": 1}, key=COORD_KEY)[0] == 200)
    assert ok
    yield d
    d.stop()


def post(d, data, dry=False, ctype="application/zip", name="package.zip", key=COORD_KEY):
    q = {"kind": "hsds"}
    if dry:
        q["dry_run"] = "1"
    req = urllib.request.Request(d.http.base + "/v1/imports?" + urllib.parse.urlencode(q),
                                 method="POST", data=data,
                                 headers={"Content-Type": ctype, "X-File-Name": name,
                                          "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def export_zip(d):
    req = urllib.request.Request(d.http.base + "/v1/export/hsds.zip")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def count(d, sql):
    return int(psql(d.db_url, sql))


def changes(d):
    return count(d, "SELECT count(*) FROM change_log"), count(d, "SELECT count(*) FROM audit")


def rezip(data, edit):
    """The archive DATA with EDIT(name, text) -> text applied to each CSV member."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith(".csv"):
                body = edit(info.filename, body.decode("utf-8")).encode("utf-8")
            z.writestr(info.filename, body)
    return out.getvalue()


def test_own_export_is_unchanged_and_an_edit_updates_one(hd):
    pkg = export_zip(hd)
    before = changes(hd)
    # Nothing changes but the import's own audit row.
    st, rep = post(hd, pkg)
    assert st == 200 and rep["written"] is True and rep["kind"] == "hsds", rep
    n = rep["counts"]["organizations"]
    assert n > 50 and rep["counts"]["unchanged"] == n, \
        [(l["name_th"], l.get("fields")) for l in rep["lines"] if l["action"] != "unchanged"][:8]
    assert {l["match_by"] for l in rep["lines"]} <= {"directoryd id", "directoryd hsds id"}
    assert changes(hd) == (before[0], before[1] + 1)
    assert count(hd, "SELECT count(*) FROM import WHERE kind = 'hsds'") == 1
    # Edit one organisation's name: exactly it is updated (dry run first, then for real).
    first = [l for l in rep["lines"]][3]

    def rename(name, text):
        return text.replace(first["name_th"], first["name_th"] + " (แก้ไข)", 1) \
            if name == "organizations.csv" else text
    edited = rezip(pkg, rename)
    st, rep = post(hd, edited, dry=True)
    assert st == 200, rep
    assert rep["dry_run"] is True and rep["written"] is False
    assert [(l["id"], l["fields"]) for l in rep["lines"] if l["action"] == "update"] == \
        [(first["id"], ["name_th"])]
    assert changes(hd) == (before[0], before[1] + 1)
    st, rep = post(hd, edited)
    assert st == 200 and rep["counts"]["updated"] == 1 and rep["counts"]["created"] == 0, rep
    st, _, org = hd.http.get("/v1/organizations/%d" % first["id"], key=COORD_KEY)
    assert org["name_th"] == first["name_th"] + " (แก้ไข)"
    # One audit row for the organisation (before and after) pointing at the import's.
    iid = rep["import_id"]
    rows = psql(hd.db_url, "SELECT entity || ':' || action FROM audit WHERE import_id = %d "
                "ORDER BY id" % iid).split("\n")
    assert rows == ["organization:update", "import:import"], rows
    assert psql(hd.db_url, "SELECT before->>'name_th' FROM audit WHERE import_id = %d AND "
                "entity = 'organization'" % iid) == first["name_th"]


def foreign_package():
    """A package another system made: its own UUIDs, names a directoryd service term."""
    files = {
        "organizations.csv": "id,name,alternate_name,legal_status\r\n"
                             "%s,มูลนิธิทดสอบต่างระบบ,Foreign Test Foundation,ngo\r\n" % FOREIGN_ORG,
        "phones.csv": "id,organization_id,number,type\r\n"
                      "0b7a1c2e-2222-4222-8333-944455556666,%s,02-123-4567,voice\r\n" % FOREIGN_ORG,
        "services.csv": "id,organization_id,name,status\r\n"
                        "0b7a1c2e-3333-4222-8333-944455556666,%s,Counselling,active\r\n"
                        % FOREIGN_ORG,
        "contacts.csv": "id,name\r\nc1,Somebody\r\n",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr("foreign-export/" + name, text)
    return out.getvalue()


def test_foreign_package_twice_does_not_duplicate(hd):
    orgs = count(hd, "SELECT count(*) FROM organization")
    st, rep = post(hd, foreign_package(), name="foreign.zip")
    assert st == 200, rep
    assert [l["action"] for l in rep["lines"]] == ["create"]
    new_id = rep["lines"][0]["id"]
    assert any(n["file"] == "contacts.csv" for n in rep["not_held"])
    assert count(hd, "SELECT count(*) FROM hsds_foreign_id WHERE organization_id = %d"
                 % new_id) >= 1
    st, rep = post(hd, foreign_package(), name="foreign.zip")
    assert st == 200, rep
    assert [(l["action"], l["id"], l["match_by"]) for l in rep["lines"]] == \
        [("unchanged", new_id, "foreign id")]
    assert count(hd, "SELECT count(*) FROM organization") == orgs + 1
    # The JSON form is read too (the same content: unchanged).
    st, _, body = hd.http.get("/v1/export/hsds.json")
    st, rep = post(hd, json.dumps(body).encode("utf-8"), dry=True, ctype="application/json",
                   name="directoryd-hsds.json")
    assert st == 200, rep
    assert rep["counts"]["created"] == 0 and rep["counts"]["updated"] == 0, \
        [(l["name_th"], l.get("fields")) for l in rep["lines"] if l["action"] != "unchanged"][:8]


def test_bad_packages_are_refused_clearly(hd):
    before = changes(hd)
    st, p = post(hd, b"PK\x03\x04 this is not really a zip")
    assert st == 422 and p["errors"][0]["field"] == "file", p
    assert "ZIP" in p["detail"]
    st, p = post(hd, b"id,name\r\n1,x\r\n", ctype="text/csv", name="x.csv")
    assert st == 422 and "neither a ZIP" in p["detail"], p
    # A zip bomb: 70 MB of zeros deflate to ~70 kB; refused before inflating.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("organizations.csv", b"\0" * (70 * 1024 * 1024))
    st, p = post(hd, out.getvalue())
    assert st == 413 and "organizations.csv" in p["detail"], p
    # Over the upload limit (20 MB), as the CSV import.
    st, p = post(hd, b"PK" + b"\0" * (21 * 1024 * 1024))
    assert st == 413, p
    # Two organisations of a package that are one of directoryd's: an error, nothing written.
    ref = psql(hd.db_url, "SELECT ref FROM organization WHERE ref IS NOT NULL ORDER BY id LIMIT 1")
    a, b = "0b7a1c2e-aaaa-4222-8333-944455556666", "0b7a1c2e-bbbb-4222-8333-944455556666"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("organizations.csv", "id,name\r\n%s,One\r\n%s,Two\r\n" % (a, b))
        z.writestr("organization_identifiers.csv",
                   "id,organization_id,identifier_scheme,identifier_type,identifier\r\n"
                   "i1,%s,directoryd,directoryd ref,%s\r\ni2,%s,directoryd,directoryd ref,%s\r\n"
                   % (a, ref, b, ref))
    st, rep = post(hd, out.getvalue())
    assert st == 422 and rep["written"] is False, rep
    assert [(l["line"], l["action"]) for l in rep["lines"]] == [(2, "update"), (3, "error")]
    assert "as line 2 does" in rep["lines"][1]["errors"][0]["reason_en"]
    # Caseworkers may not import.
    st, _ = post(hd, export_zip(hd), key=CASEWORKER_KEY)
    assert st in (401, 403)
    assert changes(hd) == before
