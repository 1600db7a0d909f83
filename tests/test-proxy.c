/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qmp-proxy in front of a real QEMU: many clients, their ids, events, our commands
 * beside QEMU's, introspection, and what QEMU would answer to bad input. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "proxy-common.h"

static QmpClient *
client(Proxied *f)
{
    g_autoptr(GError) error = NULL;
    QmpClient *c = qmp_client_connect(f->path, 30000, &error);

    g_assert_no_error(error);
    return c;
}

static json_object *
execute(QmpClient *c, const char *text)
{
    return testvm_exec(c, json_tokener_parse(text));
}

/* ---- clients and their ids ------------------------------------------- */

typedef struct {
    Proxied *f;
    guint rounds;
} Worker;

/* Every client numbers its commands from 1, so the proxy must tell their replies apart. */
static gpointer
hammer(gpointer data)
{
    Worker *w = data;
    g_autoptr(QmpClient) c = client(w->f);

    for (guint i = 0; i < w->rounds; i++) {
        g_autoptr(json_object) status = execute(c, "{\"execute\": \"query-status\"}");
        g_autoptr(json_object) list = execute(c, "{\"execute\": \"query-spicevmc\"}");

        g_assert_cmpstr(json_object_get_string(json_object_object_get(status, "status")), ==,
                        "prelaunch");
        g_assert_true(json_object_is_type(list, json_type_array));
    }
    return NULL;
}

static void
test_concurrent(Proxied *f, gconstpointer data)
{
    guint n = GPOINTER_TO_UINT(data);
    g_autofree GThread **threads = g_new0(GThread *, n);
    Worker w = { f, 50 };

    for (guint i = 0; i < n; i++)
        threads[i] = g_thread_new("client", hammer, &w);
    for (guint i = 0; i < n; i++)
        g_thread_join(threads[i]);
}

static const char *
desc_of(json_object *reply)
{
    return json_object_get_string(json_object_object_get(json_object_object_get(reply, "error"),
                                                         "desc"));
}

/* Replies carry the id a client gave, whatever JSON it is. */
static void
test_any_id(Proxied *f, gconstpointer data)
{
    const char *ids[] = { "\"text\"", "[1,{\"a\":null}]", "3.5", "{\"deep\":{\"x\":true}}",
                          "null" };
    g_auto(Raw) r = { NULL };

    raw_open(&r, f->path, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *text = g_strdup_printf("{\"execute\": \"query-status\", \"id\": %s}",
                                                ids[i]);
        g_autofree char *spicevmc = g_strdup_printf("{\"execute\": \"query-spicevmc\", "
                                                    "\"id\": %s}", ids[i]);
        g_autoptr(json_object) want = json_tokener_parse(ids[i]);
        g_autoptr(json_object) a = raw_exchange(&r, text, -1);
        g_autoptr(json_object) b = raw_exchange(&r, spicevmc, -1);

        g_assert_true(json_object_equal(json_object_object_get(a, "id"), want));
        g_assert_true(json_object_equal(json_object_object_get(b, "id"), want));
    }
}

/* The proxy gives its upstream ids again once they are answered: with many commands of one
 * client in flight while other clients and the proxy's own commands come and go, every reply
 * still reaches its command, in order. */
