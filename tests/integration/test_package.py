"""The Debian package (issue 15, "Install and package"; docs/operations.md).

`cpack -G DEB` turns the normal build into directoryd_*.deb; the test installs it on this
machine with apt-get, as an operator would, and checks what the operator gets: the installed
`directoryd --version`, its man page (every option of --help in it), the systemd unit
(`systemd-analyze verify` clean, `systemd-analyze security` at most 2.0, not enabled), the
config file as a conffile, and the installed daemon serving the web UI and the reference data
from /usr/share/directoryd with no path configured. It then purges the package and checks
that nothing of it is left. Installing needs root: it skips otherwise, and when directoryd
is already installed here (it never replaces an operator's package).
"""
import fcntl
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import conftest
from conftest import BIN, Daemon

pytestmark = pytest.mark.normal_only

BUILD = os.path.dirname(os.path.abspath(BIN))
UNIT = "/lib/systemd/system/directoryd.service"
CONF = "/etc/directoryd/directoryd.conf"
INSTALLED = "/usr/sbin/directoryd"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# Another run of this test (another checkout) waits for dpkg rather than failing.
APT_LOCK = ["-o", "DPkg::Lock::Timeout=120"]


def run(*args, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)
    assert p.returncode == 0, "%s failed (%d):\n%s%s" % (args, p.returncode, p.stdout, p.stderr)
    return p


def installed():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "directoryd"],
                       capture_output=True, text=True)
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


def test_deb_installs_serves_from_its_places_and_purges(pg, workdir, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("installs a Debian package on this machine: needs root")
    for tool in ("cpack", "apt-get", "dpkg-query", "systemd-analyze", "dpkg-shlibdeps"):
        if not shutil.which(tool):
            pytest.skip("%s is not installed (scripts/lib.sh DIR_PACKAGES)" % tool)
    cpack_config = os.path.join(BUILD, "CPackConfig.cmake")
    assert os.path.exists(cpack_config), "%s is missing: re-run cmake on %s" % (cpack_config, BUILD)
    with open("/run/lock/directoryd-test-package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed() or os.path.exists(INSTALLED):
            pytest.skip("directoryd is already installed on this machine; the test never "
                        "replaces an installed package")
        out = tempfile.mkdtemp(prefix="directoryd-deb-", dir=workdir)
        run("cpack", "-G", "DEB", "--config", cpack_config, "-B", out, cwd=BUILD)
        debs = glob.glob(os.path.join(out, "directoryd_*.deb"))
        assert len(debs) == 1, debs
        # Debian's package checker finds no errors (warnings are docs/operations.md's).
        if shutil.which("lintian"):
            p = subprocess.run(["lintian", "--fail-on", "error", debs[0]], capture_output=True,
                               text=True)
            errors = [l for l in p.stdout.splitlines() if l.startswith("E: ")]
            assert p.returncode == 0 and errors == [], p.stdout + p.stderr
        elif os.environ.get("DIRECTORYD_REQUIRE_LINTIAN"):
            pytest.fail("lintian is not installed (scripts/lib.sh DIR_PKG_PACKAGES)")
        try:
            run("apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_LOCK,
                "./" + os.path.basename(debs[0]), cwd=out, env=APT_ENV)
            files = run("dpkg-query", "-L", "directoryd").stdout.split()
            check_installed(pg, workdir, monkeypatch)
        finally:
            if installed():
                run("apt-get", "purge", "-y", "-q", *APT_LOCK, "directoryd", env=APT_ENV)
        assert not installed()
        left = [f for f in files if os.path.exists(f) and not os.path.isdir(f)]
        assert left == [], "the purge left files behind"
        for d in ("/etc/directoryd", "/usr/share/directoryd", "/usr/share/doc/directoryd"):
            assert not os.path.exists(d), d


def check_installed(pg, workdir, monkeypatch):
    # The installed binary is this build's.
    want = run(BIN, "--version").stdout
    assert run(INSTALLED, "--version").stdout == want

    # The man page: where man finds it, and every option --help lists (one table drives both).
    if shutil.which("man"):
        assert run("man", "-w", "directoryd").stdout.strip() == \
            "/usr/share/man/man8/directoryd.8.gz"
    with gzip.open("/usr/share/man/man8/directoryd.8.gz", "rt") as f:
        page = f.read()
    help_text = run(INSTALLED, "--help").stdout
    flags = re.findall(r"^\s+(--[a-z0-9-]+)\s", help_text, re.M)
    assert len(flags) > 40
    for flag in flags:
        assert flag.replace("-", "\\-") in page, flag
    for section in ("COMMANDS", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS"):
        assert ".SH " + section in page
    assert "DIRECTORYD_HTTP_PORT" in page

    # The unit: clean for systemd, hardened, installed but not enabled.
    p = subprocess.run(["systemd-analyze", "verify", UNIT], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr.strip() == "", p.stderr
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", UNIT],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for directoryd\.service: ([0-9.]+)", p.stdout)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 2.0, p.stdout
    assert not glob.glob("/etc/systemd/system/*.wants/directoryd.service")

    # The config file: a conffile, root's only (it may hold the database password).
    assert CONF in run("dpkg-query", "-W", "-f=${Conffiles}", "directoryd").stdout
    assert os.stat(CONF).st_mode & 0o777 == 0o640
    # ... and one the daemon reads without complaint (as the unit hands it over).
    run(INSTALLED, "version", env=dict(os.environ, DIRECTORYD_CONFIG=CONF))

    # The installed daemon, with no path configured, defaults to the installed data, migrates from and serves
    # /usr/share/directoryd (not this checkout's schema/ and webui/).
    assert "(default: /usr/share/directoryd/schema)" in help_text
    assert "(default: /usr/share/directoryd/webui)" in help_text
    monkeypatch.delenv("DIRECTORYD_SCHEMA_DIR", raising=False)
    monkeypatch.delenv("DIRECTORYD_WEBUI_DIR", raising=False)
    monkeypatch.setattr(conftest, "BIN", INSTALLED)
    d = Daemon(pg(), workdir)
    try:
        status, headers, body = d.http.get("/")
        assert status == 200 and "text/html" in headers.get("Content-Type", "")
        with open("/usr/share/directoryd/webui/index.html", encoding="utf-8") as f:
            assert body == f.read()
        assert "from /usr/share/directoryd/webui" in d.read_log()
        status, _, areas = d.http.get("/v1/areas")
        assert status == 200 and areas["items"], areas
    finally:
        d.stop()
