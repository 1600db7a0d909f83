/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz.h — what each fuzz target defines, for libFuzzer and for the corpus replay. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

/* Once, before the first input: one-time allocations (GResource, libxml2, GLib's type and
 * quark tables) made here are not counted as a leak of the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* One input; a broken property aborts (a crash to libFuzzer, a failure to the replay). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: say which, and abort (libFuzzer keeps the
 * input of an abort, not of g_error()'s SIGTRAP). */
#define fuzz_fail(...) (g_printerr("fuzz: " __VA_ARGS__), g_printerr("\n"), abort())

/* An error message as the README promises it: one line, UTF-8. */
static inline void
fuzz_check_message(const char *message)
{
    if (!g_utf8_validate(message, -1, NULL))
        fuzz_fail("an error message is not UTF-8");
    for (const char *p = message; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f)
            fuzz_fail("control character 0x%02x in the error message '%s'", (guchar)*p, message);
    }
}
