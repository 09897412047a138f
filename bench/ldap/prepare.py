#!/usr/bin/env python3
"""bench/ldap/prepare.py - turns the people exported from directoryd's LDAP face into slapd's
data and the benchmark's search filters (Python standard library only).

    prepare.py EXPORT.ldif OUTDIR SUFFIX BENCH_DN BENCH_PASSWORD

EXPORT.ldif is `ldapsearch -LLL -o ldif-wrap=no` output (paged; its "# pagedresults" comments
are skipped) of the people under ou=people,SUFFIX with the attributes to copy. Writes:

  OUTDIR/slapd-data.ldif   the suffix, ou=people, ou=clients, BENCH_DN (simpleSecurityObject
                           with BENCH_PASSWORD) and every exported person as an inetOrgPerson
                           with exactly the exported attribute values, same DNs
  OUTDIR/uid.filters       (uid=...) of 10,000 people drawn at random
  OUTDIR/district.filters  (&(departmentNumber=D)(employeeType=ROLE)) for every district code
                           1001-1050 (ROLE: the employeeType of social workers in the data)
  OUTDIR/cn.filters        (cn=*S*), S 3-4 characters cut from a random person's Thai or Latin
                           cn (half each), not starting with a Thai combining mark and not
                           starting or ending with a space
  OUTDIR/check.filters     10 filters of each kind, for the count comparison
and prints a summary line on stdout. Deterministic (fixed seed).
"""
import base64
import random
import sys
import unicodedata

ATTRS_COPIED = ("uid", "cn", "sn", "givenName", "title", "mail", "telephoneNumber", "mobile",
                "departmentNumber", "employeeType")


def entries(path):
    """Yields (dn, [(attr, value)]) from an unwrapped LDIF file."""
    dn, attrs = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line:
                if dn is not None:
                    yield dn, attrs
                dn, attrs = None, []
                continue
            name, _, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode("utf-8")
            else:
                value = value[1:] if value.startswith(" ") else value
            if name.lower() == "dn":
                dn = value
            else:
                attrs.append((name, value))
    if dn is not None:
        yield dn, attrs


def ldif_line(name, value):
    safe = value.isascii() and value == value.strip() and not value.startswith((":", "<")) \
        and all(32 <= ord(c) < 127 for c in value)
    if safe:
        return "%s: %s" % (name, value)
    return "%s:: %s" % (name, base64.b64encode(value.encode("utf-8")).decode("ascii"))


def is_thai(s):
    return any("\u0e00" <= c <= "\u0e7f" for c in s)


def main():
    export, outdir, suffix, bench_dn, bench_pw = sys.argv[1:6]
    rnd = random.Random(20261123)
    people = []
    out = open(outdir + "/slapd-data.ldif", "w", encoding="utf-8")
    out.write("dn: %s\nobjectClass: organizationalUnit\nou: %s\n\n"
              % (suffix, suffix.split(",")[0].split("=", 1)[1]))
    for ou in ("people", "clients"):
        out.write("dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n" % (ou, suffix, ou))
    out.write("dn: %s\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
              "cn: %s\nuserPassword: %s\n\n"
              % (bench_dn, bench_dn.split(",")[0].split("=", 1)[1], bench_pw))
    roles = {}
    for dn, attrs in entries(export):
        kept = [(a, v) for a, v in attrs if a in ATTRS_COPIED]
        if not any(a == "sn" for a, _ in kept):  # inetOrgPerson needs sn
            kept.append(("sn", next(v for a, v in kept if a == "cn")))
        out.write(ldif_line("dn", dn) + "\nobjectClass: inetOrgPerson\n")
        out.write("".join(ldif_line(a, v) + "\n" for a, v in kept) + "\n")
        cns = [v for a, v in kept if a == "cn"]
        uid = next((v for a, v in kept if a == "uid"), None)
        people.append((uid, cns))
        for a, v in kept:
            if a == "employeeType":
                roles[v] = roles.get(v, 0) + 1
    out.close()
    if not people:
        sys.exit("prepare.py: no people in the export")
    role = "socialWorker"
    if role not in roles:
        role = next((r for r in roles if r.lower().startswith("social")), None)
        if role is None:
            sys.exit("prepare.py: no social workers (employeeType) in the export: %s" % roles)

    uid_filters = ["(uid=%s)" % u for u, _ in rnd.sample(people, min(10000, len(people))) if u]
    district_filters = ["(&(departmentNumber=%d)(employeeType=%s))" % (d, role)
                        for d in range(1001, 1051)]
    cn_filters = []
    while len(cn_filters) < 2000:
        _, cns = rnd.choice(people)
        want_thai = len(cn_filters) % 2 == 0
        pick = [c for c in cns if is_thai(c) == want_thai]
        if not pick:
            continue
        name = rnd.choice(pick)
        n = rnd.choice((3, 4))
        if len(name) < n:
            continue
        at = rnd.randrange(0, len(name) - n + 1)
        s = name[at:at + n]
        if s != s.strip() or unicodedata.category(s[0]) == "Mn" or any(c in "()*\\" for c in s):
            continue
        cn_filters.append("(cn=*%s*)" % s)
    for name, rows in (("uid", uid_filters), ("district", district_filters), ("cn", cn_filters)):
        with open("%s/%s.filters" % (outdir, name), "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    check = uid_filters[:10] + rnd.sample(district_filters, 10) + cn_filters[:10]
    with open(outdir + "/check.filters", "w", encoding="utf-8") as f:
        f.write("\n".join(check) + "\n")
    print("people=%d social_role=%s roles=%d uid_filters=%d district_filters=%d cn_filters=%d"
          % (len(people), role, len(roles), len(uid_filters), len(district_filters),
             len(cn_filters)))


if __name__ == "__main__":
    main()
