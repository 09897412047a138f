/* dir_report.h - "report a mistake": the HTTP side of reports about directory entries.
 *
 * POST /v1/reports                 anyone (a cookie caller with X-CSRF-Token, as for every
 *                                  change): {"entity": "organization"|"person"|"area",
 *                                  "id": id, ref or area code, "message": 1..2000 characters,
 *                                  "contact": optional, at most 200}; 201 {"id", "status",
 *                                  "created_at", "entity", "entity_id"}. Reports about people
 *                                  need a signed-in caller (anonymous callers never see people).
 * GET  /v1/reports                 coordinators and admins: ?status=open|resolved, entity=,
 *                                  id= (with entity), limit=, cursor=; oldest first.
 * POST /v1/reports/{id}/resolve    coordinators and admins: optional {"note", "resolution":
 * POST /v1/reports/{id}/reopen     "fixed"|"not_a_mistake"} (reopen: note only); 200 with the
 *                                  report, 409 when it already has that status.
 *
 * Bodies are capped at DIR_REPORT_MAX_BODY (413), checked field by field (400 naming each
 * field: missing, wrong type, unknown, empty or too long after trimming white space, control
 * characters); the entity must exist in the read model (404 naming "id"). New reports are
 * limited per client address (per API client or staff member when signed in) by a dir_rate
 * (429 with Retry-After). Every report and status change has its audit row (entity "report")
 * written with it; SQL is in dir_db_report.c.
 */
#ifndef DIR_REPORT_H
#define DIR_REPORT_H

#include "dir_db.h"
#include "dir_http.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_rate.h"
#include "dir_write.h"

#include <jansson.h>
#include <stdbool.h>

/* The longest body: a message of 2,000 Thai characters is 6,000 bytes of UTF-8 (12,000 when
 * a client escapes them as \uXXXX), plus the contact. */
#define DIR_REPORT_MAX_BODY (16 * 1024)
#define DIR_REPORT_MAX_MESSAGE 2000
#define DIR_REPORT_MAX_CONTACT 200
#define DIR_REPORT_MAX_ID 80
/* report_rate counts new reports over this window. */
#define DIR_REPORT_RATE_WINDOW_S 3600

struct dir_report_env {
    struct dir_db *db;     /* borrowed; NULL (tests, fuzzing): every route answers 503 */
    struct dir_rate *rate; /* borrowed: the limit on new reports, or NULL for none */
};

/* ---- the handlers, one per route ----
 * M is the snapshot the request is answered from, WHO the authenticated caller, PARAMS the
 * path parameters (NPARAMS of them): none for post and list; the report id and "resolve" or
 * "reopen" for action. Each fills RESP (an answer or a problem). */
void dir_report_post(const struct dir_report_env *env, const struct dir_model *m,
                     const struct dir_caller *who, const struct dir_http_req *req,
                     struct dir_http_resp *resp, const char *const *params, int nparams);
void dir_report_list(const struct dir_report_env *env, const struct dir_model *m,
                     const struct dir_caller *who, const struct dir_http_req *req,
                     struct dir_http_resp *resp, const char *const *params, int nparams);
void dir_report_action(const struct dir_report_env *env, const struct dir_model *m,
                       const struct dir_caller *who, const struct dir_http_req *req,
                       struct dir_http_resp *resp, const char *const *params, int nparams);

/* Routes /v1/reports... (SEG: the NSEG path segments after /v1) to the handlers above, with
 * 405 for other methods; false, touching nothing, for other paths. */
bool dir_report_route(const struct dir_report_env *env, const struct dir_model *m,
                      const struct dir_caller *who, const char *method, char **seg, int nseg,
                      const struct dir_http_req *req, struct dir_http_resp *resp);

/* ---- checks without I/O (unit tests and the write-body fuzzer) ---- */

/* A checked new report. */
struct dir_report_input {
    struct dir_db_report r; /* what to store; strings point into this struct */
    char entity_id[DIR_REPORT_MAX_ID + 1];
    char *message, *contact; /* owned (trimmed copies); contact NULL when absent */
    struct dir_problem prob; /* when refused: 400 (fields), 401 or 404 */
};

/* Checks BODY (a JSON object) of POST /v1/reports against M for a caller of ROLE. True when
 * IN->r is ready to store; false with the problem in IN->prob. Free IN with
 * dir_report_input_free either way. */
bool dir_report_check(const struct dir_model *m, enum dir_role role, json_t *body,
                      struct dir_report_input *in);
void dir_report_input_free(struct dir_report_input *in);

/* Checks BODY (a JSON object) of a resolve (RESOLVE true) or reopen: "note" (string or null,
 * at most 2,000 characters) and, for a resolve, "resolution" ("fixed", "not_a_mistake" or
 * null). True with *NOTE (owned, NULL when absent or blank) and *RESOLUTION (static or NULL);
 * false with a 400 in PROB. */
bool dir_report_action_check(json_t *body, bool resolve, char **note, const char **resolution,
                             struct dir_problem *prob);

/* Why dir_report_text refused a text. */
enum dir_report_text_error {
    DIR_REPORT_TEXT_OK = 0,
    DIR_REPORT_TEXT_NOT_UTF8, /* not well-formed UTF-8 (or holds NUL) */
    DIR_REPORT_TEXT_CONTROL,  /* a control character (other than tab and line breaks when
                               * MULTILINE) */
    DIR_REPORT_TEXT_TOO_LONG  /* more than MAX characters once trimmed */
};

/* Trims white space (ASCII and Unicode spaces, zero-width space, BOM) from both ends of the
 * LEN bytes at S and checks them: valid UTF-8, no control characters (tab and line breaks
 * allowed when MULTILINE), at most MAX characters (code points). Returns the trimmed copy
 * (caller frees; "" when S is blank), or NULL with the reason in *WHY. */
char *dir_report_text(const char *s, size_t len, size_t max, bool multiline,
                      enum dir_report_text_error *why);

#endif
