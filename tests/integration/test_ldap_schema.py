"""The published schema (schema/ldap/directoryd.ldif) is loadable by a real slapd, and the tree
directoryd serves conforms to it: Debian's slapadd, with schema checking on, takes the whole
tree exported from directoryd's LDAP face with ldapsearch."""
import os
import subprocess

from conftest import CASEWORKER_KEY, ROOT
from slapd import SCHEMA
from test_ldap import CW_DN, SUFFIX, uri

CONFIG = """dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

{standard}include: file://{schema}

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {suffix}
olcRootDN: cn=admin,{suffix}
olcDbDirectory: {dir}/data
olcDbMaxSize: 268435456
"""


def run(*args, stdin=None):
    p = subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "%s: %s%s" % (args[0], p.stdout, p.stderr)
    return p.stdout


def test_slapd_loads_the_schema_and_the_served_tree(daemon, workdir):
    d = os.path.join(workdir, "slapd-schema-check")
    os.makedirs(os.path.join(d, "config"), exist_ok=True)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    schema = os.path.join(ROOT, "schema", "ldap", "directoryd.ldif")
    with open(os.path.join(d, "config.ldif"), "w") as f:
        f.write(CONFIG.format(dir=d, standard=SCHEMA, schema=schema, suffix=SUFFIX))
    run("slapadd", "-n0", "-F", os.path.join(d, "config"), "-l", os.path.join(d, "config.ldif"))
    # Every entry a caseworker sees, with every user attribute, paged past the 500 cap.
    ldif = run("ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri(daemon), "-D", CW_DN,
               "-w", CASEWORKER_KEY, "-b", SUFFIX, "-E", "pr=200/noprompt", "(objectClass=*)", "*")
    ldif = "\n".join(l for l in ldif.splitlines() if not l.startswith("#")) + "\n"
    served = ldif.count("\ndn: ") + ldif.startswith("dn: ")
    assert served > 300
    for attr in ("dirTeamRole:", "dirAreaServed:", "dirService:", "dirCoverage:",
                 "dirAreaCode:", "employeeType:", "departmentNumber:"):
        assert "\n" + attr in ldif, attr
    path = os.path.join(d, "tree.ldif")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ldif)
    run("slapadd", "-n1", "-F", os.path.join(d, "config"), "-l", path)  # schema checks on
    loaded = run("slapcat", "-n1", "-F", os.path.join(d, "config")).count("\ndn: ") + 1
    assert loaded == served
