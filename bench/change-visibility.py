#!/usr/bin/env python3
"""bench/change-visibility.py - how long an edit takes to show in directoryd's answers.

Each round makes one change with psql (one statement in its own transaction, like a
coordinator's edit or a sync's), then polls directoryd every --poll-ms until the change is
served, on the JSON API, (with --ldap-port) on the LDAP face and, for organisations, on the
HSDS API.  Kinds (--kinds):

  org          UPDATE organization SET name_en      GET /v1/organizations/{id}; LDAP o=;
                                                    GET /hsds/organizations/{uuid} alternate_name
  person       UPDATE person SET name_en            GET /v1/people/{id}; LDAP cn=
  membership   UPDATE membership SET title_en       the person's memberships; LDAP title=
  deactivate   UPDATE person SET active = false     the person's "active"; LDAP entry gone
               (the person is reactivated after the round, not timed)

Prints one machine-readable line per round and kind:

    VISIBLE kind=K round=N psql_ms=P json_ms=J ldap_ms=L hsds_ms=H polls=Q

psql_ms is how long psql took (start-up, connect, statement, COMMIT); json_ms, ldap_ms and
hsds_ms run from psql's return (the commit is durable) to the first answer showing the change
("-" when that face is not measured or the change does not show there: HSDS has no people,
"timeout" when it never showed).  Then a SUMMARY line per kind and face
with p50 and p99 (nearest rank) over the rounds.  The original line, kept for bench/run:

    VISIBLE round=N psql_ms=P after_commit_ms=A total_ms=T polls=K   (--kinds legacy)

The JSON side uses the Python standard library; LDAP uses python3-ldap (Debian's).

    bench/change-visibility.py --db URL --http http://127.0.0.1:PORT --org ID [--rounds 5]
        [--kinds org,person,membership,deactivate --person ID --key KEY
         --ldap-port PORT --ldap-bind-dn DN]
"""
import argparse
import http.client
import json
import subprocess
import sys
import time
import urllib.parse
import uuid

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"
# directoryd's HSDS ids are UUIDv5 of "KIND:KEY" in this namespace (directoryd/dir_hsds.h).
HSDS_NAMESPACE = uuid.UUID("8f0f3a52-4f57-4c1e-9a77-5b0c1d6e2a10")


class Json:
    def __init__(self, base, key):
        self.u = urllib.parse.urlsplit(base)
        self.key = key
        self.conn = http.client.HTTPConnection(self.u.hostname, self.u.port, timeout=10)

    def get(self, path):
        h = {"Authorization": "Bearer " + self.key} if self.key else {}
        try:
            self.conn.request("GET", path, headers=h)
            r = self.conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.u.hostname, self.u.port, timeout=10)
            return None
        return json.loads(body) if r.status == 200 else None


class Ldap:
    def __init__(self, port, dn, pw):
        import ldap  # python3-ldap, only when LDAP is measured
        self.ldap = ldap
        self.c = ldap.initialize("ldap://127.0.0.1:%d" % port)
        self.c.protocol_version = 3
        if dn:
            self.c.simple_bind_s(dn, pw)

    def entry(self, oc, ident):
        """The attribute values of the entry of class OC with dirId IDENT, or None."""
        res = self.c.search_s(SUFFIX, self.ldap.SCOPE_SUBTREE,
                              "(&(objectClass=%s)(dirId=%d))" % (oc, ident))
        if not res:
            return None
        vals = set()
        for _, attrs in res:
            for vs in attrs.values():
                vals.update(v.decode("utf-8", "replace") for v in vs)
        return vals


