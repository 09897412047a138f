"""Admins manage local accounts over HTTP (/v1/admin/accounts...): create, list, new
password, disable, enable. Admin only, audited, argon2id, the password never echoed, logged
or audited; disabling ends the account's sessions at once, a new password ends them too.
API clients' list shows their last use."""
import json

import pytest

from conftest import ADMIN_KEY, CASEWORKER_KEY, Daemon, make_demo_db, psql, wait_for
from test_session import call, login

PW = "partner-pass-0001"


@pytest.fixture(scope="module")
def admind(pg, workdir):
    db = make_demo_db(pg, **{"it-coordinator": ("coordinator", "it-coordinator-key-0123456789")})
    d = Daemon(db, workdir)
    yield d
    d.stop()


def admin(d, method, path, body=None, key=ADMIN_KEY):
    return call(d, method, path, body, headers={"Authorization": "Bearer " + key})


def test_create_list_login_and_audit_without_the_password(admind):
    s, _, acc = admin(admind, "POST", "/v1/admin/accounts",
                      {"username": "Partner.One", "password": PW, "role": "coordinator",
                       "display_name": "คุณหนึ่ง มูลนิธิ"})
    assert s == 201, acc
    assert acc["username"] == "partner.one" and acc["role"] == "coordinator"
    assert acc["display_name"] == "คุณหนึ่ง มูลนิธิ" and acc["disabled"] is False
    assert "password" not in acc and "password_hash" not in acc
    s, _, lst = admin(admind, "GET", "/v1/admin/accounts")
    assert s == 200
    row = [a for a in lst["items"] if a["username"] == "partner.one"][0]
    assert row["role"] == "coordinator" and "password_hash" not in json.dumps(lst)
    assert psql(admind.db_url, "SELECT password_hash LIKE '$argon2id$%' FROM local_account "
                "WHERE username = 'partner.one'") == "t"
    s, data, cookie, _ = login(admind, "partner.one", PW)
    assert s == 200 and data["kind"] == "local" and data["role"] == "coordinator"
    # Audited, with who did it, and never the password or its hash.
    audit = psql(admind.db_url, "SELECT actor || ' ' || action || ' ' || after::text FROM audit "
                 "WHERE entity = 'local_account' AND entity_id = 'partner.one'")
    assert audit.startswith("it-admin create") and "คุณหนึ่ง" in audit
    assert PW not in audit and "argon2" not in audit
    assert PW not in admind.read_log()
    # The same name again is a conflict, nothing changed.
    s, _, p = admin(admind, "POST", "/v1/admin/accounts",
                    {"username": "partner.one", "password": "another-pass-1", "role": "admin"})
    assert s == 409, p
    assert login(admind, "partner.one", PW)[0] == 200


def test_bad_bodies_name_the_field_and_never_echo_the_password(admind):
    s, _, p = admin(admind, "POST", "/v1/admin/accounts",
                    {"username": "x y", "password": "short-pw", "role": "boss", "extra": 1})
    assert s == 400
    fields = {e["field"] for e in p["errors"]}
    assert fields == {"username", "password", "role", "extra"}, p
    assert "short-pw" not in json.dumps(p)
    s, _, p = call(admind, "POST", "/v1/admin/accounts", None,
                   headers={"Authorization": "Bearer " + ADMIN_KEY,
                            "Content-Type": "application/json"})
    assert s == 400
    s, _, p = admin(admind, "POST", "/v1/admin/accounts/nobody.here/password",
                    {"password": "long-enough-pass"})
    assert s == 404, p
    assert psql(admind.db_url, "SELECT count(*) FROM local_account WHERE username = 'x y'") == "0"


def test_admin_only(admind):
    body = {"username": "sneaky.one", "password": PW, "role": "admin"}
    assert admin(admind, "POST", "/v1/admin/accounts", body, key=CASEWORKER_KEY)[0] == 403
    assert admin(admind, "POST", "/v1/admin/accounts", body,
                 key="it-coordinator-key-0123456789")[0] == 403
    assert call(admind, "GET", "/v1/admin/accounts")[0] == 401
    assert call(admind, "POST", "/v1/admin/accounts", body)[0] == 401
    assert psql(admind.db_url, "SELECT count(*) FROM local_account WHERE username = 'sneaky.one'") == "0"


def test_disable_ends_sessions_at_once_and_enable_restores_login(admind):
    assert admin(admind, "POST", "/v1/admin/accounts",
                 {"username": "partner.two", "password": PW, "role": "caseworker"})[0] == 201
    s, _, cookie, _ = login(admind, "partner.two", PW)
    assert s == 200
    assert call(admind, "GET", "/v1/session", cookie=cookie)[0] == 200
    s, _, acc = admin(admind, "POST", "/v1/admin/accounts/partner.two/disable")
    assert s == 200 and acc["disabled"] is True and acc["disabled_at"]
    # The open session is refused on its very next request, and a new login fails.
    assert call(admind, "GET", "/v1/session", cookie=cookie)[0] == 401
    assert login(admind, "partner.two", PW)[0] == 401
    s, _, acc = admin(admind, "POST", "/v1/admin/accounts/partner.two/enable")
    assert s == 200 and acc["disabled"] is False and acc["disabled_at"] is None
    assert login(admind, "partner.two", PW)[0] == 200
    actions = psql(admind.db_url, "SELECT string_agg(action, ',' ORDER BY id) FROM audit "
                   "WHERE entity = 'local_account' AND entity_id = 'partner.two'")
    assert actions == "create,disable,enable"


