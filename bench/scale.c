/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/scale.c — add, list and remove of N channels by virt-spicevmc as users run it (process
 * start included), each against the libc-only floor-qmp doing the same on the same QEMU. */
#include "config.h"

#include <gio/gio.h>

#include "scale.h"
#include "spawn.h"

static const guint sizes[] = { 1, 10, 30, 100, 250 };
#define SPEEDUP_N 30
#define SPEEDUP_MIN 30.0

typedef struct {
    GArray *floor_add, *floor_list, *floor_remove, *floor_waited;
    GArray *add, *list, *remove;
} Runs;

static void
runs_clear(Runs *r)
{
    GArray **all[] = { &r->floor_add, &r->floor_list, &r->floor_remove, &r->floor_waited,
                       &r->add, &r->list, &r->remove };

    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        g_clear_pointer(all[i], g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Runs, runs_clear)

static void
runs_init(Runs *r)
{
    GArray **all[] = { &r->floor_add, &r->floor_list, &r->floor_remove, &r->floor_waited,
                       &r->add, &r->list, &r->remove };

    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        *all[i] = g_array_new(FALSE, FALSE, sizeof(double));
}

static gboolean
timed(GArray *into, const char *const *argv, char **out, GError **error)
{
    Spawned s;

    if (!bench_spawn(argv, out, &s, error))
        return FALSE;
    g_array_append_val(into, s.ms);
    return TRUE;
}

static gboolean
run_floor(Runs *r, const char *qmp, guint n, GError **error)
{
    g_autofree char *count = g_strdup_printf("%u", n);
    const char *add[] = { FLOOR_QMP, qmp, "add", count, NULL };
    const char *list[] = { FLOOR_QMP, qmp, "list", NULL };
    const char *remove[] = { FLOOR_QMP, qmp, "remove", count, NULL };
    g_autofree char *waited = NULL;
    double ms;

    if (!timed(r->floor_add, add, NULL, error) || !timed(r->floor_list, list, NULL, error) ||
        !timed(r->floor_remove, remove, &waited, error))
        return FALSE;
    ms = g_ascii_strtod(waited, NULL);
    g_array_append_val(r->floor_waited, ms);
    return TRUE;
}

/* The same SPICE port names as the floor's, so both ask the same of spice-server. */
static gboolean
run_cli(Runs *r, const char *qmp, guint n, GError **error)
{
    g_autoptr(GPtrArray) add = g_ptr_array_new_with_free_func(g_free);
    const char *list[] = { VIRT_SPICEVMC, "--qmp", qmp, "list", "--json", NULL };
    const char *remove[] = { VIRT_SPICEVMC, "--qmp", qmp, "remove", "--all", NULL };

    g_ptr_array_add(add, g_strdup(VIRT_SPICEVMC));
    g_ptr_array_add(add, g_strdup("--qmp"));
    g_ptr_array_add(add, g_strdup(qmp));
    g_ptr_array_add(add, g_strdup("add"));
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(add, g_strdup_printf("port,fqdn=org.bench.port.%u", i));
    g_ptr_array_add(add, NULL);
    return timed(r->add, (const char *const *)add->pdata, NULL, error) &&
           timed(r->list, list, NULL, error) && timed(r->remove, remove, NULL, error);
}

/* Process start weighs most with one channel and vanishes in hundreds. */
static double
ratio_goal(guint n)
{
    return n == 1 ? 3.0 : n < 100 ? 1.5 : 1.15;
}

/* floor-qmp only relays QEMU's two replies, whatever their size; list reads, decodes and
 * prints every channel (about 20 us each here), which at hundreds of channels outweighs
 * QEMU's own time: the cold-start goal holds for it at every size. */
#define LIST_RATIO_MAX 3.0

static void
report_size(Report *report, Runs *r, guint n)
{
    g_autofree char *name = g_strdup_printf("N=%u", n);
    g_autoptr(GArray) speedups = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) model = g_array_new(FALSE, FALSE, sizeof(double));

    report_ratio(report, "add", name, "ms", r->add, r->floor_add, "floor-qmp", GOAL_AT_MOST,
                 ratio_goal(n));
    report_ratio(report, "list", name, "ms", r->list, r->floor_list, "floor-qmp", GOAL_AT_MOST,
                 LIST_RATIO_MAX);
    for (guint i = 0; i < r->remove->len; i++) {
        double one_by_one = g_array_index(r->floor_remove, double, i);
        double waited = g_array_index(r->floor_waited, double, i);
        double speedup = one_by_one / g_array_index(r->remove, double, i);
        /* One RCU period (what the floor waits per channel), then every command at the
         * floor's cost: what a batch removal can at best take, process start aside. */
        double best = waited / n + (one_by_one - waited);

        g_array_append_val(speedups, speedup);
        g_array_append_val(model, best);
    }
    report_ratio(report, "remove", name, "ms", r->remove, model, "1 RCU+cmds", GOAL_AT_MOST,
                 ratio_goal(n));
    g_free(name);
    name = g_strdup_printf("N=%u speed-up", n);
    report_value(report, "remove", name, "x", speedups,
                 n == SPEEDUP_N ? GOAL_AT_LEAST : GOAL_NONE, SPEEDUP_MIN);
}

/* Every comparison starts from the same VM, as QEMU itself reports it. */
gboolean
bench_check_empty(TestVm *vm, GError **error)
{
    g_autoptr(QmpClient) client = testvm_qmp(vm);
    g_autoptr(json_object) devices = testvm_exec(client, qmp_cmd_qom_list("/machine/peripheral"));
    guint spice = testvm_count_spice_chardevs(client);
    guint ports = 0;

    for (size_t i = 0; i < json_object_array_length(devices); i++) {
        json_object *type = json_object_object_get(json_object_array_get_idx(devices, i), "type");

        if (g_strcmp0(json_object_get_string(type), "child<virtserialport>") == 0)
            ports++;
    }
    if (spice || ports) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the VM is not empty between runs "
                    "(%u SPICE chardevs, %u ports)", spice, ports);
        return FALSE;
    }
    return TRUE;
}

gboolean
bench_scale_run(TestVm *vm, Report *report, GError **error)
{
    for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
        guint n = sizes[k];
        /* One at a time, 250 removals take 15 s. */
        guint rounds = n < 100 ? 5 : 3;
        g_auto(Runs) r = { NULL };

        runs_init(&r);
        for (guint round = 0; round < rounds; round++) {
            gboolean floor_first = round % 2 == 0;

            if (!bench_check_empty(vm, error) ||
                !(floor_first ? run_floor : run_cli)(&r, vm->qmp_path, n, error) ||
                !bench_check_empty(vm, error) ||
                !(floor_first ? run_cli : run_floor)(&r, vm->qmp_path, n, error))
                return FALSE;
        }
        g_print("N=%-3u  floor-qmp add %7.1f list %5.1f remove %8.1f ms   virt-spicevmc add %7.1f "
                "list %5.1f remove %6.1f ms\n", n, g_array_index(r.floor_add, double, 0),
                g_array_index(r.floor_list, double, 0), g_array_index(r.floor_remove, double, 0),
                g_array_index(r.add, double, 0), g_array_index(r.list, double, 0),
                g_array_index(r.remove, double, 0));
        report_size(report, &r, n);
    }
    return TRUE;
}
