"""`directoryd import hsds DIR|FILE.zip [--dry-run]`: Open Referral's HSDS 3.0 example package
imports (with every field directoryd cannot hold reported), a dry run writes nothing, one
error writes nothing, importing it again changes nothing (its foreign ids are kept), and
export -> import into a fresh database -> export gives the same package, which imported
again (as a ZIP) changes nothing."""
import json
import os
import shutil
import zipfile

from conftest import psql, run_cli
from test_hsds import HSDS, pytestmark  # noqa: F401  (skips without ../shared)
from test_hsds_export import csv_rows

EXAMPLES = os.path.join(os.path.dirname(HSDS), "examples", "csv")


def fresh_db(pg):
    url = pg()
    run_cli("migrate", env={"DIRECTORYD_DB": url})
    return url


def import_hsds(url, d, *flags, ok=True):
    p = run_cli("import", "hsds", d, *flags, env={"DIRECTORYD_DB": url}, check=False)
    assert (p.returncode == 0) == ok, p.stdout + p.stderr
    return json.loads(p.stdout)


def count(url, sql):
    return int(psql(url, sql))


def test_the_hsds_examples_import_and_report_what_is_not_held(pg):
    url = fresh_db(pg)
    before = count(url, "SELECT count(*) FROM organization")
    audits = count(url, "SELECT count(*) FROM audit")
    rep = import_hsds(url, EXAMPLES, "--dry-run")
    assert rep["dry_run"] is True and rep["written"] is False
    assert rep["counts"]["organizations"] >= 1 and rep["counts"]["errors"] == 0
    assert count(url, "SELECT count(*) FROM organization") == before
    assert count(url, "SELECT count(*) FROM audit") == audits
    # Fields without a place in directoryd are named, with file and line.
    held = {(n["file"], n.get("column")) for n in rep["not_held"]}
    for want in [("organizations.csv", "tax_id"), ("organizations.csv", "logo"),
                 ("phones.csv", "number"), ("locations.csv", None), ("schedules.csv", None),
                 ("services.csv", "name"), ("funding.csv", None), ("contacts.csv", None)]:
        assert want in held, want
    assert all(n["line"] >= 2 for n in rep["not_held"] if n["file"] != "organizations.csv" or
               n.get("column"))

    rep = import_hsds(url, EXAMPLES)
    assert rep["written"] is True and rep["counts"]["created"] >= 1
    name = psql(url, "SELECT name_th FROM organization WHERE source = 'hsds-import' LIMIT 1")
    assert name == "Example Organization Inc."
    # Audited as one import, each organisation's row pointing at it.
    iid = rep["import_id"]
    assert count(url, "SELECT count(*) FROM audit WHERE action = 'create' AND import_id = %d"
                 % iid) == rep["counts"]["created"]
    assert count(url, "SELECT count(*) FROM audit WHERE entity = 'import' AND entity_id = '%d'"
                 % iid) == 1
    # The package's own (foreign) ids are kept: importing it again matches them, changes
    # nothing and writes nothing but the import's own audit row.
    orgs = count(url, "SELECT count(*) FROM organization")
    logged = count(url, "SELECT count(*) FROM change_log")
    audits = count(url, "SELECT count(*) FROM audit")
    again = import_hsds(url, EXAMPLES)
    assert [l["action"] for l in again["lines"]] == ["unchanged"] * len(rep["lines"])
    assert {l["match_by"] for l in again["lines"]} == {"foreign id"}
    assert count(url, "SELECT count(*) FROM organization") == orgs
    assert count(url, "SELECT count(*) FROM change_log") == logged
    assert count(url, "SELECT count(*) FROM audit") == audits + 1


