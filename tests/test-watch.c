/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-watch.c — virt-spicevmc watch on spicevmc-qmp-proxy's socket: channels another
 * client adds and removes by hand, refusal of QEMU's own monitor, SIGTERM and SIGINT, the VM
 * going away; and the library's watcher where real QEMU cannot produce the case. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "proxy-common.h"
#include "run.h"
#include "svc-private.h"
#include "watch-proc.h"

#define QMP_TIMEOUT_MS 30000

#define FQDN "org.example.watch.0"

static void
raw_ok(Raw *r, const char *line)
{
    g_autoptr(json_object) reply = raw_exchange(r, line, -1);

    if (!json_object_object_get(reply, "return"))
        g_error("%s: %s", line, json_object_to_json_string(reply));
}

/* A watch of the proxy, its first line read: what there was when it began. */
static WatchProc *
watch_proxy(Proxied *f, json_object **first)
{
    const char *const args[] = { "--qmp", f->path, NULL };

    return watch_proc_start_watching(args, TRUE, first);
}

/* Port w0 (chardev c-w0) added as any QMP client may, chardev-add and device_add, which
 * QEMU announces with no event. */
static void
add_port_by_hand(Raw *r)
{
    raw_ok(r, "{\"execute\": \"chardev-add\", \"arguments\": {\"id\": \"c-w0\", \"backend\": "
              "{\"type\": \"spiceport\", \"data\": {\"fqdn\": \"" FQDN "\"}}}}");
    raw_ok(r, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtserialport\", "
              "\"bus\": \"vs0.0\", \"id\": \"w0\", \"chardev\": \"c-w0\", \"name\": \""
              FQDN "\"}}");
}

/* Another client adds a port by hand (chardev-add, device_add: QEMU announces nothing) and
 * deletes it (DEVICE_DELETED): one line each, the removal from QEMU's event. */
static void
test_raw_qmp(Proxied *f, gconstpointer data)
{
    g_autoptr(WatchProc) w = NULL;
    g_autoptr(json_object) first = NULL;
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) removed = NULL;
    g_auto(Raw) r = { NULL };
    json_object *ch;

    w = watch_proxy(f, &first);
    g_assert_cmpuint(json_object_array_length(member(first, "channels")), ==, 0);
    watch_assert_time(first);
    raw_open(&r, f->path, TRUE);
    add_port_by_hand(&r);
    added = watch_proc_wait(w, "channel-added", "w0");
    watch_assert_time(added);
    g_assert_cmpstr(member_str(added, "kind"), ==, "port");
    g_assert_cmpstr(member_str(added, "spice-name"), ==, FQDN);
    g_assert_cmpstr(member_str(added, "port-name"), ==, FQDN);
    g_assert_cmpstr(member_str(added, "source"), ==, "inventory");
    ch = member(added, "channel");
    g_assert_cmpstr(member_str(ch, "chardev"), ==, "c-w0");
    g_assert_cmpstr(member_str(ch, "frontend"), ==, "virtserialport");
    g_assert_true(json_object_get_boolean(member(ch, "inferred")));

    raw_ok(&r, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"w0\"}}");
    removed = watch_proc_wait(w, "channel-removed", "w0");
    /* At once, from QEMU's event, not from a later look at the list. */
    g_assert_cmpstr(member_str(removed, "source"), ==, "DEVICE_DELETED");
    g_assert_cmpstr(member_str(member(removed, "data"), "device"), ==, "w0");
    g_assert_cmpstr(member_str(removed, "kind"), ==, "port");
    g_assert_cmpstr(member_str(removed, "spice-name"), ==, FQDN);
    /* Its chardev going is no second removal. */
    raw_ok(&r, "{\"execute\": \"chardev-remove\", \"arguments\": {\"id\": \"c-w0\"}}");
    raw_ok(&r, "{\"execute\": \"query-status\"}");
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

