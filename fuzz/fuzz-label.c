/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-label.c — chardev labels: whatever decodes encodes back to the same label. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "svc-private.h"

int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
    g_autoptr(SvcChannel) ch = svc_chardev_id_decode("svc_webdav_webdav0_vs0.0_1");

    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *label = g_strndup((const char *)data, size);
    g_autoptr(SvcChannel) ch = svc_chardev_id_decode(label);
    g_autofree char *again = NULL;
    g_autoptr(SvcChannel) twice = NULL;

    if (!ch)
        return 0;
    again = svc_chardev_id_encode(ch);
    if (strcmp(again, label) != 0)
        fuzz_fail("'%s' decodes, but encodes back as '%s'", label, again);
    if (!ch->ours || g_strcmp0(ch->chardev, label) != 0 || !ch->kind || !ch->id || !ch->bus)
        fuzz_fail("'%s' decodes to an incomplete channel", label);
    /* What encoding wrote decodes to the same channel. */
    twice = svc_chardev_id_decode(again);
    if (!twice || twice->kind != ch->kind || g_strcmp0(twice->id, ch->id) != 0 ||
        g_strcmp0(twice->bus, ch->bus) != 0 || twice->nr != ch->nr ||
        g_strcmp0(twice->spice_name, ch->spice_name) != 0 ||
        g_strcmp0(twice->port_name, ch->port_name) != 0 ||
        g_strcmp0(twice->controller, ch->controller) != 0)
        fuzz_fail("'%s' does not decode the same way twice", label);
    return 0;
}
