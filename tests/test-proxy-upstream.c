/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-proxy-upstream.c — spicevmc-qmp-proxy when QEMU misbehaves for real: stopped
 * (SIGSTOP), killed, or its monitor held by another client. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy-common.h"

static const char *
desc_of(json_object *reply)
{
    return json_object_get_string(json_object_object_get(json_object_object_get(reply, "error"),
                                                         "desc"));
}

static void
assert_error_says(json_object *reply, const char *says)
{
    const char *desc = desc_of(reply);

    if (!desc || !strstr(desc, says))
        g_error("expected an error saying '%s', got %s", says, json_object_to_json_string(reply));
}

/* The single-letter state of process @pid ('T' when stopped). */
static char
process_state(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *after;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    after = strrchr(text, ')');
    g_assert_nonnull(after);
    return after[2];
}

static void
qemu_signal(Proxied *f, int signum)
{
    g_assert_cmpint(kill(f->vm->pid, signum), ==, 0);
}

/* ---- QEMU stopped ----------------------------------------------------------- */

/* With QEMU stopped, each of our commands answers within --timeout that QEMU did not answer —
 * one at work, and those of other clients queued behind it, which fail at once rather than
 * wait again — and once QEMU runs again, so do they. */
static void
test_stopped_timeout(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--timeout", "1", NULL };
    static const char *const lines[] = {
        "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"webdav\"}}",
        "{\"execute\": \"query-spicevmc\"}",
        "{\"execute\": \"spicevmc-remove\", \"arguments\": {\"all\": true}}",
    };
    ProxySpec spec = { .args = args };
    Raw clients[G_N_ELEMENTS(lines)] = { { NULL } };
    g_auto(Raw) after = { NULL };
    g_autoptr(json_object) status = NULL;
    g_autoptr(json_object) added = NULL;

    proxied_start(f, &spec);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++)
        raw_open(&clients[i], f->path, TRUE);
    qemu_signal(f, SIGSTOP);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++)
        raw_send(&clients[i], lines[i], -1);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_autoptr(json_object) reply = raw_read(&clients[i]);

        assert_error_says(reply, "timed out after 1 s waiting for QEMU to answer");
        raw_close(&clients[i]);
    }
    g_assert_cmpint(process_state(f->vm->pid), ==, 'T');
    qemu_signal(f, SIGCONT);
    /* QEMU answers in order: once this is answered, so is what the worker waited for. */
    raw_open(&after, f->path, TRUE);
    status = raw_exchange(&after, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));
    added = raw_exchange(&after, lines[0], -1);
    g_assert_nonnull(json_object_object_get(added, "return"));
    g_assert_true(testvm_has_device(f->inspect, "webdav0"));
}

/* SIGTERM with one of our commands waiting for a stopped QEMU: the command is answered with an
 * error and the proxy exits 0 while QEMU is still stopped; the add had not got as far as
 * changing anything, and QEMU, continued, has nothing of it. */
static void
test_stopped_sigterm(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--timeout", "600", NULL };
    ProxySpec spec = { .args = args };
    g_auto(Raw) r = { NULL };
    g_autoptr(json_object) reply = NULL;

    proxied_start(f, &spec);
    raw_open(&r, f->path, TRUE);
    qemu_signal(f, SIGSTOP);
    raw_send(&r, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"serial\"}}", -1);
    raw_wait_taken(&r);
    proxied_stop(f);
    g_assert_cmpint(process_state(f->vm->pid), ==, 'T');
    reply = raw_read(&r);
    assert_error_says(reply, "stopping");
    qemu_signal(f, SIGCONT);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
}

/* The proxy's own commands do not hold up a client's: with the worker waiting for a stopped
 * QEMU, another client's query-status goes to QEMU, and is answered once QEMU runs. */
static void
test_stopped_passthrough(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--timeout", "600", NULL };
    ProxySpec spec = { .args = args };
    g_auto(Raw) worker = { NULL };
    g_auto(Raw) plain = { NULL };
    g_autoptr(json_object) status = NULL;
    g_autoptr(json_object) added = NULL;

    proxied_start(f, &spec);
    raw_open(&worker, f->path, TRUE);
    raw_open(&plain, f->path, TRUE);
    qemu_signal(f, SIGSTOP);
    raw_send(&worker, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"serial\"}}",
             -1);
    raw_wait_taken(&worker);
    raw_send(&plain, "{\"execute\": \"query-status\"}", -1);
    raw_wait_taken(&plain);
    qemu_signal(f, SIGCONT);
    status = raw_read(&plain);
    g_assert_nonnull(json_object_object_get(status, "return"));
    added = raw_read(&worker);
    g_assert_nonnull(json_object_object_get(added, "return"));
}

/* ---- QEMU gone ---------------------------------------------------------------- */

/* QEMU killed with our add and a client's command waiting for it, and another add queued
 * behind the first: all are answered with an error saying why before their connections
 * close, the queued one too (not that the proxy is stopping: it stops because QEMU went),
 * and the proxy exits 1 with one line saying why. */
