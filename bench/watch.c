/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/watch.c — from another client's raw device_add to `virt-spicevmc watch` printing it
 * (QEMU announces no added device: the watch's list, every 500 ms, is the design's bound), from
 * a device_del to its line (QEMU's DEVICE_DELETED, one RCU period after), and from a
 * spicevmc-add, which the proxy announces. */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "testvm.h"
#include "watch-proc.h"
#include "watch.h"

#define ROUNDS 20
#define TIMEOUT_MS 60000
/* The list is read every 500 ms: a device waits up to that, plus one list's round trips. */
#define ADDED_MEDIAN_MS 500.0
#define ADDED_WORST_MS 600.0
/* DEVICE_DELETED comes ~50-60 ms after device_del, the line at once after it. */
#define REMOVED_MEDIAN_MS 200.0
/* The proxy announces what spicevmc-add added: the watch lists at once. */
#define ANNOUNCED_MEDIAN_MS 100.0

static gboolean
run(QmpClient *client, const char *text, GError **error)
{
    g_autoptr(json_object) cmd = json_tokener_parse(text);
    g_autoptr(json_object) ret = qmp_client_execute(client, cmd, error);

    return ret != NULL;
}

static double
ms_to_line(WatchProc *w, const char *event, const char *id, gint64 sent)
{
    g_autoptr(json_object) line = watch_proc_wait(w, event, id);

    return (watch_proc_last_arrival(w) - sent) / 1000.0;
}



/* One channel added and removed by hand; the time each took to be printed. */
static gboolean
round_trip(WatchProc *w, QmpClient *raw, guint i, double *added, double *removed,
           GError **error)
{
    g_autofree char *id = g_strdup_printf("b%u", i);
    g_autofree char *chardev_add = g_strdup_printf(
        "{\"execute\": \"chardev-add\", \"arguments\": {\"id\": \"c-%s\", \"backend\": "
        "{\"type\": \"spiceport\", \"data\": {\"fqdn\": \"org.bench.watch.%u\"}}}}", id, i);
    g_autofree char *device_add = g_strdup_printf(
        "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtserialport\", "
        "\"bus\": \"vs0.0\", \"id\": \"%s\", \"chardev\": \"c-%s\", \"name\": "
        "\"org.bench.watch.%u\"}}", id, id, i);
    g_autofree char *device_del = g_strdup_printf(
        "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"%s\"}}", id);
    g_autofree char *chardev_remove = g_strdup_printf(
        "{\"execute\": \"chardev-remove\", \"arguments\": {\"id\": \"c-%s\"}}", id);
    gint64 sent;

    if (!run(raw, chardev_add, error))
        return FALSE;
    /* Anywhere in the watch's period: each round would otherwise come at the same point of
     * it, one round being about as long as the period. */
    g_usleep(g_random_int_range(0, 500) * 1000);
    sent = g_get_monotonic_time();
    if (!run(raw, device_add, error))
        return FALSE;
    *added = ms_to_line(w, "channel-added", id, sent);
    sent = g_get_monotonic_time();
    if (!run(raw, device_del, error))
        return FALSE;
    *removed = ms_to_line(w, "channel-removed", id, sent);
    return run(raw, chardev_remove, error);
}

/* A channel added with spicevmc-add, which the proxy announces: the time to its line. */
static gboolean
announced(WatchProc *w, QmpClient *raw, guint i, double *ms, GError **error)
{
    g_autofree char *id = g_strdup_printf("a%u", i);
    g_autofree char *add = g_strdup_printf(
        "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"port\", \"id\": \"%s\", "
        "\"fqdn\": \"org.bench.announced.%u\"}}", id, i);
    g_autofree char *remove = g_strdup_printf(
        "{\"execute\": \"spicevmc-remove\", \"arguments\": {\"id\": \"%s\"}}", id);
    gint64 sent;

    g_usleep(g_random_int_range(0, 500) * 1000);
    sent = g_get_monotonic_time();
    if (!run(raw, add, error))
        return FALSE;
    *ms = ms_to_line(w, "channel-added", id, sent);
    if (!run(raw, remove, error))
        return FALSE;
    /* Its removal's line read, so that the next round starts from nothing. */
    json_object_put(watch_proc_wait(w, "channel-removed", id));
    return TRUE;
}

static GArray *
worst_of(GArray *values)
{
    GArray *worst = g_array_new(FALSE, FALSE, sizeof(double));
    double max = 0;

    for (guint i = 0; i < values->len; i++)
        max = MAX(max, g_array_index(values, double, i));
    g_array_append_val(worst, max);
    return worst;
}

static gboolean
measure(const char *path, Report *report, GError **error)
{
    const char *const args[] = { "--qmp", path, NULL };
    g_autoptr(QmpClient) raw = qmp_client_connect(path, TIMEOUT_MS, error);
    g_autoptr(WatchProc) w = NULL;
    g_autoptr(GArray) added = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) through = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) added_worst = NULL;
    g_autoptr(GArray) removed_worst = NULL;

    if (!raw)
        return FALSE;
    w = watch_proc_start_watching(args, FALSE, NULL);
    for (guint i = 0; i < ROUNDS; i++) {
        double a, r;

        if (!round_trip(w, raw, i, &a, &r, error))
            return FALSE;
        g_array_append_val(added, a);
        g_array_append_val(removed, r);
        g_print("  %2u: added %6.1f ms, removed %6.1f ms\n", i + 1, a, r);
    }
    for (guint i = 0; i < ROUNDS; i++) {
        double ms;

        if (!announced(w, raw, i, &ms, error))
            return FALSE;
        g_array_append_val(through, ms);
    }
    watch_proc_signal(w, SIGTERM);
    if (watch_proc_wait_exit(w, NULL) != 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the watch did not exit 0 on SIGTERM");
        return FALSE;
    }
    added_worst = worst_of(added);
    removed_worst = worst_of(removed);
    report_value(report, "watch", "device_add -> line, median", "ms", added, GOAL_AT_MOST,
                 ADDED_MEDIAN_MS);
    report_value(report, "watch", "device_add -> line, worst", "ms", added_worst, GOAL_AT_MOST,
                 ADDED_WORST_MS);
    report_value(report, "watch", "device_del -> line, median", "ms", removed, GOAL_AT_MOST,
                 REMOVED_MEDIAN_MS);
    report_value(report, "watch", "device_del -> line, worst", "ms", removed_worst, GOAL_NONE,
                 0);
    report_value(report, "watch", "spicevmc-add -> line, median", "ms", through, GOAL_AT_MOST,
                 ANNOUNCED_MEDIAN_MS);
    return TRUE;
}

gboolean
bench_watch_run(const char *proxy, Report *report, GError **error)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autofree char *path = g_build_filename(vm->dir, "proxy.sock", NULL);
    const char *argv[] = { proxy, "--upstream", vm->qmp_path, "--listen-fd", "3", NULL };
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSocket) listener = testvm_listen_unix(path);
    g_autoptr(GSubprocess) process = NULL;
    gboolean ok;

    g_subprocess_launcher_take_fd(launcher, dup(g_socket_get_fd(listener)), 3);
    g_subprocess_launcher_set_child_setup(launcher, testvm_die_with_parent, NULL, NULL);
    if (!(process = g_subprocess_launcher_spawnv(launcher, argv, error)))
        return FALSE;
    g_print("\nfrom another client's raw device_add (and device_del) on the proxy to "
            "virt-spicevmc watch printing it, %d rounds:\n", ROUNDS);
    ok = measure(path, report, error);
    g_subprocess_send_signal(process, SIGTERM);
    g_subprocess_wait(process, NULL, NULL);
    return ok;
}
