"""TLS on the LDAP face (issue 7): StartTLS and LDAPS with a configured certificate, checked with
ldapsearch (-ZZ, ldaps://), python-ldap and Python's own TLS over raw BER."""
import os
import socket
import ssl
import subprocess
import time

import ldap
import pytest

from conftest import CASEWORKER_KEY, Daemon, free_port, make_cert
from test_ldap import CW_DN, PEOPLE, SUFFIX, ber_int, conn, dns, search_pdu, tlv

STARTTLS = b"1.3.6.1.4.1.1466.20037"


@pytest.fixture(scope="module")
def certs(workdir):
    return make_cert(workdir, "directoryd-ldap"), make_cert(workdir, "not-directoryd")


@pytest.fixture(scope="module")
def tls_daemon(demo_db, workdir, certs):
    (cert, key), _ = certs
    ldaps_port = free_port()
    d = Daemon(demo_db, workdir, {"DIRECTORYD_LDAP_TLS_CERT": cert, "DIRECTORYD_LDAP_TLS_KEY": key,
                                  "DIRECTORYD_LDAPS_PORT": str(ldaps_port),
                                  "DIRECTORYD_LDAP_SIZE_LIMIT": "0"})
    d.cert = cert
    d.ldaps_port = ldaps_port
    yield d
    d.stop()


def ldapsearch(uri, cafile, *args, starttls=False):
    env = dict(os.environ, LDAPTLS_CACERT=cafile, LDAPTLS_REQCERT="demand")
    cmd = ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri,
           "-D", CW_DN, "-w", CASEWORKER_KEY] + (["-ZZ"] if starttls else [])
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def test_ldapsearch_starttls_and_ldaps(tls_daemon, certs):
    d = tls_daemon
    plain = "ldap://127.0.0.1:%d" % d.ldap_port
    flt = "(&(departmentNumber=1007)(employeeType=socialWorker))"
    rc, want, err = ldapsearch(plain, d.cert, "-b", PEOPLE, flt, "cn")
    assert rc == 0 and dns(want), err
    # The root DSE offers StartTLS here, and not on a daemon without a certificate.
    rc, out, err = ldapsearch(plain, d.cert, "-s", "base", "-b", "", "supportedExtension")
    assert "supportedExtension: 1.3.6.1.4.1.1466.20037" in out, err
    rc, out, err = ldapsearch(plain, d.cert, "-b", PEOPLE, flt, "cn", starttls=True)
    assert rc == 0, err
    assert out == want
    rc, out, err = ldapsearch("ldaps://127.0.0.1:%d" % d.ldaps_port, d.cert, "-b", PEOPLE, flt, "cn")
    assert rc == 0, err
    assert out == want
    # A client that trusts another certificate refuses ours: it really is TLS with our key.
    _, (other, _) = certs
    rc, out, err = ldapsearch(plain, other, "-b", PEOPLE, flt, starttls=True)
    assert rc != 0 and out == ""
    rc, out, err = ldapsearch("ldaps://127.0.0.1:%d" % d.ldaps_port, other, "-b", PEOPLE, flt)
    assert rc != 0 and out == ""


def tls_conn(uri, cafile):
    c = ldap.initialize(uri)
    c.protocol_version = 3
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    c.set_option(ldap.OPT_X_TLS_CACERTFILE, cafile)
    c.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    return c


def test_python_ldap_starttls_big_answers_and_pipelining(tls_daemon):
    d = tls_daemon
    want = conn(d, CW_DN, CASEWORKER_KEY).search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)")
    c = tls_conn("ldap://127.0.0.1:%d" % d.ldap_port, d.cert)
    c.start_tls_s()
    assert c.whoami_s() == ""
    c.simple_bind_s(CW_DN, CASEWORKER_KEY)
    assert c.whoami_s() == "dn:" + CW_DN
    # The whole tree with every attribute: hundreds of kilobytes through partial TLS writes.
    got = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)")
    assert len(got) == len(want) > 300
    assert sorted(got) == sorted(want)
    # Several searches in flight on the one TLS connection, answered each in full.
    ids = [c.search_ext(PEOPLE, ldap.SCOPE_SUBTREE, "(cn=*%s*)" % s, ["cn"])
           for s in ("สม", "a", "e", "ชัย")]
    for i in ids:
        _, entries, _, _ = c.result3(i)
        assert entries, i


