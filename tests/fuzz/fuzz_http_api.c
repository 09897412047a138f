/* fuzz_http_api.c - fuzz target: a whole JSON API request through dir_api_handle.
 *
 * Input: an HTTP/1.1-like request in text form,
 *
 *   METHOD SP TARGET LF          TARGET = path [ "?" query ]; path and query are
 *   NAME ":" VALUE LF ...        percent-decoded as libmicrohttpd does, query split on "&"
 *   LF                           and "=" (a name without "=" has the value "")
 *   BODY                         the rest
 *
 * (CR before LF is dropped; header values keep every other byte, NUL included). It becomes a
 * request made with dir_http_req_new and goes through dir_http_dispatch into dir_api_handle,
 * the daemon's own handler, over a small fixed snapshot (areas down to a community,
 * taxonomy codes, organisations, people, a programme, change-log rows, API clients) with no
 * database: every route's query parameters, the authorization and cookie headers and the
 * session routes run through the real code; writes and database-backed routes answer 503.
 * API keys "fuzz-key-caseworker", "fuzz-key-admin" and "fuzz-key-revoked" are known. A
 * Cookie header value "SIGN:<body>" is replaced by "dird_session=<body>.<HMAC>" signed with
 * the sessions' key, so session tokens get past their signature and their fields are
 * fuzzed too. Paths outside /v1 and /healthz go to the browser UI's static files (dir_webui)
 * over a small in-memory set (index.html, a script, a JSON file, a PNG), looked up by the
 * target's path as sent (before percent-decoding), as on the network.
 *
 * Checks (abort() otherwise): the status is 200-599; a JSON answer (application/json or
 * problem+json) is valid UTF-8 and parses; a problem answer has the status it says; a 405
 * names Allow; a body sent without a copy is one of the UI's files (or its gzip copy), whole,
 * with the UI's Content-Security-Policy, and only for a GET or HEAD whose path as sent has no
 * "..", "." or empty segment, encoded slash or NUL, or backslash. Linked with libFuzzer
 * (-DDIRECTORYD_FUZZ=ON) or replay_main.c (ctest replays tests/fuzz/corpus/http_api and
 * tests/fuzz/regress/http_api).
 */
#include "dir_api.h"
#include "dir_auth.h"
#include "dir_cfg.h"
#include "dir_entry.h"
#include "dir_http.h"
#include "dir_log.h"
#include "dir_model.h"
#include "dir_session.h"
#include "dir_text.h"
#include "dir_webui.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MAX_ARGS 32
#define FZ_MAX_HEADERS 24

static struct dir_model *fz_model;
static struct dir_cfg fz_cfg;
static struct dir_sessions *fz_sessions;
static struct dir_api fz_api;
static struct dir_webui *fz_webui;
static const char fz_index[] = "<!doctype html><html lang=\"th\"><head><title>ทดสอบ</title>"
                               "<script type=\"module\" src=\"/app/main.js\"></script></head>"
                               "<body><p>index index index index index index index</p></body>"
                               "</html>";
static const char fz_js[] = "export function t(s) { return s; }\nexport function u(s) { return "
                            "s; }\nexport function v(s) { return s; }\n";
static const char fz_json[] = "{\"th\":\"ค้นหา\",\"en\":\"search\",\"th2\":\"ค้นหา\","
                              "\"en2\":\"search\"}";
static const unsigned char fz_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
static const uint8_t fz_key[32] = "fuzz-session-key-0123456789abcd";

static void fz_client(struct dir_model_builder *b, const char *secret, const char *name,
                      const char *role, bool revoked)
{
    uint8_t h[DIR_AUTH_HASH_LEN];
    dir_auth_hash(secret, h);
    dir_model_add_client(b, h, name, role, 0, revoked);
}

