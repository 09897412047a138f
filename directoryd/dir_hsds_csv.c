/* dir_hsds_csv.c - the CSV files of an HSDS data package read into rows (see
 * dir_hsds_import.h, dir_hsds_csv_parse). Pure; fuzzed by tests/fuzz/fuzz_hsds_pkg.c. */
#include "dir_hsds_import.h"
#include "dir_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CSV (RFC 4180: fields separated by commas, records by CRLF or LF; a field in double
 * quotes may hold commas, line breaks and doubled quotes) ---- */

static const char *unneutralise(const char *v)
{
    return v[0] == '\'' && v[1] && strchr("=+-@\t\r", v[1]) ? v + 1 : v;
}

json_t *dir_hsds_csv_parse(const char *s, size_t n, char *err, size_t errlen)
{
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
    json_t *rows = json_array(), *header = json_array(), *rec = json_array();
    char *field = malloc(n + 1);
    size_t i = 0;
    int line = 1, start = 1;
    bool ok = field != NULL;
    while (ok && i <= n) {
        size_t fl = 0;
        bool quoted = i < n && s[i] == '"';
        if (quoted) {
            int qline = line;
            for (i++;; i++) {
                if (i >= n) {
                    snprintf(err, errlen, "line %d: a quoted field is never closed", qline);
                    ok = false;
                    break;
                }
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"')
                        field[fl++] = s[i++];
                    else {
                        i++;
                        break;
                    }
                } else {
                    if (s[i] == '\n') line++;
                    field[fl++] = s[i];
                }
            }
            if (!ok) break;
            if (i < n && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
                snprintf(err, errlen, "line %d: text after a closing quote", line);
                ok = false;
                break;
            }
        } else {
            while (i < n && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
                if (s[i] == '"') {
                    snprintf(err, errlen, "line %d: a quote inside an unquoted field", line);
                    ok = false;
                    break;
                }
                field[fl++] = s[i++];
            }
            if (!ok) break;
        }
        field[fl] = '\0';
        if (!dir_text_utf8_valid(field, fl)) {
            snprintf(err, errlen, "line %d: not UTF-8", line);
            ok = false;
            break;
        }
        json_array_append_new(rec, json_string(field));
        if (i < n && s[i] == ',') {
            i++;
            continue;
        }
        /* End of a record. */
        if (i < n && s[i] == '\r') i++;
        if (i < n && s[i] == '\n') i++;
        bool blank = json_array_size(rec) == 1 && fl == 0 && !quoted;
        if (!blank) {
            if (json_array_size(header) == 0) {
                json_array_extend(header, rec);
            } else if (json_array_size(rec) > json_array_size(header)) {
                snprintf(err, errlen, "line %d: %zu fields, the header has %zu", start,
                         json_array_size(rec), json_array_size(header));
                ok = false;
                break;
            } else {
                json_t *row = json_object();
                for (size_t k = 0; k < json_array_size(rec); k++) {
                    const char *v = json_string_value(json_array_get(rec, k));
                    if (*v)
                        json_object_set_new(row, json_string_value(json_array_get(header, k)),
                                            json_string(unneutralise(v)));
                }
                json_object_set_new(row, "_line", json_integer(start));
                json_array_append_new(rows, row);
            }
        }
        json_array_clear(rec);
        line++;
        start = line;
        if (i >= n) break;
    }
    if (ok && json_array_size(header) == 0) {
        snprintf(err, errlen, "the file is empty (no header)");
        ok = false;
    }
    free(field);
    json_decref(rec);
    if (!ok) {
        json_decref(rows);
        json_decref(header);
        return NULL;
    }
    rows = json_pack("{s:o, s:o}", "rows", rows, "header", header);
    return rows;
}