static void
test_pipelined(Proxied *f, gconstpointer data)
{
    g_auto(Raw) r = { NULL };
    g_autoptr(GString) batch = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    Worker w = { f, 20 };
    GThread *threads[4];

    raw_open(&r, f->path, TRUE);
    for (guint i = 0; i < 200; i++)
        g_string_append_printf(batch, "{\"execute\": \"query-status\", \"id\": \"c%u\"}\n", i);
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("client", hammer, &w);
    g_assert_true(g_output_stream_write_all(r.out, batch->str, batch->len, NULL, NULL, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < 200; i++) {
        g_autoptr(json_object) reply = raw_read(&r);
        g_autofree char *want = g_strdup_printf("c%u", i);

        g_assert_nonnull(json_object_object_get(reply, "return"));
        g_assert_cmpstr(json_object_get_string(json_object_object_get(reply, "id")), ==, want);
    }
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        g_thread_join(threads[i]);
}

/* Bad input is answered as QEMU answers it, word for word, and the client stays. */
static void
test_as_qemu(Proxied *f, gconstpointer data)
{
    const char *lines[] = {
        "{\"execute\": \"no-such-command\", \"id\": 1}",
        "{\"execute\": oops}",
        "[1, 2]",
        "{\"execute\": \"query-status\", \"bogus\": 1}",
        "{\"id\": 5}",
        "{\"execute\": \"query-status\", \"arguments\": []}",
        "{\"execute\": \"qmp_capabilities\"}",
    };
    g_auto(Raw) proxy = { NULL };
    g_auto(Raw) qemu = { NULL };
    g_auto(Raw) early = { NULL };
    g_autoptr(json_object) before = NULL;
    g_autoptr(json_object) still = NULL;

    /* QEMU's second monitor is the fixture's; the test speaks to it raw instead. */
    g_clear_pointer(&f->inspect, qmp_client_free);
    raw_open(&qemu, f->vm->inspect_path, TRUE);
    raw_open(&proxy, f->path, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_autoptr(json_object) theirs = raw_exchange(&qemu, lines[i], -1);
        g_autoptr(json_object) ours = raw_exchange(&proxy, lines[i], -1);

        /* json-c's parser words its complaints otherwise than QEMU's lexer; the rest of a parse
         * error, and every other answer, is QEMU's word for word. */
        if (g_str_has_prefix(desc_of(theirs) ? desc_of(theirs) : "", "JSON parse error, ") &&
            g_str_has_prefix(desc_of(ours) ? desc_of(ours) : "", "JSON parse error, ") &&
            !json_object_object_get(ours, "id") && !json_object_object_get(theirs, "id"))
            continue;
        if (!json_object_equal(ours, theirs))
            g_error("'%s': QEMU says %s, the proxy %s", lines[i],
                    json_object_to_json_string(theirs), json_object_to_json_string(ours));
    }
    raw_open(&early, f->path, FALSE);
    before = raw_exchange(&early, "{\"execute\": \"query-spicevmc\"}", -1);
    g_assert_cmpstr(desc_of(before), ==, "Expecting capabilities negotiation with "
                                         "'qmp_capabilities'");
    still = raw_exchange(&proxy, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(still, "return"));
}

/* "[[…[]…]]" nested so that the command is @depth deep, as its "id". */
static char *
nested_command(guint depth)
{
    g_autoptr(GString) s = g_string_new("{\"execute\": \"query-status\", \"id\": ");

    for (guint i = 1; i < depth; i++)
        g_string_append_c(s, '[');
    for (guint i = 1; i < depth; i++)
        g_string_append_c(s, ']');
    g_string_append_c(s, '}');
    return g_strdup(s->str);
}

/* What QEMU's parser takes, the proxy takes: 1024 levels of nesting, and not 1025, refused in
 * QEMU's words.  QEMU answers the rest of a refused line with more errors of its own, so each
 * line goes on a connection of its own and only the first answer is compared. */
static void
test_as_qemu_nesting(Proxied *f, gconstpointer data)
{
    const guint depths[] = { QMP_MAX_NESTING, QMP_MAX_NESTING + 1 };

    g_clear_pointer(&f->inspect, qmp_client_free);
    for (guint i = 0; i < G_N_ELEMENTS(depths); i++) {
        g_autofree char *line = nested_command(depths[i]);
        g_auto(Raw) proxy = { NULL };
        g_auto(Raw) qemu = { NULL };
        g_autoptr(json_object) theirs = NULL;
        g_autoptr(json_object) ours = NULL;
        g_autoptr(json_object) after = NULL;

        raw_open(&qemu, f->vm->inspect_path, TRUE);
        raw_open(&proxy, f->path, TRUE);
        theirs = raw_exchange(&qemu, line, -1);
        ours = raw_exchange(&proxy, line, -1);
        if (!json_object_equal(ours, theirs))
            g_error("%u deep: QEMU says %.200s, the proxy %.200s", depths[i],
                    json_object_to_json_string(theirs), json_object_to_json_string(ours));
        g_assert_true(json_object_object_get(ours, i == 0 ? "return" : "error") != NULL);
        after = raw_exchange(&proxy, "{\"execute\": \"query-status\"}", -1);
        g_assert_nonnull(json_object_object_get(after, "return"));
    }
}

/* Our commands' arguments are checked against schemas/spicevmc.json in QEMU's words. */
static void
test_bad_arguments(Proxied *f, gconstpointer data)
{
    const struct {
        const char *line;
        const char *desc;
    } cases[] = {
        { "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"bogus\"}}",
          "Parameter 'kind' does not accept value 'bogus'" },
        { "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"port\", \"x\": 1}}",
          "Parameter 'x' is unexpected" },
        { "{\"execute\": \"spicevmc-add\", \"arguments\": {\"channels\": [{}]}}",
          "Parameter 'channels[0].kind' is missing" },
        { "{\"execute\": \"spicevmc-remove\", \"arguments\": {\"id\": 7}}",
          "Invalid parameter type for 'id', expected: string" },
        { "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"port\"}}",
          "cannot add 'port': a port channel needs a SPICE port name (fqdn=NAME)" },
        { "{\"execute\": \"spicevmc-remove\", \"arguments\": {\"id\": \"nope\"}}",
          "cannot remove 'nope': the VM has no SPICE channel with that id" },
    };
    g_auto(Raw) r = { NULL };

    raw_open(&r, f->path, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_object) reply = raw_exchange(&r, cases[i].line, -1);

        g_assert_cmpstr(desc_of(reply), ==, cases[i].desc);
    }
}