/* @line is "YYYY-MM-DD hh:mm:ss.mmm @rest", as the README shows watch's lines. */
static void
assert_text_line(const char *line, const char *rest)
{
    g_assert_nonnull(line);
    /* Without the stamp, the whole line is shown. */
    if (!g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ", line, 0, 0))
        g_assert_cmpstr(line, ==, rest);
    g_assert_cmpstr(line + strlen("2026-11-30 12:00:00.120 "), ==, rest);
}

/* Without --json, the lines the README shows: what there was, a channel added (here by hand,
 * so found in QEMU's inventory) and removed (from QEMU's DEVICE_DELETED). */
static void
test_text(Proxied *f, gconstpointer data)
{
    const char *const args[] = { "--qmp", f->path, NULL };
    g_autoptr(WatchProc) w = watch_proc_start_text(args);
    g_autofree char *watching = watch_proc_next_line(w);
    g_autofree char *added = NULL, *removed = NULL;
    g_auto(Raw) r = { NULL };

    assert_text_line(watching, "watching: 0 SPICE channels");
    raw_open(&r, f->path, TRUE);
    add_port_by_hand(&r);
    added = watch_proc_next_line(w);
    assert_text_line(added, "channel-added w0: port, SPICE name " FQDN ", guest port " FQDN);
    raw_ok(&r, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"w0\"}}");
    removed = watch_proc_next_line(w);
    assert_text_line(removed, "channel-removed w0: port, SPICE name " FQDN ", guest port " FQDN
                              ", from DEVICE_DELETED");
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

/* QEMU serves one client per monitor: a watch there would lock everyone else out. */
static void
test_qemu_monitor_refused(Proxied *f, gconstpointer data)
{
    const char *const argv[] = { testvm_cli_path(), "--qmp", f->vm->qmp_path, "watch", NULL };
    g_auto(Run) r = { NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) after = NULL;

    run_argv(&r, argv, NULL);
    run_assert_error_line(&r, "virt-spicevmc: error: ", "serves one client at a time");
    g_assert_nonnull(strstr(r.err, "spicevmc-qmp-proxy"));
    /* And it let go of the monitor. */
    after = qmp_client_connect(f->vm->qmp_path, QMP_TIMEOUT_MS, &error);
    g_assert_no_error(error);
}

static void
test_signal(Proxied *f, gconstpointer data)
{
    g_autoptr(WatchProc) w = watch_proxy(f, NULL);

    watch_proc_signal(w, GPOINTER_TO_INT(data));
    watch_proc_assert_exit(w, 0);
}

/* QEMU killed: the proxy goes, and the watch says so last, and fails. */
static void
test_vm_gone(Proxied *f, gconstpointer data)
{
    g_autoptr(WatchProc) w = watch_proxy(f, NULL);
    g_autoptr(json_object) ended = NULL;

    testvm_kill(f->vm);
    ended = watch_proc_wait(w, "ended", NULL);
    watch_assert_time(ended);
    g_assert_nonnull(strstr(member_str(ended, "reason"), "the VM went away"));
    watch_proc_assert_exit(w, 1);
    proxied_wait_exit(f);
    g_clear_object(&f->proxy);
}

/* QEMU stopped: the next list waits no longer than --timeout, and the watch ends saying so. */
static void
test_vm_stuck(Proxied *f, gconstpointer data)
{
    const char *const args[] = { "--timeout", "2", "--qmp", f->path, NULL };
    g_autoptr(WatchProc) w = watch_proc_start_watching(args, TRUE, NULL);
    g_autoptr(json_object) ended = NULL;
    const char *reason;

    g_assert_cmpint(kill(f->vm->pid, SIGSTOP), ==, 0);
    ended = watch_proc_wait(w, "ended", NULL);
    g_assert_cmpint(kill(f->vm->pid, SIGCONT), ==, 0);
    /* Whichever command of the list QEMU was stopped before. */
    reason = member_str(ended, "reason");
    if (!g_str_has_prefix(reason, "the VM stopped answering: timed out after 2 s waiting for "
                                  "QEMU to answer '"))
        g_assert_cmpstr(reason, ==, "the VM stopped answering: …");
    watch_proc_assert_exit(w, 1);
}

/* ---- the library's watcher --------------------------------------------------- */

static void
test_queue_bounded(void)
{
    SvcEventQueue *q = svc_event_queue_new(3);
    g_autofree char *why = NULL;

    for (guint i = 0; i < 5; i++) {
        g_autofree char *name = g_strdup_printf("E%u", i);

        svc_event_queue_push(q, name, NULL, 0);
    }
    g_assert_cmpuint(svc_event_queue_take_lost(q), ==, 2);
    g_assert_cmpuint(svc_event_queue_take_lost(q), ==, 0);
    for (guint i = 2; i < 5; i++) {
        g_autoptr(SvcRawEvent) e = svc_event_queue_pop(q);
        g_autofree char *name = g_strdup_printf("E%u", i);

        g_assert_cmpstr(e->name, ==, name);
    }
    g_assert_null(svc_event_queue_pop(q));
    svc_event_queue_end(q, "first");
    svc_event_queue_end(q, "second");
    why = svc_event_queue_ended(q);
    g_assert_cmpstr(why, ==, "first");
    /* Ended: a wait returns at once. */
    g_assert_true(svc_event_queue_wait(q, G_MAXINT64, NULL, NULL));
    svc_event_queue_unref(q);
}

/* A watch of a real QEMU whose events a test pushes itself: a mock source, for what real QEMU
 * cannot be made to send (thousands of events faster than the watch reads them, malformed
 * ones). */
typedef struct {
    TestVm *vm;
    SvcVm *svc;
    SvcEventQueue *queue;
    SvcWatch *watch;
    /* A watch that waits for what never comes is cancelled: the test fails, not hangs. */
    GThread *watchdog;
    GMutex lock;
    GCond done;
    gboolean over;
} Pushed;

static gpointer
watchdog(gpointer data)
{
    Pushed *p = data;
    gint64 deadline = g_get_monotonic_time() + WATCH_TIMEOUT_S * G_USEC_PER_SEC;

    g_mutex_lock(&p->lock);
    while (!p->over && g_cond_wait_until(&p->done, &p->lock, deadline))
        ;
    if (!p->over)
        svc_watch_cancel(p->watch);
    g_mutex_unlock(&p->lock);
    return NULL;
}

static gboolean
pushed_wait(gpointer source, gint64 deadline, GCancellable *cancellable, GError **error)
{
    return svc_event_queue_wait(source, deadline, cancellable, error);
}

static void
pushed_free(gpointer source)
{
    svc_event_queue_unref(source);
}

static const SvcEventSourceOps pushed_ops = { pushed_wait, pushed_free };

static void
pushed_setup(Pushed *p, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcEvent) first = NULL;

    p->vm = testvm_start(0, NULL);
    p->svc = svc_vm_connect_qmp(p->vm->qmp_path, QMP_TIMEOUT_MS, &error);
    g_assert_no_error(error);
    p->queue = svc_event_queue_new(SVC_WATCH_QUEUE_MAX);
    p->watch = svc_watch_new_on(p->svc, p->queue, &pushed_ops, svc_event_queue_ref(p->queue),
                                &error);
    g_assert_no_error(error);
    first = svc_watch_next(p->watch, &error);
    g_assert_no_error(error);
    g_assert_cmpint(first->type, ==, SVC_EVENT_WATCHING);
    g_mutex_init(&p->lock);
    g_cond_init(&p->done);
    p->watchdog = g_thread_new("watchdog", watchdog, p);
}

static void
pushed_teardown(Pushed *p, gconstpointer data)
{
    g_mutex_lock(&p->lock);
    p->over = TRUE;
    g_cond_signal(&p->done);
    g_mutex_unlock(&p->lock);
    g_thread_join(p->watchdog);
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->done);
    svc_watch_free(p->watch);
    svc_event_queue_unref(p->queue);
    svc_vm_free(p->svc);
    testvm_free(p->vm);
}

