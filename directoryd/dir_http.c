/* dir_http.c - libmicrohttpd glue: per-request state, body collection, response sending. */
#include "dir_http.h"
#include "dir_log.h"
#include "dir_mem.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dir_http {
    struct MHD_Daemon *mhd;
    dir_http_handler handler;
    void *app;
    int port;
};

struct dir_http_req {
    struct MHD_Connection *conn;
    const char *method, *path;
    struct dir_buf body;
    bool too_big;
};

const char *dir_http_method(const struct dir_http_req *req)
{
    return req->method;
}
const char *dir_http_path(const struct dir_http_req *req)
{
    return req->path;
}
const char *dir_http_arg(const struct dir_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
const char *dir_http_header(const struct dir_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
const char *dir_http_body(const struct dir_http_req *req, size_t *len)
{
    *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

void dir_http_client_addr(const struct dir_http_req *req, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *buf = '\0';
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf,
                  (socklen_t)n);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf,
                  (socklen_t)n);
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
    struct each_cls e = {cb, cls};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg, &e);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct dir_http_resp *resp)
{
    size_t len;
    char *body = dir_buf_take(&resp->body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
    if (resp->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache ? resp->cache : "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct dir_http *h = cls;
    struct dir_http_req *req = *req_cls;
    if (!req) {
        /* First call: headers only. Queueing now would break keep-alive. */
        req = dir_xcalloc(1, sizeof *req);
        req->conn = conn;
        req->method = method;
        req->path = url;
        dir_buf_init(&req->body, DIR_HTTP_MAX_BODY);
        *req_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big && dir_buf_add(&req->body, upload_data, *upload_data_size))
            req->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct dir_http_resp resp = {.status = 500};
    dir_buf_init(&resp.body, DIR_HTTP_MAX_RESPONSE);
    if (req->too_big) {
        resp.status = 413;
        resp.content_type = "application/problem+json";
        dir_buf_printf(&resp.body,
                       "{\"type\":\"https://directoryd.example/problems/body-too-large\","
                       "\"title\":\"Request body too large\",\"status\":413,"
                       "\"detail\":\"The body is larger than %d bytes.\"}",
                       DIR_HTTP_MAX_BODY);
    } else {
        h->handler(h->app, req, &resp);
    }
    enum MHD_Result ret = send_resp(conn, &resp);
    dir_buf_free(&resp.body);
    return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct dir_http_req *req = *req_cls;
    if (req) {
        dir_buf_free(&req->body);
        free(req);
        *req_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    DIR_LOG(DIR_LOG_WARN, "http", "%s", msg);
}

enum dir_rc dir_http_start(const char *addr, int port, int threads, int max_conns,
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
    h->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)max_conns, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot listen on %s:%d (in use, or not allowed)", addr, port);
        free(h);
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

void dir_http_stop(struct dir_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    free(h);
}
