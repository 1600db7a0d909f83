/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/skip.c — a test that cannot run for want of something it needs (skip.h). */
#include "config.h"

#include <glib.h>

#include "skip.h"

void
skip_missing(const char *why)
{
    g_autofree char *reason = g_strconcat(SKIP_MISSING, why, NULL);

    if (g_strcmp0(g_getenv("CI"), "true") == 0) {
        g_test_message("%s (a failure in CI, which has everything installed)", reason);
        g_test_fail();
        return;
    }
    g_test_skip(reason);
}
