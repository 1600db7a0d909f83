/* spicevmc-bench: libspicevmc's add, list and remove timed against a raw-QMP floor on one QEMU. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "proxy.h"
#include "spicevmc.h"
#include "stats.h"
#include "testvm.h"
#include "timed-transport.h"

/* More than one round, floor and library taking turns to go first, so a QEMU that slows down
 * (or warms up) as it ages does not favour either side; the median is reported. */
#define ROUNDS 5
#define LIST_RUNS 20
#define LIST_N 250
#define TIMEOUT_MS 60000
#define MAX_PORTS 511

#define ADD_RATIO_MAX 1.15
#define REMOVE_SPEEDUP_MIN 30.0
#define REMOVE_SPEEDUP_N 30
#define LIST_MS_MAX 20.0

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

/* ---- the floor: a minimal client, one command at a time, nothing pipelined ---- */

static void
on_deleted(const char *name, json_object *event, gpointer user_data)
{
    GHashTable *deleted = user_data;
    json_object *data, *device;

    if (g_strcmp0(name, "DEVICE_DELETED") == 0 &&
        json_object_object_get_ex(event, "data", &data) &&
        json_object_object_get_ex(data, "device", &device))
        g_hash_table_add(deleted, g_strdup(json_object_get_string(device)));
}

static void
execute_or_die(QmpClient *client, json_object *cmd, const char *what)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) ret = qmp_client_execute(client, cmd, &error);

    fail_on(error, what);
}

/* The floor's commands for channel @i: a spiceport chardev and the port that uses it. */
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

static double
floor_add(QmpClient *client, guint n)
{
    gint64 start = g_get_monotonic_time();

    for (guint i = 0; i < n; i++) {
        g_autoptr(json_object) add_chardev = floor_chardev_add(i);
        g_autoptr(json_object) add_port = floor_port_add(i);

        execute_or_die(client, add_chardev, "floor chardev-add");
        execute_or_die(client, add_port, "floor device_add");
    }
    return ms_since(start);
}

/* device_del, its DEVICE_DELETED, chardev-remove (refused as busy before the event): what a
 * client that removes channels one by one has to wait for, each time. */
static double
floor_remove(QmpClient *client, GHashTable *deleted, guint n, double *waiting_ms)
{
    gint64 start = g_get_monotonic_time();
    gint64 waiting = 0;

    for (guint i = 0; i < n; i++) {
        g_autofree char *id = device_id_for(i);
        g_autofree char *chardev = chardev_id_for(i);
        g_autoptr(json_object) del = qmp_cmd_device_del(id);
        g_autoptr(json_object) remove = qmp_cmd_chardev_remove(chardev);
        gint64 deadline;

        execute_or_die(client, del, "floor device_del");
        deadline = g_get_monotonic_time() + (gint64)TIMEOUT_MS * 1000;
        waiting -= g_get_monotonic_time();
        while (!g_hash_table_remove(deleted, id)) {
            g_autoptr(GError) error = NULL;

            qmp_client_wait_event(client, deadline, &error);
            fail_on(error, "floor wait for DEVICE_DELETED");
        }
        waiting += g_get_monotonic_time();
        execute_or_die(client, remove, "floor chardev-remove");
    }
    *waiting_ms = waiting / 1000.0;
    return ms_since(start);
}

/* The least any list must cost: the two answers that say which channels exist. */
static double
floor_list(QmpClient *client)
{
    g_autoptr(json_object) chardevs = qmp_cmd_query_chardev();
    g_autoptr(json_object) devices = qmp_cmd_qom_list("/machine/peripheral");
    json_object *cmds[] = { chardevs, devices };
    json_object *replies[G_N_ELEMENTS(cmds)] = { NULL };
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();

    qmp_client_execute_many(client, cmds, G_N_ELEMENTS(cmds), replies, &error);
    for (guint i = 0; i < G_N_ELEMENTS(replies); i++)
        g_clear_pointer(&replies[i], json_object_put);
    fail_on(error, "floor list");
    return ms_since(start);
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

/* ---- one round ------------------------------------------------------- */

typedef struct {
    GArray *floor_add, *floor_remove, *lib_add, *lib_remove;   /* ms, one per round */
    GArray *floor_waiting;    /* ms of floor_remove spent waiting for DEVICE_DELETED */
} Sample;

typedef struct {
    Sample by_size[G_N_ELEMENTS(sizes)];
    GArray *floor_list, *lib_list;                              /* ms, every run */
    gsize list_bytes;
} Results;

static GArray *
times_new(void)
{
    return g_array_new(FALSE, FALSE, sizeof(double));
}

static void
results_init(Results *res)
{
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
        res->by_size[k].floor_add = times_new();
        res->by_size[k].floor_remove = times_new();
        res->by_size[k].lib_add = times_new();
        res->by_size[k].lib_remove = times_new();
        res->by_size[k].floor_waiting = times_new();
    }
    res->floor_list = times_new();
    res->lib_list = times_new();
}

