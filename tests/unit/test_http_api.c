/* test_http_api.c - unit tests for the API without a network or a database: requests made
 * from arrays (dir_http_req_new) through dir_http_dispatch and dir_api_handle over a small
 * snapshot, session tokens against logout marks, and the username case folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir_api.h"
#include "dir_cfg.h"
#include "dir_entry.h"
#include "dir_http.h"
#include "dir_log.h"
#include "dir_model.h"
#include "dir_session.h"
#include "dir_text.h"

static const uint8_t key[32] = "unit-session-key-0123456789abcde";

static struct dir_model *build(const char *revoked)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    uint8_t h[DIR_AUTH_HASH_LEN];
    dir_auth_hash("unit-key-caseworker", h);
    dir_model_add_client(b, h, "unit-caseworker", "caseworker", 0, false);
    if (revoked) dir_model_add_revoked(b, revoked);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    return m;
}

struct answer {
    int status;
    const char *allow;
    json_t *json;
};

static struct answer run(struct dir_api *api, const char *method, const char *path,
                         const struct dir_http_kv *args, size_t nargs,
                         const struct dir_http_kv *hdrs, size_t nhdrs)
{
    struct dir_http_req *req =
        dir_http_req_new(method, path, args, nargs, hdrs, nhdrs, "", 0, "127.0.0.1");
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(dir_api_handle, api, req, &resp);
    struct answer a = {.status = resp.status, .allow = resp.allow};
    if (resp.body.len) {
        assert_true(dir_text_utf8_valid(resp.body.data, resp.body.len));
        json_error_t e;
        a.json = json_loadb(resp.body.data, resp.body.len, 0, &e);
        assert_non_null(a.json);
    }
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
    return a;
}

static const char *field0(const struct answer *a)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(a->json, "errors"), 0), "field"));
}

static void requests_from_arrays(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_entry_configure(DIR_ENTRY_DEFAULT_SUFFIX, err, sizeof err), DIR_OK);
    struct dir_model *m = build(NULL);
    struct dir_api api = {.model = m, .central_ref = "x"};

    struct dir_http_kv bad_kind[] = {{"kind", "\xff", 1}};
    struct answer a = run(&api, "GET", "/v1/areas", bad_kind, 1, NULL, 0);
    assert_int_equal(a.status, 400);
    assert_string_equal(field0(&a), "kind");
    json_decref(a.json);

    struct dir_http_kv bad_name[] = {{"\xff", "1", 1}};
    a = run(&api, "GET", "/v1/areas", bad_name, 1, NULL, 0);
    assert_int_equal(a.status, 400);
    assert_string_equal(field0(&a), "\xef\xbf\xbd");
    json_decref(a.json);

    struct dir_http_kv since[] = {{"since", "9223372036854775807", 19}};
    a = run(&api, "GET", "/v1/changes", since, 1, NULL, 0);
    assert_int_equal(a.status, 200);
    json_decref(a.json);

    /* The key followed by a NUL and junk is not the key. */
    static const char good[] = "Bearer unit-key-caseworker",
                      nul[] = "Bearer unit-key-caseworker\0junk";
    struct dir_http_kv auth[] = {{"Authorization", good, sizeof good - 1}};
    a = run(&api, "GET", "/v1/people", NULL, 0, auth, 1);
    assert_int_equal(a.status, 200);
    json_decref(a.json);
    auth[0] = (struct dir_http_kv){"Authorization", nul, sizeof nul - 1};
    a = run(&api, "GET", "/v1/people", NULL, 0, auth, 1);
    assert_int_equal(a.status, 400);
    json_decref(a.json);

    /* /v1/search reads limit like the other lists: "+5" and " 5" are not numbers. */
    static const char *const bad_limits[] = {"+5", " 5", "5 ", "0", "501", "1e3"};
    for (size_t i = 0; i < sizeof bad_limits / sizeof bad_limits[0]; i++) {
        struct dir_http_kv lim[] = {{"limit", bad_limits[i], strlen(bad_limits[i])}};
        a = run(&api, "GET", "/v1/search", lim, 1, NULL, 0);
        assert_int_equal(a.status, 400);
        assert_string_equal(field0(&a), "limit");
        json_decref(a.json);
    }
    struct dir_http_kv lim5[] = {{"limit", "5", 1}};
    a = run(&api, "GET", "/v1/search", lim5, 1, NULL, 0);
    assert_int_equal(a.status, 200);
    json_decref(a.json);

    a = run(&api, "DELETE", "/healthz", NULL, 0, NULL, 0);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "GET, HEAD");
    json_decref(a.json);

    /* Without a database, writes fail cleanly. */
    a = run(&api, "POST", "/v1/organizations", NULL, 0, NULL, 0);
    assert_int_equal(a.status, 503);
    json_decref(a.json);
    dir_model_release(m);
}

