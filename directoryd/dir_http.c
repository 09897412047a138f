/* dir_http.c - libmicrohttpd glue: per-request state, body collection, response sending, the
 * header deadline (a sweeper thread), header checks, and requests built from arrays. */
#include "dir_http.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_proxy.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct conn_state;

struct dir_http {
    struct MHD_Daemon *mhd;
    dir_http_handler handler;
    void *app;
    int port;
    bool health_only;
    long long header_timeout_ms, body_timeout_ms;
    pthread_t sweep_thread;
    pthread_mutex_t lock; /* guards conns, stopping, swept */
    pthread_cond_t cond;
    struct conn_state *conns; /* every open connection */
    bool stopping;
    long long swept; /* connections closed for overdue headers or bodies */
};

struct dir_http_req {
    struct MHD_Connection *conn; /* NULL for a request built by dir_http_req_new */
    const char *method, *path;
    struct dir_buf body;
    bool too_big;
    bool upload; /* a file upload: DIR_HTTP_MAX_UPLOAD */
    bool bad_header; /* a header value holds NUL or another control byte */
    bool started;    /* the access handler has seen the headers */
    bool has_secret; /* Authorization or Cookie present */
    /* The raw header block as libmicrohttpd keeps it (parsed in place: ':' and each CR and
     * LF overwritten with NUL), for the check of values cut at a NUL (check_header). */
    const char *block, *block_end;
    const char *prev_end; /* just past the previous header's value */
    bool layout_bad;      /* junk after a value, or a header outside the block */
    /* A request built from arrays (tests and fuzzing): all borrowed. */
    const struct dir_http_kv *args, *headers;
    size_t nargs, nheaders;
    const char *addr;
    const char *data;
    size_t data_len;
    const char *raw; /* the path as sent (dir_http_raw_path), or NULL: PATH */
    char raw_copy[]; /* where RAW points for a network request */
};

const char *dir_http_method(const struct dir_http_req *req)
{
    return req->method;
}
const char *dir_http_path(const struct dir_http_req *req)
{
    return req->path;
}
const char *dir_http_raw_path(const struct dir_http_req *req)
{
    return req->raw ? req->raw : req->path;
}
void dir_http_req_set_raw_path(struct dir_http_req *req, const char *raw)
{
    req->raw = raw;
}
const char *dir_http_arg(const struct dir_http_req *req, const char *name)
{
    if (!req->conn) {
        for (size_t i = 0; i < req->nargs; i++)
            if (strcmp(req->args[i].key, name) == 0)
                return req->args[i].value ? req->args[i].value : "";
        return NULL;
    }
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
const char *dir_http_header_n(const struct dir_http_req *req, const char *name, size_t *len)
{
    if (!req->conn) {
        for (size_t i = 0; i < req->nheaders; i++)
            if (strcasecmp(req->headers[i].key, name) == 0) {
                *len = req->headers[i].value_len;
                return req->headers[i].value;
            }
        *len = 0;
        return NULL;
    }
    const char *v = NULL;
    *len = 0;
    if (MHD_lookup_connection_value_n(req->conn, MHD_HEADER_KIND, name, strlen(name), &v, len) !=
        MHD_YES)
        return NULL;
    return v;
}
const char *dir_http_header(const struct dir_http_req *req, const char *name)
{
    size_t len;
    return dir_http_header_n(req, name, &len);
}
const char *dir_http_body(const struct dir_http_req *req, size_t *len)
{
    if (!req->conn) {
        *len = req->data_len;
        return req->data ? req->data : "";
    }
    *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

/* True when the N bytes at V hold no control byte (HTAB aside) and no NUL. */
static bool header_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
    }
    return true;
}

struct dir_http_req *dir_http_req_new(const char *method, const char *path,
                                      const struct dir_http_kv *args, size_t nargs,
                                      const struct dir_http_kv *headers, size_t nheaders,
                                      const char *body, size_t body_len, const char *client_addr)
{
    struct dir_http_req *req = dir_xcalloc(1, sizeof *req);
    req->method = method;
    req->path = path;
    req->args = args;
    req->nargs = nargs;
    req->headers = headers;
    req->nheaders = nheaders;
    req->data = body;
    req->data_len = body_len;
    req->addr = client_addr;
    req->too_big = body_len > DIR_HTTP_MAX_BODY;
    for (size_t i = 0; i < nheaders; i++)
        if (!header_value_ok(headers[i].value, headers[i].value_len)) req->bad_header = true;
    return req;
}