static void
results_clear(Results *res)
{
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
        g_clear_pointer(&res->by_size[k].floor_add, g_array_unref);
        g_clear_pointer(&res->by_size[k].floor_remove, g_array_unref);
        g_clear_pointer(&res->by_size[k].lib_add, g_array_unref);
        g_clear_pointer(&res->by_size[k].lib_remove, g_array_unref);
        g_clear_pointer(&res->by_size[k].floor_waiting, g_array_unref);
    }
    g_clear_pointer(&res->floor_list, g_array_unref);
    g_clear_pointer(&res->lib_list, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Results, results_clear)

static QmpClient *
floor_connect(GHashTable *deleted)
{
    QmpClient *client = testvm_qmp(the_vm);

    qmp_client_set_event_handler(client, on_deleted, deleted);
    return client;
}

/* Every comparison starts from the same VM: no SPICE chardev, no frontend of ours, as QEMU
 * itself reports. */
static void
check_empty(void)
{
    g_autoptr(QmpClient) client = testvm_qmp(the_vm);
    g_autoptr(json_object) devices = testvm_exec(client, qmp_cmd_qom_list("/machine/peripheral"));
    guint spice = testvm_count_spice_chardevs(client);
    guint ports = 0;

    for (size_t i = 0; i < json_object_array_length(devices); i++) {
        json_object *type = json_object_object_get(json_object_array_get_idx(devices, i), "type");

        if (g_strcmp0(json_object_get_string(type), "child<virtserialport>") == 0)
            ports++;
    }
    if (spice || ports) {
        g_printerr("spicevmc-bench: error: the VM is not empty between runs "
                   "(%u SPICE chardevs, %u ports)\n", spice, ports);
        g_clear_pointer(&the_vm, testvm_free);
        exit(1);
    }
}

static void
run_floor(Sample *s, guint n)
{
    g_autoptr(GHashTable) deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(QmpClient) client = floor_connect(deleted);
    double waiting;
    double add = floor_add(client, n);
    double remove = floor_remove(client, deleted, n, &waiting);

    g_array_append_val(s->floor_add, add);
    g_array_append_val(s->floor_remove, remove);
    g_array_append_val(s->floor_waiting, waiting);
}

/* Floor and library lists alternate, on a VM holding the library's channels. */
static void
run_lists(Results *res, SvcVm *svc, guint n)
{
    g_autoptr(GHashTable) deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(QmpClient) client = floor_connect(deleted);

    for (guint i = 0; i < LIST_RUNS; i++) {
        double raw = floor_list(client);
        double lib = library_list(svc, n, &res->list_bytes);

        g_array_append_val(res->floor_list, raw);
        g_array_append_val(res->lib_list, lib);
    }
}

static void
run_library(Results *res, Sample *s, guint n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcVm) svc = svc_vm_connect_qmp(the_vm->qmp_path, TIMEOUT_MS, &error);
    double add, remove;

    fail_on(error, "connect");
    add = library_add(svc, n);
    /* The other monitor stays closed while the library works: QEMU sends events to every
     * connected monitor, and the floor gets no such company either. */
    if (n == LIST_N)
        run_lists(res, svc, n);
    remove = library_remove(svc, n);
    g_array_append_val(s->lib_add, add);
    g_array_append_val(s->lib_remove, remove);
}

static void
run_round(Results *res, guint round)
{
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
        Sample *s = &res->by_size[k];
        guint n = sizes[k];

        for (guint turn = 0; turn < 2; turn++) {
            check_empty();
            if ((turn + round) % 2 == 0)
                run_floor(s, n);
            else
                run_library(res, s, n);
        }
        g_print("round %u  N=%-3u  floor add %6.1f ms  remove %7.1f ms   spicevmc add %6.1f ms  "
                "remove %5.1f ms   add ratio %.2f\n",
                round + 1, n, g_array_index(s->floor_add, double, round),
                g_array_index(s->floor_remove, double, round),
                g_array_index(s->lib_add, double, round),
                g_array_index(s->lib_remove, double, round),
                g_array_index(s->lib_add, double, round) /
                    g_array_index(s->floor_add, double, round));
    }
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

    check_empty();
    print_breakdown(t, "add", n, library_add(svc, n), floor_bytes(n, TRUE));
    ms = library_list(svc, n, &bytes);
    print_breakdown(t, "list", n, ms, 0);
    print_breakdown(t, "remove", n, library_remove(svc, n), floor_bytes(n, FALSE));
    check_empty();
}