/* A token signed with KEY, as the server makes them. */
static void sign(const char *body, char *out, size_t n)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[65];
    crypto_auth_hmacsha256(mac, (const unsigned char *)body, strlen(body), key);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, n, "%s.%s", body, hex);
}

static void logout_marks_end_older_sessions(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    struct dir_cfg cfg;
    dir_cfg_defaults(&cfg);
    struct dir_sessions *s = dir_session_new_for_tests(&cfg, key);
    char mark[200], body[300], token[400], uhex[64];
    sodium_bin2hex(uhex, sizeof uhex, (const unsigned char *)"malee.s", 7);
    snprintf(mark, sizeof mark, "u.%s.%lld", uhex, 1764633600000LL);
    struct dir_model *m = build(mark);
    struct dir_session_info info;
    long long exp = (long long)time(NULL) + 3600;

    snprintf(body, sizeof body, "v2.%s.person.caseworker.%lld.%lld.%s",
             "abababababababababababababababab", 1764633600000LL - 1, exp, uhex);
    sign(body, token, sizeof token);
    assert_false(dir_session_verify(s, m, token, &info)); /* issued before the logout */
    snprintf(body, sizeof body, "v2.%s.person.caseworker.%lld.%lld.%s",
             "abababababababababababababababab", 1764633600000LL + 1, exp, uhex);
    sign(body, token, sizeof token);
    assert_true(dir_session_verify(s, m, token, &info)); /* after it */
    assert_string_equal(info.username, "malee.s");
    assert_int_equal(info.role, DIR_ROLE_CASEWORKER);
    /* A tampered token is refused. */
    token[5] ^= 1;
    assert_false(dir_session_verify(s, m, token, &info));
    /* Signed, but not a username of UTF-8 text, or of an unknown kind. */
    snprintf(body, sizeof body, "v2.%s.person.caseworker.1.%lld.6bd2",
             "abababababababababababababababab", exp);
    sign(body, token, sizeof token);
    assert_false(dir_session_verify(s, m, token, &info));
    snprintf(body, sizeof body, "v2.%s.robot.admin.1.%lld.%s", "abababababababababababababababab",
             exp, uhex);
    sign(body, token, sizeof token);
    assert_false(dir_session_verify(s, m, token, &info));
    dir_model_release(m);
    dir_session_free(s);
}

static void usernames_fold_like_ldap(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"Brake.Evict", "brake.evict"},
        {"BRAKE.EVICT", "brake.evict"},
        {"\xc3\x80\xc3\x89\xc3\x8e", "\xc3\xa0\xc3\xa9\xc3\xae"}, /* ÀÉÎ */
        {"\xce\x91\xce\x92\xce\x93", "\xce\xb1\xce\xb2\xce\xb3"}, /* ΑΒΓ */
        {"\xd0\x94\xd0\x96\xd0\x81", "\xd0\xb4\xd0\xb6\xd1\x91"}, /* ДЖЁ */
        {"\xc4\x80\xc5\x81", "\xc4\x81\xc5\x82"},                 /* ĀŁ */
        {"สมชาย", "สมชาย"},
        {"a\xff"
         "B",
         "a\xff"
         "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = dir_text_casefold_dup(cases[i][0]);
        assert_string_equal(f, cases[i][1]);
        free(f);
    }
}

/* Issue 11, finding 5: the failed-login brake cannot be reset by an attacker who floods it.
 * Failures here are empty passwords: counted like wrong ones, with no database or LDAP. A
 * table of 32 entries stands for the default 16,384. */
static enum dir_login try_login(struct dir_sessions *s, const char *user, const char *addr)
{
    char token[512], err[256];
    struct dir_session_info info;
    int retry = 0;
    enum dir_login r =
        dir_session_login(s, user, "", addr, token, sizeof token, &info, &retry, err, sizeof err);
    if (r == DIR_LOGIN_LIMITED) assert_true(retry > 0);
    return r;
}

/* N new usernames fail COUNT times each, each from an address of its own (no address brake).
 * Returns how many of them were refused at once (429). */
