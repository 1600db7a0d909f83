/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/sync.c — virt-spicevmc sync --follow on the system's libvirtd: the time from
 * virt-manager's defineXML to the channel live in QEMU, and what the poll for changes libvirt
 * sends no event for costs (one definition read per running domain a second). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "libvirt-env.h"
#include "stats.h"
#include "sync-follower.h"
#include "sync.h"

#define SYSTEM_URI "qemu:///system"
#define ROUNDS 20
/* The promise: live within a second of the define. */
#define LIVE_GOAL_MS 1000.0
/* The follower reads each running domain's definition once a second: for a hundred domains,
 * at most a tenth of a second (of libvirtd's and the follower's time together). */
#define POLLED_DOMAINS 100
#define POLL_ROUNDS 5
#define POLL_GOAL_MS 100.0
/* The follower left alone this long, to see what it costs when nothing happens. */
#define IDLE_S 10
#define WEBDAV "<channel type='spiceport'><source channel='org.spice-space.webdav.0'/>" \
               "<target type='virtio' name='org.spice-space.webdav.0'/></channel>"

typedef struct {
    virConnectPtr conn;
    virDomainPtr dom;
    char *name;
    char *dir;
} Bench;

static void
bench_clear(Bench *b)
{
    if (b->dom) {
        virDomainDestroy(b->dom);
        virDomainUndefine(b->dom);
        virDomainFree(b->dom);
    }
    if (b->conn)
        virConnectClose(b->conn);
    if (b->dir)
        libvirt_env_remove_root(b->dir);
    g_free(b->name);
    g_free(b->dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Bench, bench_clear)

static double
ms_since(gint64 start)
{
    return (g_get_monotonic_time() - start) / 1000.0;
}

static gboolean
libvirt_failed(GError **error, const char *what)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, virGetLastErrorMessage());
    return FALSE;
}

/* A persistent domain, running (paused), as virt-manager's users have them. */
static gboolean
start_domain(Bench *b, GError **error)
{
    g_autofree char *spice = NULL, *xml = NULL;

    b->dir = g_dir_make_tmp("spicevmc-bench-XXXXXX", error);
    if (!b->dir)
        return FALSE;
    b->name = g_strdup_printf("spicevmc-bench-sync-%d", (int)getpid());
    spice = g_build_filename(b->dir, "spice.sock", NULL);
    xml = libvirt_env_domain_xml(b->name, spice, NULL);
    if (!(b->dom = virDomainDefineXML(b->conn, xml)))
        return libvirt_failed(error, "cannot define the bench's domain");
    if (virDomainCreateWithFlags(b->dom, VIR_DOMAIN_START_PAUSED) < 0)
        return libvirt_failed(error, "cannot start the bench's domain");
    return TRUE;
}

/* QEMU has the device: the line the follower printed says so, QEMU is asked all the same. */
static gboolean
qemu_has(Bench *b, const char *id)
{
    g_autofree char *reply = NULL;
    g_autofree char *quoted = g_strdup_printf("\"%s\"", id);

    if (virDomainQemuMonitorCommand(b->dom, "{\"execute\":\"qom-list\",\"arguments\":"
                                            "{\"path\":\"/machine/peripheral\"}}",
                                    &reply, 0) < 0)
        return FALSE;
    return strstr(reply, quoted) != NULL;
}

/* defineXML with the channel appended, as virt-manager does, until the follower says it is
 * live; and defineXML without it, until it says it is gone. */