def test_python_ldap_ldaps(tls_daemon):
    d = tls_daemon
    c = tls_conn("ldaps://127.0.0.1:%d" % d.ldaps_port, d.cert)
    c.simple_bind_s(CW_DN, CASEWORKER_KEY)
    assert c.whoami_s() == "dn:" + CW_DN
    got = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(cn=*ลุมพินี*)", ["cn"])
    assert "o=coc-lumphini,ou=organizations," + SUFFIX in [dn for dn, _ in got]


def extended(msgid, oid):
    return tlv(0x30, ber_int(msgid) + tlv(0x77, tlv(0x80, oid)))


def read_message(s):
    """One whole LDAPMessage from socket-like S (short-form or long-form length)."""
    def exact(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            if not chunk:
                raise EOFError
            b += chunk
        return b
    head = exact(2)
    n = head[1]
    if n & 0x80:
        more = exact(n & 0x7f)
        return head + more + exact(int.from_bytes(more, "big"))
    return head + exact(n)


def test_starttls_rules_over_raw_ber(tls_daemon, daemon):
    # Without a certificate: unavailable (52), and the connection goes on in clear.
    s = socket.create_connection(("127.0.0.1", daemon.ldap_port), timeout=10)
    s.sendall(extended(1, STARTTLS))
    assert b"\x0a\x01\x34" in read_message(s)
    s.sendall(search_pdu(2, tlv(0x87, b"l")))
    assert b"\x02\x01\x02\x64" in read_message(s)
    s.close()
    # With one: success, TLS, then a second StartTLS is an operationsError (1) inside TLS.
    d = tls_daemon
    raw = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=10)
    raw.sendall(extended(1, STARTTLS))
    ans = read_message(raw)
    assert b"\x0a\x01\x00" in ans and STARTTLS in ans
    ctx = ssl.create_default_context(cafile=d.cert)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(extended(2, STARTTLS))
    assert b"\x0a\x01\x01" in read_message(s)
    # Pipelined requests in one TLS record are answered in order, each in full: 3's entries
    # and its SearchResultDone (success), then 4's entries and its done.
    s.sendall(search_pdu(3, tlv(0x87, b"l")) + search_pdu(4, tlv(0x87, b"objectClass")))
    seen = []
    while not seen or seen[-1] != (4, 0x65):
        m = read_message(s)
        i = 2 + (m[1] & 0x7f if m[1] & 0x80 else 0)  # past the outer header
        assert m[i] == 0x02 and m[i + 1] == 1, m[:8]  # a one-byte message id
        seen.append((m[i + 2], m[i + 3]))
        if m[i + 3] == 0x65:
            assert b"\x0a\x01\x00" in m, m  # resultCode success
    first_done = seen.index((3, 0x65))
    assert seen[0] == (3, 0x64) and first_done > 100
    assert all(x == (3, 0x64) for x in seen[:first_done])
    assert len(seen) - first_done - 2 > 100
    assert all(x == (4, 0x64) for x in seen[first_done + 1:-1])
    s.close()
    # A request sent right behind StartTLS (before its answer) makes StartTLS an
    # operationsError; the connection stays in clear and answers that request.
    raw = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=10)
    raw.sendall(extended(1, STARTTLS) + search_pdu(2, tlv(0x87, b"l")))
    m = read_message(raw)
    assert b"\x02\x01\x01\x78" in m[:10] and b"\x0a\x01\x01" in m
    assert b"\x02\x01\x02\x64" in read_message(raw)[:10]
    raw.close()


def drain(s):
    """Reads until the server closes S (a reset counts as closed), at most 5 s; true when the
    server closed it (a client that merely stopped reading proves nothing)."""
    end = time.time() + 5
    s.settimeout(5)
    closed = False
    try:
        while time.time() < end:
            if not s.recv(4096):
                closed = True
                break
    except socket.timeout:
        pass
    except OSError:
        closed = True
    s.close()
    return closed


