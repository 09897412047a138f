#!/usr/bin/env python3
"""bench/change-visibility.py - how long an edit takes to show in directoryd's answers.

Each round changes one organisation's name_en with psql (an UPDATE in its own transaction,
like a coordinator's edit), then polls GET /v1/organizations/{id} every 10 ms until the new
name is served.  Prints one machine-readable line per round:

    VISIBLE round=N psql_ms=P after_commit_ms=A total_ms=T polls=K

psql_ms is how long psql took (start-up, connect, UPDATE, COMMIT); after_commit_ms runs from
psql's return (the commit is durable) to the first answer carrying the new name; total_ms is
psql_ms + after_commit_ms.  Python standard library only.

    bench/change-visibility.py --db URL --http http://127.0.0.1:PORT --org ID [--rounds 5]
"""
import argparse
import http.client
import json
import subprocess
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="libpq URL of the database")
    ap.add_argument("--http", required=True, help="directoryd base URL (http://127.0.0.1:PORT)")
    ap.add_argument("--org", required=True, type=int, help="organisation id to edit")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--poll-ms", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per round")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between rounds")
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.http)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    path = "/v1/organizations/%d" % a.org

    def served_name():
        nonlocal conn
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            return None
        if r.status != 200:
            return None
        return json.loads(body).get("name_en")

    original = served_name()
    if original is None:
        print("change-visibility: GET %s did not answer 200" % path, file=sys.stderr)
        return 1
    failed = False
    for n in range(1, a.rounds + 1):
        name = "Bench visibility round %d %d" % (n, time.time_ns())
        sql = "UPDATE organization SET name_en = :'v' WHERE id = %d;\n" % a.org
        t0 = time.monotonic()
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "v=" + name,
                            "-d", a.db], input=sql.encode(), capture_output=True)
        t1 = time.monotonic()
        if p.returncode != 0:
            print("change-visibility: psql failed: %s" % p.stderr.decode(errors="replace"),
                  file=sys.stderr)
            return 1
        polls = 0
        seen = None
        while time.monotonic() - t1 < a.timeout:
            polls += 1
            if served_name() == name:
                seen = time.monotonic()
                break
            # Poll every poll_ms, counted from the start of each poll.
            next_at = t1 + polls * a.poll_ms / 1000.0
            delay = next_at - time.monotonic()
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


if __name__ == "__main__":
    sys.exit(main())
