/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the proxy tests (proxy-common.h). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <linux/sockios.h>

#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>

#include "proxy-common.h"
#include "run.h"

const char *
proxied_program(void)
{
    const char *other = g_getenv("SPICEVMC_TEST_PROXY");

    return other && *other ? other : SPICEVMC_PROXY;
}

/* The proxy's command line; under tests/valgrind-test, the proxy runs under valgrind too. */
static char **
proxy_argv(Proxied *f, const ProxySpec *spec)
{
    const char *valgrind = g_getenv("SPICEVMC_TEST_VALGRIND");
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
    g_auto(GStrv) prefix = NULL;
    g_autoptr(GError) error = NULL;

    if (valgrind) {
        g_assert_true(g_shell_parse_argv(valgrind, NULL, &prefix, &error));
        g_strv_builder_addv(argv, (const char **)prefix);
    }
    g_strv_builder_add(argv, proxied_program());
    if (!spec || !spec->own_upstream)
        g_strv_builder_add_many(argv, "--upstream", f->vm->qmp_path, NULL);
    if (!spec || !spec->own_listener)
        g_strv_builder_add_many(argv, "--listen-fd", "3", NULL);
    if (spec && spec->args)
        g_strv_builder_addv(argv, (const char **)spec->args);
    return g_strv_builder_end(argv);
}

static void
child_setup(gpointer data)
{
    const ProxySpec *spec = data;
    struct rlimit limit;

    testvm_die_with_parent(NULL);
    if (spec && spec->nofile) {
        limit.rlim_cur = limit.rlim_max = spec->nofile;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void
proxied_setup_vm(Proxied *f, gconstpointer data)
{
    f->vm = testvm_start(0, NULL);
    f->inspect = testvm_qmp(f->vm);
    f->path = g_build_filename(f->vm->dir, "proxy.sock", NULL);
    f->log = g_string_new(NULL);
    f->log_fd = -1;
}

void
proxied_start(Proxied *f, const ProxySpec *spec)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSocket) listener = NULL;
    g_auto(GStrv) argv = NULL;
    int pipe[2];

    if (!spec || !spec->own_listener) {
        listener = testvm_listen_unix(f->path);
        g_subprocess_launcher_take_fd(launcher, dup(g_socket_get_fd(listener)), 3);
    }
    if (spec && spec->keep_fd > 2)
        g_subprocess_launcher_take_fd(launcher, dup(spec->keep_fd), spec->keep_fd);
    if (spec && spec->capture_log && spec->stderr_fd > 0) {
        g_subprocess_launcher_take_stderr_fd(launcher, dup(spec->stderr_fd));
    } else if (spec && spec->capture_log) {
        g_assert_true(g_unix_open_pipe(pipe, FD_CLOEXEC, &error));
        g_assert_no_error(error);
        g_subprocess_launcher_take_stderr_fd(launcher, pipe[1]);
        f->log_fd = pipe[0];
    }
    g_subprocess_launcher_set_child_setup(launcher, child_setup, (gpointer)spec, NULL);
    argv = proxy_argv(f, spec);
    f->proxy = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    g_assert_no_error(error);
}

void
proxied_setup(Proxied *f, gconstpointer data)
{
    proxied_setup_vm(f, data);
    proxied_start(f, NULL);
}

GPid
proxied_pid(Proxied *f)
{
    return (GPid)g_ascii_strtoll(g_subprocess_get_identifier(f->proxy), NULL, 10);
}

gsize
proxied_memory(Proxied *f, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)proxied_pid(f));
    g_autofree char *text = NULL;
    const char *at;

#ifdef __SANITIZE_ADDRESS__
    return 0;
#endif
    if (g_getenv("SPICEVMC_TEST_VALGRIND"))
        return 0;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    at = strstr(text, field);
    g_assert_nonnull(at);
    return g_ascii_strtoull(at + strlen(field) + 1, NULL, 10) * 1024;
}

/* ---- the proxy's log -------------------------------------------------------- */

static gboolean
read_log(Proxied *f, gint64 deadline)
{
    char buf[4096];
    struct pollfd pfd = { f->log_fd, POLLIN, 0 };
    gint64 left = deadline - g_get_monotonic_time();
    ssize_t n;

    if (left <= 0 || poll(&pfd, 1, (int)(left / 1000) + 1) <= 0)
        return FALSE;
    n = read(f->log_fd, buf, sizeof(buf));
    if (n <= 0)
        return FALSE;
    g_string_append_len(f->log, buf, n);
    return TRUE;
}

char *
proxied_log_wait(Proxied *f, const char *contains)
{
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;

    g_assert_cmpint(f->log_fd, >=, 0);
    for (;;) {
        g_auto(GStrv) lines = g_strsplit(f->log->str, "\n", -1);

        /* The last piece is an unfinished line. */
        for (guint i = 0; lines[i] && lines[i + 1]; i++) {
            if (strstr(lines[i], contains))
                return g_strdup(lines[i]);
        }
        if (!read_log(f, deadline))
            g_error("the proxy did not log '%s' within %d s; it logged:\n%s", contains,
                    READ_TIMEOUT_S, f->log->str);
    }
}

void
proxied_log_drain(Proxied *f)
{
    while (read_log(f, g_get_monotonic_time() + 1000))
        ;
}

guint
proxied_log_count(Proxied *f, const char *contains)
{
    g_auto(GStrv) lines = g_strsplit(f->log->str, "\n", -1);
    guint n = 0;

    for (guint i = 0; lines[i]; i++)
        n += strstr(lines[i], contains) != NULL;
    return n;
}