def test_bad_tls_closes_only_that_connection(tls_daemon):
    d = tls_daemon
    # Clear-text LDAP to the LDAPS port; a handshake cut off; StartTLS then garbage.
    # The server closes the first at once; the cut-off one once the client stops sending.
    for data, cut in ((search_pdu(1, tlv(0x87, b"l")), False),
                      (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc", True)):
        s = socket.create_connection(("127.0.0.1", d.ldaps_port), timeout=10)
        try:
            s.sendall(data)
            if cut:
                s.shutdown(socket.SHUT_WR)
        except OSError:  # the server may have reset it already
            pass
        assert drain(s), data[:8]
    s = socket.create_connection(("127.0.0.1", d.ldap_port), timeout=10)
    s.sendall(extended(1, STARTTLS))
    read_message(s)
    s.sendall(b"\x30\x05\x02\x01\x02\x42\x00" * 3)
    assert drain(s)
    # Still serving both ports.
    c = tls_conn("ldaps://127.0.0.1:%d" % d.ldaps_port, d.cert)
    assert c.whoami_s() == ""
    assert conn(d).search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])


def test_tls_settings_are_checked_at_start(demo_db, workdir, certs):
    (cert, key), (_, other_key) = certs
    for env, says in (
            ({"DIRECTORYD_LDAP_TLS_CERT": cert, "DIRECTORYD_LDAP_TLS_KEY": other_key},
             "does not match"),
            ({"DIRECTORYD_LDAP_TLS_CERT": os.path.join(workdir, "missing.crt"),
              "DIRECTORYD_LDAP_TLS_KEY": key}, "cannot load the certificate chain"),
            ({"DIRECTORYD_LDAP_TLS_CERT": cert}, "needs both"),
            ({"DIRECTORYD_LDAPS_PORT": str(free_port())}, "needs ldap_tls_cert")):
        with pytest.raises(RuntimeError) as e:
            Daemon(demo_db, workdir, env)
        assert says in str(e.value)


PERMISSIVE_OPENSSL = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
"""


def test_tls_1_0_and_1_1_are_refused(demo_db, workdir, certs):
    """directoryd itself refuses TLS older than 1.2: the daemon runs here with an OpenSSL
    configuration that would allow TLS 1.0 (so the system's defaults prove nothing), and a
    client offering at most TLS 1.0 or 1.1 fails the handshake on LDAPS and after StartTLS,
    while TLS 1.2 works on the same daemon."""
    import warnings
    (cert, key), _ = certs
    conf = os.path.join(workdir, "openssl-permissive.cnf")
    with open(conf, "w") as f:
        f.write(PERMISSIVE_OPENSSL)
    ldaps_port = free_port()
    d = Daemon(demo_db, workdir, {"DIRECTORYD_LDAP_TLS_CERT": cert, "DIRECTORYD_LDAP_TLS_KEY": key,
                                  "DIRECTORYD_LDAPS_PORT": str(ldaps_port), "OPENSSL_CONF": conf})

    def context(version):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(cert)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = version
        return ctx

    def handshake(version, starttls):
        raw = socket.create_connection(("127.0.0.1", d.ldap_port if starttls else ldaps_port),
                                       timeout=10)
        try:
            if starttls:
                raw.sendall(extended(1, STARTTLS))
                assert b"\x0a\x01\x00" in read_message(raw)
            s = context(version).wrap_socket(raw, server_hostname="127.0.0.1")
            proto = s.version()
            s.sendall(extended(2, b"1.3.6.1.4.1.4203.1.11.3"))  # Who am I?
            assert b"\x0a\x01\x00" in read_message(s)
            s.close()
            return proto
        except (ssl.SSLError, ConnectionResetError, EOFError):
            return None
        finally:
            raw.close()

    try:
        for starttls in (False, True):
            assert handshake(ssl.TLSVersion.TLSv1_2, starttls) == "TLSv1.2", starttls
            for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
                assert handshake(old, starttls) is None, (old, starttls)
    finally:
        d.stop()
