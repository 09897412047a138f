/* dir_http.h - the HTTP server (libmicrohttpd): connections, threads, request and response.
 *
 * dir_http knows nothing of the directory: it hands each complete request to one handler
 * and sends what the handler put in the response. Responses are queued on the second call
 * of libmicrohttpd's access handler (the first only sets up per-request state), which keeps
 * HTTP keep-alive working. Request bodies are capped (DIR_HTTP_MAX_BODY). Against slow and
 * greedy clients: a header deadline and a body deadline (a sweeper thread shuts down
 * connections whose request headers or body are overdue), a per-address connection cap, a total
 * cap, and an optional second listener serving only /healthz and /readyz so probes are answered while the first
 * is crowded. Transfer codings other than chunked are refused at once (501) and header values
 * holding control bytes answer 400.
 *
 * Observability (issue 15): each request gets an id (a sane inbound X-Request-Id, else one
 * made here) sent back in X-Request-Id on every answer and added as "request_id" to every
 * problem-details body (application/problem+json) whoever built it. Each answer is counted
 * in dir_metrics (route, method, status, duration) and, when the access log is on
 * (dir_log_access), logged as one logfmt line. With a certificate the listener speaks HTTPS
 * only and every answer carries Strict-Transport-Security.
 */
#ifndef DIR_HTTP_H
#define DIR_HTTP_H

#include "dir_buf.h"
#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>

#define DIR_HTTP_MAX_BODY (1024 * 1024)
/* The body of an upload (POST /v1/imports: a spreadsheet file, dir_import.h's limit). */
#define DIR_HTTP_MAX_UPLOAD (20 * 1024 * 1024)
#define DIR_HTTP_MAX_RESPONSE (64 * 1024 * 1024)

#define DIR_HTTP_MAX_HEADERS 8

struct dir_http;
struct dir_http_req;

/* One more response header; both strings static (or outliving the server). */
struct dir_http_header {
    const char *name, *value;
};

/* Every answer carries X-Content-Type-Options: nosniff, and unless the handler set its own
 * with dir_http_resp_header: X-Frame-Options: DENY, Content-Security-Policy:
 * frame-ancestors 'none' and Referrer-Policy: no-referrer. */
struct dir_http_resp {
    int status;
    const char *content_type; /* static string (not sent with a 304) */
    struct dir_buf body;
    char etag[64];        /* sent when non-empty */
    const char *allow;    /* Allow header (static), for 405 */
    const char *cache;    /* Cache-Control (static), or NULL */
    char set_cookie[600]; /* Set-Cookie, when non-empty */
    int retry_after;      /* Retry-After seconds, when > 0 */
    bool close;           /* close the connection after this answer */
    /* When non-NULL, the body sent instead of BODY, without a copy: bytes that outlive the
     * server (e.g. a file held in memory by dir_webui). */
    const void *static_body;
    size_t static_len;
    struct dir_http_header extra[DIR_HTTP_MAX_HEADERS]; /* dir_http_resp_header */
    int nextra;
    /* One header whose value the handler builds (Content-Disposition, Link), sent when
     * OWN_NAME (static) is set. */
    const char *own_name;
    char own_value[1024];
    /* --- obs --- */
    const char *request_id; /* set by dir_http_dispatch: the request's id (borrowed) */
    const char *route;      /* set by the handler: the route table's pattern (static), for
                             * metrics and the access log; NULL: DIR_METRICS_ROUTE_NONE */
    const char *actor;      /* set by the handler: anonymous, api_client or staff (static);
                             * NULL: anonymous */
};

/* Called once per complete request, on a server thread; must fill RESP. */
typedef void (*dir_http_handler)(void *app, const struct dir_http_req *req,
                                 struct dir_http_resp *resp);

/* Connection limits of one listener (see README, "The daemon"). */
struct dir_http_limits {
    int threads;            /* worker threads */
    int max_conns;          /* most open connections; more are refused at accept */
    int max_conns_per_addr; /* most open connections from one client address */
    int header_timeout_s;   /* a request's headers must be complete this long after the
                             * connection opened or the previous answer was sent: a slow
                             * client is closed then, however it trickles bytes */
    int body_timeout_s;     /* a request's body must be complete this long after its headers
                             * (0: 30 s), however it trickles bytes */
    int idle_timeout_s;     /* libmicrohttpd's inactivity timeout (bodies, answers) */
    bool health_only;       /* serve /healthz only (a reserve listener for probes) */
    /* --- obs --- */
    const char *tls_cert; /* PEM certificate chain file: HTTPS (with HSTS); NULL/"": plain */
    const char *tls_key;  /* its PEM private key file */
};

