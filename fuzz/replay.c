/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/replay.c — a fuzz target run over its corpus as a GTest program, built with gcc and run
 * by make check (and under valgrind): every input a fuzzer found stays a regression test. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the corpus, in name order; each is named before it runs, so that a failure
 * says which input it was. */
static void
test_corpus(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(FUZZ_CORPUS, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_assert_no_error(error);
    while ((name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_names);
    g_assert_cmpuint(names->len, >, 0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(FUZZ_CORPUS, names->pdata[i], NULL);
        g_autofree char *bytes = NULL;
        gsize len;

        g_test_message("input: fuzz/corpus/%s/%s", FUZZ_TARGET, (char *)names->pdata[i]);
        g_assert_true(g_file_get_contents(path, &bytes, &len, &error));
        g_assert_no_error(error);
        LLVMFuzzerTestOneInput((const uint8_t *)bytes, len);
    }
    g_test_message("%u inputs", names->len);
}

int
main(int argc, char **argv)
{
    g_autofree char *path = g_strdup_printf("/fuzz/%s/corpus", FUZZ_TARGET);

    g_test_init(&argc, &argv, NULL);
    LLVMFuzzerInitialize(&argc, &argv);
    g_test_add_func(path, test_corpus);
    return g_test_run();
}
