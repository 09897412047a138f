"""`directoryd export ldif` writes the LDAP face's tree: the same entries and values an LDAP
search of the suffix returns (a caseworker's by default, an anonymous caller's with
--public), Thai values base64 as RFC 2849 asks, and Debian's slapadd loads the file with
directoryd's schema (schema/ldap/directoryd.ldif) and schema checking on."""
import base64
import io
import os
import subprocess

import ldif

from conftest import CASEWORKER_KEY, run_cli
from test_ldap import CW_DN, SUFFIX, ldapsearch
from test_ldap_schema import CONFIG, SCHEMA, ROOT, run
from test_organizations import private_values


def records(text):
    """LDIF text -> {normalised dn: {attribute (lower case): sorted values (bytes)}}."""
    p = ldif.LDIFRecordList(io.StringIO(text))
    p.parse()
    out = {}
    for dn, attrs in p.all_records:
        out[dn.lower()] = {k.lower(): sorted(v) for k, v in attrs.items()}
    return out


def export(daemon, workdir, name, *extra):
    path = os.path.join(workdir, name)
    run_cli("export", "ldif", "--out", path, *extra, env={"DIRECTORYD_DB": daemon.db_url})
    with open(path, "rb") as f:
        return path, f.read()


def served(daemon, bind=None):
    rc, out, err = ldapsearch(daemon, "-b", SUFFIX, "-E", "pr=200/noprompt", "(objectClass=*)",
                              "*", bind=bind)
    assert rc == 0, err
    return "\n".join(l for l in out.splitlines() if not l.startswith("#")) + "\n"


def test_export_equals_the_ldap_face_and_slapadd_loads_it(daemon, workdir):
    private_values(daemon)  # organisations' non-public contacts too
    path, raw = export(daemon, workdir, "tree.ldif")
    text = raw.decode("ascii")  # every non-ASCII value is base64
    assert text.startswith("dn: " + SUFFIX + "\n")
    assert all(len(l) <= 76 for l in text.splitlines())
    mine = records(text)
    theirs = records(served(daemon, (CW_DN, CASEWORKER_KEY)))
    assert len(mine) > 300
    assert mine == theirs
    # Thai names are there, base64, and decode to the LDAP face's values.
    thai = [l for l in text.splitlines() if l.startswith("cn:: ")]
    assert thai
    org = next(v for dn, v in mine.items() if dn.startswith("o=") and "cn" in v)
    assert any("\u0e00" <= ch <= "\u0e7f" for c in org["cn"] for ch in c.decode("utf-8"))
    # People (private to caseworkers) and their non-public contacts are in the full export.
    assert any(dn.startswith("uid=") for dn in mine)

    # slapadd with directoryd's schema, schema checks on, takes every entry.
    d = os.path.join(workdir, "slapd-ldif-export")
    os.makedirs(os.path.join(d, "config"), exist_ok=True)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    schema = os.path.join(ROOT, "schema", "ldap", "directoryd.ldif")
    with open(os.path.join(d, "config.ldif"), "w") as f:
        f.write(CONFIG.format(dir=d, standard=SCHEMA, schema=schema, suffix=SUFFIX))
    run("slapadd", "-n0", "-F", os.path.join(d, "config"), "-l", os.path.join(d, "config.ldif"))
    run("slapadd", "-n1", "-F", os.path.join(d, "config"), "-l", path)
    loaded = records(run("slapcat", "-n1", "-F", os.path.join(d, "config"), "-o", "ldif-wrap=no"))
    assert len(loaded) == len(mine)
    for dn, attrs in mine.items():  # slapcat adds operational attributes of its own
        got = loaded[dn]
        for k, v in attrs.items():
            assert got.get(k.lower()) == v or sorted(got.get(k.lower(), [])) == v, (dn, k)


def test_public_export_is_what_anonymous_callers_see(daemon, workdir):
    private = private_values(daemon)
    assert private
    _, raw = export(daemon, workdir, "public.ldif", "--public")
    mine = records(raw.decode("ascii"))
    assert mine == records(served(daemon))
    assert not any(dn.startswith("uid=") for dn in mine)  # no people
    public_text = raw.decode("ascii")
    full_text = export(daemon, workdir, "full.ldif")[1].decode("ascii")
    full = records(full_text)
    # The non-public contact values are in the full export only.
    flat = lambda recs: {v for a in recs.values() for vs in a.values() for v in vs}
    assert not {p.encode() for p in private} & flat(mine)
    assert {p.encode() for p in private} & flat(full)
    assert len(public_text) < len(full_text)


def test_export_to_stdout_and_bad_arguments(daemon):
    p = run_cli("export", "ldif", env={"DIRECTORYD_DB": daemon.db_url})
    assert p.stdout.startswith("dn: " + SUFFIX + "\n") and "\ncn:: " in p.stdout
    p = run_cli("export", "ldif", "--bogus", env={"DIRECTORYD_DB": daemon.db_url}, check=False)
    assert p.returncode == 2 and "--bogus" in p.stderr
