/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-abi.c — libspicevmc.so exports exactly the committed symbol list, which is exactly
 * what its public header declares, each under the versioned node. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "run.h"

/* The names of a version script's "global:" section, and its node. */
static GHashTable *
read_symbol_list(char **node)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GRegex) entry = g_regex_new("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*;", G_REGEX_MULTILINE,
                                          0, NULL);
    g_autoptr(GRegex) head = g_regex_new("^([A-Z][A-Z0-9_.]*)\\s*\\{", G_REGEX_MULTILINE, 0,
                                         NULL);
    g_autoptr(GMatchInfo) m = NULL;
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *local;

    g_assert_true(g_file_get_contents(SRCDIR "/plugin/libspicevmc.sym", &text, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_regex_match(head, text, 0, &m));
    *node = g_match_info_fetch(m, 1);
    g_clear_pointer(&m, g_match_info_free);
    /* Everything after "local:" is the catch-all. */
    local = strstr(text, "local:");
    g_assert_nonnull(local);
    for (g_regex_match_full(entry, text, local - text, 0, 0, &m, NULL);
         g_match_info_matches(m); g_match_info_next(m, NULL))
        g_hash_table_add(names, g_match_info_fetch(m, 1));
    return names;
}

/* Every function the public header declares. */
static GHashTable *
read_header(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GRegex) decl = g_regex_new("\\b(svc_[a-z0-9_]+)\\s*\\(", 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    g_assert_true(g_file_get_contents(SRCDIR "/plugin/spicevmc.h", &text, NULL, &error));
    g_assert_no_error(error);
    for (g_regex_match(decl, text, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL))
        g_hash_table_add(names, g_match_info_fetch(m, 1));
    return names;
}

/* "TYPE NAME@@NODE" for each symbol the built library defines and exports. */
static char **
exported(void)
{
    const char *argv[] = { "nm", "-D", "--defined-only", "--with-symbol-versions", "--format=posix",
                           LIBSPICEVMC_SO, NULL };
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    if (r.status != 0)
        run_explain(&r);
    g_assert_cmpint(r.status, ==, 0);
    return g_strsplit(g_strstrip(r.out), "\n", -1);
}

static void
assert_same(GHashTable *a, const char *a_name, GHashTable *b, const char *b_name)
{
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init(&iter, a);
    while (g_hash_table_iter_next(&iter, &name, NULL)) {
        if (!g_hash_table_contains(b, name))
            g_error("%s is in %s but not in %s", (char *)name, a_name, b_name);
    }
    g_hash_table_iter_init(&iter, b);
    while (g_hash_table_iter_next(&iter, &name, NULL)) {
        if (!g_hash_table_contains(a, name))
            g_error("%s is in %s but not in %s", (char *)name, b_name, a_name);
    }
}

/* Changing the API is a deliberate edit of plugin/libspicevmc.sym beside the header. */
static void
test_header_is_symbol_list(void)
{
    g_autofree char *node = NULL;
    g_autoptr(GHashTable) listed = read_symbol_list(&node);
    g_autoptr(GHashTable) declared = read_header();

    g_assert_cmpuint(g_hash_table_size(listed), >, 0);
    assert_same(declared, "plugin/spicevmc.h", listed, "plugin/libspicevmc.sym");
}

static void
test_exports_are_symbol_list(void)
{
    g_autofree char *node = NULL;
    g_autoptr(GHashTable) listed = read_symbol_list(&node);
    g_autoptr(GHashTable) found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) lines = exported();

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], " ", 3);
        g_autofree char *versioned = g_strdup_printf("@@%s", node);
        char *at;

        g_assert_nonnull(fields[0]);
        g_assert_nonnull(fields[1]);
        /* The version node itself is an absolute symbol of its own name. */
        if (g_str_equal(fields[1], "A") && g_str_has_prefix(fields[0], node))
            continue;
        if (!g_str_equal(fields[1], "T"))
            g_error("libspicevmc exports '%s', which is not a function", lines[i]);
        if (!(at = strstr(fields[0], versioned)) || at[strlen(versioned)])
            g_error("libspicevmc exports '%s' outside the node %s", fields[0], node);
        *at = '\0';
        g_hash_table_add(found, g_strdup(fields[0]));
    }
    assert_same(found, "the exports of " LIBSPICEVMC_SO, listed, "plugin/libspicevmc.sym");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/abi/header-is-symbol-list", test_header_is_symbol_list);
    g_test_add_func("/abi/exports-are-symbol-list", test_exports_are_symbol_list);
    return g_test_run();
}