/* Starts listening on ADDR:PORT (PORT 0 picks a free one) with limits LIM (copied). Caller
 * stops it with dir_http_stop. */
enum dir_rc dir_http_start(const char *addr, int port, const struct dir_http_limits *lim,
                           dir_http_handler handler, void *app, struct dir_http **out, char *err,
                           size_t errlen);
/* Connections closed so far because their headers were overdue. */
long long dir_http_swept(struct dir_http *h);
/* The port actually bound. */
int dir_http_port(const struct dir_http *h);
/* Stops accepting, finishes the requests in flight, frees H. NULL is a no-op. */
void dir_http_stop(struct dir_http *h);

/* Request accessors: borrowed strings, valid during the handler call. */
const char *dir_http_method(const struct dir_http_req *req);
const char *dir_http_path(const struct dir_http_req *req);
/* The request target's path as the client sent it: not percent-decoded, without the query
 * ("?..."), so "%2f", "%00" and "%2e%2e" are still visible (dir_webui decodes it itself). */
const char *dir_http_raw_path(const struct dir_http_req *req);
/* A query-string argument (already percent-decoded), or NULL. */
const char *dir_http_arg(const struct dir_http_req *req, const char *name);
/* A request header, or NULL. Requests whose header values hold a NUL or another control
 * byte never reach the handler (400), so the C string is the whole value. */
const char *dir_http_header(const struct dir_http_req *req, const char *name);
/* The same with the value's length in *LEN. */
const char *dir_http_header_n(const struct dir_http_req *req, const char *name, size_t *len);
/* Calls CB for each query argument until it returns false. */
void dir_http_args_each(const struct dir_http_req *req,
                        bool (*cb)(void *cls, const char *key, const char *value), void *cls);
/* The caller's IP address as text into BUF ("" if unknown). */
void dir_http_client_addr(const struct dir_http_req *req, char *buf, size_t n);
/* The request body (NUL-terminated) and its length; "" when there is none. */
const char *dir_http_body(const struct dir_http_req *req, size_t *len);
/* The request's id (borrowed, valid during the handler call): the client's X-Request-Id when
 * it is 1 to 64 of A-Z a-z 0-9 . _ : -, else one made here (unique in the process). */
const char *dir_http_request_id(const struct dir_http_req *req);
/* True when the request came over a loopback address (127.0.0.0/8, ::1). */
bool dir_http_from_loopback(const struct dir_http_req *req);
/* True when H serves HTTPS. */
bool dir_http_tls(const struct dir_http *h);

/* ---- requests without a connection (unit tests and fuzzing) ---- */

struct dir_http_kv {
    const char *key;   /* NUL-terminated */
    const char *value; /* query arguments: NUL-terminated (NULL: "name" without "=") */
    size_t value_len;  /* headers: the value's length (may hold NUL bytes) */
};

/* A request made from plain arrays, for tests and fuzzing: the accessors read the arrays
 * instead of a libmicrohttpd connection. Every pointer is borrowed and must outlive the
 * request; free it with dir_http_req_free. A body over DIR_HTTP_MAX_BODY and header values
 * holding control bytes are refused by dir_http_dispatch exactly as on the network. */
struct dir_http_req *dir_http_req_new(const char *method, const char *path,
                                      const struct dir_http_kv *args, size_t nargs,
                                      const struct dir_http_kv *headers, size_t nheaders,
                                      const char *body, size_t body_len, const char *client_addr);
void dir_http_req_free(struct dir_http_req *req);
/* Sets RESP up empty (status 500, capped body); free its body with dir_buf_free. */
void dir_http_resp_init(struct dir_http_resp *resp);
/* Adds the header NAME: VALUE (both static) to RESP; false (nothing added) when RESP holds
 * DIR_HTTP_MAX_HEADERS already. */
bool dir_http_resp_header(struct dir_http_resp *resp, const char *name, const char *value);
/* The value of header NAME (any case) added to RESP with dir_http_resp_header, or NULL. */
const char *dir_http_resp_header_get(const struct dir_http_resp *resp, const char *name);
/* Sets the path as the client sent it (see dir_http_raw_path) of a request made with
 * dir_http_req_new; RAW is borrowed. Without it the raw path is the decoded one. */
void dir_http_req_set_raw_path(struct dir_http_req *req, const char *raw);
/* What the server does with a complete request: 413 for an oversized body, 400 for a
 * header holding control bytes, else HANDLER fills RESP. Then RESP gets the request's id
 * (RESP->request_id, and "request_id" in a problem-details body). */
void dir_http_dispatch(dir_http_handler handler, void *app, const struct dir_http_req *req,
                       struct dir_http_resp *resp);

#endif
