/* The fixture of the proxy tests (proxy-common.h). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>

#include "proxy-common.h"

const char *
proxied_program(void)
{
    const char *other = g_getenv("SPICEVMC_TEST_PROXY");

    return other && *other ? other : SPICEVMC_PROXY;
}

/* The proxy's command line; under tests/valgrind-test, the proxy runs under valgrind too. */
static char **
proxy_argv(Proxied *f)
{
    const char *valgrind = g_getenv("SPICEVMC_TEST_VALGRIND");
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
    g_auto(GStrv) prefix = NULL;
    g_autoptr(GError) error = NULL;

    if (valgrind) {
        g_assert_true(g_shell_parse_argv(valgrind, NULL, &prefix, &error));
        g_strv_builder_addv(argv, (const char **)prefix);
    }
    g_strv_builder_add_many(argv, proxied_program(), "--upstream", f->vm->qmp_path, "--listen-fd",
                            "3", NULL);
    return g_strv_builder_end(argv);
}

void
proxied_setup(Proxied *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSocket) listener = NULL;
    g_auto(GStrv) argv = NULL;

    f->vm = testvm_start(0, NULL);
    f->inspect = testvm_qmp(f->vm);
    f->path = g_build_filename(f->vm->dir, "proxy.sock", NULL);
    listener = testvm_listen_unix(f->path);
    g_subprocess_launcher_take_fd(launcher, dup(g_socket_get_fd(listener)), 3);
    argv = proxy_argv(f);
    f->proxy = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    g_assert_no_error(error);
}

static void
on_exited(GObject *source, GAsyncResult *result, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    *(gboolean *)data = TRUE;
}

static gboolean
on_stop_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

void
proxied_stop(Proxied *f)
{
    g_autoptr(GMainContext) context = g_main_context_new();
    g_autoptr(GSource) timeout = g_timeout_source_new_seconds(STOP_TIMEOUT_S);
    gboolean exited = FALSE, late = FALSE;

    g_main_context_push_thread_default(context);
    g_subprocess_send_signal(f->proxy, SIGTERM);
    g_subprocess_wait_async(f->proxy, NULL, on_exited, &exited);
    g_source_set_callback(timeout, on_stop_timeout, &late, NULL);
    g_source_attach(timeout, context);
    while (!exited && !late)
        g_main_context_iteration(context, TRUE);
    if (!exited)
        g_subprocess_force_exit(f->proxy);
    while (!exited)
        g_main_context_iteration(context, TRUE);
    g_source_destroy(timeout);
    g_main_context_pop_thread_default(context);
    if (late)
        g_error("the proxy was still running %d s after SIGTERM", STOP_TIMEOUT_S);
    if (!g_subprocess_get_successful(f->proxy))
        g_error("the proxy ended with wait status %d", g_subprocess_get_status(f->proxy));
}

/* The proxy stops as systemd stops it, and a memory error or leak valgrind finds fails the
 * test. */
void
proxied_teardown(Proxied *f, gconstpointer data)
{
    proxied_stop(f);
    g_clear_object(&f->proxy);
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
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(json_object) greeting = NULL;

    r->events = g_ptr_array_new_with_free_func(g_free);
    r->conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL, &error);
    g_assert_no_error(error);
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
