/* dir_tls.h - TLS for the LDAP face (LDAPS and StartTLS), with OpenSSL.
 *
 * One server context is made at start-up from a PEM certificate chain and its private key;
 * each TLS connection gets a session on its non-blocking socket. Reading goes through a
 * liblber Sockbuf I/O layer (so ber_get_next reads decrypted bytes exactly as it reads plain
 * ones); writing and the handshake are explicit calls that say whether the socket must become
 * readable or writable before they can go on. TLS 1.2 is the oldest version offered and
 * renegotiation is refused.
 */
#ifndef DIR_TLS_H
#define DIR_TLS_H

#include "dir_rc.h"

#include <lber.h>
#include <stdbool.h>
#include <stddef.h>

struct dir_tls_ctx;
struct dir_tls;

enum dir_tls_io {
    DIR_TLS_DONE,       /* finished (handshake) or wrote something (write) */
    DIR_TLS_WANT_READ,  /* call again when the socket is readable */
    DIR_TLS_WANT_WRITE, /* call again when the socket is writable */
    DIR_TLS_FAILED      /* the connection cannot go on; the reason is in ERR */
};

/* Loads CERT (PEM chain, the server's certificate first) and KEY (PEM). On success *OUT is
 * the caller's, freed with dir_tls_ctx_free; DIR_ERR_INVALID with a message in ERR when a file
 * is missing, unreadable or the key does not belong to the certificate. */
enum dir_rc dir_tls_ctx_new(const char *cert, const char *key, struct dir_tls_ctx **out,
                            char *err, size_t errlen);
void dir_tls_ctx_free(struct dir_tls_ctx *ctx);

/* A server session on FD (non-blocking, connected). The caller owns it (dir_tls_free) and
 * keeps CTX alive meanwhile. */
struct dir_tls *dir_tls_new(struct dir_tls_ctx *ctx, int fd);
/* Sends close_notify if the socket takes it at once, and frees T (NULL is a no-op). Does not
 * close the socket. */
void dir_tls_free(struct dir_tls *t);

/* Advances the server handshake. */
enum dir_tls_io dir_tls_handshake(struct dir_tls *t, char *err, size_t errlen);
/* Encrypts and sends up to N bytes of BUF; *SENT is how many were taken (maybe 0). */
enum dir_tls_io dir_tls_write(struct dir_tls *t, const void *buf, size_t n, size_t *sent);
/* Pushes the reading layer onto SB: from now on ber_get_next(SB) reads through T. */
void dir_tls_attach(struct dir_tls *t, Sockbuf *sb);
/* True when decrypted bytes wait inside T (the socket may not become readable again). */
bool dir_tls_pending(const struct dir_tls *t);
/* True when the last read could not go on until the socket is writable. */
bool dir_tls_read_wants_write(const struct dir_tls *t);
/* The protocol version negotiated, e.g. "TLSv1.3" (static storage). */
const char *dir_tls_version(const struct dir_tls *t);

#endif
