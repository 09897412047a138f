"""The LDAP face against hostile clients (issue 11): controls without a value, secrets cut at a
NUL byte, paged-results cookies that outlive the rights or the request they were made for,
and the limits on idle connections, connections per address, kept paged answers and queued
requests. Each test sends the exact input from the issue; the daemon must keep answering and
exit without a sanitizer report (conftest's Daemon.stop checks the log)."""
import os
import socket
import time

import ldap
import ldap.controls
import pytest

from conftest import ADMIN_KEY, Daemon, make_demo_db, wait_for
from test_ldap import PEOPLE, SUFFIX, ORGS, ber_int, conn, raw_exchange, tlv
from test_writes import send

ORG_DN = "cn=it-caseworker,ou=clients," + SUFFIX
PAGED = "1.2.840.113556.1.4.319"
SORT = "1.2.840.113556.1.4.473"
# Revocable caseworker clients, one per test that revokes one.
KEYS = {"ab-rev1": "abuse-revocable-key-one-0123456789",
        "ab-rev2": "abuse-revocable-key-two-0123456789",
        "ab-nul": "abuse-nul-test-key-0123456789abcdef"}

# Issue 11, finding 1: one search carrying the paged control with no controlValue.
ISSUE_BYTES = bytes.fromhex(
    "3063020102634204226f753d6368696c646e65742c64633d62616e676b6f6b2c64633d676f2c64633d7468"
    "0a01000a0100020100020100010100870b6f626a656374436c6173733000a01a30180416312e322e3834"
    "302e3131333535362e312e342e333139")


@pytest.fixture(scope="module")
def abuse_db(pg):
    return make_demo_db(pg, **{n: ("caseworker", k) for n, k in KEYS.items()})


@pytest.fixture(scope="module")
def d(abuse_db, workdir):
    daemon = Daemon(abuse_db, workdir)
    yield daemon
    daemon.stop()


def client_dn(name):
    return "cn=%s,ou=clients,%s" % (name, SUFFIX)


def result_code(got, tag):
    """The resultCode of the first response with TAG (0x61 bind, 0x65 search done...)."""
    i = got.find(bytes([tag]))
    assert i >= 0, got
    j = got.find(b"\x0a\x01", i)
    return got[j + 2]


def still_answers(daemon):
    c = conn(daemon)
    assert c.search_s("ou=areas," + SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)", ["ou"])
    c.unbind_s()
    assert daemon.http.get("/healthz")[0] == 200


# ---- finding 1: controls without a value ----

def test_issue_bytes_paged_control_without_value(d):
    s = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=5)
    s.sendall(ISSUE_BYTES)
    got = b""
    while b"\x02\x01\x02\x65" not in got:
        chunk = s.recv(65536)
        assert chunk, "the connection was closed: %r" % got
        got += chunk
    # The non-critical malformed control is ignored: the search is answered (root entry).
    assert result_code(got[got.find(b"\x02\x01\x02\x65"):], 0x65) == 0
    # The connection stays open and answers the next request.
    s.sendall(tlv(0x30, ber_int(3) + tlv(0x77, tlv(0x80, b"1.3.6.1.4.1.4203.1.11.3"))))
    more = s.recv(65536)
    assert b"\x02\x01\x03\x78" in more
    s.close()
    still_answers(d)


@pytest.mark.parametrize("oid", [PAGED, SORT])
@pytest.mark.parametrize("value", [None, b""])
def test_python_ldap_control_without_value(d, oid, value):
    c = conn(d)
    ctrl = ldap.controls.LDAPControl(oid, False, value)
    res = c.search_ext_s(SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)", ["ou"], serverctrls=[ctrl])
    assert res and res[0][0] == SUFFIX
    # Critical: the operation fails with protocolError, the connection and daemon live on.
    ctrl = ldap.controls.LDAPControl(oid, True, value)
    with pytest.raises(ldap.PROTOCOL_ERROR):
        c.search_ext_s(SUFFIX, ldap.SCOPE_BASE, "(objectClass=*)", ["ou"], serverctrls=[ctrl])
    assert c.whoami_s() == ""
    c.unbind_s()
    still_answers(d)