static struct dir_model *fz_build(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1001", "district", "10", "พระนคร", "Phra Nakhon", NULL, 13.75, 100.49,
                       false, 1);
    dir_model_add_area(b, "1002", "district", "10", "ดุสิต", "Dusit", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "100101", "subdistrict", "1001", "พระบรมมหาราชวัง",
                       "Phra Borom Maha Ratchawang", "10200", NAN, NAN, true, 1);
    dir_model_add_area(b, "C1001-0001", "community", "100101", "ชุมชนหนึ่ง", "Community One", NULL,
                       NAN, NAN, true, 3);
    dir_model_add_group(b, "BKK-N", "zone", NULL, "10", "กลุ่มเขตเหนือ", "North zone", 1);
    dir_model_add_group_member(b, "BKK-N", "1002");
    static const char *const tax[][2] = {
        {"counselling", "0"},  {"shelter", "0"},      {"children", "1"},
        {"youth", "1"},        {"ngo", "2"},          {"hospital", "2"},
        {"government", "3"},   {"ngo", "3"},          {"social_worker", "4"},
        {"psychologist", "4"}, {"case_manager", "5"}, {"district_welfare", "5"}};
    for (size_t i = 0; i < sizeof tax / sizeof tax[0]; i++)
        dir_model_add_taxon(b, (enum dir_tax_kind)(tax[i][1][0] - '0'), tax[i][0], "ไทย", tax[i][0],
                            NULL, NULL);
    for (int i = 1; i <= 3; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "org-%d", i);
        struct dir_org_row o = {.id = i,
                                .ref = ref,
                                .name_th = "ศูนย์คุ้มครองเด็ก",
                                .name_en = "Child Protection Centre",
                                .type = "ngo",
                                .sector = "ngo",
                                .area_code = "1001",
                                .parent_id = i > 1 ? 1 : 0,
                                .version = 1};
        dir_model_add_org(b, &o);
    }
    struct dir_person_row p1 = {.id = 1,
                                .username = "somchai.j",
                                .name_th = "สมชาย ใจดี",
                                .source = "manual",
                                .active = true,
                                .version = 2};
    struct dir_person_row p2 = {.id = 2,
                                .username = "malee.s",
                                .name_th = "มาลี สุขใจ",
                                .source = "ldap",
                                .active = true,
                                .version = 1};
    dir_model_add_person(b, &p1);
    dir_model_add_person(b, &p2);
    dir_model_add_membership(b, 1, 1, 1, "case_manager", NULL, NULL);
    dir_model_add_membership(b, 2, 2, 1, "district_welfare", NULL, NULL);
    struct dir_programme_row pr = {
        .id = 1, .ref = "prog-1", .name_th = "โครงการ", .source = "manual", .version = 1};
    dir_model_add_programme(b, &pr);
    for (int i = 1; i <= 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i % 3 + 1);
        dir_model_add_change(b, 100 + i, "organization", id, "update", "2026-12-01T00:00:00Z");
    }
    fz_client(b, "fuzz-key-caseworker", "fuzz-caseworker", "caseworker", false);
    fz_client(b, "fuzz-key-admin", "fuzz-admin", "admin", false);
    fz_client(b, "fuzz-key-revoked", "fuzz-revoked", "coordinator", true);
    struct dir_model *m = NULL;
    char err[128];
    if (dir_model_finish(b, 104, &m, err, sizeof err) != DIR_OK) {
        fprintf(stderr, "fuzz_http_api: model: %s\n", err);
        abort();
    }
    return m;
}

static struct dir_webui *fz_webui_build(void)
{
    struct dir_webui *w = dir_webui_new();
    char err[200];
    if (dir_webui_add(w, "index.html", fz_index, sizeof fz_index - 1, err, sizeof err) ||
        dir_webui_add(w, "app/main.js", fz_js, sizeof fz_js - 1, err, sizeof err) ||
        dir_webui_add(w, "app/strings.json", fz_json, sizeof fz_json - 1, err, sizeof err) ||
        dir_webui_add(w, "img/logo.png", fz_png, sizeof fz_png, err, sizeof err)) {
        fprintf(stderr, "fuzz_http_api: webui: %s\n", err);
        abort();
    }
    dir_webui_finish(w);
    return w;
}

