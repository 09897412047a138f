"""The browser tests' city LDAP: a private slapd (Debian's) set up exactly as the integration
tests' one (tests/integration/slapd.py: back-mdb, syncprov, memberof, a service account for
the sync), on a free loopback port. Used by stack.mjs:

    python3 cityldap.py start WORKDIR   -> prints one JSON line: uri, pid, base, admin_dn,
                                           admin_pw, env (directoryd's sync settings)
slapd runs on as a daemon; stack.mjs stops it by its pid (SIGTERM)."""
import json
import os
import socket
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# slapd.py takes free_port from the integration tests' conftest, which needs pytest: this
# helper needs only the port.
sys.modules.setdefault("conftest", types.SimpleNamespace(free_port=free_port))

from slapd import ADMIN_DN, ADMIN_PW, BASE, CityLdap  # noqa: E402


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "start":
        sys.exit("usage: cityldap.py start WORKDIR")
    workdir = sys.argv[2]
    city = CityLdap(workdir, "ui")
    print(json.dumps({"uri": city.uri, "pid": city.pid, "base": BASE, "admin_dn": ADMIN_DN,
                      "admin_pw": ADMIN_PW, "env": city.env(workdir)}))


if __name__ == "__main__":
    main()
