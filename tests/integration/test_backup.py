"""Backup and restore as docs/operations.md describes it: pg_dump a populated database (the
demo directory and writes made through the API), pg_restore it into a new cluster, start a
daemon on the copy and compare what it answers with the original daemon's answers."""
import json
import os
import subprocess
import threading

import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, PGCTL, Daemon, free_port, make_demo_db, psql

JSON = {"Content-Type": "application/json"}
# Both daemons compute open_now for the same instant, so their answers can be compared.
NOW = {"DIRECTORYD_TEST_NOW": "2026-06-01T10:00:00+07:00"}

SAMPLE = [
    ("/v1/organizations", {"limit": 500}, None),
    ("/v1/organizations", {"area": "1033", "limit": 50}, CASEWORKER_KEY),
    ("/v1/people", {"limit": 500}, CASEWORKER_KEY),
    ("/v1/areas", {"kind": "district", "limit": 100}, None),
    ("/v1/resolve", {"area": "103301", "need": "counselling", "group": "street_children"},
     CASEWORKER_KEY),
    ("/v1/resolve", {"area": "1015", "need": "goods"}, None),
    ("/v1/changes", {"since": 0}, None),
]


def answers(daemon, extra):
    out = {}
    for path, params, key in SAMPLE + extra:
        status, _, body = daemon.http.get(path, params, key=key)
        assert status == 200, (path, body)
        out[(path, json.dumps(params, sort_keys=True), key)] = body
    return out


@pytest.mark.normal_only
def test_pg_dump_restored_into_a_new_cluster_answers_the_same(pg, workdir):
    # The new cluster (pgctl makes an empty directoryd database) is made meanwhile: initdb
    # is most of this test's time.
    copy_dir, port = os.path.join(workdir, "restored-cluster"), free_port()
    made = []
    maker = threading.Thread(target=lambda: made.append(
        subprocess.run([PGCTL, "start", copy_dir, str(port)]).returncode))
    maker.start()
    url = make_demo_db(pg)
    orig = Daemon(url, workdir, NOW)
    restored = None
    try:
        # Some writes on top of the demo directory.
        body = {"name_th": "หน่วยสำรองข้อมูล", "name_en": "Backup test unit", "type": "ngo",
                "sector": "ngo", "area": "1033",
                "contacts": [{"kind": "phone", "value": "02 765 4321"},
                             {"kind": "mobile", "value": "089-111-2222", "public": False}]}
        status, hdrs, org = orig.http.request("POST", "/v1/organizations", key=ADMIN_KEY,
                                              headers=JSON, body=json.dumps(body).encode())
        assert status == 201, org
        status, _, o2 = orig.http.request(
            "PATCH", "/v1/organizations/%d" % org["id"], key=ADMIN_KEY,
            headers=dict(JSON, **{"If-Match": hdrs["ETag"]}),
            body=json.dumps({"hours_th": "จ-ศ 8:30-16:30"}).encode())
        assert status == 200, o2
        extra = [("/v1/organizations/%d" % org["id"], {}, CASEWORKER_KEY)]

        # The backup: one custom-format file, as the nightly job in docs/operations.md.
        dump = os.path.join(workdir, "directoryd.dump")
        subprocess.run(["pg_dump", "--format=custom", "--file", dump, url], check=True)

        # The restore into the new cluster.
        maker.join()
        assert made == [0], "the new cluster did not start"
        copy_url = "postgresql://postgres@127.0.0.1:%d/directoryd" % port
        subprocess.run(["pg_restore", "--exit-on-error", "--no-owner", "--dbname", copy_url, dump],
                       check=True)
        restored = Daemon(copy_url, workdir, NOW)
        assert "applied migrations/" not in restored.read_log()  # the dump had them all

        # The same snapshot sequence, the same change log, the same answers.
        _, _, h1 = orig.http.get("/healthz")
        _, _, h2 = restored.http.get("/healthz")
        assert h1["seq"] == h2["seq"] > 0 and h1["model"] == dict(h2["model"],
                                                                   built_at=h1["model"]["built_at"])
        a1, a2 = answers(orig, extra), answers(restored, extra)
        for k in a1:
            assert a1[k] == a2[k], k
        assert a2[("/v1/organizations/%d" % org["id"], "{}", CASEWORKER_KEY)]["hours_th"] == \
            "จ-ศ 8:30-16:30"

        # The copy is a working primary: its sequences continue after the restored rows.
        status, _, org3 = restored.http.request("POST", "/v1/organizations", key=ADMIN_KEY,
                                                headers=JSON,
                                                body=json.dumps(dict(body, name_en="After")).encode())
        assert status == 201 and org3["id"] > org["id"], org3
        assert int(psql(copy_url, "SELECT max(seq) FROM change_log")) > h1["seq"]
    finally:
        maker.join()
        orig.stop()
        if restored:
            restored.stop()
        subprocess.run([PGCTL, "stop", copy_dir], check=False)