def test_malformed_requests_inside_messages(d):
    """Each of these is malformed inside a well-framed message: the connection gets a Notice
    of Disconnection (or an error answer), the daemon never stops."""
    base = tlv(0x04, SUFFIX.encode()) + tlv(0x0a, b"\x00") + tlv(0x0a, b"\x00")
    tail = ber_int(0) + ber_int(0) + tlv(0x01, b"\x00")
    present = tlv(0x87, b"objectClass")
    cases = [
        tlv(0x30, ber_int(1) + tlv(0x63, base + tail + tlv(0xa4, tlv(0x04, b"cn") + tlv(0x30, b""))
                                   + tlv(0x30, b""))),                  # zero substrings
        tlv(0x30, ber_int(1) + tlv(0x63, base + tail + present + tlv(0x30, b"")) + b"\xff\x00"),
        tlv(0x30, ber_int(1) + tlv(0x63, base + tail + tlv(0xa9, tlv(0x82, b"cn")) +
                                   tlv(0x30, b""))),                    # no matchValue
        tlv(0x30, tlv(0x02, b"\x80\x00\x00\x00") + tlv(0x42, b"")),     # negative messageID
        tlv(0x30, ber_int(1) + tlv(0x50, b"\xff")),                      # abandon -1
        tlv(0x30, ber_int(1) + tlv(0x63, base + tail + present + tlv(0x30, b"")) +
            tlv(0xa0, tlv(0x30, tlv(0x04, PAGED.encode()) + tlv(0x02, b"\x01")))),  # bad crit
    ]
    for data in cases:
        got, closed = raw_exchange(d, data, wait=2.0)
        assert closed and b"1.3.6.1.4.1.1466.20036" in got, data.hex()
    # Answered with an error code, connection kept: scope 3, deref 9, negative size limit,
    # Who am I? with a value, an unknown extended operation, a critical unknown control.
    answered = [
        (tlv(0x30, ber_int(1) + tlv(0x63, tlv(0x04, b"") + tlv(0x0a, b"\x03") + tlv(0x0a, b"\x00")
                                    + tail + present + tlv(0x30, b""))), 0x65, 2),
        (tlv(0x30, ber_int(1) + tlv(0x63, tlv(0x04, b"") + tlv(0x0a, b"\x00") + tlv(0x0a, b"\x09")
                                    + tail + present + tlv(0x30, b""))), 0x65, 2),
        (tlv(0x30, ber_int(1) + tlv(0x63, base + tlv(0x02, b"\xff") + ber_int(0) +
                                    tlv(0x01, b"\x00") + present + tlv(0x30, b""))), 0x65, 2),
        (tlv(0x30, ber_int(1) + tlv(0x77, tlv(0x80, b"1.3.6.1.4.1.4203.1.11.3") +
                                    tlv(0x81, b"x"))), 0x78, 2),
        (tlv(0x30, ber_int(1) + tlv(0x77, tlv(0x80, b"1.2.3.4"))), 0x78, 2),
        (tlv(0x30, ber_int(1) + tlv(0x63, base + tail + present + tlv(0x30, b"")) +
             tlv(0xa0, tlv(0x30, tlv(0x04, b"1.2.3.4") + tlv(0x01, b"\xff")))), 0x65, 12),
    ]
    for data, tag, code in answered:
        got, closed = raw_exchange(d, data, wait=1.0)
        assert not closed and result_code(got, tag) == code, (data.hex(), got)
    still_answers(d)


# ---- finding 7: the whole secret ----

def bind_pdu(msgid, dn, pw):
    return tlv(0x30, ber_int(msgid) + tlv(0x60, ber_int(3) + tlv(0x04, dn.encode()) +
                                          tlv(0x80, pw)))


def test_bind_secret_with_nul_is_refused(d):
    key = KEYS["ab-nul"].encode()
    got, _ = raw_exchange(d, bind_pdu(1, client_dn("ab-nul"), key + b"\x00anything"), wait=1.0)
    assert result_code(got, 0x61) == 49  # invalidCredentials
    got, _ = raw_exchange(d, bind_pdu(1, client_dn("ab-nul"), key), wait=1.0)
    assert result_code(got, 0x61) == 0
    # A staff-style DN with a NUL in the password is refused the same way.
    got, _ = raw_exchange(d, bind_pdu(1, "uid=somchai," + PEOPLE, b"secret\x00x"), wait=1.0)
    assert result_code(got, 0x61) == 49


# ---- finding 2: paged cookies bound to the rights and the request ----

def first_page(c, base=PEOPLE, size=2, attrs=("uid", "mobile")):
    page = ldap.controls.SimplePagedResultsControl(True, size=size, cookie="")
    msgid = c.search_ext(base, ldap.SCOPE_ONELEVEL, "(objectClass=*)", list(attrs),
                         serverctrls=[page])
    _, data, _, ctrls = c.result3(msgid)
    pc = [x for x in ctrls if x.controlType == PAGED]
    assert pc and pc[0].cookie
    page.cookie = pc[0].cookie
    return data, page


def next_page(c, page, base=PEOPLE, attrs=("uid", "mobile")):
    msgid = c.search_ext(base, ldap.SCOPE_ONELEVEL, "(objectClass=*)", list(attrs),
                         serverctrls=[page])
    return c.result3(msgid)[1]


def test_paged_cookie_dies_with_a_revoked_key(d):
    c = conn(d, client_dn("ab-rev1"), KEYS["ab-rev1"])
    data, page = first_page(c)
    assert len(data) == 2 and any("mobile" in e for _, e in data)
    status, _, _ = send(d.http, "POST", "/v1/admin/api-clients/ab-rev1/revoke", key=ADMIN_KEY,
                        raw=b"")
    assert status == 200
    ok, _ = wait_for(lambda: d.http.get("/v1/people", {"limit": 1}, key=KEYS["ab-rev1"])[0] == 401)
    assert ok
    time.sleep(0.3)  # the LDAP face reads the same snapshot
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        next_page(c, page)
    # The kept answer is gone: the cookie is refused from now on too.
    with pytest.raises(ldap.UNWILLING_TO_PERFORM) as e:
        next_page(c, page)
    assert "cookie expired" in str(e.value)


def test_paged_cookie_dropped_by_a_new_bind(d):
    c = conn(d, client_dn("ab-rev2"), KEYS["ab-rev2"])
    data, page = first_page(c)
    c.simple_bind_s("", "")
    with pytest.raises(ldap.UNWILLING_TO_PERFORM) as e:
        next_page(c, page)
    assert "start the search again" in str(e.value)
    # Re-binding as the same client does not bring it back either.
    c.simple_bind_s(client_dn("ab-rev2"), KEYS["ab-rev2"])
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        next_page(c, page)


def test_paged_cookie_only_for_the_same_request(d):
    c = conn(d, ORG_DN, "integration-caseworker-key-0123456789")
    data, page = first_page(c)
    with pytest.raises(ldap.UNWILLING_TO_PERFORM) as e:
        next_page(c, page, base=ORGS)
    assert "another search" in str(e.value)
    with pytest.raises(ldap.UNWILLING_TO_PERFORM):
        next_page(c, page, attrs=("uid", "mobile", "mail"))
    # The same request with the cookie still gets the next page.
    more = next_page(c, page)
    assert len(more) == 2 and not set(dn for dn, _ in more) & set(dn for dn, _ in data)
