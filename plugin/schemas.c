/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/schemas.c — the grammars of schemas/, built into the library. */
#include "config.h"

#include "svc-private.h"

/* From glib-compile-resources --manual-register (schemas/resources.c). */
void spicevmc_register_resource(void);
GResource *spicevmc_get_resource(void);

/* Looked up in the library's own bundle: no GFile, so no GIO module or VFS is loaded for it. */
GBytes *
svc_schema_lookup(const char *name, GError **error)
{
    static gsize registered;
    g_autofree char *path = g_strconcat("/org/spicevmc/schemas/", name, NULL);

    if (g_once_init_enter(&registered)) {
        spicevmc_register_resource();
        g_once_init_leave(&registered, 1);
    }
    return g_resource_lookup_data(spicevmc_get_resource(), path, 0, error);
}
