/* dir_http.c - libmicrohttpd glue: per-request state, body collection, response sending, the
 * header deadline (a sweeper thread), header checks, and requests built from arrays. */
#include "dir_http.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_proxy.h"
#include "dir_metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/random.h>
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
    bool tls;        /* HTTPS: answers carry Strict-Transport-Security */
    char *tls_cert, *tls_key; /* the PEM text libmicrohttpd was given (kept while it runs) */
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
    char rid[65];    /* the request id (dir_http_request_id) */
    struct timespec t0; /* when the request line arrived */
    char raw_copy[]; /* where RAW points for a network request */
};

/* ---- request ids ---- */

static char rid_prefix[9];
static atomic_ullong rid_counter;
static pthread_once_t rid_once = PTHREAD_ONCE_INIT;

static void rid_init(void)
{
    unsigned char b[4] = {0};
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        unsigned long long v = (unsigned long long)t.tv_nsec ^ ((unsigned long long)getpid() << 16);
        memcpy(b, &v, sizeof b);
    }
    snprintf(rid_prefix, sizeof rid_prefix, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
}

/* A new id: the process's random prefix and a counter ("3f9a12c4-00000001a"). */
static void rid_make(char *out, size_t n)
{
    pthread_once(&rid_once, rid_init);
    unsigned long long k = atomic_fetch_add_explicit(&rid_counter, 1, memory_order_relaxed) + 1;
    snprintf(out, n, "%s-%09llx", rid_prefix, k);
}

/* True for an inbound X-Request-Id this server repeats: 1 to 64 of A-Z a-z 0-9 . _ : - */
static bool rid_ok(const char *v, size_t n)
{
    if (!v || n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return false;
    }
    return true;
}

/* Takes the client's X-Request-Id when it is sane. */
static void rid_from_client(struct dir_http_req *req)
{
    size_t n = 0;
    const char *v = dir_http_header_n(req, "X-Request-Id", &n);
    if (rid_ok(v, n)) {
        memcpy(req->rid, v, n);
        req->rid[n] = '\0';
    }
}

const char *dir_http_request_id(const struct dir_http_req *req)
{
    return req->rid;
}

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
    rid_make(req->rid, sizeof req->rid);
    if (!req->bad_header) rid_from_client(req);
    clock_gettime(CLOCK_MONOTONIC, &req->t0);
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

