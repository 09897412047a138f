"""The personal-data access log (issue 15 section 4, PDPA): reads of people's non-public
contact points through the JSON API, vCard, CSV export and the LDAP face are recorded with
who, when, which face and which people; anonymous reads record nothing; admins list the log
and a person's data report; old rows are purged."""
import subprocess

import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, Daemon, make_demo_db, psql, run_cli, wait_for

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"
CW_DN = "cn=it-caseworker,ou=clients," + SUFFIX
FAST = {"DIRECTORYD_ACCESS_LOG_FLUSH_MS": "100"}


@pytest.fixture(scope="module")
def dlog(pg, workdir):
    d = Daemon(make_demo_db(pg), workdir, extra_env=FAST)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def pid(dlog):
    """An active person with a non-public contact point (the demo's staff have them)."""
    return int(psql(dlog.db_url, "SELECT p.id FROM person p JOIN contact_point c ON "
                                 "c.person_id = p.id WHERE NOT c.is_public AND p.active "
                                 "ORDER BY p.id LIMIT 1"))


def log_rows(d, **params):
    status, _, body = d.http.get("/v1/admin/access-log", params, key=ADMIN_KEY)
    assert status == 200, body
    return body["items"]


def logged(d, pid, actor, face, operation=None):
    """Polls the admin's list until a row of ACTOR through FACE shows person PID."""
    def find():
        for row in log_rows(d, person=pid, actor=actor):
            if row["face"] == face and (operation is None or row["operation"] == operation):
                return row
        return None
    row, _ = wait_for(find, timeout=10)
    return row


def test_caseworker_read_is_logged_and_anonymous_reads_are_not(dlog, pid):
    before = int(psql(dlog.db_url, "SELECT coalesce(max(id), 0) FROM access_log"))
    # Anonymous callers: organisations (public contacts only), people refused, the resolver.
    area = psql(dlog.db_url, "SELECT area_code FROM organization WHERE area_code IS NOT NULL "
                             "LIMIT 1")
    for path, params in (("/v1/organizations", {"limit": 50}), ("/v1/people/%d" % pid, None),
                         ("/v1/resolve", {"area": area}), ("/v1/search", {"filter": "(cn=*)"})):
        dlog.http.get(path, params)
    # The caseworker's read is queued after them: once it is in the table, so would they be.
    status, _, person = dlog.http.get("/v1/people/%d" % pid, key=CASEWORKER_KEY)
    assert status == 200 and any(not c["public"] for c in person["contacts"])
    row = logged(dlog, pid, "it-caseworker", "json", "/v1/people/{id}")
    assert row, "the caseworker's read of person %d was not logged" % pid
    assert row["actor_kind"] == "api_client" and pid in row["people"]
    assert row["at"].endswith("Z") and row["reads"] >= 1
    newer = psql(dlog.db_url, "SELECT string_agg(DISTINCT actor_id, ',') FROM access_log "
                              "WHERE id > %d" % before)
    assert newer == "it-caseworker", "anonymous reads were logged: %s" % newer


def test_list_search_and_exports_are_logged(dlog, pid):
    status, _, _ = dlog.http.get("/v1/people", {"limit": 500}, key=CASEWORKER_KEY)
    assert status == 200
    assert logged(dlog, pid, "it-caseworker", "json", "/v1/people")
    status, _, card = dlog.http.get("/v1/people/%d/vcard" % pid, key=CASEWORKER_KEY)
    assert status == 200 and "BEGIN:VCARD" in card
    assert logged(dlog, pid, "it-caseworker", "vcard", "/v1/people/{id}/vcard")
    status, _, csv = dlog.http.get("/v1/export/people.csv", key=ADMIN_KEY)
    assert status == 200
    assert logged(dlog, pid, "it-admin", "export", "/v1/export/people.csv")


def test_cli_ldif_export_is_logged(dlog, pid, workdir):
    out = workdir + "/pdpa-export.ldif"
    run_cli("export", "ldif", "--out", out, env={"DIRECTORYD_DB": dlog.db_url})
    ids = psql(dlog.db_url, "SELECT person_ids FROM access_log WHERE actor_kind = 'cli' "
                            "AND operation = 'export ldif'")
    assert ids and str(pid) in ids.strip("{}").split(",")
    run_cli("export", "ldif", "--public", "--out", out, env={"DIRECTORYD_DB": dlog.db_url})
    assert psql(dlog.db_url, "SELECT count(*) FROM access_log WHERE actor_kind = 'cli'") == "1"


