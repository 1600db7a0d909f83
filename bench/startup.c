/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/startup.c — what a one-shot virt-spicevmc costs from exec to exit, against floor-qmp (libc
 * only: connect, negotiate, list) and against virsh, with peak RSS. */
#include "config.h"

#include <unistd.h>

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "libvirt-env.h"
#include "scale.h"
#include "spawn.h"

#define ROUNDS 21
#define SYSTEM_URI "qemu:///system"

#define START_RATIO_MAX 3.0
#define RSS_MIB_MAX 8.0

typedef struct {
    const char *name;         /* in the report */
    const char *const *argv;
    GArray *ms, *rss;
} Command;

/* A paused transient domain on the system libvirtd, or NULL when none answers. */
static virDomainPtr
system_domain(virConnectPtr *conn, char **name, char **dir)
{
    g_autofree char *spice = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;

    if (!(*conn = virConnectOpen(SYSTEM_URI)))
        return NULL;
    *dir = g_dir_make_tmp("spicevmc-bench-XXXXXX", NULL);
    *name = g_strdup_printf("spicevmc-bench-%d", (int)getpid());
    spice = g_build_filename(*dir, "spice.sock", NULL);
    xml = libvirt_env_domain_xml(*name, spice, NULL);
    dom = virDomainCreateXML(*conn, xml, VIR_DOMAIN_START_PAUSED);
    if (!dom)
        g_printerr("spicevmc-bench: no domain on %s (%s): its figures are left out\n",
                   SYSTEM_URI, virGetLastErrorMessage());
    return dom;
}

static void
report_command(Report *report, Command *c, Command *floor, GoalKind kind)
{
    report_ratio(report, "cold start", c->name, "ms", c->ms, floor->ms, floor->name, kind,
                 START_RATIO_MAX);
}

static gboolean
run_commands(Command *commands, guint n, GError **error)
{
    for (guint round = 0; round < ROUNDS; round++) {
        /* Each command goes first in its turn, so none always runs on a warmer cache. */
        for (guint k = 0; k < n; k++) {
            Command *c = &commands[(k + round) % n];
            Spawned s;

            if (!bench_spawn(c->argv, NULL, &s, error))
                return FALSE;
            g_array_append_val(c->ms, s.ms);
            g_array_append_val(c->rss, s.rss_mib);
        }
    }
    return TRUE;
}

gboolean
bench_startup_run(TestVm *vm, Report *report, GError **error)
{
    g_autofree char *virsh = g_find_program_in_path("virsh");
    g_autofree char *name = NULL, *dir = NULL;
    virConnectPtr conn = NULL;
    virDomainPtr dom = virsh ? system_domain(&conn, &name, &dir) : NULL;
    const char *floor[] = { FLOOR_QMP, vm->qmp_path, "list", NULL };
    const char *list[] = { VIRT_SPICEVMC, "--qmp", vm->qmp_path, "list", "--json", NULL };
    const char *kinds[] = { VIRT_SPICEVMC, "kinds", NULL };
    const char *virsh_cmd[] = { virsh, "-c", SYSTEM_URI, "qemu-monitor-command", name,
                                "{\"execute\":\"query-chardev\"}", NULL };
    const char *domain[] = { VIRT_SPICEVMC, "-c", SYSTEM_URI, name, "list", NULL };
    Command commands[] = {
        { "floor-qmp list", floor }, { "--qmp list --json", list }, { "kinds", kinds },
        { "virsh qemu-monitor-command", virsh_cmd }, { "-c URI DOMAIN list", domain },
    };
    guint n = dom ? G_N_ELEMENTS(commands) : 3;
    gboolean ok;

    for (guint k = 0; k < G_N_ELEMENTS(commands); k++) {
        commands[k].ms = g_array_new(FALSE, FALSE, sizeof(double));
        commands[k].rss = g_array_new(FALSE, FALSE, sizeof(double));
    }
    ok = run_commands(commands, n, error);
    if (ok) {
        report_command(report, &commands[1], &commands[0], GOAL_AT_MOST);
        report_command(report, &commands[2], &commands[0], GOAL_AT_MOST);
        report_value(report, "cold start", "--qmp list peak RSS", "MiB", commands[1].rss,
                     GOAL_AT_MOST, RSS_MIB_MAX);
        if (dom) {
            report_command(report, &commands[1], &commands[3], GOAL_NONE);
            report_command(report, &commands[4], &commands[3], GOAL_NONE);
            report_value(report, "cold start", "-c URI DOMAIN list peak RSS", "MiB",
                         commands[4].rss, GOAL_NONE, 0);
            report_value(report, "cold start", "virsh peak RSS", "MiB", commands[3].rss,
                         GOAL_NONE, 0);
        }
    }
    for (guint k = 0; k < G_N_ELEMENTS(commands); k++) {
        g_array_unref(commands[k].ms);
        g_array_unref(commands[k].rss);
    }
    if (dom) {
        virDomainDestroy(dom);
        virDomainFree(dom);
    }
    if (conn)
        virConnectClose(conn);
    if (dir)
        libvirt_env_remove_root(dir);
    return ok;
}
