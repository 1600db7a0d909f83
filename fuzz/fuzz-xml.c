/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-xml.c — libvirt device XML: validated against the grammar, then read; whatever
 * passes is a list of complete specs, whatever fails says why. */
#include "config.h"

#include "fuzz.h"
#include "svc-private.h"

static const char seed[] = "<channel type='spicevmc' name='serial'/>";

int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs(seed, sizeof(seed) - 1, "seed.xml", NULL);

    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs((const char *)data, size, "fuzz.xml",
                                                     &error);

    if (!specs) {
        if (!error)
            fuzz_fail("device XML refused without an error");
        if (!g_utf8_validate(error->message, -1, NULL))
            fuzz_fail("an error message is not UTF-8");
        return 0;
    }
    if (error)
        fuzz_fail("device XML read, and an error set");
    for (guint i = 0; i < specs->len; i++) {
        const SvcSpec *spec = specs->pdata[i];

        if (!spec->kind || !spec->origin || !g_str_has_prefix(spec->origin, "fuzz.xml:"))
            fuzz_fail("device XML read as an incomplete spec");
    }
    return 0;
}