static void fz_release(void)
{
    dir_webui_free(fz_webui);
    dir_session_free(fz_sessions);
    dir_model_release(fz_model);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[128];
    if (dir_auth_init() != DIR_OK ||
        dir_entry_configure(DIR_ENTRY_DEFAULT_SUFFIX, err, sizeof err) != DIR_OK)
        abort();
    dir_log_set_level((enum dir_log_level)(DIR_LOG_ERROR + 1)); /* quiet */
    dir_cfg_defaults(&fz_cfg);
    fz_model = fz_build();
    fz_sessions = dir_session_new_for_tests(&fz_cfg, fz_key);
    fz_api.model = fz_model;
    fz_api.central_ref = "org-1";
    fz_api.sessions = fz_sessions;
    fz_webui = fz_webui_build();
    fz_api.webui = fz_webui;
    atexit(fz_release);
    return 0;
}

static int fz_hex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes S in place ('+' is a space in query parts), as libmicrohttpd does. */
static void fz_unescape(char *s, bool plus)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && fz_hex(s[1]) >= 0 && fz_hex(s[2]) >= 0) {
            *o++ = (char)(fz_hex(s[1]) * 16 + fz_hex(s[2]));
            s += 2;
        } else {
            *o++ = plus && *s == '+' ? ' ' : *s;
        }
    }
    *o = '\0';
}

/* The next line of [*P, END) without its LF (and CR), NUL-terminated in place; NULL at END. */
static char *fz_line(char **p, char *end, size_t *len)
{
    if (*p >= end) return NULL;
    char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    char *e = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (e > s && e[-1] == '\r') e--;
    *e = '\0';
    *len = (size_t)(e - s);
    return s;
}

/* True when RAW (a path as sent) may name a UI file, read independently of dir_webui: it
 * starts with "/", holds no encoded "/" or NUL and no backslash (plain or encoded), and once
 * decoded has no ".", ".." or empty segment (but the last). */
static bool fz_path_may_name_file(const char *raw)
{
    char dec[4096];
    size_t o = 0;
    if (raw[0] != '/') return false;
    for (const char *p = raw; *p; p++) {
        char c = *p;
        if (c == '%' && fz_hex(p[1]) >= 0 && fz_hex(p[2]) >= 0) {
            c = (char)(fz_hex(p[1]) * 16 + fz_hex(p[2]));
            p += 2;
            if (c == '/' || c == '\0') return false;
        }
        if (c == '\\' || o + 1 >= sizeof dec) return false;
        dec[o++] = c;
    }
    dec[o] = '\0';
    for (const char *seg = dec + 1;;) {
        size_t n = strcspn(seg, "/");
        if ((n == 0 && seg[n]) || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!seg[n]) return true;
        seg += n + 1;
    }
}

