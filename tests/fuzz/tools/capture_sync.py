#!/usr/bin/python3
"""Captures what a real slapd (tests/integration/slapd.py, with syncprov) sends the staff
sync, as seed inputs for tests/fuzz/fuzz_sync.c: a paged search, an RFC 4533 refreshOnly
search with and without a cookie, a refreshAndPersist search that sees an add, a modify and a
delete, and refreshOnly searches after changes: without a session log (a present phase: the
unchanged entries named in syncIdSets, the deleted ones left out) and with one (a delete
phase: the deleted ones named). Each seed is one flags byte (bit 0: RFC 4533 search, bit 1: a unit map is
configured) and the server's bytes for message id 1, as libldap would read them.

Usage: /usr/bin/python3 tests/fuzz/tools/capture_sync.py OUTDIR   (needs slapd and ldap-utils)"""
import os
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import slapd  # noqa: E402


def tlv(tag, body):
    n = len(body)
    if n < 128:
        return bytes([tag, n]) + body
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b + body


def ber_int(v, tag=0x02):
    return tlv(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def octets(s, tag=0x04):
    return tlv(tag, s if isinstance(s, bytes) else s.encode())


ATTRS = ["entryUUID", "objectGUID", "uid", "sAMAccountName", "cn", "displayName", "title",
         "mail", "telephoneNumber", "mobile", "ou", "departmentNumber", "modifyTimestamp"]


def search(msgid, base, controls):
    op = tlv(0x63, octets(base) + ber_int(2, 0x0a) + ber_int(0, 0x0a) + ber_int(0) + ber_int(0) +
             tlv(0x01, b"\x00") + tlv(0x87, b"objectClass") +
             tlv(0x30, b"".join(octets(a) for a in ATTRS)))
    ctl = tlv(0xa0, b"".join(tlv(0x30, octets(oid) + tlv(0x01, b"\xff") + octets(v))
                             for oid, v in controls))
    return tlv(0x30, ber_int(msgid) + op + ctl)


def bind(msgid, dn, pw):
    return tlv(0x30, ber_int(msgid) + tlv(0x60, ber_int(3) + octets(dn) + octets(pw, 0x80)))


def messages(buf):
    """Splits BUF into whole BER messages; returns (list, rest)."""
    out = []
    while len(buf) >= 2:
        n = buf[1]
        hdr = 2
        if n & 0x80:
            k = n & 0x7f
            if len(buf) < 2 + k:
                break
            n = int.from_bytes(buf[2:2 + k], "big")
            hdr = 2 + k
        if len(buf) < hdr + n:
            break
        out.append(buf[:hdr + n])
        buf = buf[hdr + n:]
    return out, buf


def exchange(port, req, until_done=True, wait=2.0, during=None):
    """Binds, sends REQ (message id 1 after the bind's 7), returns the bytes for id 1."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(bind(7, slapd.ADMIN_DN, slapd.ADMIN_PW))
    got = b""
    while b"\x61" not in got[:20]:
        got += s.recv(65536)
    s.sendall(req)
    if during:
        time.sleep(0.3)
        during()
    buf, out = b"", b""
    end = time.time() + wait
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        msgs, buf = messages(buf)
        for m in msgs:
            out += m
            if until_done and b"\x65" in m[:12] and m[2:5] == b"\x02\x01\x01":
                s.close()
                return out
    s.close()
    return out


def entry(dn, attrs, controls=None):
    body = octets(dn) + tlv(0x30, b"".join(
        tlv(0x30, octets(a) + tlv(0x31, b"".join(octets(v) for v in vals)))
        for a, vals in attrs))
    msg = ber_int(1) + tlv(0x64, body)
    if controls:
        msg += tlv(0xa0, b"".join(tlv(0x30, octets(oid) + octets(v)) for oid, v in controls))
    return tlv(0x30, msg)


def done(code=0, controls=None):
    msg = ber_int(1) + tlv(0x65, ber_int(code, 0x0a) + octets("") + octets(""))
    if controls:
        msg += tlv(0xa0, b"".join(tlv(0x30, octets(oid) + octets(v)) for oid, v in controls))
    return tlv(0x30, msg)


def info(value):
    return tlv(0x30, ber_int(1) + tlv(0x79, octets("1.3.6.1.4.1.4203.1.9.1.4", 0x80) +
                                      octets(value, 0x81)))


def synthetic():
    """Messages slapd does not send here: an Active Directory entry (objectGUID,
    sAMAccountName), every Sync Info choice, a syncIdSet of deletions, refresh required."""
    guid = bytes(range(16))
    ad = entry("CN=Somchai,OU=Staff,DC=city", [
        ("objectGUID", [guid]), ("sAMAccountName", ["somchai"]), ("displayName;lang-th", ["สมชาย"]),
        ("displayName;lang-en", ["Somchai"]), ("departmentNumber", ["1002"]),
        ("mail", ["s@example.org", "\xff\xfe".encode("latin-1")]), ("title;x-odd", ["x"]),
        ("modifyTimestamp", ["20240101000000Z"])])
    state = "1.3.6.1.4.1.4203.1.9.1.2"
    done_oid = "1.3.6.1.4.1.4203.1.9.1.3"
    uuid = bytes(range(16, 32))
    cookie = b"rid=000,csn=20240101000000.000000Z#000000#000#000000"
    return {
        "ad-paged": (2, ad + done(0, [("1.2.840.113556.1.4.319",
                                          tlv(0x30, ber_int(0) + octets(b"abc")))])),
        "sync-infos": (1, info(octets(cookie, 0x80)) +
                       info(tlv(0xa1, octets(cookie) + tlv(0x01, b"\x00"))) +
                       info(tlv(0xa2, tlv(0x01, b"\xff"))) +
                       info(tlv(0xa3, octets(cookie) + tlv(0x01, b"\xff") +
                                tlv(0x31, octets(uuid) + octets(guid)))) +
                       info(tlv(0xa3, tlv(0x31, octets(uuid)))) +
                       entry("uid=x,dc=city", [("cn", ["x"])],
                             [(state, tlv(0x30, ber_int(3, 0x0a) + octets(uuid) + octets(cookie)))]) +
                       entry("uid=y,dc=city", [("cn", ["y"]), ("entryUUID", ["ABC"])],
                             [(state, tlv(0x30, ber_int(0, 0x0a) + octets(uuid)))]) +
                       done(0, [(done_oid, tlv(0x30, octets(cookie) + tlv(0x01, b"\xff")))])),
        "refresh-required": (1, done(4096)),
        # RFC 4533 3.4: a present phase ended by refreshPresent (refreshDone FALSE), then a
        # delete phase naming one entry, ended by refreshDelete (refreshDone TRUE).
        "present-then-delete": (1, info(tlv(0xa3, tlv(0x31, octets(uuid) + octets(guid)))) +
                                info(tlv(0xa2, octets(cookie) + tlv(0x01, b"\x00"))) +
                                info(tlv(0xa3, tlv(0x01, b"\xff") + tlv(0x31, octets(uuid)))) +
                                info(tlv(0xa1, octets(cookie)))),
    }


def cookie_in(data, default):
    """The first sync cookie (rid=...) in a captured stream."""
    i = data.find(b"rid=")
    if i < 0:
        return default
    j = i
    while j < len(data) and 0x20 <= data[j] < 0x7f:
        j += 1
    return data[i:j]


def delete_phase(work, sync):
    """A refreshOnly search answered by a server with a session log, after changes."""
    city = slapd.CityLdap(work, "sessionlog", sessionlog=1000)
    try:
        for uid in ("anan", "boon", "chai"):
            city.add_user(uid, uid.capitalize() + " Srisuk", "pw", title="Caseworker")
        ro = exchange(city.port, search(1, city.base, [(sync, tlv(0x30, ber_int(1, 0x0a)))]))
        cookie = cookie_in(ro, b"rid=000")
        city.modify_ldif("dn: uid=anan,ou=people,%s\nchangetype: modify\n"
                         "replace: title\ntitle: Director\n" % city.base)
        city.modify_ldif("dn: uid=boon,ou=people,%s\nchangetype: delete\n" % city.base)
        return exchange(city.port, search(1, city.base, [
            (sync, tlv(0x30, ber_int(1, 0x0a) + octets(cookie)))]))
    finally:
        city.stop()


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="capture-sync-")
    city = slapd.CityLdap(work)
    try:
        city.add_user("somchai", "Somchai Jaidee", "pw1", mail="somchai@example.org",
                      telephoneNumber="+66 2 123 4567", ou="Dusit Welfare", title="Caseworker",
                      displayName="สมชาย ใจดี")
        city.add_user("somying", "Somying Rakrian", "pw2", mobile="081-234-5678",
                      departmentNumber="1002", **{"cn;lang-th": "สมหญิง รักเรียน",
                                                  "title;lang-en": "Nurse"})
        base = city.base
        paged = "1.2.840.113556.1.4.319"
        sync = "1.3.6.1.4.1.4203.1.9.1.1"
        seeds = {}
        seeds["paged"] = (0, exchange(city.port, search(1, base, [
            (paged, tlv(0x30, ber_int(1) + octets(b"")))])))
        seeds["paged-units"] = (2, exchange(city.port, search(1, base, [
            (paged, tlv(0x30, ber_int(100) + octets(b"")))])))
        ro = exchange(city.port, search(1, base, [(sync, tlv(0x30, ber_int(1, 0x0a)))]))
        seeds["refresh-only"] = (1, ro)
        cookie = b"rid=000,csn=" + b"0" * 20
        i = ro.find(b"rid=")
        if i > 0:
            j = i
            while j < len(ro) and ro[j] >= 0x20 and ro[j] < 0x7f:
                j += 1
            cookie = ro[i:j]
        seeds["refresh-only-cookie"] = (3, exchange(city.port, search(1, base, [
            (sync, tlv(0x30, ber_int(1, 0x0a) + octets(cookie)))])))

        def changes():
            city.add_user("newbie", "New Person", "pw3", mail="new@example.org")
            city.modify_ldif("dn: uid=somchai,ou=people,%s\nchangetype: modify\n"
                             "replace: title\ntitle: Senior caseworker\n" % base)
            city.modify_ldif("dn: uid=somying,ou=people,%s\nchangetype: delete\n" % base)

        seeds["persist"] = (1, exchange(city.port, search(1, base, [
            (sync, tlv(0x30, ber_int(3, 0x0a) + octets(cookie)))]), until_done=False,
            wait=3.0, during=changes))
        seeds["persist-from-start"] = (3, exchange(city.port, search(1, base, [
            (sync, tlv(0x30, ber_int(3, 0x0a)))]), until_done=False, wait=1.5))
        # The changes above came after COOKIE; no session log: a present phase.
        seeds["refresh-present-phase"] = (1, exchange(city.port, search(1, base, [
            (sync, tlv(0x30, ber_int(1, 0x0a) + octets(cookie)))])))
        seeds["refresh-delete-phase"] = (1, delete_phase(work, sync))
        seeds.update(synthetic())
        for name, (flags, data) in seeds.items():
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(bytes([flags]) + data)
            print("%s: %d bytes" % (name, len(data) + 1))
    finally:
        city.stop()


if __name__ == "__main__":
    main(sys.argv[1])
