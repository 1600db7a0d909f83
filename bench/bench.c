/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-bench: virt-spicevmc and spicevmc-qmp-proxy, each against its floor on one QEMU,
 * reported as a table and bench/results.json; non-zero when a goal is missed beyond noise. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "proxy.h"
#include "report.h"
#include "scale.h"
#include "spicevmc.h"
#include "sync.h"
#include "timed-transport.h"
#include "watch.h"

#define TIMEOUT_MS 60000
#define MAX_PORTS 511

/* Where spicevmc's time goes, channel counts of the one run through a timing transport. */
static const guint sizes[] = { 30, 250 };

/* Kept so that a failure still kills QEMU and removes its temp dir. */
static TestVm *the_vm;

static void
fail_on(GError *error, const char *what)
{
    if (!error)
        return;
    g_printerr("spicevmc-bench: error: %s: %s\n", what, error->message);
    g_clear_pointer(&the_vm, testvm_free);
    exit(1);
}

static double
ms_since(gint64 start)
{
    return (g_get_monotonic_time() - start) / 1000.0;
}

/* Both sides use the same SPICE port names, so they ask the same of spice-server. */
static char *
fqdn_for(guint i)
{
    return g_strdup_printf("org.bench.port.%u", i);
}

static char *
device_id_for(guint i)
{
    /* What svc_add picks for "port" channels on an empty VM. */
    return g_strdup_printf("port%u", i);
}

static char *
chardev_id_for(guint i)
{
    return g_strdup_printf("char-port%u", i);
}

/* The commands a minimal client sends for channel @i: a spiceport chardev and its port. */
static json_object *
floor_chardev_add(guint i)
{
    g_autofree char *chardev = chardev_id_for(i);
    g_autofree char *fqdn = fqdn_for(i);

    return qmp_cmd_chardev_add_spiceport(chardev, fqdn);
}

static json_object *
floor_port_add(guint i)
{
    g_autofree char *id = device_id_for(i);
    g_autofree char *chardev = chardev_id_for(i);
    g_autofree char *fqdn = fqdn_for(i);

    return qmp_cmd_device_add_virtio_port("virtserialport", id, "vs0.0", i + 1, chardev, fqdn);
}

/* ---- the library ----------------------------------------------------- */

static GPtrArray *
port_specs(guint n)
{
    GPtrArray *specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *fqdn = fqdn_for(i);
        g_autofree char *text = g_strdup_printf("port,fqdn=%s", fqdn);

        g_ptr_array_add(specs, svc_spec_parse(text, &error));
        fail_on(error, "spec");
    }
    return specs;
}

static double
library_add(SvcVm *svc, guint n)
{
    g_autoptr(GPtrArray) specs = port_specs(n);
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    double ms;

    svc_add(svc, (SvcSpec *const *)specs->pdata, n, NULL, &error);
    ms = ms_since(start);
    fail_on(error, "svc_add");
    return ms;
}

static double
library_remove(SvcVm *svc, guint n)
{
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    double ms;

    svc_remove(svc, NULL, &removed, &error);
    ms = ms_since(start);
    fail_on(error, "svc_remove");
    if (removed->len != n) {
        g_printerr("spicevmc-bench: error: svc_remove removed %u channels, not %u\n",
                   removed->len, n);
        g_clear_pointer(&the_vm, testvm_free);
        exit(1);
    }
    return ms;
}

static double
library_list(SvcVm *svc, guint n, gsize *bytes)
{
    g_autoptr(GPtrArray) channels = NULL;
    g_autoptr(GError) error = NULL;
    size_t heap_before = mallinfo2().uordblks;
    size_t heap_after;
    gint64 start = g_get_monotonic_time();
    double ms;

    channels = svc_list(svc, &error);
    ms = ms_since(start);
    fail_on(error, "svc_list");
    /* What the caller is left holding: the heap grown by the result, nothing temporary. */
    heap_after = mallinfo2().uordblks;
    *bytes = heap_after > heap_before ? heap_after - heap_before : 0;
    if (channels->len != n) {
        g_printerr("spicevmc-bench: error: svc_list found %u channels, not %u\n",
                   channels->len, n);
        g_clear_pointer(&the_vm, testvm_free);
        exit(1);
    }
    return ms;
}

/* ---- where the library's time goes ----------------------------------- */

/* What the floor sends for the same channels, to set beside the library's bytes. */
static gsize
floor_bytes(guint n, gboolean add)
{
    gsize bytes = 0;

    for (guint i = 0; i < n; i++) {
        g_autofree char *id = device_id_for(i);
        g_autofree char *chardev = chardev_id_for(i);
        g_autoptr(json_object) first = add ? floor_chardev_add(i) : qmp_cmd_device_del(id);
        g_autoptr(json_object) second = add ? floor_port_add(i) : qmp_cmd_chardev_remove(chardev);

        bytes += command_bytes(first) + command_bytes(second);
    }
    return bytes;
}