def test_cli_vcard_export_is_logged_when_full(dlog, pid, workdir):
    out = workdir + "/pdpa-export.vcf"
    run_cli("export", "vcard", "--out", out, env={"DIRECTORYD_DB": dlog.db_url})
    assert psql(dlog.db_url, "SELECT count(*) FROM access_log WHERE actor_kind = 'cli' "
                             "AND operation = 'export vcard'") == "0"
    run_cli("export", "vcard", "--full", "--out", out, env={"DIRECTORYD_DB": dlog.db_url})
    ids = psql(dlog.db_url, "SELECT person_ids FROM access_log WHERE actor_kind = 'cli' "
                            "AND operation = 'export vcard'")
    assert ids and str(pid) in ids.strip("{}").split(",")


def test_metrics_count_the_reads_written(dlog, pid):
    status, _, _ = dlog.http.get("/v1/people/%d" % pid, key=CASEWORKER_KEY)
    assert status == 200

    def written():
        _, _, text = dlog.http.get("/metrics")
        for line in text.splitlines():
            if line.startswith('directoryd_access_log_reads_total{state="written"}'):
                return int(float(line.split()[-1])) or None
        return None
    n, _ = wait_for(written, timeout=10)
    assert n and n >= 1


def test_ldap_bound_search_is_logged_with_the_bind_dn(dlog, pid):
    p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", "ldap://127.0.0.1:%d" % dlog.ldap_port,
                        "-D", CW_DN, "-w", CASEWORKER_KEY, "-b", "ou=people," + SUFFIX,
                        "(dirId=%d)" % pid, "mail", "telephoneNumber", "mobile"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    row = logged(dlog, pid, CW_DN, "ldap", "search")
    assert row and row["actor_kind"] == "ldap_bind"


def test_data_report_lists_the_reads_and_is_logged(dlog, pid):
    dlog.http.get("/v1/people/%d" % pid, key=CASEWORKER_KEY)
    assert logged(dlog, pid, "it-caseworker", "json", "/v1/people/{id}")
    status, _, rep = dlog.http.get("/v1/admin/people/%d/data-report" % pid, key=ADMIN_KEY)
    assert status == 200, rep
    assert rep["person"]["id"] == pid
    assert any(not c["is_public"] for c in rep["person"]["contacts"])
    assert "source" in rep["origin"] and isinstance(rep["changes"], list)
    assert any(r["actor"] == "it-caseworker" and r["face"] == "json" for r in rep["reads"])
    assert logged(dlog, pid, "it-admin", "json", "/v1/admin/people/{id}/data-report")
    status, _, _ = dlog.http.get("/v1/admin/people/999999999/data-report", key=ADMIN_KEY)
    assert status == 404


def test_admin_only_and_bad_parameters(dlog, pid):
    for path in ("/v1/admin/access-log", "/v1/admin/people/%d/data-report" % pid):
        assert dlog.http.get(path, key=CASEWORKER_KEY)[0] == 403
        assert dlog.http.get(path)[0] == 401
    status, _, body = dlog.http.get("/v1/admin/access-log", {"since": "yesterday"}, key=ADMIN_KEY)
    assert status == 400 and "since" in str(body)
    # Pages: newest first, a cursor to the next page.
    status, _, page = dlog.http.get("/v1/admin/access-log", {"limit": 1}, key=ADMIN_KEY)
    assert status == 200 and len(page["items"]) == 1 and page["next"]
    status, _, page2 = dlog.http.get("/v1/admin/access-log", {"limit": 1, "cursor": page["next"]},
                                     key=ADMIN_KEY)
    assert status == 200 and page2["items"][0]["id"] != page["items"][0]["id"]


def test_retention_purge_at_start(dlog, workdir):
    row = ("INSERT INTO access_log (at, last_at, actor_kind, actor_id, face, operation, "
           "person_ids) VALUES (now() - interval '%d days', now() - interval '%d days', "
           "'api_client', '%s', 'json', '/v1/people/{id}', '{1}')")
    psql(dlog.db_url, row % (400, 400, "it-old") + "; " + row % (10, 10, "it-recent"))
    d = Daemon(dlog.db_url, workdir, extra_env=dict(FAST, DIRECTORYD_ACCESS_LOG_RETENTION_DAYS="300"))
    try:
        gone, _ = wait_for(lambda: psql(dlog.db_url, "SELECT count(*) FROM access_log "
                                                     "WHERE actor_id = 'it-old'") == "0",
                           timeout=10)
        assert gone, "the row older than the retention period was not purged"
        assert psql(dlog.db_url, "SELECT count(*) FROM access_log WHERE actor_id = 'it-recent'") == "1"
    finally:
        d.stop()