static json_object *
client_data(void)
{
    json_object *data = json_object_new_object();
    json_object *client = json_object_new_object();

    json_object_object_add(client, "host", json_object_new_string("127.0.0.1"));
    json_object_object_add(client, "port", json_object_new_string("5930"));
    json_object_object_add(client, "family", json_object_new_string("ipv4"));
    json_object_object_add(data, "client", client);
    return data;
}

/* A reader that falls behind loses the oldest events, and is told how many: 4096 behind, as
 * the README says (the number, not the constant, so that changing one alone fails here; the
 * queue is made as svc_watch_new() makes its own). */
#define DOCUMENTED_BEHIND 4096

static void
test_events_lost(Pushed *p, gconstpointer data)
{
    g_autoptr(json_object) client = client_data();
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcEvent) lost = NULL;
    g_autoptr(SvcEvent) next = NULL;

    for (guint i = 0; i < DOCUMENTED_BEHIND + 7; i++)
        svc_event_queue_push(p->queue, "SPICE_CONNECTED", client, 0);
    lost = svc_watch_next(p->watch, &error);
    g_assert_no_error(error);
    g_assert_cmpint(lost->type, ==, SVC_EVENT_EVENTS_LOST);
    g_assert_cmpuint(lost->lost, ==, 7);
    next = svc_watch_next(p->watch, &error);
    g_assert_no_error(error);
    g_assert_cmpint(next->type, ==, SVC_EVENT_CLIENT_CONNECTED);
}

