/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-spec.c — KIND[,key=value]…: a spec that parses is written back and parses the
 * same; a refusal is one line. */
#include "config.h"

#include "fuzz.h"
#include "svc-private.h"

int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
    g_autoptr(SvcSpec) spec = svc_spec_parse("webdav", NULL);

    return 0;
}

/* @spec as the text that asks for it. */
static char *
spec_text(const SvcSpec *spec)
{
    GString *out = g_string_new(spec->kind->name);

    if (spec->id)
        g_string_append_printf(out, ",id=%s", spec->id);
    if (spec->fqdn)
        g_string_append_printf(out, ",fqdn=%s", spec->fqdn);
    if (spec->port_name)
        g_string_append_printf(out, ",port-name=%s", spec->port_name);
    if (spec->bus)
        g_string_append_printf(out, ",bus=%s", spec->bus);
    if (spec->nr)
        g_string_append_printf(out, ",nr=%u", spec->nr);
    return g_string_free(out, FALSE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcSpec) spec = svc_spec_parse(text, &error);
    g_autofree char *again = NULL;
    g_autoptr(SvcSpec) back = NULL;

    if (!spec) {
        if (!error)
            fuzz_fail("'%s' is refused without an error", text);
        fuzz_check_message(error->message);
        return 0;
    }
    if (error || !spec->kind || spec->controller != -1 || spec->origin)
        fuzz_fail("'%s' parses to an odd spec", text);
    again = spec_text(spec);
    back = svc_spec_parse(again, &error);
    if (!back)
        fuzz_fail("'%s' parses, but '%s' does not: %s", text, again, error->message);
    if (back->kind != spec->kind || g_strcmp0(back->id, spec->id) != 0 ||
        g_strcmp0(back->fqdn, spec->fqdn) != 0 || g_strcmp0(back->port_name, spec->port_name) != 0 ||
        g_strcmp0(back->bus, spec->bus) != 0 || back->nr != spec->nr)
        fuzz_fail("'%s' and '%s' parse to different specs", text, again);
    return 0;
}
