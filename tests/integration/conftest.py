"""Integration-test harness: a private PostgreSQL and a real directoryd, on free loopback ports.

The cluster lives in a temporary directory and is started and stopped by the harness (never
the system cluster). directoryd is the binary named by DIRECTORYD_BIN (scripts/test runs the
suite on the normal and the sanitizer build). Helpers here speak plain HTTP with urllib.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DIRECTORYD_BIN", os.path.join(ROOT, "build", "directoryd"))
# How much longer things take on the ASan+UBSan build (scripts/test's build-asan): the few
# time bounds that measure the daemon's own speed, not a setting, stretch by this much there.
SLOW = 3.0 if "asan" in os.path.basename(os.path.dirname(BIN)) else 1.0
PGCTL = os.path.join(ROOT, "scripts", "pgctl")
# The harness's throw-away clusters run without fsync (scripts/pgctl): nothing here survives a
# power cut anyway, and a stopped or killed server loses nothing it acknowledged.
os.environ.setdefault("DIRECTORYD_PG_FSYNC", "off")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "normal_only: runs on the normal build only; the sanitizer build skips it, with this "
        "reason (tests of packaging, backups and other work outside the daemon's own code, "
        "which the sanitizers would only slow down; keeps scripts/test within its budget)")


def pytest_collection_modifyitems(config, items):
    if SLOW == 1.0:
        return
    skip = pytest.mark.skip(reason="normal_only: run on the normal build; nothing of the "
                            "daemon's own code it exercises needs the sanitizers")
    for item in items:
        if "normal_only" in item.keywords:
            item.add_marker(skip)
ADMIN_KEY = "integration-admin-key-0123456789"
CASEWORKER_KEY = "integration-caseworker-key-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """A tiny client: get() returns (status, headers, parsed JSON or text)."""

    def __init__(self, base, context=None):
        self.base = base
        self.context = context  # an ssl.SSLContext for https (obs)

    def request(self, method, path, params=None, key=None, headers=None, body=None):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        req = urllib.request.Request(url, method=method, headers=h, data=body)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        ctype = hdrs.get("Content-Type", "")
        data = json.loads(raw) if "json" in ctype and raw else raw.decode("utf-8", "replace")
        return status, hdrs, data

    def get(self, path, params=None, key=None, headers=None):
        return self.request("GET", path, params, key, headers)


class Daemon:
    def __init__(self, db_url, workdir, extra_env=None, tls_ca=None):
        """TLS_CA: the HTTP API speaks HTTPS with a certificate this CA file verifies."""
        self.db_url = db_url
        self.port = free_port()
        self.ldap_port = free_port()
        self.log_path = os.path.join(workdir, "directoryd-%d.log" % self.port)
        env = dict(os.environ)
        env.update({"DIRECTORYD_DB": db_url, "DIRECTORYD_HTTP_PORT": str(self.port),
                    "DIRECTORYD_REFRESH_MS": "100",
                    "DIRECTORYD_LDAP_PORT": str(self.ldap_port)})
        env.update(extra_env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if tls_ca:
            import ssl
            self.http = Http("https://127.0.0.1:%d" % self.port,
                             ssl.create_default_context(cafile=tls_ca))
        else:
            self.http = Http("http://127.0.0.1:%d" % self.port)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("directoryd exited early:\n" + self.read_log())
            try:
                status, _, _ = self.http.get("/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("directoryd did not become healthy:\n" + self.read_log())

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, and the daemon must exit 0 without sanitizer reports."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("directoryd did not stop on SIGTERM")
        self.log.close()
        log = self.read_log()
        assert "ERROR: AddressSanitizer" not in log, log
        assert "runtime error:" not in log, log
        assert self.proc.returncode == 0, "directoryd exited %s:\n%s" % (self.proc.returncode, log)
        return log


def make_cert(workdir, name):
    """A self-signed certificate for 127.0.0.1 and its key (PEM files); returns their paths."""
    cert, key = os.path.join(workdir, name + ".crt"), os.path.join(workdir, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def run_cli(*args, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("directoryd %s failed (%d):\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
    return p


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="directoryd-it-")
    os.chmod(d, 0o755)  # the unprivileged postgres user must reach the cluster directory
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(workdir):
    """A private PostgreSQL cluster; yields a function making a fresh database URL."""
    port = free_port()
    data = os.path.join(workdir, "pg")
    subprocess.run([PGCTL, "start", data, str(port)], check=True)
    base = subprocess.run([PGCTL, "url", data, str(port)], check=True, capture_output=True,
                          text=True).stdout.strip()
    counter = [0]

    def new_db():
        counter[0] += 1
        name = "it_%d_%d" % (os.getpid(), counter[0])
        subprocess.run(["psql", base, "-qAtc", "CREATE DATABASE %s" % name], check=True)
        return base.rsplit("/", 1)[0] + "/" + name

    new_db.port = port
    yield new_db
    subprocess.run([PGCTL, "stop", data], check=True)


def psql(db_url, sql):
    p = subprocess.run(["psql", db_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("psql failed: %s" % p.stderr)
    return p.stdout.strip()


def make_demo_db(pg, **clients):
    """A new database with migrations, the demo directory, the admin and caseworker API
    clients, and CLIENTS (name=(role, secret)) too."""
    url = pg()
    env = {"DIRECTORYD_DB": url}
    run_cli("migrate", env=env)
    run_cli("load-demo", env=env)
    clients = dict({"it-admin": ("admin", ADMIN_KEY),
                    "it-caseworker": ("caseworker", CASEWORKER_KEY)}, **clients)
    for name, (role, secret) in clients.items():
        run_cli("api-client", name, role, env=dict(env, DIRECTORYD_CLIENT_SECRET=secret))
    return url


@pytest.fixture(scope="session")
def demo_db(pg):
    """A database with migrations, the demo directory and two API clients."""
    return make_demo_db(pg)


@pytest.fixture(scope="session")
def daemon(demo_db, workdir):
    d = Daemon(demo_db, workdir)
    yield d
    d.stop()


@pytest.fixture
def api(daemon):
    return daemon.http


def wait_for(pred, timeout=5.0, step=0.05):
    """Polls PRED until it returns a true value; returns (value, seconds taken)."""
    t0 = time.time()
    while True:
        v = pred()
        if v:
            return v, time.time() - t0
        if time.time() - t0 > timeout:
            return v, time.time() - t0
        time.sleep(step)
