/* test_metrics.c - unit tests for the metrics registry (dir_metrics), request ids in answers
 * (dir_http_dispatch) and the configuration diff SIGHUP logs (dir_cfg_diff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_cfg.h"
#include "dir_http.h"
#include "dir_metrics.h"
#include "dir_problem.h"

static char *render(void)
{
    struct dir_buf b;
    dir_buf_init(&b, 4 << 20);
    assert_int_equal(dir_metrics_render(&b), DIR_OK);
    char *s = strdup(b.data);
    dir_buf_free(&b);
    return s;
}

/* The value of the line starting with PREFIX (-1 when none). */
static double value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ') return atof(p + n + 1);
    return -1;
}

static void one_series_per_route_text(void **state)
{
    (void)state;
    /* Two copies of one pattern (two tables, two string literals) share one series. */
    char *copy = strdup("/v1/unit/{id}");
    dir_metrics_http_request("/v1/unit/{id}", "GET", 200, 300);
    dir_metrics_http_request(copy, "GET", 200, 3000);
    dir_metrics_http_request(copy, "BREW", 418, 1);
    char *t = render();
    assert_true(value_of(t, "directoryd_http_requests_total{route=\"/v1/unit/{id}\",method=\"GET\","
                            "status=\"200\"}") == 2);
    assert_true(value_of(t, "directoryd_http_requests_total{route=\"/v1/unit/{id}\","
                            "method=\"other\",status=\"other\"}") == 1);
    /* Buckets are cumulative and the +Inf bucket is the count. */
    const char *h = "directoryd_request_duration_seconds";
    char key[256];
    snprintf(key, sizeof key, "%s_bucket{face=\"http\",route=\"/v1/unit/{id}\",le=\"0.0005\"}", h);
    assert_true(value_of(t, key) == 2); /* 300 us and 1 us */
    snprintf(key, sizeof key, "%s_bucket{face=\"http\",route=\"/v1/unit/{id}\",le=\"+Inf\"}", h);
    assert_true(value_of(t, key) == 3);
    snprintf(key, sizeof key, "%s_count{face=\"http\",route=\"/v1/unit/{id}\"}", h);
    assert_true(value_of(t, key) == 3);
    /* Every metric has its HELP and TYPE. */
    const char *name, *type, *help;
    for (int i = 0; dir_metrics_describe(i, &name, &type, &help); i++) {
        snprintf(key, sizeof key, "# TYPE %s %s\n", name, type);
        assert_non_null(strstr(t, key));
    }
    free(t);
    free(copy);
}

static void ldap_results_by_name(void **state)
{
    (void)state;
    dir_metrics_ldap_op(0x65, 4, 10);   /* search: sizeLimitExceeded */
    dir_metrics_ldap_op(0x61, 49, 10);  /* bind: invalidCredentials */
    dir_metrics_ldap_op(0x99, 9999, 1); /* an unknown tag and code */
    char *t = render();
    assert_true(value_of(t, "directoryd_ldap_operations_total{op=\"search\",result=\""
                            "sizeLimitExceeded\"}") == 1);
    assert_true(value_of(t, "directoryd_ldap_operations_total{op=\"bind\",result=\""
                            "invalidCredentials\"}") == 1);
    assert_true(value_of(t, "directoryd_ldap_operations_total{op=\"other\",result=\"other\"}") ==
                1);
    free(t);
}

static void answer(void *app, const struct dir_http_req *req, struct dir_http_resp *resp)
{
    (void)app;
    struct dir_problem p;
    dir_problem_init(&p, 404, "not-found", "Not found", "Nothing here.");
    dir_problem_respond(&p, dir_http_path(req), resp);
}

static json_t *dispatch(const char *rid_header, char *rid, size_t n)
{
    struct dir_http_kv h[] = {{"X-Request-Id", rid_header, rid_header ? strlen(rid_header) : 0}};
    struct dir_http_req *req =
        dir_http_req_new("GET", "/x", NULL, 0, h, rid_header ? 1 : 0, NULL, 0, "127.0.0.1");
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(answer, NULL, req, &resp);
    snprintf(rid, n, "%s", resp.request_id);
    json_t *j = json_loads(resp.body.data, 0, NULL);
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
    return j;
}

static void problems_carry_the_request_id(void **state)
{
    (void)state;
    char rid[80], rid2[80];
    json_t *j = dispatch("client-id_1:2.3", rid, sizeof rid);
    assert_string_equal(rid, "client-id_1:2.3");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), rid);
    json_decref(j);
    /* Made here when missing or not sane; each one new. */
    j = dispatch(NULL, rid, sizeof rid);
    assert_true(strlen(rid) > 8);
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), rid);
    json_decref(j);
    j = dispatch("with space", rid2, sizeof rid2);
    assert_string_not_equal(rid2, "with space");
    assert_string_not_equal(rid2, rid);
    json_decref(j);
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    j = dispatch(long_id, rid2, sizeof rid2);
    assert_string_not_equal(rid2, long_id);
    json_decref(j);
}

struct seen {
    char names[8][40];
    const char *values[8];
    bool reload[8];
    int n;
};

static void seen_cb(void *cls, const char *name, bool reloadable, const char *value)
{
    struct seen *s = cls;
    if (s->n == 8) return;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    s->values[s->n] = value;
    s->reload[s->n++] = reloadable;
}

static void cfg_diff_never_shows_restart_values(void **state)
{
    (void)state;
    static struct dir_cfg a, b;
    char err[256];
    dir_cfg_defaults(&a);
    dir_cfg_defaults(&b);
    assert_int_equal(dir_cfg_set(&b, "db", "postgresql://u:secret-pw@h/db", err, sizeof err), 0);
    assert_int_equal(dir_cfg_set(&b, "log_level", "debug", err, sizeof err), 0);
    assert_int_equal(dir_cfg_set(&b, "ldap_size_limit", "7", err, sizeof err), 0);
    struct seen s = {0};
    dir_cfg_diff(&a, &b, seen_cb, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "db");
    assert_false(s.reload[0]);
    assert_null(s.values[0]);
    assert_string_equal(s.names[1], "ldap_size_limit");
    assert_true(s.reload[1]);
    assert_string_equal(s.values[1], "7");
    assert_string_equal(s.names[2], "log_level");
    assert_string_equal(s.values[2], "debug");
    /* Only the reloadable ones are copied. */
    dir_cfg_copy_reloadable(&a, &b);
    assert_string_equal(a.log_level, "debug");
    assert_int_equal(a.ldap_size_limit, 7);
    assert_string_not_equal(a.db, b.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_series_per_route_text),
        cmocka_unit_test(ldap_results_by_name),
        cmocka_unit_test(problems_carry_the_request_id),
        cmocka_unit_test(cfg_diff_never_shows_restart_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
