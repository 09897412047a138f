/* dir_problem.h - RFC 9457 problem details: the one shape of every JSON API error.
 *
 * {"type":"https://directoryd.example/problems/<slug>","title":...,"status":N,"detail":...,
 *  "instance":<path>,"errors":[{"field","message_th","message_en"}]}
 * served as application/problem+json. Messages are static or built from the caller's words;
 * they never contain secrets.
 */
#ifndef DIR_PROBLEM_H
#define DIR_PROBLEM_H

#include "dir_buf.h"
#include "dir_http.h"

#define DIR_PROBLEM_MAX_ERRORS 32

struct dir_problem_error {
    const char *field, *message_th, *message_en;
};

struct dir_problem {
    int status;
    const char *slug;   /* e.g. "invalid-parameter" */
    const char *title;  /* short English summary */
    char detail[512];   /* one English sentence about this occurrence */
    struct dir_problem_error errors[DIR_PROBLEM_MAX_ERRORS];
    int nerrors;
    char scratch[2048]; /* holds field names and messages copied in */
    size_t used;
};

/* Starts a problem with STATUS, SLUG and TITLE (static strings) and a detail. */
void dir_problem_init(struct dir_problem *p, int status, const char *slug, const char *title,
                      const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Adds one field error; the strings are copied (cut when the scratch space runs out). */
void dir_problem_add(struct dir_problem *p, const char *field, const char *message_th,
                     const char *message_en);
/* Renders P as JSON into OUT; INSTANCE is the request path (may be NULL). */
enum dir_rc dir_problem_render(const struct dir_problem *p, const char *instance,
                               struct dir_buf *out);

/* Puts P into RESP as the answer (status, application/problem+json, body). */
void dir_problem_respond(const struct dir_problem *p, const char *instance,
                         struct dir_http_resp *resp);

/* Answers RESP with the 400 "invalid-parameter" problem for query parameter NAME (shown
 * cleaned: valid UTF-8, at most 63 bytes), with the Thai message TH and the English one made
 * from EN_FMT; INSTANCE is the request path. The one answer every route gives a bad query
 * parameter. */
void dir_problem_bad_param(const char *instance, struct dir_http_resp *resp, const char *name,
                           const char *th, const char *en_fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