def test_new_password_replaces_the_old_and_ends_sessions(admind):
    assert admin(admind, "POST", "/v1/admin/accounts",
                 {"username": "partner.three", "password": PW, "role": "caseworker"})[0] == 201
    s, _, cookie, _ = login(admind, "partner.three", PW)
    assert s == 200
    new = "brand-new-pass-3"
    s, _, acc = admin(admind, "POST", "/v1/admin/accounts/partner.three/password",
                      {"password": new})
    assert s == 200 and "password" not in acc
    assert call(admind, "GET", "/v1/session", cookie=cookie)[0] == 401
    assert login(admind, "partner.three", PW)[0] == 401
    assert login(admind, "partner.three", new)[0] == 200
    audit = psql(admind.db_url, "SELECT before::text || after::text FROM audit WHERE "
                 "entity = 'local_account' AND entity_id = 'partner.three' AND action = 'password'")
    assert audit and new not in audit and "argon2" not in audit
    assert new not in admind.read_log()


def test_session_admin_needs_csrf(admind):
    assert admin(admind, "POST", "/v1/admin/accounts",
                 {"username": "local.admin", "password": PW, "role": "admin"})[0] == 201
    s, data, cookie, _ = login(admind, "local.admin", PW)
    assert s == 200
    body = {"username": "made.by.session", "password": PW, "role": "caseworker"}
    assert call(admind, "POST", "/v1/admin/accounts", body, cookie=cookie)[0] == 403
    s, _, acc = call(admind, "POST", "/v1/admin/accounts", body, cookie=cookie,
                     headers={"X-CSRF-Token": data["csrf_token"]})
    assert s == 201, acc
    assert psql(admind.db_url, "SELECT actor_kind || ':' || actor FROM audit WHERE "
                "entity_id = 'made.by.session'") == "local:local.admin"


def test_api_clients_show_their_last_use(admind):
    s, _, c = admin(admind, "POST", "/v1/admin/api-clients", {"name": "use-me", "role": "caseworker"})
    assert s == 201
    s, _, lst = admin(admind, "GET", "/v1/admin/api-clients")
    row = [x for x in lst["items"] if x["name"] == "use-me"][0]
    assert row["last_used_at"] is None
    # (The create waits up to 3 s for the daemon to load the client: longer on a loaded
    # sanitizer build.)
    ok, _ = wait_for(lambda: admin(admind, "GET", "/v1/people?limit=1", key=c["secret"])[0] == 200,
                     timeout=15)
    assert ok
    s, _, lst = admin(admind, "GET", "/v1/admin/api-clients")
    row = [x for x in lst["items"] if x["name"] == "use-me"][0]
    assert row["last_used_at"], row


def test_staff_roles_are_listed_for_admins(admind):
    s, _, r = admin(admind, "PUT", "/v1/admin/staff-roles/somchai.j", {"role": "coordinator"})
    assert s == 200, r
    s, _, lst = admin(admind, "GET", "/v1/admin/staff-roles")
    assert s == 200
    row = [x for x in lst["items"] if x["username"] == "somchai.j"][0]
    assert row["role"] == "coordinator" and row["set_by"] == "it-admin"
    assert admin(admind, "GET", "/v1/admin/staff-roles", key=CASEWORKER_KEY)[0] == 403
    assert admin(admind, "PUT", "/v1/admin/staff-roles/somchai.j", {"role": None})[0] == 200
    s, _, lst = admin(admind, "GET", "/v1/admin/staff-roles")
    assert not [x for x in lst["items"] if x["username"] == "somchai.j"]


def test_last_use_reaches_postgresql_without_anyone_listing(admind):
    # Requests only note the use in memory; the refresher thread writes it within seconds.
    s, _, c = admin(admind, "POST", "/v1/admin/api-clients", {"name": "use-me-quietly", "role": "caseworker"})
    assert s == 201
    ok, _ = wait_for(lambda: admin(admind, "GET", "/v1/people?limit=1", key=c["secret"])[0] == 200,
                     timeout=15)
    assert ok
    ok, _ = wait_for(lambda: psql(admind.db_url, "SELECT count(*) FROM api_client_use u JOIN "
                                  "api_client c ON c.id = u.client_id WHERE c.name = "
                                  "'use-me-quietly'") == "1", timeout=20, step=0.5)
    assert ok
