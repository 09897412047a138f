"""Readers hammering the API while changes are applied see no errors and no torn state.

Two organisations are renamed together in one transaction, many times; every answer must
show both with the same generation (a snapshot is never half a transaction). scripts/test
runs this on the sanitizer build too."""
import threading
import time

from conftest import psql, wait_for


def test_no_errors_and_no_torn_reads(api, daemon):
    psql(daemon.db_url, """
        INSERT INTO organization (ref, name_th, name_en, type, sector, area_code) VALUES
          ('it-torn-a', 'ทดสอบ ก', 'torncheck a 0', 'ngo', 'ngo', '1015'),
          ('it-torn-b', 'ทดสอบ ข', 'torncheck b 0', 'ngo', 'ngo', '1015');
        INSERT INTO offering (organization_id, service_code)
          SELECT id, 'goods' FROM organization WHERE ref IN ('it-torn-a', 'it-torn-b');""")
    ok, _ = wait_for(lambda: len(api.get("/v1/organizations", {"q": "torncheck"})[2]["items"]) == 2)
    assert ok
    stop = threading.Event()
    problems, counts = [], {"reads": 0}
    lock = threading.Lock()

    def reader(i):
        while not stop.is_set():
            try:
                if i % 2:
                    status, _, d = api.get("/v1/organizations", {"q": "torncheck"})
                    names = [o["name_en"] for o in d["items"]]
                else:
                    status, _, d = api.get("/v1/resolve", {"area": "1015", "need": "goods"})
                    names = [o["name_en"] for o in d["items"] if o["name_en"].startswith("torncheck")]
                gens = {n.rsplit(" ", 1)[1] for n in names}
                if status != 200 or len(names) != 2 or len(gens) != 1:
                    with lock:
                        problems.append((status, names))
                with lock:
                    counts["reads"] += 1
            except Exception as e:  # any transport error is a failure too
                with lock:
                    problems.append(repr(e))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        for gen in range(1, 26):
            psql(daemon.db_url, "BEGIN; UPDATE organization SET name_en = 'torncheck a %d' WHERE ref = 'it-torn-a'; "
                                "UPDATE organization SET name_en = 'torncheck b %d' WHERE ref = 'it-torn-b'; COMMIT;"
                 % (gen, gen))
            time.sleep(0.06)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not problems, problems[:5]
    assert counts["reads"] > 100
    final, _ = wait_for(lambda: sorted(o["name_en"] for o in api.get(
        "/v1/organizations", {"q": "torncheck"})[2]["items"]) == ["torncheck a 25", "torncheck b 25"])
    assert final