void dir_http_req_free(struct dir_http_req *req)
{
    if (!req) return;
    dir_buf_free(&req->body);
    free(req);
}

/* Every X-Forwarded-For value of a request, joined by commas in the order received (RFC 9110
 * 5.3: several fields are one comma-separated list); when they exceed the buffer, the
 * rightmost entries (the nearest proxies') are kept. */
struct xff_join {
    char buf[1024];
    size_t len;
};
static void xff_add(struct xff_join *j, const char *v, size_t n)
{
    size_t need = n + (j->len ? 1 : 0);
    if (need >= sizeof j->buf) { /* one value alone too long: keep its rightmost entries */
        const char *cut = v + n - (sizeof j->buf - 1);
        while (cut < v + n && *cut != ',') cut++;
        j->len = 0;
        if (cut < v + n) xff_add(j, cut + 1, (size_t)(v + n - cut - 1));
        return;
    }
    while (j->len && j->len + need >= sizeof j->buf) { /* drop the leftmost entry */
        char *c = memchr(j->buf, ',', j->len);
        size_t drop = c ? (size_t)(c - j->buf) + 1 : j->len;
        memmove(j->buf, j->buf + drop, j->len - drop);
        j->len -= drop;
        need = n + (j->len ? 1 : 0);
    }
    if (j->len) j->buf[j->len++] = ',';
    memcpy(j->buf + j->len, v, n);
    j->len += n;
    j->buf[j->len] = '\0';
}
static enum MHD_Result xff_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    if (key && value && strcasecmp(key, "X-Forwarded-For") == 0)
        xff_add(cls, value, strlen(value));
    return MHD_YES;
}

void dir_http_client_addr(const struct dir_http_req *req, char *buf, size_t n)
{
    char peer[INET6_ADDRSTRLEN] = "";
    if (!req->conn) {
        snprintf(peer, sizeof peer, "%s", req->addr ? req->addr : "");
    } else {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, peer,
                      sizeof peer);
        else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, peer,
                      sizeof peer);
    }
    if (!dir_proxy_active() || !dir_proxy_trusted(peer)) {
        snprintf(buf, n, "%s", peer);
        return;
    }
    struct xff_join j = {.len = 0};
    j.buf[0] = '\0';
    if (req->conn)
        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, xff_each, &j);
    else
        for (size_t i = 0; i < req->nheaders; i++)
            if (strcasecmp(req->headers[i].key, "X-Forwarded-For") == 0 &&
                !memchr(req->headers[i].value, '\0', req->headers[i].value_len))
                xff_add(&j, req->headers[i].value, req->headers[i].value_len);
    dir_proxy_client(peer, j.len ? j.buf : NULL, buf, n);
}

struct each_cls {
    bool (*cb)(void *, const char *, const char *);
    void *cls;
};
static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct each_cls *e = cls;
    return e->cb(e->cls, key, value ? value : "") ? MHD_YES : MHD_NO;
}
void dir_http_args_each(const struct dir_http_req *req,
                        bool (*cb)(void *cls, const char *key, const char *value), void *cls)
{
    if (!req->conn) {
        for (size_t i = 0; i < req->nargs; i++)
            if (!cb(cls, req->args[i].key, req->args[i].value ? req->args[i].value : "")) return;
        return;
    }
    struct each_cls e = {cb, cls};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg, &e);
}

bool dir_http_resp_header(struct dir_http_resp *resp, const char *name, const char *value)
{
    if (resp->nextra >= DIR_HTTP_MAX_HEADERS) return false;
    resp->extra[resp->nextra++] = (struct dir_http_header){name, value};
    return true;
}

const char *dir_http_resp_header_get(const struct dir_http_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nextra; i++)
        if (strcasecmp(resp->extra[i].name, name) == 0) return resp->extra[i].value;
    return NULL;
}

