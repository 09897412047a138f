/* dir_webui.c - the web UI's files in memory (see dir_webui.h): loading the folder, content
 * types, ETags, gzip copies, the strict path lookup and the answers. */
#include "dir_webui.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_problem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_DEPTH 16
#define NO_CACHE "no-cache"
#define A_YEAR "public, max-age=31536000, immutable"

struct dir_webui {
    struct dir_webui_file **files; /* sorted by name once finished */
    size_t n, cap;
    size_t bytes; /* sum of the files' sizes */
    bool finished;
    const struct dir_webui_file *index; /* index.html, or NULL */
};

/* ---- content types and caching ---- */

static const struct {
    const char *ext, *type;
    bool text; /* gets a gzip copy */
} types[] = {
    {"html", "text/html; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"svg", "image/svg+xml", true},
    {"png", "image/png", false},
    {"ico", "image/x-icon", false},
    {"json", "application/json; charset=utf-8", true},
    {"webmanifest", "application/manifest+json", true},
    {"woff2", "font/woff2", false},
    {"txt", "text/plain; charset=utf-8", true},
    {"map", "application/json; charset=utf-8", true},
};

static int type_of(const char *name)
{
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return -1; /* no extension, or a dot file */
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0) return (int)i;
    return -1;
}

const char *dir_webui_content_type(const char *name)
{
    int t = type_of(name);
    return t < 0 ? NULL : types[t].type;
}

static bool is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

const char *dir_webui_cache_control(const char *name)
{
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    const char *ext = strrchr(base, '.');
    if (!ext || strcmp(base, "index.html") == 0 || strcmp(base, "sw.js") == 0 ||
        strcmp(base, "manifest.webmanifest") == 0)
        return NO_CACHE;
    /* A part of the stem after the first, between '.', '-' or '_', of 8 or more lower-case
     * hex digits with at least one digit and one letter (so a date is never taken for one). */
    for (const char *p = base; p < ext;) {
        const char *q = p;
        bool hex = true, digit = false, letter = false;
        for (; q < ext && *q != '.' && *q != '-' && *q != '_'; q++) {
            hex = hex && is_hex_lower(*q);
            digit = digit || (*q >= '0' && *q <= '9');
            letter = letter || (*q >= 'a' && *q <= 'f');
        }
        if (p != base && hex && digit && letter && q - p >= 8) return A_YEAR;
        p = q + 1;
    }
    return NO_CACHE;
}

/* ---- building the set ---- */

struct dir_webui *dir_webui_new(void)
{
    return dir_xcalloc(1, sizeof(struct dir_webui));
}

static void file_free(struct dir_webui_file *f)
{
    if (!f) return;
    free(f->name);
    free(f->data);
    free(f->gz);
    free(f);
}

void dir_webui_free(struct dir_webui *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++)
        file_free(w->files[i]);
    free(w->files);
    free(w);
}

/* A gzip copy of the N bytes at IN (caller frees), made once; NULL when it fails. */
static unsigned char *gzip_copy(const unsigned char *in, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&zs, (uLong)n);
    unsigned char *out = dir_xmalloc(bound);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* The quoted strong ETag of the N bytes at P (SUFFIX added inside the quotes) into OUT. */
static void make_etag(const unsigned char *p, size_t n, const char *suffix, char *out, size_t size)
{
    unsigned char h[16];
    char hex[sizeof h * 2 + 1];
    crypto_generichash(h, sizeof h, p, n, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, size, "\"%s%s\"", hex, suffix);
}

/* True when NAME can be asked for: not empty, "/"-separated segments that are neither empty
 * nor "." or "..", no backslash and no control byte. */
static bool name_ok(const char *name)
{
    size_t len = strlen(name);
    if (!len || len > DIR_WEBUI_MAX_NAME) return false;
    for (const char *seg = name;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!seg[n]) break;
        seg += n + 1;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\') return false;
    return true;
}