static gboolean
define_rounds(Bench *b, SyncFollower *s, GArray *live, GArray *gone, GError **error)
{
    g_autofree char *base = virDomainGetXMLDesc(b->dom, VIR_DOMAIN_XML_INACTIVE |
                                                            VIR_DOMAIN_XML_SECURE);
    const char *end = base ? strstr(base, "</devices>") : NULL;
    g_autofree char *with = end ? g_strdup_printf("%.*s%s%s", (int)(end - base), base, WEBDAV,
                                                  end) : NULL;

    if (!with)
        return libvirt_failed(error, "cannot read the bench domain's definition");
    for (guint i = 0; i < ROUNDS; i++) {
        gint64 start = g_get_monotonic_time();
        virDomainPtr again = virDomainDefineXML(b->conn, with);
        double ms;

        if (!again)
            return libvirt_failed(error, "cannot define the domain with the channel");
        virDomainFree(again);
        g_free(sync_follower_wait(s, "added live"));
        ms = ms_since(start);
        g_array_append_val(live, ms);
        if (!qemu_has(b, "ua-webdav0")) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "the follower said 'ua-webdav0' is live, QEMU does not have it");
            return FALSE;
        }
        start = g_get_monotonic_time();
        if (!(again = virDomainDefineXML(b->conn, base)))
            return libvirt_failed(error, "cannot define the domain without the channel");
        virDomainFree(again);
        g_free(sync_follower_wait(s, "removed: it left the definition"));
        ms = ms_since(start);
        g_array_append_val(gone, ms);
    }
    return TRUE;
}

/* What the follower does for each running domain every second, done for a hundred. */
static gboolean
poll_rounds(Bench *b, GArray *poll, GError **error)
{
    for (guint r = 0; r < POLL_ROUNDS; r++) {
        gint64 start = g_get_monotonic_time();
        double ms;

        for (guint i = 0; i < POLLED_DOMAINS; i++) {
            g_autofree char *xml = virDomainGetXMLDesc(b->dom, VIR_DOMAIN_XML_INACTIVE);
            g_autofree char *sum = NULL;

            if (!xml)
                return libvirt_failed(error, "cannot read the definition");
            sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, xml, -1);
        }
        ms = ms_since(start);
        g_array_append_val(poll, ms);
    }
    return TRUE;
}

/* CPU time of process @pid, every thread's, in ms: the scheduler's count in ns, where the
 * clock ticks of /proc/PID/stat would round a quiet second to nothing. */
static double
cpu_ms(const char *pid)
{
    g_autofree char *tasks = g_strdup_printf("/proc/%s/task", pid);
    g_autoptr(GDir) dir = g_dir_open(tasks, 0, NULL);
    const char *task;
    double ns = 0;

    while (dir && (task = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(tasks, task, "schedstat", NULL);
        g_autofree char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL))
            ns += g_ascii_strtod(text, NULL);
    }
    return ns / 1e6;
}

gboolean
bench_sync_run(Report *report, GError **error)
{
    g_auto(Bench) b = { NULL };
    g_autoptr(SyncFollower) s = NULL;
    g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) worst = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) poll = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) idle = g_array_new(FALSE, FALSE, sizeof(double));
    double before, max;

    if (!(b.conn = virConnectOpen(SYSTEM_URI))) {
        g_printerr("spicevmc-bench: no libvirtd at %s (%s): the sync figures are left out\n",
                   SYSTEM_URI, virGetLastErrorMessage());
        return TRUE;
    }
    if (!start_domain(&b, error))
        return FALSE;
    s = sync_follower_start(SYSTEM_URI, b.dir, (const char *const[]){ b.name, NULL });
    if (!define_rounds(&b, s, live, gone, error))
        return FALSE;
    before = cpu_ms(sync_follower_pid(s));
    g_usleep(IDLE_S * G_USEC_PER_SEC);
    before = (cpu_ms(sync_follower_pid(s)) - before) / IDLE_S;
    g_array_append_val(idle, before);
    sync_follower_stop(s);
    if (!poll_rounds(&b, poll, error))
        return FALSE;
    max = stats_percentile(live, 100);
    g_array_append_val(worst, max);
    report_value(report, "sync", "defineXML to live, median", "ms", live, GOAL_AT_MOST,
                 LIVE_GOAL_MS);
    report_value(report, "sync", "defineXML to live, worst", "ms", worst, GOAL_AT_MOST,
                 LIVE_GOAL_MS);
    report_value(report, "sync", "defineXML to removed", "ms", gone, GOAL_NONE, 0);
    report_value(report, "sync", "poll of 100 definitions", "ms", poll, GOAL_AT_MOST,
                 POLL_GOAL_MS);
    report_value(report, "sync", "follower idle, 1 domain", "ms/s", idle, GOAL_NONE, 0);
    return TRUE;
}
