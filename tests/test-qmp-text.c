/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-qmp-text.c — names, paths and peers' bytes shown on one line (no QEMU). */
#include "config.h"

#include "qmp.h"

static void
test_escape(void)
{
    const struct {
        const char *text;
        const char *shown;
    } cases[] = {
        { "plain-name_0.x", "plain-name_0.x" },
        { "a\nb", "a\\nb" }, { "a\rb\tc", "a\\rb\\tc" }, { "esc\x1b[2J", "esc\\x1b[2J" },
        { "del\x7f", "del\\x7f" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },                    /* UTF-8 stays as it is */
        { "c1\xc2\x85", "c1\\u0085" },                       /* NEL, a C1 control */
        { "ls\xe2\x80\xa8", "ls\\u2028" },                   /* LINE SEPARATOR */
        { "bad\xff\xfe", "bad\\xff\\xfe" },                  /* not UTF-8 */
        { "cut\xc3", "cut\\xc3" },                           /* a sequence cut short */
        { "back\\slash", "back\\\\slash" }, { "it's", "it\\'s" },
        { "", "" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *shown = qmp_escape(cases[i].text);

        g_assert_cmpstr(shown, ==, cases[i].shown);
        g_assert_true(g_utf8_validate(shown, -1, NULL));
    }
}

/* A whole message: names in it were escaped already, so backslashes and quotes stay. */
static void
test_escape_message(void)
{
    g_autofree char *shown = qmp_escape_message("cannot add 'a\\nb': x\ny\x1b");

    g_assert_cmpstr(shown, ==, "cannot add 'a\\nb': x\\ny\\x1b");
}

static void
test_escape_bytes(void)
{
    g_autofree char *shown = qmp_escape_bytes("REDQ\0\0\x02\x00\xff", 9);

    g_assert_cmpstr(shown, ==, "REDQ\\x00\\x00\\x02\\x00\\xff");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/text/escape", test_escape);
    g_test_add_func("/qmp/text/escape-message", test_escape_message);
    g_test_add_func("/qmp/text/escape-bytes", test_escape_bytes);
    return g_test_run();
}
