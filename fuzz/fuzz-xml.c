/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-xml.c — libvirt device XML: validated against the grammar, then read; whatever
 * passes is a list of complete specs that spicevmc writes back as XML reading the same,
 * whatever fails says why. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "svc-private.h"

static const char seed[] = "<channel type='spicevmc' name='serial'/>";

/* The grammar is built into the library: without it every input would be refused, and the
 * fuzzer would only ever see the first error path. */
int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs(seed, sizeof(seed) - 1, "seed.xml", &error);

    if (!specs || specs->len != 1)
        fuzz_fail("the seed is refused: %s", error ? error->message : "no spec");
    return 0;
}

/* What the spec asks for, defaults filled in: equal specs ask for the same channel.  A
 * numbered kind without a name is written with its first one (libvirt's <console> needs one). */
static char *
describe(const SvcSpec *spec)
{
    g_autofree char *first = spec->kind->numbered && !spec->fqdn
                                 ? g_strconcat(spec->kind->spice_name, "0", NULL) : NULL;
    const char *spice = spec->fqdn ? spec->fqdn : first ? first : spec->kind->spice_name;
    const char *port = spec->port_name ? spec->port_name
                                       : svc_kind_default_port_name(spec->kind, spice);

    return g_strdup_printf("%s id=%s spice=%s port=%s controller=%d nr=%u", spec->kind->name,
                           spec->id, spice, port, spec->controller, spec->nr);
}

/* The device XML spicevmc writes for @spec reads back as the same spec. */
static void
check_written(const SvcSpec *spec)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = svc_xml_for_spec(spec, &error);
    g_autoptr(GPtrArray) back = NULL;
    g_autofree char *want = describe(spec);
    g_autofree char *got = NULL;

    /* libvirt's own aliases are read (a device copied from virsh dumpxml), never written:
     * libvirt takes only user aliases. */
    if (spec->id && !g_str_has_prefix(spec->id, "ua-")) {
        if (xml)
            fuzz_fail("%s is written with libvirt's own alias: %s", want, xml);
        return;
    }
    if (!xml)
        fuzz_fail("%s read from XML cannot be written back: %s", want, error->message);
    back = svc_xml_parse_specs(xml, strlen(xml), "written.xml", &error);
    if (!back || back->len != 1)
        fuzz_fail("%s written as %s does not read back: %s", want, xml,
                  error ? error->message : "not one device");
    got = describe(back->pdata[0]);
    if (!g_str_equal(want, got))
        fuzz_fail("%s written as %s reads back as %s", want, xml, got);
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
        check_written(spec);
    }
    return 0;
}