bool dir_http_from_loopback(const struct dir_http_req *req)
{
    char a[64];
    dir_http_client_addr(req, a, sizeof a);
    return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
           strncmp(a, "::ffff:127.", 11) == 0;
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

static enum MHD_Result send_resp(struct dir_http *h, struct MHD_Connection *conn,
                                 struct dir_http_resp *resp)
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
    if (resp->request_id) MHD_add_response_header(r, "X-Request-Id", resp->request_id);
    if (h->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
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

/* Adds "request_id" to a problem-details body that has none (the id is plain ASCII). */
static void problem_add_rid(struct dir_http_resp *resp)
{
    struct dir_buf *b = &resp->body;
    if (!resp->request_id || resp->static_body || !resp->content_type ||
        strncmp(resp->content_type, "application/problem+json", 24) != 0)
        return;
    size_t n = b->len;
    while (n && (b->data[n - 1] == '\n' || b->data[n - 1] == ' '))
        n--;
    if (!n || b->data[n - 1] != '}' || memmem(b->data, b->len, "\"request_id\"", 12)) return;
    char tail[96];
    int k = snprintf(tail, sizeof tail, ",\"request_id\":\"%s\"}", resp->request_id);
    b->len = n - 1;
    if (dir_buf_add(b, tail, (size_t)k)) { /* no room: put the brace back */
        b->len = n;
    }
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
    resp->request_id = req->rid;
    problem_add_rid(resp);
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
        dir_metrics_conn(DIR_METRICS_HTTP, 1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_state *cs = *socket_context;
        if (!cs) return;
        dir_metrics_conn(DIR_METRICS_HTTP, -1);
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
    clock_gettime(CLOCK_MONOTONIC, &req->t0);
    rid_make(req->rid, sizeof req->rid);
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

/* Counts the answer RESP to REQ (dir_metrics) and logs it (the access log, when on). Never
 * the path, the query or a header: the route's pattern stands for the path. */
static void observe(const struct dir_http_req *req, const struct dir_http_resp *resp)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us =
        (t1.tv_sec - req->t0.tv_sec) * 1000000LL + (t1.tv_nsec - req->t0.tv_nsec) / 1000;
    dir_metrics_http_request(resp->route, req->method, resp->status, us);
    if (dir_log_access_on()) {
        struct dir_log_access a = {.face = "http",
                                   .rid = req->rid,
                                   .method = req->method,
                                   .route = resp->route ? resp->route : DIR_METRICS_ROUTE_NONE,
                                   .status = resp->status,
                                   .us = us,
                                   .bytes = resp->static_body ? resp->static_len : resp->body.len,
                                   .actor = resp->actor ? resp->actor : "anonymous"};
        dir_log_access(&a);
    }
}

/* Sends RESP, counts and logs it, and frees its body. */
static enum MHD_Result answer(struct dir_http *h, struct MHD_Connection *conn,
                              const struct dir_http_req *req, struct dir_http_resp *resp)
{
    observe(req, resp);
    enum MHD_Result ret = send_resp(h, conn, resp);
    dir_buf_free(&resp->body);
    return ret;
}

/* Queues RESP at once and closes the connection after it (the request's body, if any,
 * cannot be delimited). */
static enum MHD_Result send_and_close(struct dir_http *h, struct MHD_Connection *conn,
                                      const struct dir_http_req *req,
                                      struct dir_http_resp *resp)
{
    resp->close = true;
    resp->request_id = req->rid;
    problem_add_rid(resp);
    return answer(h, conn, req, resp);
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
        rid_from_client(req);
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
            return send_and_close(h, conn, req, &resp);
        }
        if (h->health_only && strcmp(url, "/healthz") != 0 && strcmp(url, "/readyz") != 0) {
            dir_http_resp_init(&resp);
            early_problem(&resp, 404, "not-found", "Not found",
                          "This listener serves /healthz and /readyz only.");
            return send_and_close(h, conn, req, &resp);
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
    return answer(h, conn, req, &resp);
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

/* Reads the PEM file PATH (at most 1 MiB) into a new string (caller frees); NULL with ERR. */
static char *read_pem(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n;
    char *buf = dir_xcalloc(1, cap + 1);
    n = fread(buf, 1, cap, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (!n || more || !strstr(buf, "-----BEGIN ")) {
        snprintf(err, errlen, "%s %s: not a PEM file (or larger than 1 MiB)", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

bool dir_http_tls(const struct dir_http *h)
{
    return h->tls;
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
    bool tls = lim->tls_cert && lim->tls_cert[0];
    if (tls && (!lim->tls_key || !lim->tls_key[0])) {
        snprintf(err, errlen, "http_tls_cert is set but http_tls_key is not");
        return DIR_ERR_INVALID;
    }
    if (!tls && lim->tls_key && lim->tls_key[0]) {
        snprintf(err, errlen, "http_tls_key is set but http_tls_cert is not");
        return DIR_ERR_INVALID;
    }
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "this libmicrohttpd is built without TLS: http_tls_cert cannot be "
                              "used");
        return DIR_ERR_INVALID;
    }
    char *cert = NULL, *key = NULL;
    if (tls && (!(cert = read_pem("http_tls_cert", lim->tls_cert, err, errlen)) ||
                !(key = read_pem("http_tls_key", lim->tls_key, err, errlen)))) {
        free(cert);
        return DIR_ERR_INVALID;
    }
    struct dir_http *h = dir_xcalloc(1, sizeof *h);
    h->tls = tls;
    h->tls_cert = cert;
    h->tls_key = key;
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
        free(h->tls_cert);
        free(h->tls_key);
        free(h);
        return DIR_ERR_IO;
    }
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
            (tls ? MHD_USE_TLS : 0),
        (uint16_t)port, NULL,
        NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)lim->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)lim->max_conns_per_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)lim->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn_cb, h, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!h->mhd) {
        if (tls)
            snprintf(err, errlen,
                     "cannot listen on %s:%d with TLS (in use, not allowed, or the certificate "
                     "and key in %s and %s do not load or do not match)",
                     addr, port, lim->tls_cert, lim->tls_key);
        else
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
    if (h->tls_key) sodium_memzero(h->tls_key, strlen(h->tls_key));
    free(h->tls_cert);
    free(h->tls_key);
    free(h);
}