/* ---- report ---------------------------------------------------------- */

static void
report(Results *res)
{
    struct rusage usage;
    g_autofree char *qemu_hwm = stats_proc_status(the_vm->pid, "VmHWM");
    double floor_min = stats_minimum(res->floor_list), floor_med = stats_median(res->floor_list);
    double lib_min = stats_minimum(res->lib_list), lib_med = stats_median(res->lib_list);

    g_print("\nmedian of %u rounds, per channel:\n", ROUNDS);
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
        Sample *s = &res->by_size[k];
        guint n = sizes[k];
        double fa = stats_median(s->floor_add) / n, la = stats_median(s->lib_add) / n;
        double fr = stats_median(s->floor_remove) / n, lr = stats_median(s->lib_remove) / n;
        double fw = stats_median(s->floor_waiting) / n;

        g_print("add      N=%-3u  floor %6.2f ms/ch   spicevmc %6.2f ms/ch   ratio %5.2f  "
                "(target <= %.2f)  %s\n", n, fa, la, la / fa, ADD_RATIO_MAX,
                stats_verdict(la / fa <= ADD_RATIO_MAX));
        g_print("remove   N=%-3u  one-at-a-time %6.2f ms/ch   batch %6.2f ms/ch   speed-up %5.1fx",
                n, fr, lr, fr / lr);
        if (n == REMOVE_SPEEDUP_N)
            g_print("  (target >= %.0fx)  %s\n", REMOVE_SPEEDUP_MIN,
                    stats_verdict(fr / lr >= REMOVE_SPEEDUP_MIN));
        else
            g_print("  (no target)\n");
        g_print("                one-at-a-time spends %.2f ms/ch waiting for DEVICE_DELETED\n", fw);
    }
    g_print("list     N=%-3u  floor %.2f / %.2f ms   spicevmc %.2f / %.2f ms  "
            "(min / median of %u)  (target <= %.0f ms)  %s\n", LIST_N, floor_min, floor_med,
            lib_min, lib_med, res->lib_list->len, LIST_MS_MAX,
            stats_verdict(lib_med <= LIST_MS_MAX));
    getrusage(RUSAGE_SELF, &usage);
    g_print("memory   peak RSS of the bench %.1f MiB; svc_list result %.0f bytes/channel; "
            "QEMU VmHWM %s\n", usage.ru_maxrss / 1024.0, (double)res->list_bytes / LIST_N,
            qemu_hwm);
}

static void
run_library_bench(void)
{
    g_auto(Results) res = { 0 };

    results_init(&res);
    g_print("spicevmc-bench: %u rounds on one QEMU (virtio-serial max_ports=%u); floor and "
            "spicevmc alternate, each from an empty VM\n", ROUNDS, MAX_PORTS);
    for (guint round = 0; round < ROUNDS; round++)
        run_round(&res, round);
    report(&res);

    g_print("\nwhere spicevmc's time goes (one more run, through a transport that times each "
            "exchange):\n");
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++)
        run_breakdown(sizes[k]);
}

int
main(int argc, char **argv)
{
    gboolean proxy_only = FALSE, met = TRUE;
    g_autofree char *proxy = NULL;
    GOptionEntry entries[] = {
        { "proxy-only", 0, 0, G_OPTION_ARG_NONE, &proxy_only,
          "Only what the QMP proxy costs, to compare changes to it quickly", NULL },
        { "proxy", 0, 0, G_OPTION_ARG_FILENAME, &proxy,
          "The spicevmc-qmp-proxy to time (default: the one built with the bench)", "PATH" },
        { NULL }
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_autoptr(GError) error = NULL;
    g_autoptr(TestVm) vm = NULL;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("spicevmc-bench: error: %s\n", error->message);
        return 1;
    }
    the_vm = vm = testvm_start(MAX_PORTS, NULL);
    if (!proxy_only)
        run_library_bench();

    g_print("\nwhat the QMP proxy costs a client (direct: each client on a monitor of its own; "
            "relay: bench/byte-relay in between; proxy: spicevmc-qmp-proxy, all clients on one "
            "monitor; the three take turns):\n");
    bench_proxy_run(proxy ? proxy : SPICEVMC_PROXY, &met, &error);
    fail_on(error, "QMP proxy");
    the_vm = NULL;
    /* The library's figures are informational; the proxy's goal against the relay is not. */
    return met ? 0 : 1;
}
