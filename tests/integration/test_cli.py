"""The directoryd command line: help, config precedence, migrations and the demo load."""
import hashlib
import os
import subprocess
import tempfile

from conftest import BIN, ROOT, psql, run_cli


def test_help_and_version():
    p = run_cli("--help")
    for word in ("migrate", "load-demo", "api-client", "--http-port", "DIRECTORYD_HTTP_PORT",
                 "DIRECTORYD_DB", "DIRECTORYD_LDAP_PORT"):
        assert word in p.stdout
    version = run_cli("--version").stdout
    assert version.startswith("directoryd ") and len(version.split()) >= 2
    assert run_cli("version").stdout == version  # the subcommand says the same


def test_config_file_from_directoryd_config(pg):
    """DIRECTORYD_CONFIG names the file (as --config does); precedence default < file <
    environment < flag."""
    url = pg()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORYD_")}
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# the database\ndb = %s\nrefresh_ms = 123\n" % url)
    try:
        p = subprocess.run([BIN, "migrate"], env=dict(env, DIRECTORYD_CONFIG=f.name),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert psql(url, "SELECT count(*) > 0 FROM schema_migrations") == "t"
        # The environment beats the file, a flag beats both: FRESH is never migrated.
        fresh = pg()
        with open(f.name, "w") as g:
            g.write("# the database\ndb = %s\nrefresh_ms = 123\n" % fresh)
        for args, extra in ((["migrate"], {"DIRECTORYD_DB": url}),
                            (["--db", url, "migrate"], {"DIRECTORYD_DB": fresh})):
            p = subprocess.run([BIN] + args, env=dict(env, DIRECTORYD_CONFIG=f.name, **extra),
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0 and "migrations: 0 applied," in p.stderr, p.stderr
        assert psql(fresh, "SELECT to_regclass('schema_migrations') IS NULL") == "t"
        with open(f.name, "a") as g:
            g.write("refresh_ms = soon\n")
        p = subprocess.run([BIN, "migrate"], env=dict(env, DIRECTORYD_CONFIG=f.name),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and ":4:" in p.stderr and "refresh_ms" in p.stderr, p.stderr
    finally:
        os.unlink(f.name)


def test_config_file_errors_name_the_line():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# a comment\nhttp_port = 8081\nhttp_prot = 8082\n")
    try:
        p = run_cli("--config", f.name, "--help-not", check=False)
        assert p.returncode == 2
        assert ":3:" in p.stderr and "http_prot" in p.stderr
    finally:
        os.unlink(f.name)


def test_flag_bounds_are_checked():
    p = run_cli("--http-port", "70000", "migrate", check=False)
    assert p.returncode == 2 and "http_port" in p.stderr
    p = subprocess.run([BIN, "migrate"], env=dict(os.environ, DIRECTORYD_REFRESH_MS="abc"),
                       capture_output=True, text=True)
    assert p.returncode == 2 and "DIRECTORYD_REFRESH_MS" in p.stderr


def test_migrations_apply_once_and_demo_load_keeps_edits(pg):
    url = pg()
    env = {"DIRECTORYD_DB": url}
    files = [n for n in os.listdir(os.path.join(ROOT, "schema", "migrations")) if n.endswith(".sql")]
    assert len(files) >= 7
    first = run_cli("migrate", env=env)
    assert "migrations: %d applied," % len(files) in first.stderr, first.stderr
    again = run_cli("migrate", env=env)
    assert "migrations: 0 applied," in again.stderr, again.stderr
    assert psql(url, "SELECT count(*) FROM schema_migrations WHERE name LIKE 'migrations/%'") == \
        str(len(files))
    run_cli("load-demo", env=env)
    counts = psql(url, "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM organization)")
    # A coordinator's edit to a demo row survives re-running the demo load.
    psql(url, "UPDATE person SET name_en = 'Edited by a coordinator' WHERE id = (SELECT min(id) FROM person)")
    run_cli("load-demo", env=env)
    assert psql(url, "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM organization)") == counts
    assert psql(url, "SELECT name_en FROM person WHERE id = (SELECT min(id) FROM person)") == \
        "Edited by a coordinator"


def test_failed_migration_names_the_file_and_changes_nothing(pg):
    url = pg()
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "migrations"))
        with open(os.path.join(d, "migrations", "0001_ok.sql"), "w") as f:
            f.write("CREATE TABLE good (x int);\n")
        with open(os.path.join(d, "migrations", "0002_bad.sql"), "w") as f:
            f.write("CREATE TABLE half (x int);\n\nCREATE TABLE oops (x nosuchtype);\n")
        p = run_cli("--schema-dir", d, "migrate", env={"DIRECTORYD_DB": url}, check=False)
        assert p.returncode == 1
        assert "0002_bad.sql" in p.stderr and "nosuchtype" in p.stderr and "line 3" in p.stderr
    assert psql(url, "SELECT to_regclass('good') IS NOT NULL, to_regclass('half') IS NULL") == "t|t"
    assert psql(url, "SELECT string_agg(name, ',') FROM schema_migrations") == "migrations/0001_ok.sql"


def test_api_client_secret_is_printed_once_and_stored_hashed(pg):
    url = pg()
    env = {"DIRECTORYD_DB": url}
    run_cli("migrate", env=env)
    env.pop("DIRECTORYD_CLIENT_SECRET", None)
    p = subprocess.run([BIN, "api-client", "mirror", "caseworker"],
                       env={k: v for k, v in dict(os.environ, **env).items()
                            if k != "DIRECTORYD_CLIENT_SECRET"},
                       capture_output=True, text=True, check=True)
    secret = p.stdout.strip()
    assert secret.startswith("dk_") and len(secret) == 67
    assert secret not in p.stderr
    stored = psql(url, "SELECT encode(secret_hash, 'hex') FROM api_client WHERE name = 'mirror'")
    assert len(stored) == 64 and secret[3:] not in stored
    # Exactly the unkeyed BLAKE2b-256 of the whole secret (libsodium's crypto_generichash).
    assert stored == hashlib.blake2b(secret.encode(), digest_size=32).hexdigest()
    p = run_cli("api-client", "x", "superuser", env=env, check=False)
    assert p.returncode == 2


def test_local_account_names_are_ones_that_can_log_in(pg):
    """An account name is stored as logins look it up (lower case); a name no login could
    ever match (a space, a full-width letter) is refused instead of stored."""
    url = pg()
    env = {"DIRECTORYD_DB": url, "DIRECTORYD_ACCOUNT_PASSWORD": "a-long-enough-password"}
    run_cli("migrate", env={"DIRECTORYD_DB": url})
    run_cli("local-account", "Partner.Coord", "coordinator", env=env)
    rows = psql(url, "SELECT username FROM local_account ORDER BY 1")
    assert "partner.coord" in rows and "Partner.Coord" not in rows
    for bad in ("partner coord", "\uff50artner", ""):
        p = run_cli("local-account", bad, "coordinator", env=env, check=False)
        assert p.returncode == 2 and "account name" in p.stderr


def test_subcommand_table_drives_help_and_dispatch():
    """One table of subcommands: each is listed by --help, and a command line that names
    none of them (or gives one the wrong number of words) is a usage error, exit 2."""
    p = run_cli("--help")
    for synopsis in ("serve", "migrate", "load-demo", "api-client NAME ROLE",
                     "local-account NAME ROLE", "sync --once", "export ldif", "import hsds DIR",
                     "export hsds --out DIR", "import KIND FILE", "export csv KIND",
                     "export vcard [--out FILE]", "version"):
        assert "\n  " + synopsis in p.stdout, synopsis
    for args in (("bogus",), ("migrate", "extra"), ("api-client", "only-name"),
                 ("export",), ("export", "pdf"), ("serve", "now")):
        p = run_cli(*args, check=False)
        assert p.returncode == 2 and "unknown command or wrong arguments" in p.stderr, args