enum dir_rc dir_webui_add(struct dir_webui *w, const char *name, const void *data, size_t len,
                          char *err, size_t errlen)
{
    if (w->finished) {
        snprintf(err, errlen, "web UI: files are added before dir_webui_finish");
        return DIR_ERR_STATE;
    }
    if (!name_ok(name)) {
        snprintf(err, errlen, "web UI: '%.80s' cannot be a file's path", name);
        return DIR_ERR_INVALID;
    }
    int t = type_of(name);
    if (t < 0) {
        snprintf(err, errlen, "web UI: %.80s: files of this type are not served", name);
        return DIR_ERR_INVALID;
    }
    if (w->n >= DIR_WEBUI_MAX_FILES || len > DIR_WEBUI_MAX_BYTES - w->bytes) {
        snprintf(err, errlen, "web UI: more than %d files or %d MiB (at %.80s)",
                 DIR_WEBUI_MAX_FILES, DIR_WEBUI_MAX_BYTES / (1024 * 1024), name);
        return DIR_ERR_LIMIT;
    }
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->files[i]->name, name) == 0) {
            snprintf(err, errlen, "web UI: %.80s is there twice", name);
            return DIR_ERR_STATE;
        }
    struct dir_webui_file *f = dir_xcalloc(1, sizeof *f);
    f->name = dir_xstrdup(name);
    f->type = types[t].type;
    f->cache = dir_webui_cache_control(name);
    f->data = dir_xmalloc(len ? len : 1);
    if (len) memcpy(f->data, data, len);
    f->len = len;
    make_etag(f->data, len, "", f->etag, sizeof f->etag);
    if (types[t].text && len) {
        f->gz = gzip_copy(f->data, len, &f->gz_len);
        if (f->gz && f->gz_len >= len) { /* no smaller: not worth a second representation */
            free(f->gz);
            f->gz = NULL;
            f->gz_len = 0;
        }
        if (f->gz) make_etag(f->data, len, "-gz", f->etag_gz, sizeof f->etag_gz);
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->files = dir_xrealloc(w->files, w->cap * sizeof *w->files);
    }
    w->files[w->n++] = f;
    w->bytes += len;
    return DIR_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(struct dir_webui_file *const *)a)->name,
                  (*(struct dir_webui_file *const *)b)->name);
}

static const struct dir_webui_file *find(const struct dir_webui *w, const char *name)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w->files[mid]->name, name);
        if (c == 0) return w->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void dir_webui_finish(struct dir_webui *w)
{
    if (w->n) qsort(w->files, w->n, sizeof *w->files, by_name);
    w->finished = true;
    w->index = find(w, "index.html");
}

size_t dir_webui_count(const struct dir_webui *w)
{
    return w->n;
}

const struct dir_webui_file *dir_webui_file_at(const struct dir_webui *w, size_t i)
{
    return i < w->n ? w->files[i] : NULL;
}

/* ---- loading the folder ---- */

struct loader {
    struct dir_webui *w;
    const char *root;
    size_t skipped; /* files of types not served */
    char *err;
    size_t errlen;
};

/* Reads the regular file NAME of directory DFD (no symbolic link followed) and adds it as
 * PATH. */
static enum dir_rc load_file(struct loader *l, int dfd, const char *name, const char *path)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(l->err, l->errlen, "web UI: cannot read %s/%s: %s", l->root, path,
                 fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) close(fd);
        return DIR_ERR_IO;
    }
    if ((size_t)st.st_size > DIR_WEBUI_MAX_BYTES - l->w->bytes) {
        close(fd);
        snprintf(l->err, l->errlen, "web UI: the files of %s are larger than %d MiB (at %s)",
                 l->root, DIR_WEBUI_MAX_BYTES / (1024 * 1024), path);
        return DIR_ERR_LIMIT;
    }
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = dir_xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* shrank while read: what was there */
        got += (size_t)r;
    }
    close(fd);
    enum dir_rc rc = dir_webui_add(l->w, path, buf, got, l->err, l->errlen);
    free(buf);
    return rc;
}

