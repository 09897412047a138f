/* fuzz_csv.c - fuzz target: a spreadsheet file as the CSV importer reads it (import/dir_csv.c).
 *
 * Input: one options byte, then the file's bytes. The byte picks the encoding given
 * (bits 0-1: auto, utf-8, windows-874) and the delimiter (bits 2-3: sniffed, ',', ';', tab).
 * The bytes go through dir_csv_to_utf8 and dir_csv_parse as dir_import_run reads them. Then:
 *   - the text is valid UTF-8 without NUL bytes, or the refusal names a line >= 1 and says
 *     why in Thai and English;
 *   - every record starts on a line >= 1, not before the previous one, has 1 to
 *     DIR_CSV_MAX_FIELDS fields, each valid UTF-8 of at most DIR_CSV_MAX_FIELD bytes;
 *   - writing the records back with dir_csv_put and parsing that gives the same records.
 * abort() otherwise. Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or replay_main.c (ctest
 * replays tests/fuzz/corpus/csv and tests/fuzz/regress/csv).
 */
#include "dir_buf.h"
#include "dir_csv.h"
#include "dir_mem.h"
#include "dir_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    char **fields;
    int n;
};

struct got {
    struct rec *recs;
    int n, last_line;
};

static bool collect(void *arg, int line, char **fields, int nfields)
{
    struct got *g = arg;
    if (line < 1 || line < g->last_line || nfields < 1 || nfields > DIR_CSV_MAX_FIELDS) abort();
    g->last_line = line;
    g->recs = dir_xrealloc(g->recs, (size_t)(g->n + 1) * sizeof *g->recs);
    struct rec *r = &g->recs[g->n++];
    r->n = nfields;
    r->fields = dir_xcalloc((size_t)nfields, sizeof(char *));
    for (int i = 0; i < nfields; i++) {
        size_t len = strlen(fields[i]);
        if (len > DIR_CSV_MAX_FIELD || !dir_text_utf8_valid(fields[i], len)) abort();
        r->fields[i] = dir_xstrdup(fields[i]);
    }
    return true;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++) {
        for (int k = 0; k < g->recs[i].n; k++)
            free(g->recs[i].fields[k]);
        free(g->recs[i].fields);
    }
    free(g->recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const enum dir_csv_enc encs[] = {DIR_CSV_ENC_AUTO, DIR_CSV_ENC_UTF8, DIR_CSV_ENC_CP874,
                                            DIR_CSV_ENC_AUTO};
    static const char delims[] = {0, ',', ';', '\t'};
    enum dir_csv_enc enc = encs[data[0] & 3], used;
    char delim = delims[(data[0] >> 2) & 3];
    struct dir_csv_error e = {0};
    size_t len;
    char *text = dir_csv_to_utf8((const char *)data + 1, size - 1, enc, &used, &len, &e);
    if (!text) {
        if (e.line < 1 || !e.th || !e.en) abort();
        return 0;
    }
    if (strlen(text) != len || !dir_text_utf8_valid(text, len)) abort();
    if (!delim) delim = dir_csv_sniff(text, len);
    struct got g = {0};
    if (!dir_csv_parse(text, len, delim, collect, &g, &e)) {
        if (e.line < 1 || !e.th || !e.en) abort();
        got_free(&g);
        free(text);
        return 0;
    }
    /* Written back and read again: the same records. */
    struct dir_buf b;
    dir_buf_init(&b, (size_t)1 << 30);
    for (int i = 0; i < g.n; i++) {
        for (int k = 0; k < g.recs[i].n; k++) {
            if (k) dir_buf_add(&b, &delim, 1);
            dir_csv_put(&b, g.recs[i].fields[k], false);
        }
        dir_buf_add(&b, "\r\n", 2);
    }
    struct got g2 = {0};
    if (!dir_csv_parse(b.len ? b.data : "", b.len, delim, collect, &g2, &e) || g2.n != g.n) abort();
    for (int i = 0; i < g.n; i++) {
        if (g2.recs[i].n != g.recs[i].n) abort();
        for (int k = 0; k < g.recs[i].n; k++)
            if (strcmp(g2.recs[i].fields[k], g.recs[i].fields[k]) != 0) abort();
    }
    got_free(&g2);
    got_free(&g);
    dir_buf_free(&b);
    free(text);
    return 0;
}
