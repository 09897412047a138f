/* test_webui.c - unit tests for the web UI's static files (dir_webui): content types, cache
 * rules, the strict path lookup (traversal attempts never name a file), Accept-Encoding and
 * If-None-Match, and whole answers from requests made with arrays, through dir_api_handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dir_api.h"
#include "dir_http.h"
#include "dir_log.h"
#include "dir_webui.h"

static const char index_html[] =
    "<!doctype html><html lang=\"th\"><head><title>directoryd</title></head><body>"
    "<p>index index index index index index index index index index index index</p></body></html>";
static const char main_js[] = "export const a = 1; export const a1 = 1; export const a2 = 1; "
                              "export const a3 = 1; export const a4 = 1; export const a5 = 1;";
static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

static struct dir_webui *fixture(void)
{
    char err[200];
    struct dir_webui *w = dir_webui_new();
    assert_int_equal(
        dir_webui_add(w, "index.html", index_html, strlen(index_html), err, sizeof err), DIR_OK);
    assert_int_equal(dir_webui_add(w, "app/main.js", main_js, strlen(main_js), err, sizeof err),
                     DIR_OK);
    assert_int_equal(dir_webui_add(w, "img/logo.png", png, sizeof png, err, sizeof err), DIR_OK);
    assert_int_equal(dir_webui_add(w, "ไทย.txt", "x", 1, err, sizeof err), DIR_OK);
    assert_int_equal(dir_webui_add(w, "sw.js", "1", 1, err, sizeof err), DIR_OK);
    dir_webui_finish(w);
    return w;
}

static void content_types_by_extension(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"index.html", "text/html; charset=utf-8"},
        {"a/b/main.js", "text/javascript; charset=utf-8"},
        {"mod.mjs", "text/javascript; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"logo.svg", "image/svg+xml"},
        {"LOGO.PNG", "image/png"},
        {"favicon.ico", "image/x-icon"},
        {"data.json", "application/json; charset=utf-8"},
        {"manifest.webmanifest", "application/manifest+json"},
        {"font.woff2", "font/woff2"},
        {"robots.txt", "text/plain; charset=utf-8"},
        {"main.js.map", "application/json; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(dir_webui_content_type(cases[i][0]), cases[i][1]);
    static const char *const not_served[] = {"README.md", "x.php", ".js",     "Makefile",
                                             "a.html/b",  "a.sh",  "key.pem", ".env"};
    for (size_t i = 0; i < sizeof not_served / sizeof not_served[0]; i++)
        assert_null(dir_webui_content_type(not_served[i]));
}

static void cache_control_by_name(void **state)
{
    (void)state;
    static const char *const year = "public, max-age=31536000, immutable";
    assert_string_equal(dir_webui_cache_control("index.html"), "no-cache");
    assert_string_equal(dir_webui_cache_control("sw.js"), "no-cache");
    assert_string_equal(dir_webui_cache_control("manifest.webmanifest"), "no-cache");
    assert_string_equal(dir_webui_cache_control("app/main.js"), "no-cache");
    assert_string_equal(dir_webui_cache_control("assets/main.3f2a9c1b.js"), year);
    assert_string_equal(dir_webui_cache_control("assets/logo-0badc0de.svg"), year);
    assert_string_equal(dir_webui_cache_control("app/chunk_a1b2c3d4e5f6.css"), year);
    /* Not a hash: a date (no letter), a word (no digit), too short, upper case, the stem. */
    assert_string_equal(dir_webui_cache_control("report-20261201.txt"), "no-cache");
    assert_string_equal(dir_webui_cache_control("app/deadbeefcafe.js"), "no-cache");
    assert_string_equal(dir_webui_cache_control("app/main.3f2a9c1.js"), "no-cache");
    assert_string_equal(dir_webui_cache_control("app/main.3F2A9C1B.js"), "no-cache");
    assert_string_equal(dir_webui_cache_control("3f2a9c1b.js"), "no-cache");
}

