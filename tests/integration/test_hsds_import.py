"""`directoryd import hsds DIR [--dry-run]`: Open Referral's HSDS 3.0 example package imports
(with every field directoryd cannot hold reported), a dry run writes nothing, one error writes
nothing, and export -> import into a fresh database -> export gives the same package."""
import json
import os
import shutil

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
    assert count(url, "SELECT count(*) FROM audit WHERE action = 'import'") == \
        rep["counts"]["created"]
    assert count(url, "SELECT count(*) FROM audit WHERE action = 'import_hsds'") == 1
    # Importing it again changes nothing? Foreign ids are not kept, so it would create again:
    # that is reported before it happens.
    again = import_hsds(url, EXAMPLES, "--dry-run")
    assert again["counts"]["organizations"] == rep["counts"]["organizations"]


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