static int flood(struct dir_sessions *s, const char *prefix, int n, int count)
{
    char user[32], addr[32];
    int refused = 0;
    for (int i = 0; i < n; i++) {
        snprintf(user, sizeof user, "%s%04d", prefix, i);
        snprintf(addr, sizeof addr, "198.51.%d.%d", i / 250, i % 250);
        for (int k = 0; k < count; k++)
            if (try_login(s, user, addr) == DIR_LOGIN_LIMITED) {
                refused++;
                break;
            }
    }
    return refused;
}

static void brake_cannot_be_evicted(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    struct dir_cfg cfg;
    dir_cfg_defaults(&cfg);
    cfg.login_brake_slots = 32;
    struct dir_sessions *s = dir_session_new_for_tests(&cfg, key);
    /* A braked name stays braked, in any letter case, however many names fail after it. */
    for (int k = 0; k < 5; k++)
        assert_int_equal(try_login(s, "Brake.Target", "192.0.2.1"), DIR_LOGIN_BAD);
    assert_int_equal(try_login(s, "brake.target", "192.0.2.1"), DIR_LOGIN_LIMITED);
    flood(s, "one", 200, 1);
    assert_int_equal(try_login(s, "BRAKE.TARGET", "203.0.113.9"), DIR_LOGIN_LIMITED);
    /* A table full of braked names refuses new names rather than evicting one of them. */
    assert_true(flood(s, "full", 100, 5) > 0);
    assert_int_equal(try_login(s, "Brake.Target", "203.0.113.12"), DIR_LOGIN_LIMITED);
    assert_int_equal(try_login(s, "newcomer", "203.0.113.13"), DIR_LOGIN_LIMITED);
    dir_session_free(s);
}

/* Review of issue 11, item 1: a username is [a-z0-9._@-]{1,64} after ASCII lower-casing;
 * other spellings the city LDAP would match to the same uid never get a brake entry of their
 * own, and count against their address. */
static void usernames_are_strict(void **state)
{
    (void)state;
    char out[65];
    assert_true(dir_session_username("Spell.Me", out));
    assert_string_equal(out, "spell.me");
    assert_true(dir_session_username("a-b_c@city.example", out));
    static const char *const refused[] = {
        "",
        " spell.me",
        "spell.me ",
        "spell.me  ",
        "spell. me",
        "spell.me\t",
        "\xef\xbd\x93\xef\xbd\x90\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c.me", /* full-width */
        "\xc3\x80"
        "b",
        "สมชาย",
        "a\nb",
        "x0123456789012345678901234567890123456789012345678901234567890123"}; /* 65 */
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_false(dir_session_username(refused[i], out));
        assert_string_equal(out, "");
    }
    char shown[32];
    dir_session_log_name("x\nFORGED", shown, sizeof shown);
    assert_string_equal(shown, "x\\x0aFORGED");
    dir_session_log_name("abcdefghijklmnopqrstuvwxyz0123456789", shown, 8);
    assert_true(strlen(shown) < 8);

    assert_true(sodium_init() >= 0);
    struct dir_cfg cfg;
    dir_cfg_defaults(&cfg);
    struct dir_sessions *s = dir_session_new_for_tests(&cfg, key);
    for (int k = 0; k < 5; k++)
        assert_int_equal(try_login(s, "spell.me", "192.0.2.1"), DIR_LOGIN_BAD);
    assert_int_equal(try_login(s, "Spell.Me", "192.0.2.2"), DIR_LOGIN_LIMITED);
    /* Refused outright, never a fresh try under another name. */
    for (size_t i = 1; i < 7; i++)
        assert_int_equal(try_login(s, refused[i], "192.0.2.3"), DIR_LOGIN_BAD);
    /* ... and counted against the address: 20 of them brake it. */
    for (int k = 0; k < 14; k++)
        assert_int_equal(try_login(s, " odd", "192.0.2.3"), DIR_LOGIN_BAD);
    assert_int_equal(try_login(s, "other.name", "192.0.2.3"), DIR_LOGIN_LIMITED);
    assert_int_equal(try_login(s, "other.name", "192.0.2.4"), DIR_LOGIN_BAD);
    dir_session_free(s);
}

int main(void)
{
    dir_log_set_level((enum dir_log_level)(DIR_LOG_ERROR + 1));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests_from_arrays),
        cmocka_unit_test(logout_marks_end_older_sessions),
        cmocka_unit_test(usernames_fold_like_ldap),
        cmocka_unit_test(brake_cannot_be_evicted),
        cmocka_unit_test(usernames_are_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