static void lookup_is_strict(void **state)
{
    (void)state;
    struct dir_webui *w = fixture();
    const struct dir_webui_file *f;
    assert_int_equal(dir_webui_lookup(w, "/", &f), DIR_WEBUI_FILE);
    assert_string_equal(f->name, "index.html");
    assert_int_equal(dir_webui_lookup(w, "/app/main.js", &f), DIR_WEBUI_FILE);
    assert_string_equal(f->name, "app/main.js");
    assert_int_equal(dir_webui_lookup(w, "/app/m%61in.js", &f), DIR_WEBUI_FILE);
    assert_string_equal(f->name, "app/main.js");
    assert_int_equal(dir_webui_lookup(w, "/%E0%B9%84%E0%B8%97%E0%B8%A2.txt", &f), DIR_WEBUI_FILE);
    assert_string_equal(f->name, "ไทย.txt");
    /* App routes: no extension, no file: index.html. */
    static const char *const app[] = {"/org/12", "/search", "/app", "/app/", "/a/b/c/", "/%41bc"};
    for (size_t i = 0; i < sizeof app / sizeof app[0]; i++) {
        assert_int_equal(dir_webui_lookup(w, app[i], &f), DIR_WEBUI_APP);
        assert_string_equal(f->name, "index.html");
    }
    /* Looks like a file, is not there. */
    static const char *const missing[] = {
        "/missing.js", "/app/main.css",          "/README.md",
        "/.env",       "/%252e%252e/secret.txt", "/index.html.bak"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        assert_int_equal(dir_webui_lookup(w, missing[i], &f), DIR_WEBUI_MISSING);
    /* Cannot name a file at all: never looked up. */
    static const char *const bad[] = {"/../secret.txt",
                                      "/app/../../secret.txt",
                                      "/%2e%2e/secret.txt",
                                      "/%2E%2E/secret.txt",
                                      "/.%2e/secret.txt",
                                      "/..%2fsecret.txt",
                                      "/app%2fmain.js",
                                      "/app%2Fmain.js",
                                      "/..\\secret.txt",
                                      "/%5c..%5csecret.txt",
                                      "/index.html%00.txt",
                                      "/%00",
                                      "//secret.txt",
                                      "/app//main.js",
                                      "/./index.html",
                                      "/app/.",
                                      "/app/..",
                                      "/..",
                                      "/%",
                                      "/%2",
                                      "/%zz",
                                      "/a\x01b",
                                      "/a%0ab",
                                      "/app/main.js#x",
                                      "/#",
                                      "/a%23b#",
                                      "/a%7f",
                                      "secret.txt",
                                      "",
                                      "http://x/index.html",
                                      "*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = (const struct dir_webui_file *)1;
        assert_int_equal(dir_webui_lookup(w, bad[i], &f), DIR_WEBUI_BAD);
        assert_null(f);
    }
    char longp[DIR_WEBUI_MAX_NAME + 10];
    longp[0] = '/';
    memset(longp + 1, 'a', sizeof longp - 2);
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(dir_webui_lookup(w, longp, &f), DIR_WEBUI_BAD);
    dir_webui_free(w);

    /* Without index.html an app route names nothing. */
    char err[200];
    w = dir_webui_new();
    assert_int_equal(dir_webui_add(w, "a.js", "1", 1, err, sizeof err), DIR_OK);
    dir_webui_finish(w);
    assert_int_equal(dir_webui_lookup(w, "/route", &f), DIR_WEBUI_APP);
    assert_null(f);
    dir_webui_free(w);
}

static void add_refuses_bad_names(void **state)
{
    (void)state;
    char err[200];
    struct dir_webui *w = dir_webui_new();
    static const char *const bad[] = {"",          "/index.html", "a//b.js", "../x.js", "a/./b.js",
                                      "a/../b.js", "a\\b.js",     "a\nb.js", "dir/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dir_webui_add(w, bad[i], "1", 1, err, sizeof err), DIR_ERR_INVALID);
    assert_int_equal(dir_webui_add(w, "README.md", "1", 1, err, sizeof err), DIR_ERR_INVALID);
    assert_int_equal(dir_webui_add(w, "a.js", "1", 1, err, sizeof err), DIR_OK);
    assert_int_equal(dir_webui_add(w, "a.js", "2", 1, err, sizeof err), DIR_ERR_STATE);
    dir_webui_finish(w);
    assert_int_equal(dir_webui_add(w, "b.js", "2", 1, err, sizeof err), DIR_ERR_STATE);
    assert_int_equal(dir_webui_count(w), 1);
    dir_webui_free(w);
}

static void accept_encoding_and_etags(void **state)
{
    (void)state;
    assert_false(dir_webui_accepts_gzip(NULL));
    assert_false(dir_webui_accepts_gzip(""));
    assert_false(dir_webui_accepts_gzip("identity"));
    assert_false(dir_webui_accepts_gzip("br, deflate"));
    assert_true(dir_webui_accepts_gzip("gzip"));
    assert_true(dir_webui_accepts_gzip("GZIP"));
    assert_true(dir_webui_accepts_gzip("gzip, deflate, br"));
    assert_true(dir_webui_accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    assert_true(dir_webui_accepts_gzip("x-gzip"));
    assert_true(dir_webui_accepts_gzip("*"));
    assert_false(dir_webui_accepts_gzip("gzip;q=0"));
    assert_false(dir_webui_accepts_gzip("gzip; q=0.000"));
    assert_false(dir_webui_accepts_gzip("*;q=0"));
    assert_false(dir_webui_accepts_gzip("gzip;q=0, *"));
    assert_true(dir_webui_accepts_gzip("gzip;level=1;q=0.5"));
    assert_false(dir_webui_accepts_gzip("gzipx"));

    const char *e = "\"abc\"";
    assert_true(dir_webui_etag_match("\"abc\"", e));
    assert_true(dir_webui_etag_match("W/\"abc\"", e));
    assert_true(dir_webui_etag_match("\"x\", \"abc\"", e));
    assert_true(dir_webui_etag_match("*", e));
    assert_false(dir_webui_etag_match("\"abcd\"", e));
    assert_false(dir_webui_etag_match("abc", e));
    assert_false(dir_webui_etag_match("\"ab", e));
    assert_false(dir_webui_etag_match("", e));
}

struct ui_answer {
    struct dir_http_resp resp;
    const unsigned char *body;
    size_t len;
};

static void ui_get(struct dir_api *api, const char *method, const char *raw,
                   const struct dir_http_kv *hdrs, size_t nhdrs, struct ui_answer *a)
{
    /* The decoded path, as libmicrohttpd hands it over (good enough for these paths). */
    struct dir_http_req *req =
        dir_http_req_new(method, raw, NULL, 0, hdrs, nhdrs, "", 0, "127.0.0.1");
    dir_http_req_set_raw_path(req, raw);
    dir_http_resp_init(&a->resp);
    dir_http_dispatch(dir_api_handle, api, req, &a->resp);
    a->body = a->resp.static_body ? a->resp.static_body : (const unsigned char *)a->resp.body.data;
    a->len = a->resp.static_body ? a->resp.static_len : a->resp.body.len;
    dir_http_req_free(req);
}

static void answers(void **state)
{
    (void)state;
    struct dir_webui *w = fixture();
    struct dir_api api = {.webui = w}; /* no snapshot: the UI does not need one */
    struct ui_answer a;

    ui_get(&api, "GET", "/", NULL, 0, &a);
    assert_int_equal(a.resp.status, 200);
    assert_string_equal(a.resp.content_type, "text/html; charset=utf-8");
    assert_int_equal(a.len, strlen(index_html));
    assert_memory_equal(a.body, index_html, a.len);
    assert_string_equal(dir_http_resp_header_get(&a.resp, "Content-Security-Policy"),
                        DIR_WEBUI_CSP);
    assert_string_equal(dir_http_resp_header_get(&a.resp, "Referrer-Policy"), "no-referrer");
    assert_string_equal(dir_http_resp_header_get(&a.resp, "X-Frame-Options"), "DENY");
    assert_string_equal(dir_http_resp_header_get(&a.resp, "Vary"), "Accept-Encoding");
    assert_null(dir_http_resp_header_get(&a.resp, "Content-Encoding"));
    assert_string_equal(a.resp.cache, "no-cache");
    char etag[64];
    snprintf(etag, sizeof etag, "%s", a.resp.etag);
    assert_true(etag[0] == '"' && strlen(etag) > 10);
    dir_buf_free(&a.resp.body);

    /* gzip, decompressed, is the same bytes, under another ETag. */
    struct dir_http_kv gz[] = {{"Accept-Encoding", "gzip, deflate", 13}};
    ui_get(&api, "GET", "/", gz, 1, &a);
    assert_int_equal(a.resp.status, 200);
    assert_string_equal(dir_http_resp_header_get(&a.resp, "Content-Encoding"), "gzip");
    assert_true(a.len < strlen(index_html));
    assert_string_not_equal(a.resp.etag, etag);
    unsigned char out[1024];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)a.body;
    zs.avail_in = (uInt)a.len;
    zs.next_out = out;
    zs.avail_out = sizeof out;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, strlen(index_html));
    assert_memory_equal(out, index_html, zs.total_out);
    inflateEnd(&zs);
    dir_buf_free(&a.resp.body);

    /* If-None-Match: 304 (libmicrohttpd sends no body with it, only the Content-Length of
     * the representation, which the answer therefore still holds). */
    struct dir_http_kv inm[] = {{"If-None-Match", etag, strlen(etag)}};
    ui_get(&api, "GET", "/org/12", inm, 1, &a);
    assert_int_equal(a.resp.status, 304);
    assert_int_equal(a.len, strlen(index_html));
    assert_string_equal(a.resp.etag, etag);
    dir_buf_free(&a.resp.body);

    /* Binary files: never gzipped, no Vary. */
    ui_get(&api, "GET", "/img/logo.png", gz, 1, &a);
    assert_int_equal(a.resp.status, 200);
    assert_string_equal(a.resp.content_type, "image/png");
    assert_null(dir_http_resp_header_get(&a.resp, "Content-Encoding"));
    assert_null(dir_http_resp_header_get(&a.resp, "Vary"));
    assert_memory_equal(a.body, png, sizeof png);
    dir_buf_free(&a.resp.body);

    /* Errors: problem details with the UI's headers. */
    ui_get(&api, "POST", "/", NULL, 0, &a);
    assert_int_equal(a.resp.status, 405);
    assert_string_equal(a.resp.allow, "GET, HEAD");
    assert_string_equal(a.resp.content_type, "application/problem+json");
    assert_string_equal(dir_http_resp_header_get(&a.resp, "Content-Security-Policy"),
                        DIR_WEBUI_CSP);
    dir_buf_free(&a.resp.body);
    ui_get(&api, "GET", "/%2e%2e/secret.txt", NULL, 0, &a);
    assert_int_equal(a.resp.status, 400);
    assert_null(a.resp.static_body);
    dir_buf_free(&a.resp.body);
    ui_get(&api, "GET", "/missing.js", NULL, 0, &a);
    assert_int_equal(a.resp.status, 404);
    assert_null(a.resp.static_body);
    dir_buf_free(&a.resp.body);

    /* /v1 and /healthz stay the API's (JSON), even with a UI. */
    ui_get(&api, "GET", "/v1/nope", NULL, 0, &a);
    assert_int_equal(a.resp.status, 503); /* no snapshot here: the API says it is starting */
    assert_string_equal(a.resp.content_type, "application/problem+json");
    assert_null(dir_http_resp_header_get(&a.resp, "Content-Security-Policy"));
    dir_buf_free(&a.resp.body);
    ui_get(&api, "GET", "/healthz", NULL, 0, &a);
    assert_int_equal(a.resp.status, 503);
    dir_buf_free(&a.resp.body);
    ui_get(&api, "GET", "/v1", NULL, 0, &a);
    assert_int_equal(a.resp.status, 503);
    dir_buf_free(&a.resp.body);
    /* ...and /v1x is the app's. */
    ui_get(&api, "GET", "/v1x", NULL, 0, &a);
    assert_int_equal(a.resp.status, 200);
    dir_buf_free(&a.resp.body);
    dir_webui_free(w);
}

int main(void)
{
    dir_log_set_level((enum dir_log_level)(DIR_LOG_ERROR + 1));
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_types_by_extension), cmocka_unit_test(cache_control_by_name),
        cmocka_unit_test(lookup_is_strict),           cmocka_unit_test(add_refuses_bad_names),
        cmocka_unit_test(accept_encoding_and_etags),  cmocka_unit_test(answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