/* The security headers every answer gets unless its handler chose its own. */
static const struct dir_http_header default_headers[] = {
    {"X-Frame-Options", "DENY"},
    {"Content-Security-Policy", "frame-ancestors 'none'"},
    {"Referrer-Policy", "no-referrer"},
};

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct dir_http_resp *resp)
{
    struct MHD_Response *r;
    if (resp->static_body) {
        r = MHD_create_response_from_buffer(resp->static_len, (void *)resp->static_body,
                                            MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
    } else {
        size_t len;
        char *body = dir_buf_take(&resp->body, &len);
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(body);
            return MHD_NO;
        }
    }
    if (resp->status != 304)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < sizeof default_headers / sizeof default_headers[0]; i++)
        if (!dir_http_resp_header_get(resp, default_headers[i].name))
            MHD_add_response_header(r, default_headers[i].name, default_headers[i].value);
    for (int i = 0; i < resp->nextra; i++)
        MHD_add_response_header(r, resp->extra[i].name, resp->extra[i].value);
    if (resp->own_name) MHD_add_response_header(r, resp->own_name, resp->own_value);
    if (resp->etag[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    if (resp->allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
    if (resp->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (resp->close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            resp->cache ? resp->cache : "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

void dir_http_resp_init(struct dir_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 500;
    dir_buf_init(&resp->body, DIR_HTTP_MAX_RESPONSE);
}

static void early_problem(struct dir_http_resp *resp, int status, const char *slug,
                          const char *title, const char *detail)
{
    resp->status = status;
    resp->content_type = "application/problem+json";
    resp->body.len = 0;
    dir_buf_printf(&resp->body,
                   "{\"type\":\"https://directoryd.example/problems/%s\",\"title\":\"%s\","
                   "\"status\":%d,\"detail\":\"%s\"}",
                   slug, title, status, detail);
}

void dir_http_dispatch(dir_http_handler handler, void *app, const struct dir_http_req *req,
                       struct dir_http_resp *resp)
{
    if (req->too_big && req->upload) {
        early_problem(resp, 413, "file-too-large", "File too large",
                      "The file is larger than 20 MB (20971520 bytes), the most imported at "
                      "once: split it into smaller files. / ไฟล์ใหญ่เกิน 20 MB: แบ่งเป็นหลายไฟล์");
    } else if (req->too_big) {
        char detail[64];
        snprintf(detail, sizeof detail, "The body is larger than %d bytes.", DIR_HTTP_MAX_BODY);
        early_problem(resp, 413, "body-too-large", "Request body too large", detail);
    } else if (req->bad_header) {
        early_problem(resp, 400, "bad-header", "Invalid header",
                      "A header value holds a NUL or another control character.");
    } else {
        handler(app, req, resp);
    }
}

/* libmicrohttpd cuts a header value at a NUL byte, so "Bearer K\0junk" reads as "Bearer K".
 * Between the end of one value and the next key there is only the line end, which it has
 * overwritten with NUL (at most 2 bytes: CR LF): anything else is what followed a NUL. */
static bool gap_ok(const char *from, const char *to, size_t most)
{
    if (!from) return true; /* the first header */
    if (to < from || (size_t)(to - from) > most) return false;
    for (const char *p = from; p < to; p++)
        if (*p) return false;
    return true;
}

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct dir_http_req *req = cls;
    if (value && !header_value_ok(value, value_size)) req->bad_header = true;
    if (!value || key < req->block || value + value_size > req->block_end || value < key + key_size)
        req->layout_bad = true; /* not the layout this check knows (e.g. a folded header) */
    else if (!gap_ok(req->prev_end, key, 2))
        req->layout_bad = true;
    if (!req->layout_bad) req->prev_end = value + value_size;
    if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0 ||
        strcasecmp(key, MHD_HTTP_HEADER_COOKIE) == 0)
        req->has_secret = true;
    return MHD_YES;
}

/* ---- connections: the header and body deadlines ---- */

enum conn_wait {
    WAIT_NONE,    /* the request is being answered */
    WAIT_HEADERS, /* a request's headers are due (header_timeout) */
    WAIT_BODY     /* its body is due (body_timeout): libmicrohttpd's idle timeout restarts
                   * with each byte, so a trickled body would hold the slot for ever */
};

struct conn_state {
    struct conn_state *prev, *next;
    int fd;
    enum conn_wait waiting; /* what is due */
    struct timespec since;  /* when it became due */
};

static void now_mono(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

static void conn_wait(struct dir_http *h, struct conn_state *cs, enum conn_wait what)
{
    if (!cs) return;
    pthread_mutex_lock(&h->lock);
    cs->waiting = what;
    now_mono(&cs->since);
    pthread_mutex_unlock(&h->lock);
}

static struct conn_state *conn_state_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void notify_conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct dir_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_state *cs = dir_xcalloc(1, sizeof *cs);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        cs->fd = ci ? ci->connect_fd : -1;
        cs->waiting = WAIT_HEADERS;
        now_mono(&cs->since);
        pthread_mutex_lock(&h->lock);
        cs->next = h->conns;
        if (h->conns) h->conns->prev = cs;
        h->conns = cs;
        pthread_mutex_unlock(&h->lock);
        *socket_context = cs;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_state *cs = *socket_context;
        if (!cs) return;
        pthread_mutex_lock(&h->lock);
        if (cs->prev)
            cs->prev->next = cs->next;
        else
            h->conns = cs->next;
        if (cs->next) cs->next->prev = cs->prev;
        pthread_mutex_unlock(&h->lock);
        free(cs);
        *socket_context = NULL;
    }
}

/* Closes (shuts down; libmicrohttpd then closes) connections whose request headers or body
 * are overdue: a client sending one byte every few seconds would otherwise keep its slot. */
static void *sweeper(void *arg)
{
    struct dir_http *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        struct timespec now, wake;
        now_mono(&now);
        for (struct conn_state *cs = h->conns; cs; cs = cs->next) {
            long long ms = (now.tv_sec - cs->since.tv_sec) * 1000LL +
                           (now.tv_nsec - cs->since.tv_nsec) / 1000000;
            long long limit =
                cs->waiting == WAIT_HEADERS ? h->header_timeout_ms : h->body_timeout_ms;
            if (cs->waiting != WAIT_NONE && cs->fd >= 0 && ms >= limit) {
                shutdown(cs->fd, SHUT_RDWR);
                cs->waiting = WAIT_NONE;
                h->swept++;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_nsec += 200 * 1000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cond, &h->lock, &wake);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* ---- requests ---- */

/* Called once the request line is read: the per-request state starts here. */
static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    /* URI is the target as sent; libmicrohttpd then cuts the query off and percent-decodes
     * the path in place, so the path as sent is kept here (dir_http_raw_path). */
    size_t n = strcspn(uri, "?");
    struct dir_http_req *req = dir_xcalloc(1, sizeof *req + n + 1);
    memcpy(req->raw_copy, uri, n);
    req->raw = req->raw_copy;
    req->conn = conn;
    /* A file upload (the CSV importer) may be larger than other bodies. */
    req->upload = strcmp(req->raw_copy, "/v1/imports") == 0;
    dir_buf_init(&req->body, req->upload ? DIR_HTTP_MAX_UPLOAD : DIR_HTTP_MAX_BODY);
    return req;
}

/* True for a Transfer-Encoding this server reads (none, or exactly "chunked"). */
static bool coding_ok(const char *te)
{
    if (!te) return true;
    while (*te == ' ' || *te == '\t')
        te++;
    size_t n = strlen(te);
    while (n && (te[n - 1] == ' ' || te[n - 1] == '\t'))
        n--;
    return n == 7 && strncasecmp(te, "chunked", 7) == 0;
}

/* Queues RESP at once and closes the connection after it (the request's body, if any,
 * cannot be delimited). */
static enum MHD_Result send_and_close(struct MHD_Connection *conn, struct dir_http_resp *resp)
{
    resp->close = true;
    enum MHD_Result ret = send_resp(conn, resp);
    dir_buf_free(&resp->body);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct dir_http *h = cls;
    struct dir_http_req *req = *req_cls;
    if (!req) /* no URI log call (cannot happen with the options set); be safe */
        *req_cls = req = uri_log_cb(NULL, url, conn);
    if (!req->started) {
        /* First call: the headers are in; the body (if any) is due from now. Queueing now
         * would break keep-alive, except for requests this server refuses outright. */
        req->started = true;
        req->method = method;
        req->path = url;
        conn_wait(h, conn_state_of(conn), WAIT_BODY);
        /* libmicrohttpd parses the header block in place, from the method on: each value is
         * checked against the raw bytes after it (gap_ok). With a secret in the request, a
         * value followed by junk, or a block laid out otherwise, is refused: a key followed
         * by NUL and junk is not the key. Whitespace is never counted against a request. */
        const union MHD_ConnectionInfo *hs =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        req->block = method;
        req->block_end = hs ? method + hs->header_size : method;
        if (!hs || url < method || url + strlen(url) > req->block_end || version < url ||
            version + strlen(version) > req->block_end)
            req->layout_bad = true;
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, check_header, req);
        /* After the last value: its line end and the empty line (CR LF CR LF). */
        if (!req->layout_bad && !gap_ok(req->prev_end, req->block_end, 4)) req->layout_bad = true;
        if (req->has_secret && req->layout_bad) req->bad_header = true;
        struct dir_http_resp resp;
        if (!coding_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_TRANSFER_ENCODING))) {
            dir_http_resp_init(&resp);
            early_problem(&resp, 501, "transfer-coding", "Transfer coding not supported",
                          "Only the chunked transfer coding is accepted.");
            return send_and_close(conn, &resp);
        }
        if (h->health_only && strcmp(url, "/healthz") != 0) {
            dir_http_resp_init(&resp);
            early_problem(&resp, 404, "not-found", "Not found",
                          "This listener serves /healthz only.");
            return send_and_close(conn, &resp);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big && dir_buf_add(&req->body, upload_data, *upload_data_size))
            req->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The last call: the whole body is in. */
    conn_wait(h, conn_state_of(conn), WAIT_NONE);
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(h->handler, h->app, req, &resp);
    enum MHD_Result ret = send_resp(conn, &resp);
    dir_buf_free(&resp.body);
    return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct dir_http *h = cls;
    struct dir_http_req *req = *req_cls;
    if (req) {
        dir_http_req_free(req);
        *req_cls = NULL;
    }
    /* The next request's headers are due from now (an idle keep-alive connection is closed
     * after the header timeout too). */
    conn_wait(h, conn_state_of(conn), WAIT_HEADERS);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Per-connection news (a client closed, a limit refused one): debug, or an attack
     * would flood the log. Start-up failures are reported by dir_http_start's caller. */
    msg[strcspn(msg, "\n")] = '\0';
    DIR_LOG(DIR_LOG_DEBUG, "http", "%s", msg);
}

enum dir_rc dir_http_start(const char *addr, int port, const struct dir_http_limits *lim,
                           dir_http_handler handler, void *app, struct dir_http **out, char *err,
                           size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "http_addr '%s' is not an IPv4 address", addr);
        return DIR_ERR_INVALID;
    }
    struct dir_http *h = dir_xcalloc(1, sizeof *h);
    h->handler = handler;
    h->app = app;
    h->health_only = lim->health_only;
    h->header_timeout_ms = (long long)lim->header_timeout_s * 1000;
    h->body_timeout_ms = (long long)(lim->body_timeout_s > 0 ? lim->body_timeout_s : 30) * 1000;
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&h->sweep_thread, NULL, sweeper, h) != 0) {
        snprintf(err, errlen, "cannot start the HTTP header sweeper thread");
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return DIR_ERR_IO;
    }
    h->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)lim->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)lim->max_conns_per_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)lim->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn_cb, h, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot listen on %s:%d (in use, or not allowed)", addr, port);
        h->mhd = NULL;
        dir_http_stop(h);
        return DIR_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    *out = h;
    return DIR_OK;
}

int dir_http_port(const struct dir_http *h)
{
    return h->port;
}

long long dir_http_swept(struct dir_http *h)
{
    pthread_mutex_lock(&h->lock);
    long long n = h->swept;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void dir_http_stop(struct dir_http *h)
{
    if (!h) return;
    if (h->mhd) MHD_stop_daemon(h->mhd);
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->sweep_thread, NULL);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