static void
print_breakdown(TimedTransport *t, const char *op, guint n, double total_ms, gsize floor_sent)
{
    g_print("  %s N=%u: %.1f ms = QEMU exchanges %.1f ms + in the library %.1f ms", op, n,
            total_ms, t->in_transport / 1000.0, total_ms - t->in_transport / 1000.0);
    if (floor_sent)
        g_print("; sent %.0f bytes/ch (floor %.0f)", (double)t->sent / n,
                (double)floor_sent / n);
    g_print("\n%s", t->log->str);
    timed_transport_reset(t);
}

static void
run_breakdown(guint n)
{
    g_autoptr(GError) error = NULL;
    SvcVm *inner = svc_vm_connect_qmp(the_vm->qmp_path, TIMEOUT_MS, &error);
    TimedTransport *t;
    g_autoptr(SvcVm) svc = NULL;
    gsize bytes;
    double ms;

    fail_on(error, "connect");
    svc = timed_vm_new(inner, &t);
    svc_vm_set_timeout(svc, TIMEOUT_MS);

    fail_on(bench_check_empty(the_vm, &error) ? NULL : error, "before the breakdown");
    print_breakdown(t, "add", n, library_add(svc, n), floor_bytes(n, TRUE));
    ms = library_list(svc, n, &bytes);
    print_breakdown(t, "list", n, ms, 0);
    print_breakdown(t, "remove", n, library_remove(svc, n), floor_bytes(n, FALSE));
    fail_on(bench_check_empty(the_vm, &error) ? NULL : error, "after the breakdown");
}

int
main(int argc, char **argv)
{
    gboolean proxy_only = FALSE, watch_only = FALSE, breakdown = FALSE;
    g_autofree char *proxy = NULL;
    g_autofree char *json = NULL;
    GOptionEntry entries[] = {
        { "proxy-only", 0, 0, G_OPTION_ARG_NONE, &proxy_only,
          "Only what the QMP proxy costs, to compare changes to it quickly", NULL },
        { "watch-only", 0, 0, G_OPTION_ARG_NONE, &watch_only,
          "Only how long a change takes to reach virt-spicevmc watch", NULL },
        { "proxy", 0, 0, G_OPTION_ARG_FILENAME, &proxy,
          "The spicevmc-qmp-proxy to time (default: the one built with the bench)", "PATH" },
        { "breakdown", 0, 0, G_OPTION_ARG_NONE, &breakdown,
          "Also show where the library's time goes, exchange by exchange", NULL },
        { "json", 0, 0, G_OPTION_ARG_FILENAME, &json,
          "Where to write the figures (default: bench/results.json)", "PATH" },
        { NULL }
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_autoptr(GError) error = NULL;
    g_autoptr(TestVm) vm = NULL;
    g_autoptr(Report) report = report_new();

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("spicevmc-bench: error: %s\n", error->message);
        return 1;
    }
    if (watch_only) {
        fail_on(bench_watch_run(proxy ? proxy : SPICEVMC_PROXY, report, &error) ? NULL : error,
                "watch");
        report_print(report);
        return report_all_met(report) ? 0 : 1;
    }
    the_vm = vm = testvm_start(MAX_PORTS, NULL);
    if (!proxy_only) {
        g_print("cold start (exec to exit, %s):\n", "the commands taking turns");
        fail_on(bench_startup_run(vm, report, &error) ? NULL : error, "cold start");
        g_print("add, list and remove, as processes, taking turns with floor-qmp:\n");
        fail_on(bench_scale_run(vm, report, &error) ? NULL : error, "add, list and remove");
        g_print("sync --follow: defineXML to live, %s:\n", "as virt-manager's Add Hardware");
        fail_on(bench_sync_run(report, &error) ? NULL : error, "sync --follow");
    }
    if (breakdown) {
        g_print("\nwhere spicevmc's time goes (a run through a transport that times each "
                "exchange):\n");
        for (guint k = 0; k < G_N_ELEMENTS(sizes); k++)
            run_breakdown(sizes[k]);
    }
    g_print("\nwhat the QMP proxy costs a client (direct: each client on a monitor of its own; "
            "relay: bench/byte-relay in between; proxy: spicevmc-qmp-proxy, all clients on one "
            "monitor; the three take turns):\n");
    bench_proxy_run(report, proxy ? proxy : SPICEVMC_PROXY, &error);
    fail_on(error, "QMP proxy");
    if (!proxy_only)
        fail_on(bench_watch_run(proxy ? proxy : SPICEVMC_PROXY, report, &error) ? NULL : error,
                "watch");
    the_vm = NULL;
    report_print(report);
    if (!report_write_json(report, json ? json : "bench/results.json", &error)) {
        g_printerr("spicevmc-bench: error: %s\n", error->message);
        return 1;
    }
    return report_all_met(report) ? 0 : 1;
}
