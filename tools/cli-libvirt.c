/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/cli-libvirt.c — virt-spicevmc-libvirt: the CLI with libspicevmc's domain functions, and
 * what it sets up in libvirt for the library as its application. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/xmlerror.h>

#include "cli.h"
#include "cli-libvirt.h"
#include "libvirt/svc-domain.h"

/* The qemu:///embed?root=… URI a domain was opened on, if any: its driver runs in this process. */
static char *embedded_uri;

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
 * qemu:///embed to drive QEMU's monitor), registered before the first connection.  Its thread
 * starts once that connection is open: qemu:///embed runs dmidecode as it opens, and GCC 12's
 * AddressSanitizer does not take its allocator's locks across fork(), so the child of a fork
 * made while the loop's thread starts up (and allocates) could wait forever for a lock that
 * thread held (seen about once in ten opens on a busy machine, in virFork()'s child).  Every
 * error is one line printed by the command that met it: libvirt's own printing is off, and so
 * is libxml2's for the XML libvirt parses (a missing test:/// file). */
gboolean
cli_libvirt_connecting(const char *uri, GError **error)
{
    static gsize done;
    static char *failure;     /* why libvirt could not initialize (LIBVIRT_LOG_OUTPUTS, …) */
    const char *which = uri ? uri : g_getenv("LIBVIRT_DEFAULT_URI");

    if (g_once_init_enter(&done)) {
        virSetErrorFunc(NULL, quiet_libvirt);
        xmlSetGenericErrorFunc(NULL, quiet_libxml);
        if (virEventRegisterDefaultImpl() < 0)
            failure = g_strdup(virGetLastErrorMessage());
        g_once_init_leave(&done, 1);
    }
    if (failure) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot initialize libvirt: %s",
                    failure);
        return FALSE;
    }
    if (which && strstr(which, ":///embed") && !embedded_uri)
        embedded_uri = g_strdup(which);
    return TRUE;
}

void
cli_libvirt_connected(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        g_thread_unref(g_thread_new("libvirt-events", run_event_loop, NULL));
        g_once_init_leave(&done, 1);
    }
}

static SvcDomain *
open_domain(const char *uri, const char *name, guint timeout_ms, GError **error)
{
    SvcDomain *d;

    if (!cli_libvirt_connecting(uri, error))
        return NULL;
    d = svc_domain_open(uri, name, timeout_ms, error);
    cli_libvirt_connected();
    return d;
}

static const CliDomainApi domain_api = {
    .open = open_domain,
    .free = svc_domain_free,
    .is_running = svc_domain_is_running,
    .list = svc_domain_list,
    .list_xml = svc_domain_channels_xml,
    .add = svc_domain_add,
    .remove = svc_domain_remove,
    .remove_specs = svc_domain_remove_specs,
    .dry_run_add = svc_domain_dry_run_add,
    .dry_run_remove = svc_domain_dry_run_remove,
    .dry_run_remove_specs = svc_domain_dry_run_remove_specs,
    .restore = svc_domain_restore,
    .enable_wrapper = svc_domain_enable_wrapper,
    .disable_wrapper = svc_domain_disable_wrapper,
    .runs_wrapper = svc_domain_runs_wrapper,
    .sync = svc_domain_sync,
    .sync_domains = cli_sync_domains,
    .follow = cli_follow,
    .watch = svc_domain_watch,
};

int
main(int argc, char **argv)
{
    int status = cli_main(argc, argv, &domain_api);

    if (!embedded_uri)
        return status;
    /* The embedded driver runs in this process, and libvirt 9.0 never joins the threads it
     * starts there: one per running domain reconnects to its monitor, and libnuma's exit-time
     * destructor frees what such a thread reads, which then dies of a NULL dereference (seen
     * as SIGSEGV in libnuma, about one run in 200).  Nothing is left to do but flush: skip the
     * destructors.  (LeakSanitizer could not check such a process anyway: its tracer trips over
     * the dynamic TLS of the driver's modules; the same code on qemu:///system is checked.) */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
