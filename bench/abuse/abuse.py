#!/usr/bin/env python3
"""bench/abuse/abuse.py - the four resource-exhaustion cases of issue 11 against a running
directoryd, each bounded in time, with a normal client and the daemon's RSS sampled throughout.

  abuse.py CASE --pid PID --http-port P --ldap-port P [options]      (CASE: idle, paged, queue, slowloris)

  idle       LDAP: CONNS idle connections (half of them send one byte of a never-finished
             message every 5 s, the others nothing), held HOLD seconds
  paged      LDAP: CONNS connections bound as an API client each open a paged search of
             ou=people (page size 2), one before each of WRITES edits made through the JSON API
             (PATCH of an organisation with If-Match); RSS after each edit; then every connection
             asks for its next page
  queue      LDAP: CONNS connections that never read (receive buffer 4 KiB): each sends 8 staff
             binds of unknown users (checked on the bind workers; the server keeps reading
             meanwhile) and then REQS whole-tree searches of about 255 KiB each (padded by a
             non-critical control the server ignores), held HOLD seconds
  slowloris  HTTP: CONNS connections each sending a partial request header, one more byte every
             8 s, held HOLD seconds

A normal client runs every ~100 ms from 127.0.0.1 on a new connection each time: for the LDAP
cases an anonymous search of the suffix's subtree for (cn=*ลุมพินี*) (cn, o), for slowloris
GET /healthz and GET /v1/organizations?limit=1. The attack comes from 127.0.0.2 onwards (ADDRS
addresses, connections spread round-robin). VmRSS is read from /proc/PID/status every 100 ms.

Prints a small table on stdout and appends one JSON line (the same numbers) to --json FILE.
Python standard library only; traffic to 127.0.0.0/8 only.
"""
import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

SUFFIX = "ou=childnet,dc=bangkok,dc=go,dc=th"
OID_PAGED = "1.2.840.113556.1.4.319"
OID_PAD = "1.3.6.1.4.1.99999.727.9.9"  # no such control: non-critical, so ignored (RFC 4511)


# ---- BER, just what the cases need ----

def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + ber_len(len(content)) + content


