/*
 * The table-cell helpers of cli/util.c (pm_text_cols, pm_fit_cols, pm_cell,
 * pm_label_width): labels are measured in terminal columns, cut on a
 * character boundary with an ellipsis, and padded by columns, whatever the
 * locale.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

#define E_ACUTE "\xc3\xa9"          /* é, 2 bytes, 1 column */
#define NI "\xe6\x97\xa5"           /* 日, 3 bytes, 2 columns */
#define ELLIPSIS "\xe2\x80\xa6"     /* …, 3 bytes, 1 column */
#define COMBINING "\xcc\x81"        /* U+0301, 0 columns */

/* Is s valid UTF-8 throughout? */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        if (!n)
            return 0;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

static void test_cols(void **state)
{
    assert_int_equal(pm_text_cols(""), 0);
    assert_int_equal(pm_text_cols("integration-tests-linux-x86"), 27);
    assert_int_equal(pm_text_cols(E_ACUTE E_ACUTE E_ACUTE), 3);
    assert_int_equal(pm_text_cols(NI NI "ab"), 6);
    assert_int_equal(pm_text_cols("e" COMBINING), 1);
    /* invalid bytes: one column each (a terminal shows one mark) */
    assert_int_equal(pm_text_cols("\xff\xfe" "x"), 3);
    assert_int_equal(pm_text_cols("\xe3\x83"), 2); /* a cut 3-byte sequence */
    (void)state;
}

/* The reviewer's labels: 14 columns used to cut them without a mark and the
 * Japanese one inside a character. */
static void test_fit_cuts_on_characters(void **state)
{
    char buf[128];
    int cols;
    pm_fit_cols("integration-tests-linux-x86", 14, 1, buf, sizeof buf, &cols);
    assert_string_equal(buf, "integration-t" ELLIPSIS);
    assert_int_equal(cols, 14);

    /* 日本語のラベルテスト: 10 wide characters, 20 columns */
    const char *ja = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xa9\xe3\x83\x99\xe3\x83\xab"
                     "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88";
    assert_int_equal(pm_text_cols(ja), 20);
    pm_fit_cols(ja, 14, 1, buf, sizeof buf, &cols);
    /* 6 characters (12 columns) + the ellipsis: a 7th would make 15 */
    assert_string_equal(buf, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xa9\xe3\x83\x99" ELLIPSIS);
    assert_int_equal(cols, 13);
    assert_true(valid_utf8(buf));

    /* fits: unchanged, no ellipsis */
    pm_fit_cols(ja, 20, 1, buf, sizeof buf, &cols);
    assert_string_equal(buf, ja);
    assert_int_equal(cols, 20);

    /* every width from 0 to 21: valid UTF-8, never wider than asked */
    for (int w = 0; w <= 21; w++) {
        pm_fit_cols(ja, w, 1, buf, sizeof buf, &cols);
        assert_true(valid_utf8(buf));
        assert_true(cols <= w);
        assert_int_equal(pm_text_cols(buf), cols);
        pm_fit_cols(ja, w, 0, buf, sizeof buf, &cols);
        assert_true(valid_utf8(buf));
        assert_int_equal(cols, w < 20 ? w - w % 2 : 20);
        assert_null(strstr(buf, ELLIPSIS));
    }
    (void)state;
}

/* A buffer too small for the whole text: still cut on a character. */
static void test_fit_small_buffer(void **state)
{
    char buf[8];
    int cols;
    size_t n = pm_fit_cols(E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE, 40, 1, buf, sizeof buf, &cols);
    assert_true(n < sizeof buf);
    assert_true(valid_utf8(buf));
    assert_int_equal(pm_text_cols(buf), cols);
    (void)state;
}

static void test_cell_pads_by_columns(void **state)
{
    char buf[128];
    assert_string_equal(pm_cell("abc", 6, buf, sizeof buf), "abc   ");
    assert_string_equal(pm_cell(E_ACUTE E_ACUTE, 4, buf, sizeof buf), E_ACUTE E_ACUTE "  ");
    assert_string_equal(pm_cell(NI, 4, buf, sizeof buf), NI "  ");
    assert_int_equal(pm_text_cols(pm_cell(NI NI NI, 5, buf, sizeof buf)), 5); /* 日日… + 0 pad */
    assert_string_equal(buf, NI NI ELLIPSIS);
    assert_string_equal(pm_cell(NULL, 2, buf, sizeof buf), "  ");
    (void)state;
}

/* The bytes do not depend on the locale. */
static void test_locale_independent(void **state)
{
    char a[64], b[64];
    pm_cell(NI NI NI E_ACUTE, 6, a, sizeof a);
    setlocale(LC_ALL, "C.UTF-8");
    pm_cell(NI NI NI E_ACUTE, 6, b, sizeof b);
    assert_string_equal(a, b);
    setlocale(LC_ALL, "C");
    (void)state;
}

static void test_label_width(void **state)
{
    assert_int_equal(pm_label_width(0), 5);
    assert_int_equal(pm_label_width(3), 5);
    assert_int_equal(pm_label_width(27), 27);
    assert_int_equal(pm_label_width(200), PM_LABEL_COLS_MAX);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cols),
        cmocka_unit_test(test_fit_cuts_on_characters),
        cmocka_unit_test(test_fit_small_buffer),
        cmocka_unit_test(test_cell_pads_by_columns),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_label_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