static void
raw_wait_event(Raw *r, const char *name)
{
    if (g_ptr_array_find_with_equal_func(r->events, name, g_str_equal, NULL))
        return;
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *line = g_data_input_stream_read_line_utf8(r->in, NULL, NULL, &error);
        g_autoptr(json_object) msg = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(line);
        msg = json_tokener_parse(line);
        if (g_strcmp0(json_object_get_string(json_object_object_get(msg, "event")), name) == 0)
            return;
    }
}

/* QEMU's events reach every client; our commands run beside QEMU's and change QEMU. */
static void
test_events_and_commands(Proxied *f, gconstpointer data)
{
    g_auto(Raw) a = { NULL };
    g_auto(Raw) b = { NULL };
    g_auto(Raw) c = { NULL };
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) removed = NULL;

    raw_open(&a, f->path, TRUE);
    raw_open(&b, f->path, TRUE);
    raw_open(&c, f->path, TRUE);
    added = raw_exchange(&a, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"channels\": "
                             "[{\"kind\": \"serial\"}, {\"kind\": \"webdav\"}]}}", -1);
    g_assert_cmpuint(json_object_array_length(json_object_object_get(added, "return")), ==, 2);
    g_assert_true(testvm_has_device(f->inspect, "serial0"));
    g_assert_true(testvm_has_device(f->inspect, "webdav0"));
    removed = raw_exchange(&b, "{\"execute\": \"spicevmc-remove\", \"arguments\": "
                               "{\"ids\": [\"serial0\", \"webdav0\"]}}", -1);
    g_assert_cmpuint(json_object_array_length(json_object_object_get(removed, "return")), ==, 2);
    /* The reply comes once the chardevs are gone, so nothing is left in QEMU. */
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
    raw_wait_event(&a, "DEVICE_DELETED");
    raw_wait_event(&b, "DEVICE_DELETED");
    raw_wait_event(&c, "DEVICE_DELETED");
}

