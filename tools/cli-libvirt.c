/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/cli-libvirt.c — virt-spicevmc-libvirt: the CLI with libspicevmc's domain functions, and
 * what it sets up in libvirt for the library as its application. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/xmlerror.h>
#ifdef SPICEVMC_SANITIZERS
#include <sanitizer/lsan_interface.h>
#endif

#include "cli.h"

static gboolean libvirt_used;

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
static SvcDomain *
open_domain(const char *uri, const char *name, guint timeout_ms, GError **error)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        virSetErrorFunc(NULL, quiet_libvirt);
        xmlSetGenericErrorFunc(NULL, quiet_libxml);
        virEventRegisterDefaultImpl();
        g_thread_unref(g_thread_new("libvirt-events", run_event_loop, NULL));
        libvirt_used = TRUE;
        g_once_init_leave(&done, 1);
    }
    return svc_domain_open(uri, name, timeout_ms, error);
}

static const CliDomainApi domain_api = {
    .open = open_domain,
    .free = svc_domain_free,
    .is_running = svc_domain_is_running,
    .list = svc_domain_list,
    .list_xml = svc_domain_list_xml,
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
    .watch = svc_domain_watch,
};

int
main(int argc, char **argv)
{
    int status = cli_main(argc, argv, &domain_api);

    if (!libvirt_used)
        return status;
    /* libvirt 9.0 never joins the threads it starts, and qemu:///embed starts one per running
     * domain to reconnect to its monitor; libnuma's exit-time destructor frees what such a
     * thread reads, which then dies of a NULL dereference (seen as SIGSEGV in libnuma, about
     * one run in 200).  Nothing is left to do but flush: skip the destructors. */
    fflush(stdout);
    fflush(stderr);
#ifdef SPICEVMC_SANITIZERS
    __lsan_do_leak_check();
#endif
    _exit(status);
}