static void
test_killed_pending(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--timeout", "600", NULL };
    ProxySpec spec = { .args = args, .capture_log = TRUE };
    g_auto(Raw) adder = { NULL };
    g_auto(Raw) queued = { NULL };
    g_auto(Raw) plain = { NULL };
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) added_later = NULL;
    g_autoptr(json_object) status = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *eof = NULL;

    proxied_start(f, &spec);
    raw_open(&adder, f->path, TRUE);
    raw_open(&queued, f->path, TRUE);
    raw_open(&plain, f->path, TRUE);
    qemu_signal(f, SIGSTOP);
    raw_send(&adder, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"serial\"}}",
             -1);
    raw_wait_taken(&adder);
    raw_send(&queued, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"webdav\"}}",
             -1);
    raw_wait_taken(&queued);
    raw_send(&plain, "{\"execute\": \"query-status\", \"id\": \"s\"}", -1);
    raw_wait_taken(&plain);
    testvm_kill(f->vm);
    added = raw_read(&adder);
    assert_error_says(added, "QEMU's monitor closed the connection");
    added_later = raw_read(&queued);
    assert_error_says(added_later, "QEMU's monitor closed the connection");
    status = raw_read(&plain);
    assert_error_says(status, "QEMU's monitor closed the connection");
    g_assert_cmpstr(json_object_get_string(json_object_object_get(status, "id")), ==, "s");
    eof = g_data_input_stream_read_line_utf8(plain.in, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_null(eof);
    proxied_wait_exit(f);
    g_assert_true(g_subprocess_get_if_exited(f->proxy));
    g_assert_cmpint(g_subprocess_get_exit_status(f->proxy), ==, 1);
    line = proxied_log_wait(f, "error:");
    g_assert_cmpstr(line, ==, "spicevmc-qmp-proxy: error: QEMU's monitor closed the connection");
    g_clear_object(&f->proxy);
}

/* ---- QEMU's monitor held by another client ------------------------------------ */

/* QEMU greets the second client of a monitor only once the first has left: the proxy says so
 * within --timeout (@data: its value; NULL, the README's default of 10 s), exits 1, and
 * removes the socket it made. */
static void
test_busy_monitor(Proxied *f, gconstpointer data)
{
    const char *timeout = data;
    g_autofree char *listen = g_build_filename(f->vm->dir, "own.sock", NULL);
    const char *const args[] = { "--upstream", f->vm->qmp_path, "--listen", listen,
                                 timeout ? "--timeout" : NULL, timeout, NULL };
    ProxySpec spec = { .args = args, .own_upstream = TRUE, .own_listener = TRUE,
                       .capture_log = TRUE };
    g_autoptr(QmpClient) holder = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *want = NULL;

    holder = qmp_client_connect(f->vm->qmp_path, 30000, &error);
    g_assert_no_error(error);
    proxied_start(f, &spec);
    proxied_wait_exit(f);
    g_assert_cmpint(g_subprocess_get_exit_status(f->proxy), ==, 1);
    line = proxied_log_wait(f, "error:");
    want = g_strdup_printf("spicevmc-qmp-proxy: error: QEMU's monitor at %s did not greet "
                           "within %s s: another client may hold it", f->vm->qmp_path,
                           timeout ? timeout : "10");
    g_assert_cmpstr(line, ==, want);
    proxied_log_drain(f);
    g_assert_cmpuint(proxied_log_count(f, "spicevmc-qmp-proxy:"), ==, 1);
    g_assert_false(g_file_test(listen, G_FILE_TEST_EXISTS));
    g_clear_object(&f->proxy);
}

/* SIGTERM while it waits for the greeting: it exits 0 and removes the socket it made. */
static void
test_busy_monitor_sigterm(Proxied *f, gconstpointer data)
{
    g_autofree char *listen = g_build_filename(f->vm->dir, "own.sock", NULL);
    const char *const args[] = { "--upstream", f->vm->qmp_path, "--listen", listen,
                                 "--timeout", "600", NULL };
    ProxySpec spec = { .args = args, .own_upstream = TRUE, .own_listener = TRUE };
    g_autoptr(QmpClient) holder = NULL;
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;
    struct stat st;

    holder = qmp_client_connect(f->vm->qmp_path, 30000, &error);
    g_assert_no_error(error);
    proxied_start(f, &spec);
    /* The socket is made before the greeting is awaited. */
    while (stat(listen, &st) < 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    proxied_stop(f);
    g_assert_false(g_file_test(listen, G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED_VM("/proxy-upstream/stopped/timeout", NULL, test_stopped_timeout);
    ADD_PROXIED_VM("/proxy-upstream/stopped/sigterm", NULL, test_stopped_sigterm);
    ADD_PROXIED_VM("/proxy-upstream/stopped/passthrough", NULL, test_stopped_passthrough);
    ADD_PROXIED_VM("/proxy-upstream/killed/pending-answered", NULL, test_killed_pending);
    ADD_PROXIED_VM("/proxy-upstream/busy-monitor/timeout", "1", test_busy_monitor);
    ADD_PROXIED_VM("/proxy-upstream/busy-monitor/default-timeout", NULL, test_busy_monitor);
    ADD_PROXIED_VM("/proxy-upstream/busy-monitor/sigterm", NULL, test_busy_monitor_sigterm);
    return g_test_run();
}