static gboolean
has_name(json_object *list, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);

        if (g_strcmp0(json_object_get_string(json_object_object_get(entry, "name")), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Introspection answers for our commands too: query-commands and query-qmp-schema. */
static void
test_introspection(Proxied *f, gconstpointer data)
{
    static const char *const ours[] = { "spicevmc-add", "spicevmc-remove", "query-spicevmc" };
    g_autoptr(QmpClient) c = client(f);
    g_autoptr(json_object) theirs = testvm_exec(f->inspect, qmp_cmd_query_commands());
    g_autoptr(json_object) commands = execute(c, "{\"execute\": \"query-commands\"}");
    g_autoptr(json_object) schema = execute(c, "{\"execute\": \"query-qmp-schema\"}");

    g_assert_cmpuint(json_object_array_length(commands), ==,
                     json_object_array_length(theirs) + G_N_ELEMENTS(ours));
    for (guint i = 0; i < G_N_ELEMENTS(ours); i++) {
        g_assert_true(has_name(commands, ours[i]));
        g_assert_true(has_name(schema, ours[i]));
    }
    for (size_t i = 0; i < json_object_array_length(schema); i++) {
        json_object *entry = json_object_array_get_idx(schema, i);
        const char *arg = json_object_get_string(json_object_object_get(entry, "arg-type"));
        const char *ret = json_object_get_string(json_object_object_get(entry, "ret-type"));

        if (arg && !has_name(schema, arg))
            g_error("'%s' takes a type the schema does not list: %s",
                    json_object_get_string(json_object_object_get(entry, "name")), arg);
        if (ret && !has_name(schema, ret))
            g_error("'%s' returns a type the schema does not list: %s",
                    json_object_get_string(json_object_object_get(entry, "name")), ret);
    }
}

/* A client that leaves while its command is at work: the command finishes (an add is never
 * left half done), and the proxy goes on.  The add is seen at work in QEMU before the client
 * leaves. */
static void
test_client_leaves_at_work(Proxied *f, gconstpointer data)
{
    static const char line[] = "{\"execute\": \"spicevmc-add\", \"arguments\": {\"channels\": "
                               "[{\"kind\": \"usbredir\"}, {\"kind\": \"usbredir\"}, "
                               "{\"kind\": \"usbredir\"}, {\"kind\": \"usbredir\"}]}}";
    g_autoptr(QmpClient) other = NULL;
    g_autoptr(json_object) list = NULL;
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;

    {
        g_auto(Raw) r = { NULL };

        raw_open(&r, f->path, TRUE);
        raw_send(&r, line, -1);
        while (testvm_count_spice_chardevs(f->inspect) == 0)
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    other = client(f);
    /* Commands of ours run one at a time: this one runs after the first is done. */
    list = execute(other, "{\"execute\": \"query-spicevmc\"}");
    g_assert_cmpuint(json_object_array_length(list), ==, 4);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 4);
}

/* A client that leaves while its command waits for the worker: the command is dropped, as QEMU
 * drops what a closed monitor had queued.  QEMU is stopped so that the first client's add holds
 * the worker; with --max-clients 2, the third client's greeting says the proxy has seen the
 * second one go. */
static void
test_client_leaves_queued(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--max-clients", "2", "--timeout", "60", NULL };
    ProxySpec spec = { .args = args };
    g_auto(Raw) a = { NULL };
    g_auto(Raw) b = { NULL };
    g_auto(Raw) c = { NULL };
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) list = NULL;

    proxied_start(f, &spec);
    raw_open(&a, f->path, TRUE);
    raw_open(&b, f->path, TRUE);
    g_assert_cmpint(kill(f->vm->pid, SIGSTOP), ==, 0);
    raw_send(&a, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"serial\"}}", -1);
    raw_wait_taken(&a);
    raw_send(&b, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"webdav\"}}", -1);
    raw_wait_taken(&b);
    raw_close(&b);
    raw_open(&c, f->path, TRUE);
    g_assert_cmpint(kill(f->vm->pid, SIGCONT), ==, 0);
    added = raw_read(&a);
    g_assert_nonnull(json_object_object_get(added, "return"));
    list = raw_exchange(&c, "{\"execute\": \"query-spicevmc\"}", -1);
    g_assert_cmpuint(json_object_array_length(json_object_object_get(list, "return")), ==, 1);
    g_assert_true(testvm_has_device(f->inspect, "serial0"));
    g_assert_false(testvm_has_device(f->inspect, "webdav0"));
}

/* A client that shuts its writing side after its commands (as "echo … | socat" does) gets
 * every answer, in order, before the proxy closes it. */
static void
test_half_closed(Proxied *f, gconstpointer data)
{
    static const char *const lines[] = {
        "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"serial\"}, \"id\": 1}",
        "{\"execute\": \"query-status\", \"id\": 2}",
        "{\"execute\": \"query-spicevmc\", \"id\": 3}",
    };
    g_auto(Raw) r = { NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *end = NULL;

    raw_open(&r, f->path, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++)
        raw_send(&r, lines[i], -1);
    g_assert_true(g_socket_shutdown(g_socket_connection_get_socket(r.conn), FALSE, TRUE,
                                    &error));
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_autoptr(json_object) reply = raw_read(&r);

        g_assert_cmpint(json_object_get_int(json_object_object_get(reply, "id")), ==, i + 1);
        g_assert_nonnull(json_object_object_get(reply, "return"));
    }
    end = g_data_input_stream_read_line_utf8(r.in, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_null(end);
}

/* SIGTERM while a command of ours is taken: the client gets its answer before the proxy exits
 * 0, and QEMU has what the answer says.  The worker reaches QEMU through the proxy's loop, so a
 * proxy that stopped turning the loop before the worker was done hung here.  A command still
 * at work when the grace is over is answered with an error saying the proxy is stopping. */
static void
test_stop_at_work(Proxied *f, gconstpointer data)
{
    g_auto(Raw) r = { NULL };
    g_autoptr(json_object) added = NULL;

    raw_open(&r, f->path, TRUE);
    raw_send(&r, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": \"webdav\"}, \"id\": 1}",
             -1);
    raw_wait_taken(&r);
    proxied_stop(f);
    added = raw_read(&r);
    g_assert_cmpint(json_object_get_int(json_object_object_get(added, "id")), ==, 1);
    if (json_object_object_get(added, "return"))
        g_assert_true(testvm_has_chardev(f->inspect, "svc_webdav_webdav0_vs0.0_1"));
    else
        g_assert_nonnull(strstr(desc_of(added), "stopping"));
}

/* With --listen, the socket is the proxy's own, made 0600. */
static void
on_created(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
           gpointer user_data)
{
    g_autofree char *name = g_file_get_basename(file);

    /* QEMU makes its SPICE socket in the same directory. */
    if (event == G_FILE_MONITOR_EVENT_CREATED && g_str_equal(name, "own.sock"))
        g_main_loop_quit(user_data);
}

static gboolean
give_up(gpointer data)
{
    g_error("the proxy did not make its socket");
    return G_SOURCE_REMOVE;
}

static void
test_socket_mode(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autofree char *path = g_build_filename(vm->dir, "own.sock", NULL);
    g_autoptr(GFile) dir = g_file_new_for_path(vm->dir);
    g_autoptr(GError) error = NULL;
    g_autoptr(GFileMonitor) monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_NONE, NULL,
                                                               &error);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GSubprocess) proxy = NULL;
    guint timer = g_timeout_add_seconds(30, give_up, NULL);
    struct stat st;

    g_signal_connect(monitor, "changed", G_CALLBACK(on_created), loop);
    proxy = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, proxied_program(), "--upstream",
                             vm->qmp_path, "--listen", path, NULL);
    g_assert_no_error(error);
    g_main_loop_run(loop);
    g_source_remove(timer);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_subprocess_force_exit(proxy);
    g_subprocess_wait(proxy, NULL, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/proxy/clients/2", GUINT_TO_POINTER(2), test_concurrent);
    ADD_PROXIED("/proxy/clients/8", GUINT_TO_POINTER(8), test_concurrent);
    ADD_PROXIED("/proxy/any-id", NULL, test_any_id);
    ADD_PROXIED("/proxy/pipelined", NULL, test_pipelined);
    ADD_PROXIED("/proxy/as-qemu", NULL, test_as_qemu);
    ADD_PROXIED("/proxy/as-qemu/nesting", NULL, test_as_qemu_nesting);
    ADD_PROXIED("/proxy/bad-arguments", NULL, test_bad_arguments);
    ADD_PROXIED("/proxy/events-and-commands", NULL, test_events_and_commands);
    ADD_PROXIED("/proxy/introspection", NULL, test_introspection);
    ADD_PROXIED("/proxy/client-leaves/at-work", NULL, test_client_leaves_at_work);
    ADD_PROXIED_VM("/proxy/client-leaves/queued", NULL, test_client_leaves_queued);
    ADD_PROXIED("/proxy/half-closed", NULL, test_half_closed);
    ADD_PROXIED("/proxy/stop-at-work", NULL, test_stop_at_work);
    g_test_add_func("/proxy/socket-mode", test_socket_mode);
    return g_test_run();
}