/* Adds every file below directory DFD (closed here), whose path in the folder is PREFIX. */
static enum dir_rc load_dir(struct loader *l, int dfd, const char *prefix, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        snprintf(l->err, l->errlen, "web UI: cannot read %s/%s: %s", l->root, prefix,
                 strerror(errno));
        close(dfd);
        return DIR_ERR_IO;
    }
    enum dir_rc rc = DIR_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        char path[DIR_WEBUI_MAX_NAME + 2];
        struct stat st;
        if (name[0] == '.') continue; /* ".", "..", and dot files (.git, editor droppings) */
        if ((size_t)snprintf(path, sizeof path, "%s%s", prefix, name) > DIR_WEBUI_MAX_NAME) {
            snprintf(l->err, l->errlen, "web UI: a path in %s is longer than %d bytes (%.60s...)",
                     l->root, DIR_WEBUI_MAX_NAME, path);
            rc = DIR_ERR_LIMIT;
        } else if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            snprintf(l->err, l->errlen, "web UI: cannot read %s/%s: %s", l->root, path,
                     strerror(errno));
            rc = DIR_ERR_IO;
        } else if (S_ISLNK(st.st_mode)) {
            DIR_LOG(DIR_LOG_WARN, "webui", "%s/%s is a symbolic link: not served", l->root, path);
        } else if (S_ISDIR(st.st_mode)) {
            if (strcmp(name, "node_modules") == 0) continue;
            if (depth >= MAX_DEPTH) {
                snprintf(l->err, l->errlen, "web UI: %s is nested more than %d folders deep",
                         l->root, MAX_DEPTH);
                rc = DIR_ERR_LIMIT;
                break;
            }
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                snprintf(l->err, l->errlen, "web UI: cannot open %s/%s: %s", l->root, path,
                         strerror(errno));
                rc = DIR_ERR_IO;
                break;
            }
            strcat(path, "/");
            rc = load_dir(l, sub, path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            if (!dir_webui_content_type(name)) {
                l->skipped++;
                DIR_LOG(DIR_LOG_DEBUG, "webui", "%s/%s: type not served, left out", l->root, path);
                continue;
            }
            rc = load_file(l, dirfd(d), name, path);
        }
    }
    closedir(d);
    return rc;
}

enum dir_rc dir_webui_load(const char *dir, struct dir_webui **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "web UI: cannot open the folder %s: %s", dir, strerror(errno));
        return DIR_ERR_IO;
    }
    struct loader l = {.w = dir_webui_new(), .root = dir, .err = err, .errlen = errlen};
    enum dir_rc rc = load_dir(&l, fd, "", 0);
    if (rc) {
        dir_webui_free(l.w);
        return rc;
    }
    dir_webui_finish(l.w);
    size_t gz = 0, text = 0;
    for (size_t i = 0; i < l.w->n; i++)
        if (l.w->files[i]->gz) {
            gz += l.w->files[i]->gz_len;
            text += l.w->files[i]->len;
        }
    DIR_LOG(DIR_LOG_INFO, "webui",
            "%zu files (%zu KiB; text %zu KiB, gzipped %zu KiB) from %s%s; %zu of other types "
            "left out",
            l.w->n, l.w->bytes / 1024, text / 1024, gz / 1024, dir,
            l.w->index ? "" : " (no index.html: app routes answer 404)", l.skipped);
    *out = l.w;
    return DIR_OK;
}

/* ---- requests ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

enum dir_webui_find dir_webui_lookup(const struct dir_webui *w, const char *raw_path,
                                     const struct dir_webui_file **file)
{
    char name[DIR_WEBUI_MAX_NAME + sizeof "index.html"];
    size_t o = 0;
    *file = NULL;
    if (raw_path[0] != '/') return DIR_WEBUI_BAD;
    /* Percent-decode: an encoded "/" or NUL, a malformed escape, a "#" (a fragment is never
     * sent) and (encoded or not) a backslash or control byte cannot be part of a file's path. */
    for (const char *p = raw_path + 1; *p && *p != '?'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '#') return DIR_WEBUI_BAD;
        if (ch == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0) return DIR_WEBUI_BAD;
            ch = (unsigned char)(hi * 16 + lo);
            p += 2;
            if (ch == '/' || ch == 0) return DIR_WEBUI_BAD;
        }
        if (ch < 0x20 || ch == 0x7f || ch == '\\' || o >= DIR_WEBUI_MAX_NAME) return DIR_WEBUI_BAD;
        name[o++] = (char)ch;
    }
    name[o] = '\0';
    /* Segments: none empty (but the last, a folder's index), none "." or "..". */
    const char *last = name;
    for (const char *seg = name;;) {
        size_t n = strcspn(seg, "/");
        if ((n == 0 && seg[n]) || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return DIR_WEBUI_BAD;
        last = seg;
        if (!seg[n]) break;
        seg += n + 1;
    }
    bool folder = !*last, has_ext = strchr(last, '.') != NULL;
    if (folder) memcpy(name + o, "index.html", sizeof "index.html");
    if ((*file = find(w, name)) != NULL) return DIR_WEBUI_FILE;
    if (has_ext) return DIR_WEBUI_MISSING;
    *file = w->index;
    return DIR_WEBUI_APP;
}

