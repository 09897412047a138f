/* test_csv.c - unit tests for import/dir_csv.c (the CSV importer's file reading) and the
 * cell grammars of directoryd/dir_import_cols.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_csv.h"
#include "dir_import_int.h"

struct got {
    int n;
    int line[16];
    int nf[16];
    char f[16][8][64];
};

static bool keep(void *arg, int line, char **fields, int nfields)
{
    struct got *g = arg;
    if (g->n == 16) return false;
    g->line[g->n] = line;
    g->nf[g->n] = nfields;
    for (int i = 0; i < nfields && i < 8; i++)
        snprintf(g->f[g->n][i], 64, "%s", fields[i]);
    g->n++;
    return true;
}

static bool parse(const char *s, char delim, struct got *g, struct dir_csv_error *e)
{
    memset(g, 0, sizeof *g);
    memset(e, 0, sizeof *e);
    return dir_csv_parse(s, strlen(s), delim, keep, g, e);
}

static void rfc4180_quotes_newlines_and_doubled_quotes(void **state)
{
    (void)state;
    struct got g;
    struct dir_csv_error e;
    assert_true(
        parse("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nlast,,\r\n", ',', &g, &e));
    assert_int_equal(g.n, 3);
    assert_string_equal(g.f[1][0], "x,1");
    assert_string_equal(g.f[1][1], "say \"hi\"");
    assert_string_equal(g.f[1][2], "two\nlines");
    assert_int_equal(g.line[1], 2);
    assert_int_equal(g.line[2], 4); /* the quoted line break counted */
    assert_int_equal(g.nf[2], 3);
    assert_string_equal(g.f[2][1], "");
}

static void line_ends_and_blank_records(void **state)
{
    (void)state;
    struct got g;
    struct dir_csv_error e;
    assert_true(parse("a;b\n1;2\r3;4\r\n\r\n;\n5;6", ';', &g, &e));
    assert_int_equal(g.n, 4);
    assert_int_equal(g.line[3], 6);
    assert_string_equal(g.f[3][1], "6");
}

static void broken_quotes_name_their_line(void **state)
{
    (void)state;
    struct got g;
    struct dir_csv_error e;
    assert_false(parse("a,b\r\nx,\"open\r\nmore\r\n", ',', &g, &e));
    assert_int_equal(e.line, 2);
    assert_string_equal(e.en, "a quoted field (\") is never closed");
    assert_false(parse("a,b\r\nx,y\r\nx,ab\"c\r\n", ',', &g, &e));
    assert_int_equal(e.line, 3);
    assert_false(parse("a,b\r\n\"x\"y,z\r\n", ',', &g, &e));
    assert_int_equal(e.line, 2);
    assert_string_equal(e.en, "text after a closing quote (\")");
}

static void encodings(void **state)
{
    (void)state;
    struct dir_csv_error e;
    enum dir_csv_enc used;
    size_t n;
    /* "ศูนย์" in Windows-874, detected and converted. */
    const char cp[] = "a\r\n\xc8\xd9\xb9\xc2\xec\r\n";
    char *s = dir_csv_to_utf8(cp, strlen(cp), DIR_CSV_ENC_AUTO, &used, &n, &e);
    assert_non_null(s);
    assert_int_equal(used, DIR_CSV_ENC_CP874);
    assert_string_equal(s, "a\r\nศูนย์\r\n");
    free(s);
    /* The same bytes said to be UTF-8: refused at line 2. */
    assert_null(dir_csv_to_utf8(cp, strlen(cp), DIR_CSV_ENC_UTF8, &used, &n, &e));
    assert_int_equal(e.line, 2);
    /* A BOM goes; UTF-16 and NUL are refused. */
    s = dir_csv_to_utf8("\xef\xbb\xbfx", 4, DIR_CSV_ENC_AUTO, &used, &n, &e);
    assert_string_equal(s, "x");
    assert_int_equal(used, DIR_CSV_ENC_UTF8);
    free(s);
    assert_null(dir_csv_to_utf8("\xff\xfe"
                                "a\0",
                                4, DIR_CSV_ENC_AUTO, &used, &n, &e));
    assert_null(dir_csv_to_utf8("a\nb\0", 4, DIR_CSV_ENC_AUTO, &used, &n, &e));
    assert_int_equal(e.line, 2);
    enum dir_csv_enc x;
    assert_true(dir_csv_enc_parse("TIS-620", &x) && x == DIR_CSV_ENC_CP874);
    assert_false(dir_csv_enc_parse("latin-1", &x));
}

static void sniffs_the_delimiter(void **state)
{
    (void)state;
    assert_int_equal(dir_csv_sniff("a;b;\"c,d,e\"\n1,2,3,4,5", 20), ';');
    assert_int_equal(dir_csv_sniff("a\tb\tc", 5), '\t');
    assert_int_equal(dir_csv_sniff("abc", 3), ',');
}

static void writes_and_neutralises(void **state)
{
    (void)state;
    struct dir_buf b;
    dir_buf_init(&b, 1024);
    dir_csv_put(&b, "=HYPERLINK(\"http://x\")", true);
    dir_buf_add(&b, ",", 1);
    dir_csv_put(&b, "plain", true);
    dir_buf_add(&b, ",", 1);
    dir_csv_put(&b, "-5", false);
    dir_buf_add(&b, ",", 1);
    dir_csv_put(&b, "@x", true);
    assert_string_equal(b.data, "\"'=HYPERLINK(\"\"http://x\"\")\",plain,-5,\"'@x\"");
    dir_buf_free(&b);
}

static void contact_grammar(void **state)
{
    (void)state;
    const char *th, *en;
    json_t *c = dir_import_contact_parse("02-123-4567 ext 12 (สำนักงาน (ใหม่) | Office) [private]",
                                         "phone", true, &th, &en);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "value")), "02-123-4567");
    assert_string_equal(json_string_value(json_object_get(c, "extension")), "12");
    assert_string_equal(json_string_value(json_object_get(c, "label_th")), "สำนักงาน (ใหม่)");
    assert_string_equal(json_string_value(json_object_get(c, "label_en")), "Office");
    assert_true(json_is_false(json_object_get(c, "public")));
    /* Written back the same way (audit JSON has is_public). */
    json_object_set(c, "is_public", json_object_get(c, "public"));
    struct dir_buf b;
    dir_buf_init(&b, 1024);
    dir_import_contact_format(c, true, &b);
    assert_string_equal(b.data, "02-123-4567 ext 12 (สำนักงาน (ใหม่) | Office) [private]");
    dir_buf_free(&b);
    json_decref(c);
    assert_null(dir_import_contact_parse("x [maybe]", "line", false, &th, &en));
}

static void headers_in_thai_or_english(void **state)
{
    (void)state;
    assert_int_equal(dir_import_col_find("organizations", "name_th"),
                     dir_import_col_find("organizations", "ชื่อหน่วยงาน (ไทย)"));
    assert_true(dir_import_col_find("organizations", " Name_TH ") >= 0);
    assert_int_equal(dir_import_col_find("organizations", "colour"), -1);
    assert_true(dir_import_col_find("people", "สังกัด") >= 0);
    assert_int_equal(dir_import_col_find("widgets", "name_th"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4180_quotes_newlines_and_doubled_quotes),
        cmocka_unit_test(line_ends_and_blank_records),
        cmocka_unit_test(broken_quotes_name_their_line),
        cmocka_unit_test(encodings),
        cmocka_unit_test(sniffs_the_delimiter),
        cmocka_unit_test(writes_and_neutralises),
        cmocka_unit_test(contact_grammar),
        cmocka_unit_test(headers_in_thai_or_english),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
