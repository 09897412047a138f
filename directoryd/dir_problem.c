/* dir_problem.c - building and rendering RFC 9457 problem details. */
#include "dir_problem.h"
#include "dir_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBLEM_BASE "https://directoryd.example/problems/"

void dir_problem_init(struct dir_problem *p, int status, const char *slug, const char *title,
                      const char *detail_fmt, ...)
{
    va_list ap;
    memset(p, 0, sizeof *p);
    p->status = status;
    p->slug = slug;
    p->title = title;
    va_start(ap, detail_fmt);
    vsnprintf(p->detail, sizeof p->detail, detail_fmt, ap);
    va_end(ap);
}

static const char *keep(struct dir_problem *p, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    if (p->used + n > sizeof p->scratch) return "";
    char *d = p->scratch + p->used;
    memcpy(d, s, n);
    p->used += n;
    return d;
}

void dir_problem_add(struct dir_problem *p, const char *field, const char *message_th,
                     const char *message_en)
{
    if (p->nerrors == DIR_PROBLEM_MAX_ERRORS) return;
    struct dir_problem_error *e = &p->errors[p->nerrors++];
    e->field = keep(p, field);
    e->message_th = keep(p, message_th);
    e->message_en = keep(p, message_en);
}

/* Most bytes of one string shown in a problem (the request path can be long). */
#define SHOWN_MAX 1024

/* S as a JSON string, made valid UTF-8 first: details and fields often quote what the
 * client sent, which may be any bytes, or a value cut in the middle of a character. */
static enum dir_rc add_str(struct dir_buf *out, const char *s)
{
    char *clean = dir_text_utf8_clean_dup(s, SHOWN_MAX);
    enum dir_rc rc = dir_buf_add_json_str(out, clean);
    free(clean);
    return rc;
}

enum dir_rc dir_problem_render(const struct dir_problem *p, const char *instance,
                               struct dir_buf *out)
{
    enum dir_rc rc = dir_buf_printf(out, "{\"type\":\"" PROBLEM_BASE "%s\",\"title\":", p->slug);
    if (!rc) rc = add_str(out, p->title);
    if (!rc) rc = dir_buf_printf(out, ",\"status\":%d,\"detail\":", p->status);
    if (!rc) rc = add_str(out, p->detail);
    if (!rc && instance) {
        rc = dir_buf_adds(out, ",\"instance\":");
        if (!rc) rc = add_str(out, instance);
    }
    if (!rc && p->nerrors) {
        rc = dir_buf_adds(out, ",\"errors\":[");
        for (int i = 0; !rc && i < p->nerrors; i++) {
            const struct dir_problem_error *e = &p->errors[i];
            rc = dir_buf_adds(out, i ? ",{\"field\":" : "{\"field\":");
            if (!rc) rc = add_str(out, e->field ? e->field : "");
            if (!rc) rc = dir_buf_adds(out, ",\"message_th\":");
            if (!rc) rc = add_str(out, e->message_th ? e->message_th : "");
            if (!rc) rc = dir_buf_adds(out, ",\"message_en\":");
            if (!rc) rc = add_str(out, e->message_en ? e->message_en : "");
            if (!rc) rc = dir_buf_adds(out, "}");
        }
        if (!rc) rc = dir_buf_adds(out, "]");
    }
    return rc ? rc : dir_buf_adds(out, "}");
}

void dir_problem_respond(const struct dir_problem *p, const char *instance,
                         struct dir_http_resp *resp)
{
    resp->status = p->status;
    resp->content_type = "application/problem+json";
    resp->body.len = 0;
    if (dir_problem_render(p, instance, &resp->body)) resp->status = 500;
}

void dir_problem_bad_param(const char *instance, struct dir_http_resp *resp, const char *name,
                           const char *th, const char *en_fmt, ...)
{
    struct dir_problem p;
    char en[300], shown[64];
    va_list ap;
    va_start(ap, en_fmt);
    vsnprintf(en, sizeof en, en_fmt, ap);
    va_end(ap);
    dir_text_utf8_clean(name, strlen(name), sizeof shown - 1, shown);
    dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                     "Query parameter '%s' is invalid: %s", shown, en);
    dir_problem_add(&p, shown, th, en);
    dir_problem_respond(&p, instance, resp);
}
