/* test_vcard.c - unit tests for dir_vcard (folding, escaping, tel: URIs, Accept, a whole
 * card from a small snapshot) and dir_ldif (SAFE-STRING or base64, folding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_ldif.h"
#include "dir_text.h"
#include "dir_vcard.h"

/* Checks B's physical lines: CRLF ends, at most 75 octets, each valid UTF-8 alone; returns
 * the unfolded text (caller frees). */
static char *check_lines(const struct dir_buf *b)
{
    char *out = calloc(1, b->len + 1);
    size_t o = 0;
    const char *p = b->data, *end = b->data + b->len;
    while (p < end) {
        const char *crlf = strstr(p, "\r\n");
        assert_non_null(crlf);
        size_t n = (size_t)(crlf - p);
        assert_true(n <= 75);
        assert_true(dir_text_utf8_valid(p, n));
        const char *s = p;
        if (*s == ' ' && p != b->data)
            s++, n--; /* a continuation */
        else if (o)
            out[o++] = '\n';
        memcpy(out + o, s, n);
        o += n;
        p = crlf + 2;
    }
    return out;
}

static void fold_ascii(void **state)
{
    (void)state;
    char line[201];
    memset(line, 'x', 200);
    line[200] = '\0';
    memcpy(line, "NOTE:", 5);
    struct dir_buf b;
    dir_buf_init(&b, 1 << 20);
    assert_int_equal(dir_vcard_fold(&b, line, 75), DIR_OK);
    assert_int_equal(b.len, 77); /* exactly 75: one line */
    b.len = 0;
    assert_int_equal(dir_vcard_fold(&b, line, 76), DIR_OK);
    assert_int_equal(b.len, 75 + 2 + 2 + 2); /* 75, then " x" */
    b.len = 0;
    assert_int_equal(dir_vcard_fold(&b, line, 200), DIR_OK);
    char *u = check_lines(&b);
    assert_string_equal(u, line);
    assert_memory_equal(b.data + 77, " xxx", 4);
    free(u);
    dir_buf_free(&b);
}

static void fold_never_splits_thai(void **state)
{
    (void)state;
    /* Every offset of the first cut: a Thai character (3 bytes) straddles it in 2 of 3. */
    for (int pad = 0; pad < 6; pad++) {
        char line[1024] = "FN:";
        for (int i = 0; i < pad; i++)
            strcat(line, "a");
        for (int i = 0; i < 60; i++)
            strcat(line, "กุ");
        struct dir_buf b;
        dir_buf_init(&b, 1 << 20);
        assert_int_equal(dir_vcard_fold(&b, line, strlen(line)), DIR_OK);
        char *u = check_lines(&b);
        assert_string_equal(u, line);
        free(u);
        /* Lines are as full as a whole character allows: 73 to 75 octets. */
        const char *crlf = strstr(b.data, "\r\n");
        assert_true(crlf - b.data >= 73 && crlf - b.data <= 75);
        dir_buf_free(&b);
    }
}

static void escape_text(void **state)
{
    (void)state;
    struct dir_buf b;
    dir_buf_init(&b, 1024);
    assert_int_equal(dir_vcard_escape(&b, "a,b;c\\d\ne\rf\tก"), DIR_OK);
    assert_string_equal(b.data, "a\\,b\\;c\\\\d\\nefก");
    dir_buf_free(&b);
}

static void tel_uris(void **state)
{
    (void)state;
    char t[96];
    assert_true(dir_vcard_tel_uri("02-123-4567", "101", t, sizeof t));
    assert_string_equal(t, "tel:+66-2-123-4567;ext=101");
    assert_true(dir_vcard_tel_uri("081-234-5678", NULL, t, sizeof t));
    assert_string_equal(t, "tel:+66-81-234-5678");
    assert_true(dir_vcard_tel_uri("+66 53 123 456", "12,13", t, sizeof t));
    assert_string_equal(t, "tel:+66-53-123-456;ext=12"); /* one extension per TEL */
    assert_true(dir_vcard_tel_uri("1300", NULL, t, sizeof t));
    assert_string_equal(t, "tel:1300;phone-context=+66");
    assert_false(dir_vcard_tel_uri("02-123-4567", "101", t, 10));
}

static void accept_header(void **state)
{
    (void)state;
    assert_true(dir_vcard_wanted("text/vcard"));
    assert_true(dir_vcard_wanted("TEXT/VCARD; charset=utf-8"));
    assert_true(dir_vcard_wanted("text/vcard, */*;q=0.1"));
    assert_true(dir_vcard_wanted("application/json;q=0.5 , text/vcard;q=0.8"));
    assert_false(dir_vcard_wanted(NULL));
    assert_false(dir_vcard_wanted(""));
    assert_false(dir_vcard_wanted("*/*"));
    assert_false(dir_vcard_wanted("application/json, text/vcard"));
    assert_false(dir_vcard_wanted("text/vcard;q=0"));
    assert_false(dir_vcard_wanted("text/vcard;q=abc"));
    assert_false(dir_vcard_wanted("text/vcardx"));
    assert_false(dir_vcard_wanted(";;;,,,;q="));
}