/* Skips optional whitespace. */
static const char *ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The qvalue at P ("q=0.5") in thousandths; 1000 when absent, -1 when malformed. */
static int qvalue(const char *p, const char *end)
{
    for (;;) { /* parameters: ";name=value" */
        p = ows(p);
        if (p >= end || *p != ';') return 1000;
        p = ows(p + 1);
        if ((*p == 'q' || *p == 'Q') && ows(p + 1)[0] == '=') break;
        while (p < end && *p != ';')
            p++;
    }
    p = ows(ows(p + 1) + 1);
    if (*p != '0' && *p != '1') return -1;
    int q = (*p++ - '0') * 1000;
    if (*p == '.') {
        p++;
        for (int scale = 100; scale && *p >= '0' && *p <= '9'; scale /= 10, p++)
            q += (*p - '0') * scale;
    }
    return q > 1000 ? 1000 : q;
}

bool dir_webui_accepts_gzip(const char *v)
{
    int gzip = -1, any = -1;
    for (const char *p = v; p && *p;) {
        p = ows(p);
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        size_t n = strcspn(p, " \t;,");
        int q = qvalue(p + n, end);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip = q;
        else if (n == 1 && *p == '*')
            any = q;
        p = *end ? end + 1 : end;
    }
    return gzip >= 0 ? gzip > 0 : any > 0;
}

bool dir_webui_etag_match(const char *v, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = v; p && *p;) {
        p = ows(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '*') return true;
        if (p[0] == 'W' && p[1] == '/') p += 2; /* If-None-Match compares weakly */
        if (*p == '"') {
            const char *close = strchr(p + 1, '"');
            if (!close) return false;
            if ((size_t)(close + 1 - p) == elen && memcmp(p, etag, elen) == 0) return true;
            p = close + 1;
        } else {
            p += strcspn(p, ","); /* not an entity tag */
        }
    }
    return false;
}

static void ui_problem(struct dir_http_resp *resp, const char *path, int status, const char *slug,
                       const char *title, const char *detail)
{
    struct dir_problem p;
    dir_problem_init(&p, status, slug, title, "%s", detail);
    dir_problem_respond(&p, path, resp);
}

void dir_webui_handle(const struct dir_webui *w, const struct dir_http_req *req,
                      struct dir_http_resp *resp)
{
    const char *method = dir_http_method(req), *path = dir_http_path(req);
    dir_http_resp_header(resp, "Content-Security-Policy", DIR_WEBUI_CSP);
    dir_http_resp_header(resp, "Referrer-Policy", "no-referrer");
    dir_http_resp_header(resp, "X-Frame-Options", "DENY");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        resp->allow = "GET, HEAD";
        ui_problem(resp, path, 405, "method-not-allowed", "Method not allowed",
                   "The web UI's files are read with GET or HEAD only.");
        return;
    }
    const struct dir_webui_file *f = NULL;
    switch (dir_webui_lookup(w, dir_http_raw_path(req), &f)) {
    case DIR_WEBUI_BAD:
        ui_problem(resp, path, 400, "invalid-path", "Invalid path",
                   "This path cannot name a file of the web UI: '.' and '..' segments, empty "
                   "segments, encoded slashes, backslashes and control characters are refused.");
        return;
    case DIR_WEBUI_MISSING:
        ui_problem(resp, path, 404, "not-found", "Not found", "The web UI has no such file.");
        return;
    case DIR_WEBUI_APP:
        if (!f) {
            ui_problem(resp, path, 404, "not-found", "Not found",
                       "There is nothing at this path (the web UI has no index.html).");
            return;
        }
        break;
    case DIR_WEBUI_FILE:
        break;
    }
    bool gz = f->gz && dir_webui_accepts_gzip(dir_http_header(req, "Accept-Encoding"));
    const char *etag = gz ? f->etag_gz : f->etag;
    snprintf(resp->etag, sizeof resp->etag, "%s", etag);
    resp->cache = f->cache;
    resp->content_type = f->type;
    if (f->gz) dir_http_resp_header(resp, "Vary", "Accept-Encoding");
    /* A 304 carries the representation too: libmicrohttpd sends no body with a 304 (nor
     * for HEAD) but its Content-Length, which must be the 200's (RFC 9110, 8.6). */
    const char *inm = dir_http_header(req, "If-None-Match");
    resp->status = inm && dir_webui_etag_match(inm, etag) ? 304 : 200;
    if (gz) dir_http_resp_header(resp, "Content-Encoding", "gzip");
    resp->static_body = gz ? f->gz : f->data;
    resp->static_len = gz ? f->gz_len : f->len;
}