def ber_int(tag, v):
    n = max(1, (v.bit_length() + 8) // 8)
    return tlv(tag, v.to_bytes(n, "big", signed=True))


def octets(s, tag=0x04):
    return tlv(tag, s.encode() if isinstance(s, str) else s)


def ldap_msg(msgid, op, controls=b""):
    return tlv(0x30, ber_int(0x02, msgid) + op + (tlv(0xA0, controls) if controls else b""))


def bind_req(dn, pw):
    return tlv(0x60, ber_int(0x02, 3) + octets(dn) + octets(pw, 0x80))


def eq_filter(attr, val):
    return tlv(0xA3, octets(attr) + octets(val))


def sub_any_filter(attr, val):
    return tlv(0xA4, octets(attr) + tlv(0x30, octets(val, 0x81)))


def present(attr):
    return octets(attr, 0x87)


def search_req(base, scope, flt, attrs, size=0):
    return tlv(0x63, octets(base) + ber_int(0x0A, scope) + ber_int(0x0A, 0) + ber_int(0x02, size) +
               ber_int(0x02, 0) + tlv(0x01, b"\x00") + flt +
               tlv(0x30, b"".join(octets(a) for a in attrs)))


def control(oid, critical, value):
    return tlv(0x30, octets(oid) + (tlv(0x01, b"\xff") if critical else b"") + octets(value))


def paged_control(size, cookie):
    return control(OID_PAGED, True, tlv(0x30, ber_int(0x02, size) + octets(cookie)))


def tlv_at(buf, off):
    """(tag, content start, content end) of the TLV at off; None when incomplete."""
    if off + 2 > len(buf):
        return None
    tag, n = buf[off], buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        if off + k > len(buf):
            return None
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    if off + n > len(buf):
        return None
    return tag, off, off + n


def children(buf, start, end):
    out, off = [], start
    while off < end:
        t = tlv_at(buf, off)
        out.append(t)
        off = t[2]
    return out


class LdapReader:
    """Reads whole LDAPMessages from a blocking socket: (msgid, op tag, buf, op tlv, controls)."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def next(self):
        while True:
            t = tlv_at(self.buf, 0)
            if t:
                msg, self.buf = self.buf[:t[2]], self.buf[t[2]:]
                parts = children(msg, t[1], t[2])
                msgid = int.from_bytes(msg[parts[0][1]:parts[0][2]], "big", signed=True)
                ctrls = parts[2] if len(parts) > 2 else None
                return msgid, parts[1][0], msg, parts[1], ctrls
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("closed by the server")
            self.buf += d


def result_code(msg, op):
    first = children(msg, op[1], op[2])[0]
    return int.from_bytes(msg[first[1]:first[2]], "big")


def result_text(msg, op):
    parts = children(msg, op[1], op[2])
    return msg[parts[2][1]:parts[2][2]].decode("utf-8", "replace") if len(parts) > 2 else ""


def paged_cookie(msg, ctrls):
    if not ctrls:
        return b""
    for c in children(msg, ctrls[1], ctrls[2]):
        parts = children(msg, c[1], c[2])
        if msg[parts[0][1]:parts[0][2]].decode() == OID_PAGED:
            v = msg[parts[-1][1]:parts[-1][2]]
            seq = tlv_at(v, 0)
            inner = children(v, seq[1], seq[2])
            return v[inner[1][1]:inner[1][2]]
    return b""


def search_all(rd, sock, msgid, req, controls=b""):
    """Sends a search; returns (entries, result code, text, cookie)."""
    sock.sendall(ldap_msg(msgid, req, controls))
    entries = 0
    while True:
        mid, tag, msg, op, ctrls = rd.next()
        if mid != msgid:
            continue
        if tag == 0x64:
            entries += 1
        elif tag == 0x65:
            return entries, result_code(msg, op), result_text(msg, op), paged_cookie(msg, ctrls)


# ---- sampling: RSS and the normal client ----

class Samples:
    def __init__(self):
        self.lock = threading.Lock()
        self.rss = []      # (t, MB)
        self.probes = []   # (t, kind, ok, ms, detail)
        self.phases = []   # (t, name)
        self.stop = threading.Event()

    def phase(self, name):
        with self.lock:
            self.phases.append((time.monotonic(), name))

    def phase_of(self, t):
        name = None
        for pt, n in self.phases:
            if pt <= t:
                name = n
        return name


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def rss_thread(s, pid):
    while not s.stop.is_set():
        v = rss_mb(pid)
        if v is not None:
            with s.lock:
                s.rss.append((time.monotonic(), v))
        s.stop.wait(0.1)


def probe_ldap(port, timeout):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                      source_address=("127.0.0.1", 0)) as sk:
            sk.settimeout(timeout)
            rd = LdapReader(sk)
            n, rc, text, _ = search_all(rd, sk, 1, search_req(
                SUFFIX, 2, sub_any_filter("cn", "ลุมพินี"), ["cn", "o"]))
            sk.sendall(ldap_msg(2, b"\x42\x00"))
            ms = (time.monotonic() - t0) * 1000
            if rc != 0 or n == 0:
                return False, ms, "result %d, %d entries %s" % (rc, n, text)
            return True, ms, ""
    except (OSError, ConnectionError, IndexError) as e:
        return False, (time.monotonic() - t0) * 1000, type(e).__name__


def probe_http(port, path, timeout):
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                       source_address=("127.0.0.1", 0))
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse()
        r.read()
        c.close()
        ms = (time.monotonic() - t0) * 1000
        return r.status == 200, ms, "" if r.status == 200 else "HTTP %d" % r.status
    except (OSError, http.client.HTTPException) as e:
        return False, (time.monotonic() - t0) * 1000, type(e).__name__


def probe_thread(s, kinds, args):
    while not s.stop.is_set():
        t0 = time.monotonic()
        for kind in kinds:
            if kind == "ldap":
                ok, ms, d = probe_ldap(args.ldap_port, args.probe_timeout)
            elif kind == "healthz":
                ok, ms, d = probe_http(args.http_port, "/healthz", args.probe_timeout)
            elif kind == "healthz-port":
                ok, ms, d = probe_http(args.health_port, "/healthz", args.probe_timeout)
            else:
                ok, ms, d = probe_http(args.http_port, "/v1/organizations?limit=1", args.probe_timeout)
            with s.lock:
                s.probes.append((t0, kind, ok, ms, d))
        s.stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summarise(s, kinds, phase_names):
    """Per phase: RSS median/max, and per probe kind the counts and latencies."""
    out = {}
    for ph in phase_names:
        rss = [v for t, v in s.rss if s.phase_of(t) == ph]
        row = {"rss_first": rss[0] if rss else None, "rss_last": rss[-1] if rss else None,
               "rss_max": max(rss) if rss else None}
        for k in kinds:
            pr = [p for p in s.probes if p[1] == k and s.phase_of(p[0]) == ph]
            ok = [p[3] for p in pr if p[2]]
            fails = [p for p in pr if not p[2]]
            why = {}
            for p in fails:
                why[p[4]] = why.get(p[4], 0) + 1
            start = next((t for t, n in s.phases if n == ph), 0.0)
            bins = {}  # failures per 10 s of the phase
            for p in fails:
                b = int((p[0] - start) // 10) * 10
                bins[b] = bins.get(b, 0) + 1
            row[k] = {"sent": len(pr), "answered": len(ok),
                      "within_100ms": sum(1 for m in ok if m <= 100),
                      "p50": pct(ok, 50), "p99": pct(ok, 99), "max": max(ok) if ok else float("nan"),
                      "failures": why, "failures_per_10s": bins}
        out[ph] = row
    return out


def print_table(title, summary, kinds, phase_names, extra):
    print(title)
    w = 22
    print("  %-34s" % "" + "".join("%*s" % (w, p) for p in phase_names))
    print("  %-34s" % "RSS MB (first / max / last)" + "".join(
        "%*s" % (w, "%s / %s / %s" % tuple(
            "-" if summary[p][x] is None else "%.0f" % summary[p][x]
            for x in ("rss_first", "rss_max", "rss_last"))) for p in phase_names))
    for k in kinds:
        print("  %-34s" % ("%s answered / sent" % k) + "".join(
            "%*s" % (w, "%d / %d" % (summary[p][k]["answered"], summary[p][k]["sent"]))
            for p in phase_names))
        print("  %-34s" % ("%s within 100 ms" % k) + "".join(
            "%*s" % (w, "%d" % summary[p][k]["within_100ms"]) for p in phase_names))
        print("  %-34s" % ("%s p50 / p99 / max ms" % k) + "".join(
            "%*s" % (w, "%.1f / %.0f / %.0f" % (summary[p][k]["p50"], summary[p][k]["p99"],
                                               summary[p][k]["max"])) for p in phase_names))
        fl = [(p, summary[p][k]["failures"]) for p in phase_names if summary[p][k]["failures"]]
        for p, why in fl:
            bins = summary[p][k]["failures_per_10s"]
            print("  %-34s %s; by time into the phase: %s" % (
                "%s failures (%s)" % (k, p),
                ", ".join("%s x%d" % (w_, n) for w_, n in sorted(why.items())),
                ", ".join("%d-%d s: %d" % (b, b + 10, n) for b, n in sorted(bins.items()))))
    for line in extra:
        print("  " + line)
    print()
    sys.stdout.flush()


# ---- attackers (asyncio, one task per connection) ----

class Count:
    def __init__(self):
        self.opened = self.connect_failed = self.closed_by_server = self.reconnects = 0
        self.live = self.live_at_end = 0
        self.live_series = []  # open attacker connections, every 5 s
        self.close_after = []  # seconds from open to the server's close
        self.errors = {}

    def err(self, e):
        n = type(e).__name__
        self.errors[n] = self.errors.get(n, 0) + 1


def describe(cnt, args):
    """Lines on what happened to the attacker's connections."""
    ca = sorted(cnt.close_after)
    fast = sum(1 for x in ca if x < 1.0)
    lines = ["  connections opened %d (%d of them reopened after a close%s), connect failed %d"
             % (cnt.opened, cnt.reconnects, ", %g s later" % args.reconnect_delay if args.reconnect
                else "", cnt.connect_failed),
             "  closed by the server: %d within 1 s of opening, %d later%s; open when the attack"
             " ended: %d" % (fast, len(ca) - fast,
                             " (after %.1f-%.1f s, median %.1f s)" % (
                                 ca[fast], ca[-1], statistics.median(ca[fast:])) if len(ca) > fast else "",
                             cnt.live_at_end),
             "  attacker connections open every 5 s: %s" % " ".join(str(n) for n in cnt.live_series)]
    if cnt.errors:
        lines.append("  errors: %s" % cnt.errors)
    return lines


async def sample_live(cnt, stop_at):
    while True:
        left = stop_at - time.monotonic() - 0.05
        if left <= 0:
            return
        await asyncio.sleep(min(5.0, left))
        cnt.live_series.append(cnt.live)


def src_addr(i, naddrs):
    return "127.0.0.%d" % (2 + i % naddrs)


async def open_from(src, port, rcvbuf=None):
    loop = asyncio.get_running_loop()
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sk.setblocking(False)
    sk.bind((src, 0))
    try:
        await asyncio.wait_for(loop.sock_connect(sk, ("127.0.0.1", port)), 5)
    except BaseException:
        sk.close()
        raise
    return await asyncio.open_connection(sock=sk)


async def watch_close(reader, cnt, t_open):
    """Reads (and drops) until the server closes; records when."""
    try:
        while True:
            d = await reader.read(65536)
            if not d:
                break
    except (OSError, ConnectionError):
        pass
    cnt.closed_by_server += 1
    cnt.close_after.append(time.monotonic() - t_open)


async def slow_conn(i, args, port, first, step, interval, stop_at, cnt):
    """A connection that sends FIRST, then one byte of STEP every INTERVAL s (none if 0); when
    the server closes it (or refuses it), it connects again after --reconnect-delay seconds,
    as a real attacker would, unless --no-reconnect."""
    k = 0
    while time.monotonic() < stop_at:
        if k:
            cnt.reconnects += 1
            await asyncio.sleep(args.reconnect_delay)
            if time.monotonic() >= stop_at:
                break
        k += 1
        try:
            r, w = await open_from(src_addr(i, args.addrs), port)
        except (OSError, asyncio.TimeoutError) as e:
            cnt.connect_failed += 1
            cnt.err(e)
            if not args.reconnect:
                return
            continue
        cnt.opened += 1
        cnt.live += 1
        t_open = time.monotonic()
        closed = asyncio.ensure_future(watch_close(r, cnt, t_open))
        try:
            if first:
                w.write(first)
            # Spread the trickle over the interval so the bytes do not all arrive at once.
            delay = interval * ((i * 0.618) % 1.0) if interval else None
            while time.monotonic() < stop_at and not closed.done():
                wait = min(stop_at - time.monotonic(), delay if delay is not None else 1e9)
                await asyncio.wait([closed], timeout=max(0.0, wait))
                if closed.done() or time.monotonic() >= stop_at:
                    break
                w.write(step)
                delay = interval
        except (OSError, ConnectionError) as e:
            cnt.err(e)
        finally:
            if not closed.done():
                cnt.live_at_end += 1
            closed.cancel()
            cnt.live -= 1
            w.close()
        if not args.reconnect:
            return


async def open_many(n, make, batch=200):
    tasks = []
    for i in range(n):
        tasks.append(asyncio.ensure_future(make(i)))
        if i % batch == batch - 1:
            await asyncio.sleep(0.05)
    return tasks


def run_case(s, args, kinds, attack, phase_names=("before", "attack", "after")):
    threads = [threading.Thread(target=rss_thread, args=(s, args.pid), daemon=True),
               threading.Thread(target=probe_thread, args=(s, kinds, args), daemon=True)]
    s.phase("before")
    for t in threads:
        t.start()
    time.sleep(args.baseline)
    s.phase("attack")
    # "after" starts when the attackers start closing, not when the last one is gone.
    timer = threading.Timer(args.hold, s.phase, ("after",))
    timer.start()
    extra = asyncio.run(attack())
    timer.join()
    time.sleep(args.after)
    s.stop.set()
    for t in threads:
        t.join()
    summary = summarise(s, kinds, phase_names)
    return summary, extra


def case_idle(args, s):
    cnt = Count()

    async def attack():
        stop_at = time.monotonic() + args.hold
        first = b"\x30\x84\x00\x03\xff\xff"  # a 262,143-byte message that never ends

        def make(i):
            trickle = i % 2 == 0
            return slow_conn(i, args, args.ldap_port, first if trickle else b"",
                             b"\x00", args.interval if trickle else 0, stop_at, cnt)
        sampler = asyncio.ensure_future(sample_live(cnt, stop_at))
        tasks = await open_many(args.conns, make)
        await asyncio.gather(sampler, *tasks, return_exceptions=True)

    summary, _ = run_case(s, args, ["ldap"], attack)
    extra = ["attacker: %d connections from %d addresses (127.0.0.2-), half sending 1 byte every %g s"
             " (a message that never ends), the others nothing; held %g s"
             % (args.conns, args.addrs, args.interval, args.hold)] + describe(cnt, args)
    return "case a (idle): %d idle LDAP connections" % args.conns, summary, ["ldap"], extra, {
        "opened": cnt.opened, "connect_failed": cnt.connect_failed, "reconnects": cnt.reconnects,
        "closed_by_server": cnt.closed_by_server, "open_at_end": cnt.live_at_end,
        "live_series": cnt.live_series}


def case_slowloris(args, s):
    cnt = Count()

    async def attack():
        stop_at = time.monotonic() + args.hold
        first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

        def make(i):
            return slow_conn(i, args, args.http_port, first, b"a", args.interval, stop_at, cnt)
        sampler = asyncio.ensure_future(sample_live(cnt, stop_at))
        tasks = await open_many(args.conns, make, batch=100)
        await asyncio.gather(sampler, *tasks, return_exceptions=True)

    kinds = ["healthz", "api"] + (["healthz-port"] if args.health_port else [])
    summary, _ = run_case(s, args, kinds, attack)
    extra = ["attacker: %d connections from %d addresses (127.0.0.2-), a partial header then 1 byte"
             " every %g s, held %g s" % (args.conns, args.addrs, args.interval, args.hold)]
    extra += describe(cnt, args)
    extra.append("  (healthz and api = GET /healthz and GET /v1/organizations?limit=1 on the API port%s)"
                 % (", healthz-port = GET /healthz on the http_health_port listener" if args.health_port
                    else ""))
    return "case d (slowloris): %d slow HTTP connections" % args.conns, summary, kinds, extra, {
        "opened": cnt.opened, "connect_failed": cnt.connect_failed, "reconnects": cnt.reconnects,
        "closed_by_server": cnt.closed_by_server, "open_at_end": cnt.live_at_end,
        "live_series": cnt.live_series}


def case_queue(args, s):
    cnt = Count()
    sent = []
    whole = search_req(SUFFIX, 2, present("objectClass"), ["*"])
    # Pad the same search to about 255 KiB with a non-critical control nobody knows.
    base_len = len(ldap_msg(2, whole, control(OID_PAD, False, b"")))
    pad = max(0, args.req_bytes - base_len - 8)
    padded = [ldap_msg(2 + k, whole, control(OID_PAD, False, b"p" * pad)) for k in range(args.reqs)]
    req_len = len(padded[0])

    async def one(i, stop_at):
        try:
            r, w = await open_from(src_addr(i, args.addrs), args.ldap_port, rcvbuf=4096)
        except (OSError, asyncio.TimeoutError) as e:
            cnt.connect_failed += 1
            cnt.err(e)
            return
        cnt.opened += 1
        n = 0
        eof = False
        try:
            # A staff bind is checked on a bind worker; while it runs, the server keeps reading
            # (and queueing) what follows, so the padded requests are read before the first
            # search's output backs up (a client may pipeline after a bind: RFC 4511 4.2.1
            # asks it not to, nothing stops it). Several binds keep the workers busy longer.
            if args.binds:
                for b in range(args.binds):
                    w.write(ldap_msg(1, bind_req("abuse%d-%d" % (i, b), "wrong password")))
            else:
                w.write(ldap_msg(1, whole))
            for m in padded:
                w.write(m)
                try:
                    await asyncio.wait_for(w.drain(), args.drain_timeout)
                except asyncio.TimeoutError:
                    break
                n += 1
            sent.append(n)
            # Never read; just notice when the server closes (a reset shows up on write).
            while time.monotonic() < stop_at:
                await asyncio.sleep(min(1.0, max(0.0, stop_at - time.monotonic())))
                if w.transport.is_closing() or r.at_eof():
                    eof = True
                    break
        except (OSError, ConnectionError) as e:
            cnt.err(e)
            eof = True
        finally:
            if eof:
                cnt.closed_by_server += 1
            w.transport.abort()

    async def attack():
        stop_at = time.monotonic() + args.hold
        tasks = [asyncio.ensure_future(one(i, stop_at)) for i in range(args.conns)]
        await asyncio.gather(*tasks, return_exceptions=True)

    summary, _ = run_case(s, args, ["ldap"], attack)
    extra = ["attacker: %d connections from %d addresses, receive buffer 4 KiB, never reading: %s,"
             " then up to %d whole-tree searches of %d bytes each; held %g s"
             % (args.conns, args.addrs, "%d staff binds (unknown users)" % args.binds if args.binds
                else "a whole-tree search", args.reqs, req_len, args.hold),
             "  opened %d, connect failed %d; padded requests handed to the kernel per connection:"
             " median %s, min %s, max %s (the rest blocked: the server stopped reading)"
             % (cnt.opened, cnt.connect_failed,
                statistics.median(sent) if sent else "-", min(sent) if sent else "-",
                max(sent) if sent else "-"),
             "  connections the server closed or reset: %d" % cnt.closed_by_server]
    if cnt.errors:
        extra.append("  errors: %s" % cnt.errors)
    return "case c (queue): %d LDAP connections that never read" % args.conns, summary, ["ldap"], extra, {
        "opened": cnt.opened, "req_bytes": req_len, "sent_median": statistics.median(sent) if sent else None,
        "closed_by_server": cnt.closed_by_server}


def http_json(args, method, path, body=None, headers=None):
    h = {"Authorization": "Bearer " + args.key, "Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (args.http_port, path), method=method,
                                 headers=h, data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def case_paged(args, s):
    """Staggered: connection k opens its paged search, then edit k; so each pins a newer snapshot."""
    people = "ou=people," + SUFFIX
    bind_dn = "cn=%s,ou=clients,%s" % (args.client, SUFFIX)
    st, _, orgs = http_json(args, "GET", "/v1/organizations?limit=1")
    if st != 200:
        raise SystemExit("GET /v1/organizations: %s %s" % (st, orgs))
    oid = orgs["items"][0]["id"]
    conns, rows = [], []
    threads = [threading.Thread(target=rss_thread, args=(s, args.pid), daemon=True),
               threading.Thread(target=probe_thread, args=(s, ["ldap"], args), daemon=True)]
    s.phase("before")
    for t in threads:
        t.start()
    time.sleep(args.baseline)
    rss0 = rss_mb(args.pid)
    s.phase("attack")
    for k in range(args.writes):
        if k < args.conns:
            sk = socket.create_connection(("127.0.0.1", args.ldap_port), timeout=30,
                                          source_address=(src_addr(k, args.addrs), 0))
            rd = LdapReader(sk)
            sk.sendall(ldap_msg(1, bind_req(bind_dn, args.key)))
            mid, tag, msg, op, _ = rd.next()
            if tag != 0x61 or result_code(msg, op) != 0:
                raise SystemExit("bind as %s failed: %s" % (bind_dn, result_text(msg, op)))
            n, rc, text, cookie = search_all(rd, sk, 2, search_req(people, 2, present("objectClass"), ["*"]),
                                             paged_control(2, b""))
            if rc != 0 or not cookie:
                raise SystemExit("the first page: result %d %s, %d entries" % (rc, text, n))
            conns.append((sk, rd, cookie))
        # The edit, and wait until the daemon serves it (a new snapshot).
        st, hdrs, org = http_json(args, "GET", "/v1/organizations/%d" % oid)
        val = "abuse bench %d %d" % (os.getpid(), k)
        t0 = time.monotonic()
        st, hdrs, org = http_json(args, "PATCH", "/v1/organizations/%d" % oid, {"hours_en": val},
                                  {"If-Match": hdrs["ETag"]})
        if st != 200:
            raise SystemExit("PATCH: %s %s" % (st, org))
        while time.monotonic() - t0 < 10:
            st, _, cur = http_json(args, "GET", "/v1/organizations/%d" % oid)
            if st == 200 and cur.get("hours_en") == val:
                break
            time.sleep(0.02)
        visible_ms = (time.monotonic() - t0) * 1000
        # Let the probe build the new snapshot's LDAP view, then read RSS.
        time.sleep(args.settle)
        rows.append((k + 1, len(conns), visible_ms, rss_mb(args.pid)))
    s.phase("held")
    time.sleep(args.hold)
    rss_held = rss_mb(args.pid)
    # Every connection asks for its next page.
    outcomes = {}
    for i, (sk, rd, cookie) in enumerate(conns):
        try:
            n, rc, text, _ = search_all(rd, sk, 3, search_req(people, 2, present("objectClass"), ["*"]),
                                        paged_control(2, cookie))
            key = "result %d%s, %d entries" % (rc, " (%s)" % text if text else "", n)
        except (OSError, ConnectionError) as e:
            key = "connection: %s" % type(e).__name__
        outcomes[key] = outcomes.get(key, 0) + 1
    s.phase("after")
    for sk, _, _ in conns:
        try:
            sk.sendall(ldap_msg(9, b"\x42\x00"))
        except OSError:
            pass
        sk.close()
    time.sleep(args.after)
    s.stop.set()
    for t in threads:
        t.join()
    phases = ("before", "attack", "held", "after")
    summary = summarise(s, ["ldap"], phases)
    extra = ["attacker: %d connections bound as %s, each with an open paged search of ou=people"
             " (page size 2, all attributes), opened one before each of the first %d of %d edits"
             % (args.conns, args.client, args.conns, args.writes),
             "RSS before the first edit: %.0f MB" % rss0,
             "%-8s %-18s %-16s %s" % ("edit", "open paged", "visible after", "RSS MB")]
    for k, n, vis, r in rows:
        extra.append("%-8d %-18d %-16s %.0f" % (k, n, "%.0f ms" % vis, r))
    extra.append("after %g s more with the searches held: %.0f MB" % (args.hold, rss_held))
    extra.append("next page on each connection: %s" % "; ".join(
        "%s x%d" % (k, n) for k, n in sorted(outcomes.items())))
    extra.append("RSS %g s after closing them: %.0f MB" % (args.after, summary["after"]["rss_last"] or 0))
    return ("case b (paged): %d open paged searches across %d edits" % (args.conns, args.writes),
            summary, ["ldap"], extra, {"rss0": rss0, "per_edit": rows, "rss_held": rss_held,
                                       "next_page": outcomes}, phases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case", choices=["idle", "paged", "queue", "slowloris"])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--ldap-port", type=int, required=True)
    ap.add_argument("--key", default="")
    ap.add_argument("--client", default="abuse-admin", help="API client name to bind as (paged)")
    ap.add_argument("--conns", type=int)
    ap.add_argument("--addrs", type=int, help="attacker source addresses, 127.0.0.2 onwards")
    ap.add_argument("--hold", type=float)
    ap.add_argument("--interval", type=float, help="seconds between trickled bytes")
    ap.add_argument("--no-reconnect", dest="reconnect", action="store_false",
                    help="idle, slowloris: a connection the server closes is not opened again")
    ap.add_argument("--reconnect-delay", type=float, default=0.2)
    ap.add_argument("--health-port", type=int, default=0,
                    help="slowloris: also probe /healthz on this /healthz-only listener")
    ap.add_argument("--reqs", type=int, default=72, help="queue: padded requests per connection")
    ap.add_argument("--req-bytes", type=int, default=255 * 1024)
    ap.add_argument("--drain-timeout", type=float, default=3.0)
    ap.add_argument("--binds", type=int, default=8,
                    help="queue: staff binds (unknown users) sent first; 0: a whole-tree search")
    ap.add_argument("--writes", type=int, default=10, help="paged: edits")
    ap.add_argument("--settle", type=float, default=1.0, help="paged: seconds after each edit")
    ap.add_argument("--baseline", type=float, default=5.0)
    ap.add_argument("--after", type=float, default=5.0)
    ap.add_argument("--probe-timeout", type=float, default=5.0)
    ap.add_argument("--json", help="append the numbers as one JSON line to this file")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    defaults = {"idle": dict(conns=4200, addrs=16, hold=60, interval=5),
                "paged": dict(conns=8, addrs=1, hold=10, interval=0),
                "queue": dict(conns=40, addrs=40, hold=45, interval=0),
                "slowloris": dict(conns=1030, addrs=8, hold=60, interval=8)}[args.case]
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    s = Samples()
    fn = {"idle": case_idle, "paged": case_paged, "queue": case_queue,
          "slowloris": case_slowloris}[args.case]
    res = fn(args, s)
    title, summary, kinds, extra, data = res[:5]
    phases = res[5] if len(res) > 5 else ("before", "attack", "after")
    print_table(title + (" [%s]" % args.label if args.label else ""), summary, kinds, phases, extra)
    if args.json:
        with open(args.json, "a") as f:
            t0 = s.phases[0][0]
            series, last = [], -1
            for t, v in s.rss:  # one sample a second
                if int(t - t0) != last:
                    last = int(t - t0)
                    series.append((last, s.phase_of(t), round(v)))
            f.write(json.dumps({"case": args.case, "label": args.label, "args": vars(args),
                                "summary": summary, "data": data, "rss_per_s": series},
                               default=str) + "\n")


if __name__ == "__main__":
    main()