/* A body sent without a copy must be one of the UI's files, whole (or its gzip copy). */
static void fz_check_static(const struct dir_http_resp *resp, const char *method, const char *raw)
{
    bool found = false;
    for (size_t i = 0; i < dir_webui_count(fz_webui); i++) {
        const struct dir_webui_file *f = dir_webui_file_at(fz_webui, i);
        if ((resp->static_body == f->data && resp->static_len == f->len) ||
            (f->gz && resp->static_body == f->gz && resp->static_len == f->gz_len))
            found = true;
    }
    const char *csp = dir_http_resp_header_get(resp, "Content-Security-Policy");
    if (!found || !csp || strcmp(csp, DIR_WEBUI_CSP) != 0 ||
        (resp->status != 200 && resp->status != 304) ||
        (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        fprintf(stderr, "fuzz_http_api: static answer %d is not a UI file (or lacks the CSP)\n",
                resp->status);
        abort();
    }
    if (!fz_path_may_name_file(raw)) {
        fprintf(stderr, "fuzz_http_api: a file was served for the unclean path %s\n", raw);
        abort();
    }
}

static void fz_check(const struct dir_http_resp *resp, const char *method, const char *raw)
{
    if (resp->status < 200 || resp->status > 599) {
        fprintf(stderr, "fuzz_http_api: status %d\n", resp->status);
        abort();
    }
    if (resp->status == 405 && !resp->allow) {
        fprintf(stderr, "fuzz_http_api: 405 without Allow\n");
        abort();
    }
    if (resp->static_body) fz_check_static(resp, method, raw);
    const char *ct = resp->content_type ? resp->content_type : "application/json";
    const char *body = resp->static_body ? resp->static_body : resp->body.data;
    size_t len = resp->static_body ? resp->static_len : resp->body.len;
    if (!strstr(ct, "json") || !len || dir_http_resp_header_get(resp, "Content-Encoding")) return;
    if (!dir_text_utf8_valid(body, len)) {
        fprintf(stderr, "fuzz_http_api: answer is not UTF-8: %.*s\n", (int)len, body);
        abort();
    }
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    if (!j) {
        fprintf(stderr, "fuzz_http_api: answer is not JSON (%s): %.*s\n", e.text, (int)len, body);
        abort();
    }
    if (strstr(ct, "problem") && json_integer_value(json_object_get(j, "status")) != resp->status) {
        fprintf(stderr, "fuzz_http_api: problem status differs from %d\n", resp->status);
        abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) abort();
    char *p = buf, *end = buf + size;
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct dir_http_kv args[FZ_MAX_ARGS], headers[FZ_MAX_HEADERS];
    size_t nargs = 0, nheaders = 0, len;
    char *signed_cookie = NULL, *raw_path = NULL;

    char *line = fz_line(&p, end, &len);
    if (!line) goto out;
    char *sp = strchr(line, ' ');
    if (!sp) goto out;
    *sp = '\0';
    const char *method = line;
    char *path = sp + 1, *query = strchr(path, '?');
    if (query) *query++ = '\0';
    raw_path = malloc(strlen(path) + 1);
    if (!raw_path) abort();
    strcpy(raw_path, path); /* as sent: dir_webui decodes it itself */
    fz_unescape(path, false);
    for (char *a = query, *next; a && nargs < FZ_MAX_ARGS; a = next) {
        next = strchr(a, '&');
        if (next) *next++ = '\0';
        if (!*a) continue;
        char *eq = strchr(a, '=');
        if (eq) *eq++ = '\0';
        fz_unescape(a, true);
        if (eq) fz_unescape(eq, true);
        args[nargs++] = (struct dir_http_kv){.key = a, .value = eq ? eq : ""};
    }
    while ((line = fz_line(&p, end, &len)) != NULL && len > 0) {
        char *colon = memchr(line, ':', len);
        if (!colon || nheaders == FZ_MAX_HEADERS) continue;
        *colon = '\0';
        char *v = colon + 1;
        size_t vlen = len - (size_t)(v - line);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        if (strcasecmp(line, "Cookie") == 0 && vlen >= 5 && memcmp(v, "SIGN:", 5) == 0 &&
            !signed_cookie) {
            /* "dird_session=" + body + "." + hex HMAC-SHA-256 of the body. */
            size_t blen = vlen - 5;
            unsigned char mac[crypto_auth_hmacsha256_BYTES];
            crypto_auth_hmacsha256_state st;
            crypto_auth_hmacsha256_init(&st, fz_key, sizeof fz_key);
            crypto_auth_hmacsha256_update(&st, (const unsigned char *)v + 5, blen);
            crypto_auth_hmacsha256_final(&st, mac);
            signed_cookie = malloc(13 + blen + 1 + 64 + 1);
            if (!signed_cookie) abort();
            memcpy(signed_cookie, "dird_session=", 13);
            memcpy(signed_cookie + 13, v + 5, blen);
            signed_cookie[13 + blen] = '.';
            sodium_bin2hex(signed_cookie + 14 + blen, 65, mac, sizeof mac);
            v = signed_cookie;
            vlen = 13 + blen + 1 + 64;
        }
        headers[nheaders++] = (struct dir_http_kv){.key = line, .value = v, .value_len = vlen};
    }
    size_t body_len = p < end ? (size_t)(end - p) : 0;
    struct dir_http_req *req = dir_http_req_new(method, path, args, nargs, headers, nheaders,
                                                p < end ? p : "", body_len, "127.0.0.1");
    dir_http_req_set_raw_path(req, raw_path);
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(dir_api_handle, &fz_api, req, &resp);
    fz_check(&resp, method, raw_path);
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
out:
    free(raw_path);
    free(signed_cookie);
    free(buf);
    return 0;
}
