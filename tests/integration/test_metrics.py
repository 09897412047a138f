"""Observability (issue 15 §2, §6): GET /metrics parsed by a real Prometheus text parser
(Debian's python3-prometheus-client), /readyz, request ids and the access log, SIGHUP reload
without dropping connections, and HTTPS with HSTS.
"""
import http.client
import os
import re
import signal
import subprocess

import ldap
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import (ADMIN_KEY, CASEWORKER_KEY, Daemon, make_cert, make_demo_db, psql,
                      wait_for)

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"


def scrape(http, key=None):
    status, headers, text = http.get("/metrics", key=key)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(text)}, text


def sample(families, family, name, **labels):
    """The value of the sample NAME of FAMILY whose labels include LABELS (0 when absent)."""
    f = families.get(family)
    for s in (f.samples if f else []):
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0.0


def requests(fam, route, method, status):
    return sample(fam, "directoryd_http_requests", "directoryd_http_requests_total",
                  route=route, method=method, status=str(status))


def ldap_conn(d):
    c = ldap.initialize("ldap://127.0.0.1:%d" % d.ldap_port)
    c.protocol_version = 3
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    c.set_option(ldap.OPT_TIMEOUT, 30)
    return c


def access_lines(log):
    return [l for l in log.splitlines() if " sub=access " in l]


# ---- /metrics ----

def test_metrics_parse_and_move_with_traffic(daemon, api):
    before, _ = scrape(api)
    for _ in range(3):
        assert api.get("/v1/areas")[0] == 200
    assert api.get("/v1/organizations/no-such-org-xyz")[0] == 404
    assert api.get("/v1/people")[0] == 401
    c = ldap_conn(daemon)
    c.simple_bind_s("", "")
    c.search_s(SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)")
    c.unbind_s()
    after, text = scrape(api)

    # Requests by route pattern (never the raw path) and status.
    assert requests(after, "/v1/areas", "GET", 200) - requests(before, "/v1/areas", "GET", 200) == 3
    route = "/v1/organizations/{id}"
    assert requests(after, route, "GET", 404) - requests(before, route, "GET", 404) == 1
    assert requests(after, "/v1/people", "GET", 401) - requests(before, "/v1/people", "GET", 401) == 1
    assert "no-such-org-xyz" not in text
    # Latency histograms per face and route.
    hist = "directoryd_request_duration_seconds"
    n0 = sample(before, hist, hist + "_count", face="http", route="/v1/areas")
    n1 = sample(after, hist, hist + "_count", face="http", route="/v1/areas")
    assert n1 - n0 == 3
    assert sample(after, hist, hist + "_bucket", face="http", route="/v1/areas", le="+Inf") == n1
    assert sample(after, hist, hist + "_count", face="ldap", route="search") >= 1
    # LDAP operations by type and result code.
    ops = "directoryd_ldap_operations"
    for op in ("bind", "search"):
        d = (sample(after, ops, ops + "_total", op=op, result="success") -
             sample(before, ops, ops + "_total", op=op, result="success"))
        assert d >= 1, op
    # Gauges: connections, the snapshot, the pool, memory; sync runs listed by status.
    conns = "directoryd_open_connections"
    assert sample(after, conns, conns, face="http") >= 1  # this scrape's own
    _, _, health = api.get("/healthz")
    assert sample(after, "directoryd_snapshot_sequence", "directoryd_snapshot_sequence") == health["seq"]
    assert sample(after, "directoryd_change_apply_lag_seconds",
                  "directoryd_change_apply_lag_seconds") < 30
    assert "directoryd_snapshot_age_seconds" in after
    assert sample(after, "directoryd_db_pool_connections", "directoryd_db_pool_connections") >= 1
    assert sample(after, "directoryd_db_pool_acquired", "directoryd_db_pool_acquired_total") >= 1
    assert sample(after, "process_resident_memory_bytes", "process_resident_memory_bytes") > 1e6
    assert {s.labels["status"] for s in after["directoryd_sync_runs"].samples} >= {"ok", "failed"}