/* An event whose data QEMU's schema does not allow ends the watch, saying which. */
static void
test_malformed(Pushed *p, gconstpointer data)
{
    g_autoptr(json_object) port = json_tokener_parse("{\"id\": \"x\"}");
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcEvent) ended = NULL;
    g_autoptr(SvcEvent) after = NULL;

    svc_event_queue_push(p->queue, "VSERPORT_CHANGE", port, 0);
    ended = svc_watch_next(p->watch, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ended->type, ==, SVC_EVENT_ENDED);
    g_assert_cmpstr(ended->reason, ==,
                    "unexpected VSERPORT_CHANGE event: 'open' is missing: {\"id\":\"x\"}");
    after = svc_watch_next(p->watch, &error);
    g_assert_null(after);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_STATE);
}

static gpointer
cancel_soon(gpointer data)
{
    svc_watch_cancel(data);
    return NULL;
}

/* Cancelled from another thread, before or while it waits: it returns, saying so. */
static void
test_cancel(Pushed *p, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    GThread *thread = g_thread_new("cancel", cancel_soon, p->watch);
    g_autoptr(SvcEvent) e = svc_watch_next(p->watch, &error);

    g_thread_join(thread);
    g_assert_null(e);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CANCELLED);
}

static gboolean
never_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies, GError **error)
{
    g_assert_not_reached();
}

/* A transport written outside the library gives no events: watching it is refused. */
static void
test_no_events(void)
{
    static const SvcTransportOps ops = { .run = never_run };
    g_autoptr(SvcVm) vm = svc_vm_new(&ops, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcWatch) w = svc_watch_new(vm, &error);

    g_assert_null(w);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/watch/proxy/raw-qmp", NULL, test_raw_qmp);
    ADD_PROXIED("/watch/proxy/text", NULL, test_text);
    ADD_PROXIED_VM("/watch/qemu-monitor-refused", NULL, test_qemu_monitor_refused);
    ADD_PROXIED("/watch/proxy/sigterm", GINT_TO_POINTER(SIGTERM), test_signal);
    ADD_PROXIED("/watch/proxy/sigint", GINT_TO_POINTER(SIGINT), test_signal);
    ADD_PROXIED("/watch/proxy/vm-gone", NULL, test_vm_gone);
    ADD_PROXIED("/watch/proxy/vm-stuck", NULL, test_vm_stuck);
    g_test_add_func("/watch/queue/bounded", test_queue_bounded);
    g_test_add("/watch/library/events-lost", Pushed, NULL, pushed_setup, test_events_lost,
               pushed_teardown);
    g_test_add("/watch/library/malformed", Pushed, NULL, pushed_setup, test_malformed,
               pushed_teardown);
    g_test_add("/watch/library/cancel", Pushed, NULL, pushed_setup, test_cancel,
               pushed_teardown);
    g_test_add_func("/watch/library/no-events", test_no_events);
    return g_test_run();
}