/* ---- the proxy's end ------------------------------------------------------- */

/* Until the proxy exits by itself, within STOP_TIMEOUT_S. */
void
proxied_wait_exit(Proxied *f)
{
    if (!run_wait(f->proxy, STOP_TIMEOUT_S))
        g_error("the proxy was still running %d s later", STOP_TIMEOUT_S);
}

void
proxied_stop(Proxied *f)
{
    g_subprocess_send_signal(f->proxy, SIGTERM);
    if (!run_wait(f->proxy, STOP_TIMEOUT_S))
        g_error("the proxy was still running %d s after SIGTERM", STOP_TIMEOUT_S);
    if (!g_subprocess_get_successful(f->proxy)) {
        /* What it said last, which a test that captures its log would otherwise keep. */
        while (f->log_fd >= 0 && read_log(f, g_get_monotonic_time() + G_USEC_PER_SEC))
            ;
        g_error("the proxy ended with wait status %d%s%s", g_subprocess_get_status(f->proxy),
                f->log_fd >= 0 ? "; it logged:\n" : "", f->log_fd >= 0 ? f->log->str : "");
    }
}

/* The proxy stops as systemd stops it, and a memory error or leak valgrind finds fails the
 * test. */
void
proxied_teardown(Proxied *f, gconstpointer data)
{
    if (f->proxy)
        proxied_stop(f);
    g_clear_object(&f->proxy);
    if (f->log_fd >= 0)
        close(f->log_fd);
    if (f->log)
        g_string_free(f->log, TRUE);
    g_clear_pointer(&f->inspect, qmp_client_free);
    g_clear_pointer(&f->vm, testvm_free);
    g_free(f->path);
}

/* A line as deep as QEMU sends back (json_tokener_parse() stops at 32 levels). */
static json_object *
parse_line(const char *line)
{
    struct json_tokener *tok = json_tokener_new_ex(QMP_MAX_NESTING + 1);
    json_object *msg = json_tokener_parse_ex(tok, line, strlen(line));

    json_tokener_free(tok);
    return msg;
}

json_object *
proxied_read_reply(GDataInputStream *in, GPtrArray *events)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        json_object *msg;

        g_assert_no_error(error);
        g_assert_nonnull(line);
        msg = parse_line(line);
        g_assert_nonnull(msg);
        if (!json_object_object_get(msg, "event"))
            return msg;
        if (events)
            g_ptr_array_add(events, g_strdup(json_object_get_string(
                                        json_object_object_get(msg, "event"))));
        json_object_put(msg);
    }
}

/* ---- a client at the byte level ---------------------------------------- */

void
raw_close(Raw *r)
{
    g_clear_object(&r->in);
    g_clear_object(&r->conn);
    g_clear_pointer(&r->events, g_ptr_array_unref);
}

json_object *
raw_read(Raw *r)
{
    return proxied_read_reply(r->in, r->events);
}

void
raw_send(Raw *r, const char *line, int fd)
{
    g_autofree char *text = g_strdup_printf("%s\n", line);
    GOutputVector vector = { text, strlen(text) };
    g_autoptr(GSocketControlMessage) msg = NULL;
    g_autoptr(GError) error = NULL;
    gssize n;

    if (fd >= 0) {
        msg = g_unix_fd_message_new();
        g_assert_true(g_unix_fd_message_append_fd(G_UNIX_FD_MESSAGE(msg), fd, &error));
    }
    n = g_socket_send_message(g_socket_connection_get_socket(r->conn), NULL, &vector, 1,
                              msg ? &msg : NULL, msg ? 1 : 0, G_SOCKET_MSG_NONE, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, >, 0);
    g_assert_true(g_output_stream_write_all(r->out, text + n, vector.size - n, NULL, NULL, &error));
    g_assert_no_error(error);
}

void
raw_wait_taken(Raw *r)
{
    int fd = g_socket_get_fd(g_socket_connection_get_socket(r->conn));
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;
    int unread;

    for (;;) {
        g_assert_cmpint(ioctl(fd, SIOCOUTQ, &unread), ==, 0);
        if (unread == 0)
            return;
        if (g_get_monotonic_time() > deadline)
            g_error("the proxy left %d bytes unread for %d s", unread, READ_TIMEOUT_S);
        /* The kernel says nothing when a peer reads: look again shortly. */
        g_usleep(1000);
    }
}

json_object *
raw_exchange(Raw *r, const char *line, int fd)
{
    raw_send(r, line, fd);
    return raw_read(r);
}

void
raw_open(Raw *r, const char *path, gboolean negotiate)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = qmp_unix_address_new(path, &error);
    g_autoptr(json_object) greeting = NULL;

    g_assert_no_error(error);
    r->events = g_ptr_array_new_with_free_func(g_free);
    r->conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL, &error);
    g_assert_no_error(error);
    /* No read waits for ever: a proxy that does not answer fails the test. */
    g_socket_set_timeout(g_socket_connection_get_socket(r->conn), READ_TIMEOUT_S);
    r->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(r->conn)));
    g_data_input_stream_set_newline_type(r->in, G_DATA_STREAM_NEWLINE_TYPE_ANY);
    r->out = g_io_stream_get_output_stream(G_IO_STREAM(r->conn));
    greeting = raw_read(r);
    g_assert_nonnull(json_object_object_get(greeting, "QMP"));
    if (negotiate) {
        g_autoptr(json_object) ok = raw_exchange(r, "{\"execute\": \"qmp_capabilities\"}", -1);

        g_assert_nonnull(json_object_object_get(ok, "return"));
    }
}
