/* dir_http.h - the HTTP server (libmicrohttpd): connections, threads, request and response.
 *
 * dir_http knows nothing of the directory: it hands each complete request to one handler
 * and sends what the handler put in the response. Responses are queued on the second call
 * of libmicrohttpd's access handler (the first only sets up per-request state), which keeps
 * HTTP keep-alive working. Request bodies are capped (DIR_HTTP_MAX_BODY).
 */
#ifndef DIR_HTTP_H
#define DIR_HTTP_H

#include "dir_buf.h"
#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>

#define DIR_HTTP_MAX_BODY (1024 * 1024)
#define DIR_HTTP_MAX_RESPONSE (64 * 1024 * 1024)

struct dir_http;
struct dir_http_req;

struct dir_http_resp {
    int status;
    const char *content_type; /* static string */
    struct dir_buf body;
    char etag[64];            /* sent when non-empty */
    const char *allow;        /* Allow header (static), for 405 */
    const char *cache;        /* Cache-Control (static), or NULL */
    char set_cookie[600];     /* Set-Cookie, when non-empty */
    int retry_after;          /* Retry-After seconds, when > 0 */
};

/* Called once per complete request, on a server thread; must fill RESP. */
typedef void (*dir_http_handler)(void *app, const struct dir_http_req *req,
                                 struct dir_http_resp *resp);

/* Starts listening on ADDR:PORT (PORT 0 picks a free one) with THREADS worker threads.
 * Caller stops it with dir_http_stop. */
enum dir_rc dir_http_start(const char *addr, int port, int threads, int max_conns,
                           dir_http_handler handler, void *app, struct dir_http **out, char *err,
                           size_t errlen);
/* The port actually bound. */
int dir_http_port(const struct dir_http *h);
/* Stops accepting, finishes the requests in flight, frees H. NULL is a no-op. */
void dir_http_stop(struct dir_http *h);

/* Request accessors: borrowed strings, valid during the handler call. */
const char *dir_http_method(const struct dir_http_req *req);
const char *dir_http_path(const struct dir_http_req *req);
/* A query-string argument (already percent-decoded), or NULL. */
const char *dir_http_arg(const struct dir_http_req *req, const char *name);
/* A request header, or NULL. */
const char *dir_http_header(const struct dir_http_req *req, const char *name);
/* Calls CB for each query argument until it returns false. */
void dir_http_args_each(const struct dir_http_req *req,
                        bool (*cb)(void *cls, const char *key, const char *value), void *cls);
/* The caller's IP address as text into BUF ("" if unknown). */
void dir_http_client_addr(const struct dir_http_req *req, char *buf, size_t n);
/* The request body (NUL-terminated) and its length; "" when there is none. */
const char *dir_http_body(const struct dir_http_req *req, size_t *len);

#endif
