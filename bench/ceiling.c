/* bench/ceiling.c - the "bare libmicrohttpd ceiling" for bench/run.
 *
 * A tiny HTTP server that answers every GET with the same ~200-byte JSON body, set up the way
 * directoryd sets up libmicrohttpd (dir_http.c): an internal polling thread with epoll, a
 * thread pool, 127.0.0.1 only, and the response queued on the SECOND call of the access
 * handler (queuing on the first call, before the request is complete, breaks keep-alive).
 * Like directoryd it creates, queues and destroys one response object per request (over a
 * static buffer, so nothing is copied).  What directoryd answers per second divided by what
 * this answers per second is how much of the HTTP library's ceiling the daemon's own work
 * leaves.
 *
 *   ceiling PORT [THREADS]      (THREADS defaults to 2, like directoryd's --http-threads)
 *
 * Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A plausible compact JSON answer of about 200 bytes (an organisation card). */
static const char BODY[] =
    "{\"id\":1,\"ref\":\"bench-ceiling\",\"name_th\":\"ศูนย์ทดสอบเพดาน\",\"name_en\":"
    "\"Ceiling test centre\",\"type\":\"ngo\",\"status\":\"active\",\"area\":{\"code\":\"1007\"},"
    "\"verified_at\":\"2025-01-01T00:00:00Z\",\"stale\":false}";

static int headers_seen; /* its address marks "first call done" in *req_cls */

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        /* First call: headers only; answer on the next call. */
        *req_cls = &headers_seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* ignore any body */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    *req_cls = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int threads = argc == 3 ? atoi(argv[2]) : 2;
    if (port < 1 || port > 65535 || threads < 1 || threads > 64) {
        fprintf(stderr, "ceiling: bad port or thread count\n");
        return 2;
    }

    /* Signals are taken by sigwait below, not by the server's threads. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port,
        NULL, NULL, access_cb, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ceiling: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    fprintf(stderr, "ceiling: serving http://127.0.0.1:%d/ with %d threads\n", port, threads);

    int sig = 0;
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}
