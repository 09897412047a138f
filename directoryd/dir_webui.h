/* dir_webui.h - the browser UI's static files (webui/), served from memory at "/".
 *
 * At start every file under the web UI folder (--webui-dir) whose extension has a known
 * content type is read into memory once, with its strong ETag (a BLAKE2b hash of the bytes)
 * and, for text types, a gzip copy made once. Requests never touch the disk: the path as the
 * client sent it is decoded strictly ("." and ".." segments, empty segments, encoded "/" or
 * NUL, backslashes, "#" and control bytes are refused with 400) and looked up in the
 * in-memory table, so nothing outside the folder can be named. "/" is index.html; a path
 * whose last segment has no extension and names no file is a route of the app and gets
 * index.html too (deep links survive a reload); a missing file with an extension is a 404.
 * Every answer carries the UI's Content-Security-Policy and security headers. The folder is
 * read once: a changed file is served after a restart.
 */
#ifndef DIR_WEBUI_H
#define DIR_WEBUI_H

#include "dir_http.h"
#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>

#define DIR_WEBUI_MAX_FILES 4096
#define DIR_WEBUI_MAX_BYTES (64 * 1024 * 1024) /* all files together, before gzip */
#define DIR_WEBUI_MAX_NAME 512                 /* bytes of a file's path in the folder */

/* The Content-Security-Policy of every UI answer (the contract with the UI). */
#define DIR_WEBUI_CSP                                                                              \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                    \
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"

/* One file held in memory. */
struct dir_webui_file {
    char *name;          /* its path in the folder, "/"-separated, e.g. "app/main.js" */
    const char *type;    /* Content-Type */
    const char *cache;   /* Cache-Control */
    unsigned char *data; /* the bytes */
    size_t len;
    unsigned char *gz; /* a gzip copy when smaller (text types), else NULL */
    size_t gz_len;
    char etag[40];    /* strong ETag of DATA, quotes included */
    char etag_gz[44]; /* of GZ */
};

struct dir_webui;

/* What a request path names. */
enum dir_webui_find {
    DIR_WEBUI_FILE,    /* a file */
    DIR_WEBUI_APP,     /* a route of the app: index.html is the answer */
    DIR_WEBUI_MISSING, /* looks like a file (has an extension) that is not there: 404 */
    DIR_WEBUI_BAD      /* cannot name a file (dot segments, encoded slash, NUL...): 400 */
};

/* An empty set of files; the caller frees it with dir_webui_free. */
struct dir_webui *dir_webui_new(void);
/* Adds a copy of the LEN bytes at DATA as file NAME (a path in the folder, "/"-separated,
 * no "." or ".." segment). DIR_ERR_INVALID for a name that could never be asked for or a
 * type not served (see dir_webui_content_type), DIR_ERR_LIMIT past the caps, DIR_ERR_STATE
 * for a name already there or after dir_webui_finish; ERR says why. */
enum dir_rc dir_webui_add(struct dir_webui *w, const char *name, const void *data, size_t len,
                          char *err, size_t errlen);
/* Makes the set ready to serve (sorts it); afterwards it is read-only and may be shared by
 * any number of threads. */
void dir_webui_finish(struct dir_webui *w);
/* Reads every file of DIR (recursively; dot files, node_modules and symbolic links left out,
 * files of types not served skipped) into a finished set: *OUT, which the caller frees.
 * DIR_ERR_IO when DIR cannot be read, DIR_ERR_LIMIT past the caps; ERR says why. */
enum dir_rc dir_webui_load(const char *dir, struct dir_webui **out, char *err, size_t errlen);
/* Frees W and its files. NULL is a no-op. */
void dir_webui_free(struct dir_webui *w);

/* The number of files, and the file at I (0 <= I < count, in name order; borrowed). */
size_t dir_webui_count(const struct dir_webui *w);
const struct dir_webui_file *dir_webui_file_at(const struct dir_webui *w, size_t i);
/* The Content-Type served for file NAME by its extension (static), or NULL when files of
 * that kind are not served. */
const char *dir_webui_content_type(const char *name);
/* The Cache-Control of file NAME (static): a year (immutable) for names carrying a content
 * hash of at least 8 hex digits ("main.3f2a9c1b.js", "logo-0badc0de.svg"), else no-cache. */
const char *dir_webui_cache_control(const char *name);
/* True when Accept-Encoding value V (NULL: none) accepts gzip (listed or "*", q > 0). */
bool dir_webui_accepts_gzip(const char *v);
/* True when If-None-Match value V lists ETAG (weak comparison) or is "*". */
bool dir_webui_etag_match(const char *v, const char *etag);
/* What RAW_PATH (a request path as sent: percent-encoded, no query) names; *FILE is set
 * to the file for DIR_WEBUI_FILE and to index.html (or NULL without one) for
 * DIR_WEBUI_APP. */
enum dir_webui_find dir_webui_lookup(const struct dir_webui *w, const char *raw_path,
                                     const struct dir_webui_file **file);

/* Answers REQ (GET or HEAD; other methods 405) from W into RESP: the file's bytes are sent
 * without a copy and must outlive the server (free W after dir_http_stop). */
void dir_webui_handle(const struct dir_webui *w, const struct dir_http_req *req,
                      struct dir_http_resp *resp);

#endif
