/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-monitor-busy.c — a QMP monitor another client holds is waited for within the
 * timeout, then named as busy; a socket that is not a QMP monitor is named so.  Real QEMU:
 * it serves one client per monitor, queues a few more, and refuses the next with EAGAIN. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "testvm.h"

/* Only a bug waits this long. */
#define TIMEOUT_MS 60000

typedef struct {
    TestVm *vm;
    char *vnc_dir;
    char *vnc_path;           /* QEMU's VNC server: speaks first, and not JSON */
    QmpClient *inspect;
    QmpClient *holder;        /* the client that holds the monitor under test */
    GPtrArray *queued;        /* GSocket: clients waiting in the monitor's queue */
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *vnc = NULL;

    f->vnc_dir = g_dir_make_tmp("test-monitor-busy-XXXXXX", &error);
    g_assert_no_error(error);
    f->vnc_path = g_build_filename(f->vnc_dir, "vnc.sock", NULL);
    vnc = g_strconcat("unix:", f->vnc_path, NULL);
    {
        const char *extra[] = { "-vnc", vnc, NULL };

        f->vm = testvm_start(0, extra);
    }
    /* QEMU greets once it is set up, VNC and SPICE sockets included. */
    f->inspect = testvm_qmp(f->vm);
    f->queued = g_ptr_array_new_with_free_func(g_object_unref);
}

static void
release(Fixture *f)
{
    g_clear_pointer(&f->holder, qmp_client_free);
    g_ptr_array_set_size(f->queued, 0);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    release(f);
    g_ptr_array_unref(f->queued);
    g_clear_pointer(&f->inspect, qmp_client_free);
    g_clear_pointer(&f->vm, testvm_free);
    testvm_remove_tree(f->vnc_dir);
    g_free(f->vnc_dir);
    g_free(f->vnc_path);
}

/* A client holds the monitor; with @fill, others wait until its queue is full. */
static void
hold(Fixture *f, gboolean fill)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) addr = qmp_unix_address_new(f->vm->qmp_path, &error);

    g_assert_no_error(error);
    f->holder = qmp_client_connect(f->vm->qmp_path, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    for (guint i = 0; fill; i++) {
        g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                               G_SOCKET_PROTOCOL_DEFAULT, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(i, <, 64);
        g_socket_set_blocking(sock, FALSE);
        if (!g_socket_connect(sock, addr, NULL, &error)) {
            g_assert_error(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            break;
        }
        g_ptr_array_add(f->queued, g_steal_pointer(&sock));
    }
}

/* virt-spicevmc --qmp @qmp [--timeout @timeout] list; @timeout NULL: the default. */
static void
run_cli(Run *r, const char *qmp, const char *timeout)
{
    const char *argv[] = { testvm_cli_path(), "--qmp", qmp, "list", timeout ? "--timeout" : NULL,
                           timeout, NULL };

    run_argv(r, argv, NULL);
    g_test_message("stderr: %s", r->err);
}

/* One line on stderr, exit status 1. */
static void
assert_fails(const Run *r, const char *fragment)
{
    run_assert_error_line(r, "virt-spicevmc: error: ", fragment);
}

/* Before: "Resource temporarily unavailable" at once. */
static void
test_queue_full(Fixture *f, gconstpointer data)
{
    g_auto(Run) r = { NULL };

    hold(f, TRUE);
    run_cli(&r, f->vm->qmp_path, "0.3");
    assert_fails(&r, "in time: another client holds the monitor and others are waiting for it");
}

/* ---- waiting, then served ------------------------------------------------- */

typedef struct {
    GMutex lock;
    GCond changed;
    gboolean busy;            /* the client said it waits for the monitor */
    gboolean done;            /* it has connected, or failed */
    char *address;
    GError *error;
} Waiter;

static void
on_debug(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    Waiter *w = data;

    g_mutex_lock(&w->lock);
    w->busy |= strstr(message, "is busy") != NULL;
    g_cond_broadcast(&w->changed);
    g_mutex_unlock(&w->lock);
}

static gpointer
connect_and_ask(gpointer data)
{
    Waiter *w = data;
    g_autoptr(QmpClient) client = qmp_client_connect(w->address, TIMEOUT_MS, &w->error);
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = client ? qmp_client_execute(client, cmd, &w->error) : NULL;

    g_mutex_lock(&w->lock);
    w->done = TRUE;
    g_cond_broadcast(&w->changed);
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* A client that finds the queue full waits, and is served once the holder leaves.  Before: it
 * failed at once. */
static void
test_waits(Fixture *f, gconstpointer data)
{
    Waiter w = { .address = f->vm->qmp_path };
    gint64 deadline = g_get_monotonic_time() + (gint64)TIMEOUT_MS * 1000;
    guint handler;
    GThread *thread;

    g_mutex_init(&w.lock);
    g_cond_init(&w.changed);
    hold(f, TRUE);
    handler = g_log_set_handler(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, on_debug, &w);
    thread = g_thread_new("waiter", connect_and_ask, &w);
    /* The client's own word that it found the monitor taken, not a guess at its timing. */
    g_mutex_lock(&w.lock);
    while (!w.busy && !w.done && g_cond_wait_until(&w.changed, &w.lock, deadline))
        ;
    g_assert_true(w.busy);
    g_assert_false(w.done);
    g_mutex_unlock(&w.lock);
    release(f);
    g_thread_join(thread);
    g_log_remove_handler(G_LOG_DOMAIN, handler);
    g_assert_no_error(w.error);
    g_assert_true(w.done);
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.changed);
}

/* ---- no greeting ------------------------------------------------------------ */

/* Queued behind the holder, the client gets no greeting.  Before: only "timed out". */
static void
test_no_greeting(Fixture *f, gconstpointer data)
{
    g_auto(Run) r = { NULL };

    hold(f, FALSE);
    run_cli(&r, f->vm->qmp_path, "0.3");
    assert_fails(&r, "timed out after 300 ms waiting for the QMP greeting: another client may "
                     "hold the monitor (QEMU serves one client at a time), or this is not a "
                     "QMP monitor");
}

/* Without --timeout, the README's default: 10 s. */
static void
test_default_timeout(Fixture *f, gconstpointer data)
{
    g_auto(Run) r = { NULL };

    hold(f, FALSE);
    run_cli(&r, f->vm->qmp_path, NULL);
    assert_fails(&r, "timed out after 10 s waiting for the QMP greeting");
}

/* SPICE waits for its client to speak first: silence, as from a busy monitor. */
static void
test_spice_socket(Fixture *f, gconstpointer data)
{
    g_auto(Run) r = { NULL };

    run_cli(&r, f->vm->spice_path, "0.3");
    assert_fails(&r, "or this is not a QMP monitor");
}

/* VNC speaks first, and not JSON: told at once, not at the timeout.  Before: "malformed QMP
 * message". */
static void
test_vnc_socket(Fixture *f, gconstpointer data)
{
    g_auto(Run) r = { NULL };

    run_cli(&r, f->vnc_path, "60");
    assert_fails(&r, "probably not a QMP monitor: it began with 'RFB 003.008\\n'");
}

#define ADD(path, test) g_test_add(path, Fixture, NULL, setup, test, teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/monitor-busy/queue-full", test_queue_full);
    ADD("/monitor-busy/waits", test_waits);
    ADD("/monitor-busy/no-greeting", test_no_greeting);
    ADD("/monitor-busy/default-timeout", test_default_timeout);
    ADD("/monitor-busy/spice-socket", test_spice_socket);
    ADD("/monitor-busy/vnc-socket", test_vnc_socket);
    return g_test_run();
}
