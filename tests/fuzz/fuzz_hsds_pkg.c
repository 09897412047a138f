/* fuzz_hsds_pkg.c - fuzz target: an HSDS data package as the importer reads it (issue 13 §2):
 * the ZIP reader (dir_zip_read.c), the package's CSV reader (dir_hsds_csv_parse) and the
 * whole reading and mapping (dir_hsds_import_read) against a small snapshot. No PostgreSQL.
 *
 * Input: one mode byte, then the bytes.
 *   mode & 3 == 0: the bytes are one CSV file: dir_hsds_csv_parse either refuses them with a
 *                  message naming a line, or gives {"rows", "header"} where every row is an
 *                  object of strings (and "_line" >= 1, not decreasing) with no more columns
 *                  than the header;
 *   mode & 3 == 1: the bytes are a ZIP archive read with small limits (4 kB a member, 16 kB
 *                  in all): either refused with a message, or members within the limits,
 *                  each with a name; each member then goes through the CSV reader;
 *   otherwise:     the bytes are a package (ZIP or JSON) for dir_hsds_import_read: refused
 *                  with a message, or a report whose counts match its lists and whose plan
 *                  items each have a hsds_id and a Thai name.
 * abort() otherwise. Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or replay_main.c (ctest
 * replays tests/fuzz/corpus/hsds_pkg and tests/fuzz/regress/hsds_pkg).
 */
#include "dir_hsds_import.h"
#include "dir_model.h"
#include "dir_zip.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dir_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1001", "district", "10", "พระนคร", "Phra Nakhon", NULL, 13.75, 100.49,
                       false, 1);
    static const char *const tax[][2] = {
        {"counselling", "0"}, {"children", "1"}, {"ngo", "2"}, {"ngo", "3"}, {"government", "3"}};
    for (size_t i = 0; i < sizeof tax / sizeof tax[0]; i++)
        dir_model_add_taxon(b, (enum dir_tax_kind)(tax[i][1][0] - '0'), tax[i][0], "ไทย", tax[i][0],
                            NULL, NULL);
    struct dir_org_row o = {.id = 1,
                            .ref = "org-1",
                            .name_th = "หน่วยงานหนึ่ง",
                            .type = "ngo",
                            .sector = "ngo",
                            .status = "active",
                            .area_code = "1001",
                            .version = 1};
    dir_model_add_org(b, &o);
    dir_model_add_offering(b, 1, 1, "counselling");
    char err[256];
    if (dir_model_finish(b, 1, &model, err, sizeof err)) abort();
    return 0;
}

static void check_csv(const char *s, size_t n)
{
    char err[300] = "";
    json_t *p = dir_hsds_csv_parse(s, n, err, sizeof err);
    if (!p) {
        if (!err[0]) abort();
        return;
    }
    json_t *rows = json_object_get(p, "rows"), *header = json_object_get(p, "header");
    if (!json_is_array(rows) || !json_array_size(header)) abort();
    json_int_t last = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i), *v;
        const char *k;
        json_int_t line = json_integer_value(json_object_get(r, "_line"));
        if (line < 1 || line < last || json_object_size(r) > json_array_size(header) + 1) abort();
        last = line;
        json_object_foreach(r, k, v)
        {
            if (strcmp(k, "_line") != 0 && !json_is_string(v)) abort();
        }
    }
    json_decref(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char err[512] = "";
    if ((data[0] & 3) == 0) {
        check_csv(s, n);
    } else if ((data[0] & 3) == 1) {
        struct dir_zip_file *f;
        int nf;
        if (dir_zip_read(s, n, 4096, 16384, &f, &nf, err, sizeof err)) {
            if (!err[0]) abort();
            return 0;
        }
        size_t total = 0;
        for (int i = 0; i < nf; i++) {
            if (!f[i].name || !*f[i].name || f[i].len > 4096 || f[i].data[f[i].len]) abort();
            total += f[i].len;
            check_csv((const char *)f[i].data, f[i].len);
        }
        if (total > 16384) abort();
        dir_zip_files_free(f, nf);
    } else {
        json_t *rep = NULL;
        if (dir_hsds_import_read(model, "fuzz.zip", s, n, &rep, err, sizeof err)) {
            if (!err[0] || rep) abort();
            return 0;
        }
        json_t *counts = json_object_get(rep, "counts"), *plan = json_object_get(rep, "plan");
        if (json_integer_value(json_object_get(counts, "organizations")) !=
                (json_int_t)json_array_size(plan) ||
            json_integer_value(json_object_get(counts, "errors")) !=
                (json_int_t)json_array_size(json_object_get(rep, "errors")))
            abort();
        for (size_t i = 0; i < json_array_size(plan); i++) {
            json_t *o = json_array_get(plan, i);
            if (!json_string_value(json_object_get(o, "hsds_id")) ||
                !json_string_value(json_object_get(o, "name_th")))
                abort();
        }
        json_decref(rep);
    }
    return 0;
}
