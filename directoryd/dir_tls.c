/* dir_tls.c - TLS sessions for the LDAP face (OpenSSL), see dir_tls.h. */
#include "dir_tls.h"
#include "dir_mem.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

struct dir_tls_ctx {
    SSL_CTX *ssl;
};

struct dir_tls {
    SSL *ssl;
    bool read_wants_write;
};

/* The newest OpenSSL error as text, and the queue emptied. */
static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

enum dir_rc dir_tls_ctx_new(const char *cert, const char *key, struct dir_tls_ctx **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    SSL_CTX *s = SSL_CTX_new(TLS_server_method());
    if (!s) {
        ssl_error(err, errlen, "TLS: cannot make a context");
        return DIR_ERR_INVALID;
    }
    SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
    SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* The output buffer grows (and may move) between retries of a partial write. */
    SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    char what[700];
    if (SSL_CTX_use_certificate_chain_file(s, cert) != 1) {
        snprintf(what, sizeof what, "TLS: cannot load the certificate chain '%s'", cert);
        ssl_error(err, errlen, what);
    } else if (SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof what,
                 "TLS: cannot load the private key '%s', or it does not match the certificate",
                 key);
        ssl_error(err, errlen, what);
    } else if (SSL_CTX_check_private_key(s) != 1) {
        ssl_error(err, errlen, "TLS: the private key does not match the certificate");
    } else {
        *out = dir_xcalloc(1, sizeof **out);
        (*out)->ssl = s;
        return DIR_OK;
    }
    SSL_CTX_free(s);
    return DIR_ERR_INVALID;
}

void dir_tls_ctx_free(struct dir_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

struct dir_tls *dir_tls_new(struct dir_tls_ctx *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx->ssl);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    struct dir_tls *t = dir_xcalloc(1, sizeof *t);
    t->ssl = ssl;
    return t;
}

void dir_tls_free(struct dir_tls *t)
{
    if (!t)
        return;
    if (SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl); /* one try: close_notify if the socket takes it */
    SSL_free(t->ssl);
    ERR_clear_error();
    free(t);
}

/* What SSL_get_error says about R, as the caller's next step. */
static enum dir_tls_io next_step(struct dir_tls *t, int r, char *err, size_t errlen)
{
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        ERR_clear_error();
        return DIR_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        return DIR_TLS_WANT_WRITE;
    case SSL_ERROR_SYSCALL:
        if (err)
            snprintf(err, errlen, "TLS: %s", errno ? strerror(errno) : "the peer closed");
        ERR_clear_error();
        return DIR_TLS_FAILED;
    case SSL_ERROR_ZERO_RETURN:
        if (err)
            snprintf(err, errlen, "TLS: the peer closed the session");
        ERR_clear_error();
        return DIR_TLS_FAILED;
    default:
        if (err)
            ssl_error(err, errlen, "TLS");
        else
            ERR_clear_error();
        return DIR_TLS_FAILED;
    }
}

enum dir_tls_io dir_tls_handshake(struct dir_tls *t, char *err, size_t errlen)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return DIR_TLS_DONE;
    return next_step(t, r, err, errlen);
}

enum dir_tls_io dir_tls_write(struct dir_tls *t, const void *buf, size_t n, size_t *sent)
{
    *sent = 0;
    if (!n)
        return DIR_TLS_DONE;
    ERR_clear_error();
    size_t w = 0;
    int r = SSL_write_ex(t->ssl, buf, n, &w);
    if (r == 1) {
        *sent = w;
        return DIR_TLS_DONE;
    }
    return next_step(t, r, NULL, 0);
}

bool dir_tls_pending(const struct dir_tls *t)
{
    return SSL_pending(t->ssl) > 0;
}

bool dir_tls_read_wants_write(const struct dir_tls *t)
{
    return t->read_wants_write;
}

const char *dir_tls_version(const struct dir_tls *t)
{
    return SSL_get_version(t->ssl);
}

/* ---- the Sockbuf reading layer ---- */

static int sb_setup(Sockbuf_IO_Desc *d, void *arg)
{
    d->sbiod_pvt = arg;
    return 0;
}

static int sb_remove(Sockbuf_IO_Desc *d)
{
    d->sbiod_pvt = NULL; /* the session belongs to the connection */
    return 0;
}

static int sb_ctrl(Sockbuf_IO_Desc *d, int opt, void *arg)
{
    struct dir_tls *t = d->sbiod_pvt;
    if (opt == LBER_SB_OPT_DATA_READY && t && SSL_pending(t->ssl) > 0)
        return 1;
    return LBER_SBIOD_CTRL_NEXT(d, opt, arg);
}

/* EAGAIN while TLS needs more bytes (or must write first), 0 at the peer's close_notify or
 * end of stream, ECONNRESET on a TLS failure (the caller closes quietly). */
static ber_slen_t sb_read(Sockbuf_IO_Desc *d, void *buf, ber_len_t len)
{
    struct dir_tls *t = d->sbiod_pvt;
    t->read_wants_write = false;
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(t->ssl, buf, len, &got);
    if (r == 1)
        return (ber_slen_t)got;
    int e = SSL_get_error(t->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->read_wants_write = e == SSL_ERROR_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
        errno = 0;
        return 0;
    }
    errno = ECONNRESET;
    return -1;
}

static ber_slen_t sb_write(Sockbuf_IO_Desc *d, void *buf, ber_len_t len)
{
    size_t sent = 0;
    enum dir_tls_io r = dir_tls_write(d->sbiod_pvt, buf, len, &sent);
    if (r == DIR_TLS_DONE)
        return (ber_slen_t)sent;
    errno = r == DIR_TLS_FAILED ? ECONNRESET : EAGAIN;
    return -1;
}

static int sb_close(Sockbuf_IO_Desc *d)
{
    (void)d;
    return 0;
}

static Sockbuf_IO tls_io = {sb_setup, sb_remove, sb_ctrl, sb_read, sb_write, sb_close};

void dir_tls_attach(struct dir_tls *t, Sockbuf *sb)
{
    ber_sockbuf_add_io(sb, &tls_io, LBER_SBIOD_LEVEL_TRANSPORT, t);
}