def test_metrics_key_only_and_readyz_follow_the_database(pg, workdir):
    """metrics_access=key: loopback alone is not enough; an admin key is. /readyz: 200, then
    503 with the reason while the database refuses connections for longer than
    ready_max_lag, then 200 again; /healthz stays 200 (alive) throughout."""
    url = make_demo_db(pg)
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    d = Daemon(url, workdir, {"DIRECTORYD_METRICS_ACCESS": "key",
                              "DIRECTORYD_READY_MAX_LAG": "1"})
    try:
        status, _, body = d.http.get("/metrics")
        assert status == 403 and body["type"].endswith("/forbidden") and body["request_id"]
        assert d.http.get("/metrics", key=CASEWORKER_KEY)[0] == 403
        fam, _ = scrape(d.http, key=ADMIN_KEY)
        assert "directoryd_http_requests" in fam

        status, _, body = d.http.get("/readyz")
        assert status == 200 and body["status"] == "ready"
        psql(admin_url, "ALTER DATABASE %s ALLOW_CONNECTIONS false" % name)
        psql(admin_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = '%s'" % name)
        try:
            got, _ = wait_for(lambda: d.http.get("/readyz")[0] == 503, timeout=15)
            assert got, "readyz stayed 200 with the database away"
            status, headers, body = d.http.get("/readyz")
            assert status == 503 and body["type"].endswith("/not-ready")
            assert "ready_max_lag" in body["detail"] and headers["Retry-After"]
            assert d.http.get("/healthz")[0] == 200
        finally:
            psql(admin_url, "ALTER DATABASE %s ALLOW_CONNECTIONS true" % name)
        got, _ = wait_for(lambda: d.http.get("/readyz")[0] == 200, timeout=20)
        assert got, "readyz did not come back with the database"
    finally:
        d.stop()


# ---- request ids and the access log ----

def test_request_id_and_access_log(daemon, api):
    status, headers, _ = api.get("/v1/people", key=CASEWORKER_KEY,
                                 headers={"X-Request-Id": "it-req-0001"},
                                 params={"q": "Somchai-Secret-Name"})
    assert status == 200 and headers["X-Request-Id"] == "it-req-0001"
    status, headers, body = api.get("/v1/people/987654321", key=CASEWORKER_KEY)
    rid = headers["X-Request-Id"]
    assert status == 404 and rid and body["request_id"] == rid
    # An inbound id that is not sane is replaced, not repeated.
    _, headers, _ = api.get("/healthz", headers={"X-Request-Id": "bad id \"quoted\""})
    assert headers["X-Request-Id"] and " " not in headers["X-Request-Id"]
    # Early refusals (no handler ran) carry the id too.
    _, headers, body = api.request("POST", "/v1/areas", body=b"x" * (1024 * 1024 + 10),
                                   headers={"Content-Type": "application/json"})
    assert body["request_id"] == headers["X-Request-Id"]

    def lines():
        return [l for l in access_lines(daemon.read_log()) if "rid=it-req-0001 " in l or
                "rid=%s " % rid in l]
    got, _ = wait_for(lambda: len(lines()) == 2 and lines())
    assert got, lines()
    first, second = got
    assert 'route="/v1/people"' in first and "status=200" in first and "actor=api_client" in first
    assert "method=GET" in first and re.search(r"dur_ms=[0-9.]+ bytes=[0-9]+", first)
    assert 'route="/v1/people/{id}"' in second and "status=404" in second
    log = daemon.read_log()
    assert CASEWORKER_KEY not in log and "Somchai-Secret-Name" not in log
    assert "987654321" not in "\n".join(access_lines(log))


# ---- SIGHUP ----

def test_sighup_reloads_without_dropping_connections(demo_db, workdir):
    url = demo_db
    conf = os.path.join(workdir, "obs-reload.conf")
    with open(conf, "w") as f:
        f.write("log_level = info\nldap_size_limit = 0\nhttp_threads = 2\n")
    d = Daemon(url, workdir, {"DIRECTORYD_CONFIG": conf})
    try:
        h = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        h.request("GET", "/healthz")
        r = h.getresponse()
        r.read()
        assert r.status == 200
        sock = h.sock
        lc = ldap_conn(d)
        lc.simple_bind_s("", "")
        many = lc.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["cn"])
        assert len(many) > 2
        with open(conf, "w") as f:
            f.write("log_level = debug\nldap_size_limit = 2\nhttp_threads = 3\n"
                    "stale_days = 200\n")
        d.proc.send_signal(signal.SIGHUP)
        got, _ = wait_for(lambda: "reload: 4 setting" in d.read_log() or
                          "setting(s) applied" in d.read_log(), timeout=10)
        log = d.read_log()
        assert "reload: log_level = debug" in log, log
        assert "reload: ldap_size_limit = 2" in log
        assert "reload: stale_days = 200" in log
        assert "http_threads changed but needs a restart" in log
        # The same LDAP connection now gets the new limit...
        with pytest.raises(ldap.SIZELIMIT_EXCEEDED):
            lc.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["cn"])
        lc.unbind_s()
        # ...the kept-alive HTTP connection still answers, on the same socket...
        h.request("GET", "/healthz")
        r = h.getresponse()
        r.read()
        assert r.status == 200 and h.sock is sock
        h.close()
        # ...and debug lines appear (the stale_days change loads a full snapshot).
        got, _ = wait_for(lambda: "level=debug sub=db" in d.read_log(), timeout=10)
        assert got, "no debug line after log_level = debug"
        # That full load is made in the background (the refresher keeps applying changes
        # meanwhile), then published with the changes since.
        got, _ = wait_for(lambda: "(loaded in the background)" in d.read_log(), timeout=10)
        assert got, d.read_log()[-3000:]
        log = d.read_log()
        assert "loading a full snapshot in the background: stale_days changed" in log
        # Its LDAP view was built whole on the loading thread, before it was published, so
        # LDAP never waits for a whole build after a background load: one whole build at
        # start, one before the background snapshot's publication, none after it.
        done = log.index("(loaded in the background)")
        whole = [w.start() for w in re.finditer(r"ldap view of snapshot \d+: \d+ entries", log)]
        assert len(whole) == 2 and whole[1] < done, log[-3000:]
        # A config that does not parse changes nothing.
        with open(conf, "w") as f:
            f.write("log_level = loud\n")
        d.proc.send_signal(signal.SIGHUP)
        got, _ = wait_for(lambda: "reload refused" in d.read_log(), timeout=10)
        assert got
    finally:
        d.stop()


# ---- HTTPS ----

def test_https_with_hsts(demo_db, workdir, api):
    cert, key = make_cert(workdir, "obs-https")
    os.chmod(key, 0o600)
    d = Daemon(demo_db, workdir, {"DIRECTORYD_HTTP_TLS_CERT": cert,
                                  "DIRECTORYD_HTTP_TLS_KEY": key}, tls_ca=cert)
    try:
        p = subprocess.run(["curl", "-sS", "--cacert", cert, "-D", "-", "-o", "/dev/null",
                            "https://127.0.0.1:%d/v1/areas" % d.port],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        head = p.stdout.lower()
        assert head.startswith("http/1.1 200")
        assert "strict-transport-security: max-age=31536000" in head
        assert "x-request-id: " in head
        # Plain HTTP on the HTTPS port is not served.
        p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.1:%d/healthz" % d.port],
                           capture_output=True, text=True, timeout=30)
        assert p.stdout.strip() in ("000", "400") and p.stdout.strip() != "200"
        assert "serving https://" in d.read_log()
    finally:
        d.stop()
    # Plain HTTP (the default) sends no HSTS.
    _, headers, _ = api.get("/healthz")
    assert headers.get("Strict-Transport-Security") is None
