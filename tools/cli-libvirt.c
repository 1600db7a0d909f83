/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/cli-libvirt.c — what virt-spicevmc, as the application, sets up in libvirt for the library. */
#include "config.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/xmlerror.h>

#include "cli.h"

static gpointer
run_event_loop(gpointer data)
{
    for (;;)
        virEventRunDefaultImpl();
    return NULL;
}

static void
quiet_libvirt(void *data, virErrorPtr err)
{
}

static void
quiet_libxml(void *ctx, const char *msg, ...)
{
}

/* libspicevmc needs a libvirt event loop in a thread of its own (for events, and for
 * qemu:///embed to drive QEMU's monitor), registered before the first connection.  Every error
 * is one line printed by the command that met it: libvirt's own printing is off, and so is
 * libxml2's for the XML libvirt parses (a missing test:/// file). */
void
cli_libvirt_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        virSetErrorFunc(NULL, quiet_libvirt);
        xmlSetGenericErrorFunc(NULL, quiet_libxml);
        virEventRegisterDefaultImpl();
        g_thread_unref(g_thread_new("libvirt-events", run_event_loop, NULL));
        g_once_init_leave(&done, 1);
    }
}
