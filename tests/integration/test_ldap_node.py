"""An npm LDAP client (ldapts, tests/ldap-node) against the LDAP face. scripts/test installs
it with `npm ci` (a failed install fails the run) and sets DIRECTORYD_REQUIRE_LDAPTS=1, under
which a missing client fails the test; run by hand without it, the test skips, saying so
(pytest -rs)."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ADMIN_KEY, ROOT

NODE_DIR = os.path.join(ROOT, "tests", "ldap-node")


MISSING = not shutil.which("node") or \
    not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ldapts"))
REASON = "node or the ldapts module is absent (run npm ci in tests/ldap-node)"


def test_ldapts_reads_the_directory(daemon):
    if MISSING:
        if os.environ.get("DIRECTORYD_REQUIRE_LDAPTS") == "1":
            pytest.fail(REASON + ", and scripts/test promises it")
        pytest.skip(REASON)
    suffix = "ou=childnet,dc=bangkok,dc=go,dc=th"
    p = subprocess.run(["node", os.path.join(NODE_DIR, "search.mjs"),
                        "ldap://127.0.0.1:%d" % daemon.ldap_port, suffix,
                        "cn=it-admin,ou=clients," + suffix, ADMIN_KEY],
                       capture_output=True, text=True, timeout=60, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["anonOrgs"] == ["o=coc-lumphini,ou=organizations," + suffix]
    assert out["anonPeople"] == 0
    assert len(out["people"]) >= 2 and all(x["dept"] == "1007" for x in out["people"])
    assert len({x["dn"] for x in out["people"]}) == len(out["people"])
    assert out["addResult"] == 53  # unwillingToPerform: writes go through the JSON API