static struct dir_model *small_model(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1001", "district", "10", "พระนคร", "Phra Nakhon", "10200", NAN, NAN,
                       true, 1);
    struct dir_org_row o = {.id = 7,
                            .ref = "org-a",
                            .name_th = "ศูนย์ทดสอบ; สาขา, หนึ่ง",
                            .name_en = "Test Centre",
                            .type = "ngo",
                            .status = "active",
                            .address_th = "1 ถนนราชดำเนิน",
                            .address_en = "1 Ratchadamnoen Road",
                            .area_code = "1001",
                            .verified_at = "2026-11-01T03:04:05Z",
                            .has_coord = true,
                            .lat = 13.75,
                            .lon = 100.5,
                            .version = 1};
    dir_model_add_org(b, &o);
    struct dir_contact_row c[] = {
        {.org_id = 7,
         .kind = "phone",
         .value = "02-123-4567",
         .extension = "101,102",
         .is_public = true},
        {.org_id = 7, .kind = "email", .value = "a@b.example", .is_public = true},
        {.org_id = 7, .kind = "line", .value = "@centre", .is_public = true},
        {.org_id = 7, .kind = "website", .value = "https://example.org/a,b", .is_public = true},
        {.org_id = 7, .kind = "mobile", .value = "081-000-0000", .is_public = false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        dir_model_add_contact(b, &c[i]);
    struct dir_model *m = NULL;
    char err[256];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    return m;
}

static void org_card(void **state)
{
    (void)state;
    struct dir_model *m = small_model();
    struct dir_buf b;
    dir_buf_init(&b, 1 << 20);
    assert_int_equal(dir_vcard_org(m, dir_model_org_at(m, 0), false, &b), DIR_OK);
    char *u = check_lines(&b);
    assert_non_null(strstr(u, "BEGIN:VCARD\nVERSION:4.0\n"));
    assert_non_null(strstr(u, "\nKIND:org\n"));
    assert_non_null(strstr(u, "\nFN;ALTID=1;LANGUAGE=th:ศูนย์ทดสอบ\\; สาขา\\, หนึ่ง\n"));
    assert_non_null(strstr(u, "\nFN;ALTID=1;LANGUAGE=en:Test Centre\n"));
    assert_non_null(strstr(u, "\nTEL;VALUE=uri;TYPE=work,voice:tel:+66-2-123-4567;ext=101\n"));
    assert_non_null(strstr(u, "\nTEL;VALUE=uri;TYPE=work,voice:tel:+66-2-123-4567;ext=102\n"));
    assert_non_null(strstr(u, "\nEMAIL;TYPE=work:a@b.example\n"));
    assert_non_null(strstr(u, "\nIMPP;X-SERVICE-TYPE=LINE:https://line.me/R/ti/p/@centre\n"));
    assert_non_null(strstr(u, "\nURL;TYPE=work:https://example.org/a,b\n"));
    assert_non_null(strstr(u, ";LANGUAGE=th;TYPE=work:;;1 ถนนราชดำเนิน;พระนคร;กรุงเทพมหานคร;"
                              "10200;ประเทศไทย\n"));
    assert_non_null(strstr(u, "\nGEO:geo:13.750000,100.500000\n"));
    assert_non_null(strstr(u, "\nREV:20261101T030405Z\n"));
    assert_null(strstr(u, "081")); /* non-public: not for this caller */
    assert_true(strlen(u) > 0 && strcmp(u + strlen(u) - 9, "END:VCARD") == 0);
    free(u);
    b.len = 0;
    assert_int_equal(dir_vcard_org(m, dir_model_org_at(m, 0), true, &b), DIR_OK);
    assert_non_null(strstr(b.data, "TEL;VALUE=uri;TYPE=cell:tel:+66-81-000-0000\r\n"));
    dir_buf_free(&b);
    dir_model_release(m);
}

static void ldif_lines(void **state)
{
    (void)state;
    struct dir_buf b;
    dir_buf_init(&b, 1 << 20);
    assert_int_equal(dir_ldif_line(&b, "cn", "Test", 4), DIR_OK);
    assert_string_equal(b.data, "cn: Test\n");
    b.len = 0;
    assert_int_equal(dir_ldif_line(&b, "cn", "ก", 3), DIR_OK);
    assert_string_equal(b.data, "cn:: 4LiB\n");
    const char *unsafe[] = {" lead", ":colon", "<angle", "trail ", "a\nb"};
    for (size_t i = 0; i < 5; i++) {
        b.len = 0;
        assert_int_equal(dir_ldif_line(&b, "x", unsafe[i], strlen(unsafe[i])), DIR_OK);
        assert_memory_equal(b.data, "x:: ", 4);
    }
    b.len = 0;
    char big[300];
    memset(big, 'v', sizeof big);
    assert_int_equal(dir_ldif_line(&b, "description", big, sizeof big), DIR_OK);
    for (char *p = b.data, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        assert_true(nl - p <= 76);
        if (p != b.data) assert_int_equal(*p, ' ');
    }
    dir_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fold_ascii),    cmocka_unit_test(fold_never_splits_thai),
        cmocka_unit_test(escape_text),   cmocka_unit_test(tel_uris),
        cmocka_unit_test(accept_header), cmocka_unit_test(org_card),
        cmocka_unit_test(ldif_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