def psql(db, sql, **vars_):
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db]
    for k, v in vars_.items():
        cmd += ["-v", "%s=%s" % (k, v)]
    p = subprocess.run(cmd, input=sql.encode(), capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("psql failed: %s" % p.stderr.decode(errors="replace"))
    return p.stdout.decode().strip()


def kinds_table(a, js, ld):
    """kind -> (sql, json_check(value) -> bool, ldap_check(value) -> bool, undo sql,
    hsds_check(value) -> bool or None when the change does not show on HSDS)."""
    org, person = a.org, a.person
    hsds_org = "/hsds/organizations/%s" % uuid.uuid5(HSDS_NAMESPACE, "organization:%d" % org)

    def person_json():
        return js.get("/v1/people/%d" % person)

    t = {
        "org": ("UPDATE organization SET name_en = :'v' WHERE id = %d;\n" % org,
                lambda v: (js.get("/v1/organizations/%d" % org) or {}).get("name_en") == v,
                lambda v: v in (ld.entry("dirOrganization", org) or ()), None,
                lambda v: (js.get(hsds_org) or {}).get("alternate_name") == v),
        "person": ("UPDATE person SET name_en = :'v' WHERE id = %d;\n" % person,
                   lambda v: (person_json() or {}).get("name_en") == v,
                   lambda v: v in (ld.entry("dirPerson", person) or ()), None, None),
        "membership": ("UPDATE membership SET title_en = :'v' WHERE id = (SELECT min(id) FROM "
                       "membership WHERE person_id = %d);\n" % person,
                       lambda v: any(m.get("title_en") == v
                                     for m in (person_json() or {}).get("memberships", [])),
                       lambda v: v in (ld.entry("dirPerson", person) or ()), None, None),
        "deactivate": ("UPDATE person SET active = false WHERE id = %d AND :'v' <> '';\n" % person,
                       lambda v: (person_json() or {}).get("active") is False,
                       lambda v: ld.entry("dirPerson", person) is None,
                       "UPDATE person SET active = true WHERE id = %d;\n" % person, None),
    }
    return t


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def legacy(a):
    js = Json(a.http, None)
    path = "/v1/organizations/%d" % a.org
    if js.get(path) is None:
        print("change-visibility: GET %s did not answer 200" % path, file=sys.stderr)
        return 1
    failed = False
    for n in range(1, a.rounds + 1):
        name = "Bench visibility round %d %d" % (n, time.time_ns())
        t0 = time.monotonic()
        psql(a.db, "UPDATE organization SET name_en = :'v' WHERE id = %d;\n" % a.org, v=name)
        t1 = time.monotonic()
        polls, seen = 0, None
        while time.monotonic() - t1 < a.timeout:
            polls += 1
            if (js.get(path) or {}).get("name_en") == name:
                seen = time.monotonic()
                break
            delay = t1 + polls * a.poll_ms / 1000.0 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if seen is None:
            print("VISIBLE round=%d psql_ms=%.1f after_commit_ms=timeout total_ms=timeout polls=%d"
                  % (n, (t1 - t0) * 1000, polls), flush=True)
            failed = True
        else:
            print("VISIBLE round=%d psql_ms=%.1f after_commit_ms=%.1f total_ms=%.1f polls=%d"
                  % (n, (t1 - t0) * 1000, (seen - t1) * 1000, (seen - t0) * 1000, polls),
                  flush=True)
        time.sleep(a.pause)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="libpq URL of the database")
    ap.add_argument("--http", required=True, help="directoryd base URL (http://127.0.0.1:PORT)")
    ap.add_argument("--org", required=True, type=int, help="organisation id to edit")
    ap.add_argument("--person", type=int, help="person id to edit (with a membership)")
    ap.add_argument("--key", help="API key (people need one)")
    ap.add_argument("--kinds", default="legacy")
    ap.add_argument("--ldap-port", type=int)
    ap.add_argument("--ldap-bind-dn", help="bind DN for people entries (the key is its password)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--poll-ms", type=float, help="default 10 (legacy), 5 (kinds)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per round")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between rounds")
    a = ap.parse_args()
    if a.poll_ms is None:
        a.poll_ms = 10.0 if a.kinds == "legacy" else 5.0
    if a.kinds == "legacy":
        return legacy(a)

    js = Json(a.http, a.key)
    ld = Ldap(a.ldap_port, a.ldap_bind_dn, a.key) if a.ldap_port else None
    table = kinds_table(a, js, ld)
    results = {}
    failed = False
    for n in range(1, a.rounds + 1):
        for kind in a.kinds.split(","):
            sql, json_ok, ldap_ok, undo, hsds_ok = table[kind]
            value = "Bench %s %d %d" % (kind, n, time.time_ns())
            t0 = time.monotonic()
            psql(a.db, sql, v=value)
            t1 = time.monotonic()
            seen = {"json": None, "ldap": None if ld else "-", "hsds": None if hsds_ok else "-"}
            polls = 0
            while time.monotonic() - t1 < a.timeout and None in seen.values():
                polls += 1
                if seen["json"] is None and json_ok(value):
                    seen["json"] = (time.monotonic() - t1) * 1000
                if seen["ldap"] is None and ldap_ok(value):
                    seen["ldap"] = (time.monotonic() - t1) * 1000
                if seen["hsds"] is None and hsds_ok(value):
                    seen["hsds"] = (time.monotonic() - t1) * 1000
                delay = t1 + polls * a.poll_ms / 1000.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            show = {}
            for face, v in seen.items():
                if v is None:
                    failed = True
                    show[face] = "timeout"
                elif v == "-":
                    show[face] = "-"
                else:
                    show[face] = "%.1f" % v
                    results.setdefault((kind, face), []).append(v)
            print("VISIBLE kind=%s round=%d psql_ms=%.1f json_ms=%s ldap_ms=%s hsds_ms=%s polls=%d" % (
                kind, n, (t1 - t0) * 1000, show["json"], show["ldap"], show["hsds"], polls),
                flush=True)
            if undo:
                psql(a.db, undo)
                deadline = time.monotonic() + a.timeout
                while time.monotonic() < deadline and not (
                        (js.get("/v1/people/%d" % a.person) or {}).get("active") and
                        (not ld or ld.entry("dirPerson", a.person) is not None)):
                    time.sleep(0.01)
            time.sleep(a.pause)
    for (kind, face), xs in sorted(results.items()):
        print("SUMMARY kind=%s face=%s rounds=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (
            kind, face, len(xs), pct(xs, 50), pct(xs, 99), max(xs)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