def test_one_error_writes_nothing(pg, workdir):
    url = fresh_db(pg)
    d = os.path.join(workdir, "hsds-bad")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(EXAMPLES, d)
    with open(os.path.join(d, "organizations.csv"), "a", encoding="utf-8") as f:
        f.write("11111111-2222-4333-8444-555555555555,Second one,,,,,,,,,,,\n")
        f.write("not-a-uuid,Third,,,,,,,,,,,\n")
    before = count(url, "SELECT count(*) FROM organization")
    rep = import_hsds(url, d, ok=False)
    assert rep["written"] is False
    assert [(e["file"], e["line"], e["column"]) for e in rep["errors"]] == \
        [("organizations.csv", 4, "id")]
    assert count(url, "SELECT count(*) FROM organization") == before
    # A refusal by PostgreSQL (a directoryd ref it does not accept) also writes nothing.
    with open(os.path.join(d, "organizations.csv"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    with open(os.path.join(d, "organizations.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:3]) + "\n")
    with open(os.path.join(d, "organization_identifiers.csv"), "w", encoding="utf-8") as f:
        f.write("id,organization_id,identifier_scheme,identifier_type,identifier\n"
                "b1111111-2222-4333-8444-555555555555,11111111-2222-4333-8444-555555555555,"
                "directoryd,directoryd ref,Not A Ref!\n")
    rep = import_hsds(url, d, ok=False)
    assert rep["counts"]["errors"] == 1 and rep["errors"][0]["line"] == 3
    assert "organization_ref_check" in rep["errors"][0]["reason_en"]
    assert count(url, "SELECT count(*) FROM organization") == before
    # A broken quote is an error with its line.
    with open(os.path.join(d, "services.csv"), "a", encoding="utf-8") as f:
        f.write('x,y,"never closed\n')
    rep = import_hsds(url, d, ok=False)
    assert any(e["file"] == "services.csv" and e["line"] == 3 for e in rep["errors"]), rep["errors"]


def test_round_trip_export_import_export(pg, daemon, workdir):
    first = os.path.join(workdir, "hsds-rt-1")
    second = os.path.join(workdir, "hsds-rt-2")
    for d in (first, second):
        shutil.rmtree(d, ignore_errors=True)
    run_cli("export", "hsds", "--out", first, env={"DIRECTORYD_DB": daemon.db_url})
    # An empty directory: the schema and its reference tables (areas, codes), no organisation
    # (the migrations' reference network is taken out too).
    url = fresh_db(pg)
    psql(url, "TRUNCATE organization CASCADE")
    assert count(url, "SELECT count(*) FROM organization") == 0
    rep = import_hsds(url, first)
    assert rep["counts"]["errors"] == 0 and rep["written"]
    assert rep["counts"]["created"] > 0
    run_cli("export", "hsds", "--out", second, env={"DIRECTORYD_DB": url})
    with open(os.path.join(first, "datapackage.json")) as f:
        files = [r["path"] for r in json.load(f)["resources"]]
    for name in files:
        with open(os.path.join(first, name), encoding="utf-8", newline="") as f:
            a = csv_rows(f.read())
        with open(os.path.join(second, name), encoding="utf-8", newline="") as f:
            b = csv_rows(f.read())
        # last_modified is the time of the last change: the import is a change of its own.
        for r in a + b:
            r.pop("last_modified", None)
        assert a == b, name
    # The same package as a ZIP (as GET /v1/export/hsds.zip gives it) into the database it
    # went to: every organisation is matched by its directoryd id, nothing changes.
    zpath = os.path.join(workdir, "hsds-rt.zip")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for name in os.listdir(first):
            z.write(os.path.join(first, name), "package/" + name)
    logged = count(url, "SELECT count(*) FROM change_log")
    rep = import_hsds(url, zpath, "--dry-run")
    assert rep["file_name"] == "hsds-rt.zip"
    assert rep["counts"]["unchanged"] == rep["counts"]["organizations"] > 0, \
        [l for l in rep["lines"] if l["action"] != "unchanged"][:3]
    assert count(url, "SELECT count(*) FROM change_log") == logged
