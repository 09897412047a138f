"""The HSDS 3.0 tabular data package: GET /v1/export/hsds.zip, GET /v1/export/hsds.json and
`directoryd export hsds --out DIR` give the same tables; the JSON validates against HSDS's
compiled tabular.json, the CSV files carry HSDS's columns, no private contact leaves."""
import csv
import io
import json
import os
import zipfile

import pytest

from conftest import run_cli
from test_hsds import HSDS, check, pytestmark  # noqa: F401  (skips without ../shared)
from test_organizations import private_values

NUMERIC = {"year_incorporated", "minimum_age", "maximum_age", "latitude", "longitude",
           "extension", "timezone", "count", "interval", "amount"}


def unneutralise(v):
    return v[1:] if v[:2] in ("'=", "'+", "'-", "'@", "'\t", "'\r") else v


def csv_rows(text, numeric=NUMERIC):
    """A CSV file's rows as dicts, with empty cells left out and numbers parsed."""
    out = []
    for r in csv.DictReader(io.StringIO(text, newline="")):
        row = {}
        for k, v in r.items():
            if v == "":
                continue
            row[k] = json.loads(v) if k in numeric else unneutralise(v)
        out.append(row)
    return out


def no_empty(tables):
    """TABLES without empty strings (a CSV cell cannot tell "" from absent)."""
    return {n: [{k: v for k, v in r.items() if v != ""} for r in rows]
            for n, rows in tables.items()}


def zip_tables(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    dp = json.loads(z.read("datapackage.json"))
    tables = {}
    for res in dp["resources"]:
        text = z.read(res["path"]).decode("utf-8")
        header = text.split("\r\n", 1)[0].split(",")
        assert header == [f["name"] for f in res["schema"]["fields"]], res["path"]
        tables[res["name"]] = csv_rows(text)
        assert len(tables[res["name"]]) == res["count"]
    return dp, tables


def get_bytes(api, path):
    import urllib.request
    with urllib.request.urlopen(api.base + path, timeout=30) as r:
        return r.status, r.headers, r.read()


def test_zip_json_and_cli_export_are_the_same_package(api, daemon, workdir):
    s, h, data = get_bytes(api, "/v1/export/hsds.zip")
    assert s == 200 and h["Content-Type"] == "application/zip"
    assert "attachment" in h["Content-Disposition"]
    assert h["Access-Control-Allow-Origin"] == "*"
    dp, tables = zip_tables(data)
    assert dp["profile"] == "tabular-data-package"
    s, h, js = api.get("/v1/export/hsds.json")
    assert s == 200
    assert no_empty(js["tables"]) == tables
    assert js["datapackage"] == dp
    for name in ("organization", "service", "location", "service_at_location", "taxonomy",
                 "taxonomy_term", "attribute", "schedule", "service_area", "phone"):
        assert tables[name], name
    out = os.path.join(workdir, "hsds-cli")
    run_cli("export", "hsds", "--out", out, env={"DIRECTORYD_DB": daemon.db_url})
    with open(os.path.join(out, "datapackage.json")) as f:
        assert json.load(f)["resources"] == dp["resources"]
    for res in dp["resources"]:
        with open(os.path.join(out, res["path"]), encoding="utf-8", newline="") as f:
            assert csv_rows(f.read()) == tables[res["name"]], res["path"]


def test_json_export_validates_against_hsds_tabular_schema(api):
    s, _, js = api.get("/v1/export/hsds.json")
    assert s == 200
    check(js["tables"], "compiled/tabular.json")
    # Every reference points at a row of the package.
    ids = {name: {r["id"] for r in rows} for name, rows in js["tables"].items()}
    for r in js["tables"]["service"]:
        assert r["organization_id"] in ids["organization"]
    for r in js["tables"]["service_at_location"]:
        assert r["service_id"] in ids["service"] and r["location_id"] in ids["location"]
    for r in js["tables"]["attribute"]:
        assert r["taxonomy_term_id"] in ids["taxonomy_term"]
    for r in js["tables"]["taxonomy_term"]:
        assert r["taxonomy_id"] in ids["taxonomy"]


def test_exports_hold_no_private_contacts(api, daemon):
    private = private_values(daemon)
    _, _, js = api.get("/v1/export/hsds.json")
    _, _, data = get_bytes(api, "/v1/export/hsds.zip")
    z = zipfile.ZipFile(io.BytesIO(data))
    text = json.dumps(js, ensure_ascii=False) + "".join(
        z.read(n).decode("utf-8") for n in z.namelist())
    assert not [v for v in private if v in text]
    assert js["tables"]["phone"]


def test_cli_export_needs_out(daemon):
    p = run_cli("export", "hsds", env={"DIRECTORYD_DB": daemon.db_url}, check=False)
    assert p.returncode == 2 and "--out" in p.stderr
