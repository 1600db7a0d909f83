/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-qemu-replies.c — a peer that speaks QMP but answers with the wrong JSON types
 * gets one clear error, never a crash or a huge allocation.  Real QEMU cannot send a wrong
 * type, so a scripted peer plays it (qmp-peer.h); every command the code sends it is checked
 * against the real QEMU's schema. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "qmp-peer.h"
#include "svc-private.h"
#include "testvm.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Peer, peer_free)

/* ---- a VM as the peer plays it ------------------------------------------ */

/* A VM with a virtio-serial bus, a USB bus, and a port spicevmc did not add ("port9"), so that
 * every kind of question the inventory asks has an answer to spoil. */
static const struct {
    const char *question;     /* "execute path property" */
    const char *answer;       /* the "return" value, or a whole {"error": …} */
} vm_answers[] = {
    { "query-chardev", "[{\"label\": \"charport9\", \"filename\": \"spiceport\", "
                       "\"frontend-open\": false}]" },
    { "qom-list /machine/peripheral", "[{\"name\": \"type\", \"type\": \"string\"}, "
                                      "{\"name\": \"vs0\", \"type\": \"child<virtio-serial-pci>\"}, "
                                      "{\"name\": \"xhci0\", \"type\": \"child<qemu-xhci>\"}, "
                                      "{\"name\": \"port9\", \"type\": \"child<virtserialport>\"}]" },
    { "qom-list /machine/peripheral-anon",
      "{\"error\": {\"class\": \"DeviceNotFound\", "
      "\"desc\": \"Device '/machine/peripheral-anon' not found\"}}" },
    { "qom-list /objects", "[{\"name\": \"type\", \"type\": \"string\"}]" },
    { "qom-get /machine/peripheral/vs0 max_ports", "31" },
    { "qom-list /machine/peripheral/vs0/virtio-backend",
      "[{\"name\": \"vs0.0\", \"type\": \"child<virtio-serial-bus>\"}]" },
    { "qom-get /machine/peripheral/xhci0 p2", "4" },
    { "qom-list /machine/peripheral/xhci0", "[{\"name\": \"xhci0.0\", \"type\": \"child<usb-bus>\"}]" },
    { "qom-get /machine/peripheral/port9 chardev", "\"charport9\"" },
    { "qom-get /machine/peripheral/port9 parent_bus",
      "\"/machine/peripheral/vs0/virtio-backend/vs0.0\"" },
    { "qom-get /machine/peripheral/port9 nr", "3" },
    { "qom-get /machine/peripheral/port9 name", "\"org.example.x\"" },
    { "query-status", "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}" },
};

typedef enum { OP_LIST, OP_ADD, OP_ADD_FROM_TOP } Op;

typedef struct {
    const char *name;
    Op op;
    const char *question;     /* the one answer spoilt */
    const char *answer;
    const char *expected;     /* what the error says */
} Case;

static const Case cases[] = {
    { "chardevs-object", OP_LIST, "query-chardev", "{\"label\": \"x\"}",
      "unexpected reply to query-chardev: the list is an object, not an array: {\"label\":\"x\"}" },
    { "chardevs-string", OP_LIST, "query-chardev", "\"x\"",
      "unexpected reply to query-chardev: the list is a string, not an array" },
    { "chardev-not-object", OP_LIST, "query-chardev", "[[]]",
      "unexpected reply to query-chardev: an entry is an array, not an object: []" },
    { "chardev-without-label", OP_LIST, "query-chardev",
      "[{\"filename\": \"spicevmc\", \"frontend-open\": false}]",
      "unexpected reply to query-chardev: 'label' is missing: {\"filename\":\"spicevmc\"" },
    { "chardev-label-null", OP_LIST, "query-chardev",
      "[{\"label\": null, \"filename\": \"spiceport\", \"frontend-open\": false}]",
      "'label' is null, not a string" },
    { "chardev-label-number", OP_LIST, "query-chardev",
      "[{\"label\": 7, \"filename\": \"spiceport\", \"frontend-open\": false}]",
      "'label' is an integer, not a string" },
    { "chardev-filename-object", OP_LIST, "query-chardev",
      "[{\"label\": \"c\", \"filename\": {}, \"frontend-open\": false}]",
      "'filename' is an object, not a string" },
    { "chardev-open-string", OP_LIST, "query-chardev",
      "[{\"label\": \"c\", \"filename\": \"spiceport\", \"frontend-open\": \"yes\"}]",
      "'frontend-open' is a string, not a boolean" },
    { "devices-object", OP_LIST, "qom-list /machine/peripheral", "{}",
      "unexpected reply to qom-list of /machine/peripheral: the list is an object, not an array" },
    { "device-name-number", OP_LIST, "qom-list /machine/peripheral",
      "[{\"name\": 1, \"type\": \"child<virtserialport>\"}]",
      "unexpected reply to qom-list of /machine/peripheral: 'name' is an integer, not a string" },
    { "device-type-missing", OP_LIST, "qom-list /machine/peripheral", "[{\"name\": \"vs0\"}]",
      "'type' is missing" },
    { "anon-devices-number", OP_LIST, "qom-list /machine/peripheral-anon", "5",
      "unexpected reply to qom-list of /machine/peripheral-anon: the list is an integer" },
    { "objects-object", OP_ADD, "qom-list /objects", "{}",
      "unexpected reply to qom-list of /objects: the list is an object" },
    { "max-ports-negative", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports", "-1",
      "unexpected reply to qom-get of /machine/peripheral/vs0 max_ports: max_ports is not from "
      "1 to 511: -1" },
    { "max-ports-huge", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports", "4294967301",
      "max_ports is not from 1 to 511: 4294967301" },
    { "max-ports-past-int64", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports",
      "18446744073709551615", "max_ports is not from 1 to 511" },
    { "max-ports-zero", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports", "0",
      "max_ports is not from 1 to 511: 0" },
    { "max-ports-string", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports", "\"31\"",
      "max_ports is a string, not an integer" },
    { "max-ports-fraction", OP_ADD, "qom-get /machine/peripheral/vs0 max_ports", "31.5",
      "max_ports is a fraction, not an integer" },
    { "bus-list-object", OP_ADD, "qom-list /machine/peripheral/vs0/virtio-backend", "{}",
      "unexpected reply to qom-list of /machine/peripheral/vs0/virtio-backend: the list is an "
      "object" },
    { "bus-name-missing", OP_ADD, "qom-list /machine/peripheral/xhci0",
      "[{\"type\": \"child<usb-bus>\"}]",
      "unexpected reply to qom-list of /machine/peripheral/xhci0: 'name' is missing" },
    { "usb-ports-negative", OP_ADD_FROM_TOP, "qom-get /machine/peripheral/xhci0 p2", "-4",
      "unexpected reply to qom-get of /machine/peripheral/xhci0 p2: p2 is not from 0 to 255" },
    { "port-chardev-object", OP_LIST, "qom-get /machine/peripheral/port9 chardev", "{}",
      "unexpected reply to qom-get of /machine/peripheral/port9 chardev: chardev is an object, "
      "not a string" },
    { "port-bus-array", OP_LIST, "qom-get /machine/peripheral/port9 parent_bus", "[]",
      "parent_bus is an array, not a string" },
    { "port-nr-string", OP_LIST, "qom-get /machine/peripheral/port9 nr", "\"3\"",
      "nr is a string, not an integer" },
    { "port-nr-negative", OP_LIST, "qom-get /machine/peripheral/port9 nr", "-3",
      "nr is not from 0 to 4294967295: -3" },
    { "port-name-boolean", OP_LIST, "qom-get /machine/peripheral/port9 name", "true",
      "name is a boolean, not a string" },
};

/* "execute path property" of a command, as vm_answers has them. */
static char *
question(json_object *cmd)
{
    json_object *args = json_object_object_get(cmd, "arguments");
    GString *out = g_string_new(json_object_get_string(json_object_object_get(cmd, "execute")));
    const char *keys[] = { "path", "property" };

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_object *value = json_object_object_get(args, keys[i]);

        if (value)
            g_string_append_printf(out, " %s", json_object_get_string(value));
    }
    return g_string_free(out, FALSE);
}

static const char *
answer_for(const Case *c, const char *q)
{
    if (c && g_str_equal(q, c->question))
        return c->answer;
    for (guint i = 0; i < G_N_ELEMENTS(vm_answers); i++) {
        if (g_str_equal(q, vm_answers[i].question))
            return vm_answers[i].answer;
    }
    return "{}";
}

/* @value is the "return" value, or a whole {"error": …}; the reply carries @id back. */
static void
answer(Peer *peer, json_object *id, const char *value)
{
    enum json_tokener_error jerr;
    json_object *parsed = json_tokener_parse_verbose(value, &jerr);   /* NULL for null */
    g_autoptr(json_object) reply = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpint(jerr, ==, json_tokener_success);
    if (json_object_object_get(parsed, "error")) {
        reply = parsed;
    } else {
        reply = json_object_new_object();
        json_object_object_add(reply, "return", parsed);
    }
    json_object_object_add(reply, "id", json_object_get(id));
    text = g_strconcat(json_object_to_json_string(reply), "\r\n", NULL);
    peer_send(peer, text);
}

/* The VM, with the case's answer spoilt; any command that would change it fails the test:
 * a wrong reply must stop everything before QEMU is touched. */
static void
script_vm(Peer *peer)
{
    const Case *c = peer->data;
    json_object *cmd;

    peer_send(peer, GREETING);
    while ((cmd = peer_next_command(peer))) {
        g_autofree char *q = question(cmd);

        if (g_str_has_prefix(q, "chardev-add") || g_str_has_prefix(q, "device_add") ||
            g_str_has_prefix(q, "object-add"))
            g_error("the VM was changed (%s) after an unexpected reply", q);
        answer(peer, json_object_object_get(cmd, "id"), answer_for(c, q));
        json_object_put(cmd);
    }
}

/* ---- libspicevmc against it ---------------------------------------------- */

static void
assert_one_line_error(GError *error, const char *expected)
{
    g_assert_nonnull(error);
    g_test_message("error: %s", error->message);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_UNEXPECTED);
    g_assert_null(strchr(error->message, '\n'));
    if (!strstr(error->message, expected))
        g_error("'%s' does not say '%s'", error->message, expected);
}

static void
test_case(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(Peer) peer = peer_start_with_data(script_vm, FALSE, c);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcVm) vm = svc_vm_connect_qmp(peer->address, TIMEOUT_MS, &error);

    g_assert_no_error(error);
    if (c->op == OP_LIST) {
        g_autoptr(GPtrArray) channels = svc_list(vm, &error);

        g_assert_null(channels);
    } else {
        g_autoptr(SvcSpec) spec = svc_spec_parse(c->op == OP_ADD ? "webdav" : "smartcard", &error);
        SvcSpec *specs[] = { spec };

        g_assert_no_error(error);
        svc_vm_set_placement(vm, NULL, c->op == OP_ADD_FROM_TOP);
        g_assert_false(svc_add(vm, specs, 1, NULL, &error));
    }
    assert_one_line_error(error, c->expected);
    g_clear_pointer(&vm, svc_vm_free);
}

/* The peer as it is answers both: the spoilt cases fail because of what they spoil. */
static void
test_unspoilt(void)
{
    g_autoptr(Peer) peer = peer_start_with_data(script_vm, FALSE, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcVm) vm = svc_vm_connect_qmp(peer->address, TIMEOUT_MS, &error);
    g_autoptr(GPtrArray) channels = NULL;
    g_autoptr(GPtrArray) planned = NULL;
    g_autoptr(SvcSpec) spec = svc_spec_parse("smartcard", &error);
    SvcSpec *specs[] = { spec };
    SvcChannel *ch;

    g_assert_no_error(error);
    channels = svc_list(vm, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(channels->len, ==, 1);
    ch = channels->pdata[0];
    g_assert_cmpstr(ch->id, ==, "port9");
    g_assert_cmpstr(ch->bus, ==, "vs0.0");
    g_assert_cmpuint(ch->nr, ==, 3);
    svc_vm_set_placement(vm, NULL, TRUE);
    planned = svc_plan(vm, specs, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(planned->len, ==, 1);
    g_clear_pointer(&vm, svc_vm_free);
}

/* ---- the QMP client's own reading ---------------------------------------- */

static void
script_greeting(Peer *peer)
{
    peer_send(peer, peer->data);
    g_socket_condition_wait(peer->conn, G_IO_IN | G_IO_HUP, NULL, NULL);
}

static void
test_greeting(void)
{
    const char *greetings[] = {
        "{\"QMP\": {\"version\": {}, \"capabilities\": {\"oob\": true}}}\r\n",
        "{\"QMP\": {\"version\": {}, \"capabilities\": [1]}}\r\n",
        "{\"QMP\": {\"version\": {}}}\r\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS(greetings); i++) {
        g_autoptr(Peer) peer = peer_start_with_data(script_greeting, FALSE, greetings[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(QmpClient) client = qmp_client_connect(peer->address, TIMEOUT_MS, &error);

        g_assert_null(client);
        g_assert_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL);
        g_test_message("error: %s", error->message);
        g_assert_nonnull(strstr(error->message, "unexpected QMP greeting"));
    }
}

static void
script_odd_error(Peer *peer)
{
    g_autofree char *text = NULL;

    peer_greet(peer);
    text = g_strdup_printf("{\"error\": {\"class\": \"GenericError\", \"desc\": {\"no\": 1}}, "
                           "\"id\": %" G_GINT64_FORMAT "}\r\n", peer_expect(peer, "query-status"));
    peer_send(peer, text);
    peer_send(peer, "{\"event\": 5, \"timestamp\": {\"seconds\": 1, \"microseconds\": 1}}\r\n");
}

/* An error whose desc is not a string, then an event whose name is not one. */
static void
test_odd_error_and_event(void)
{
    g_autoptr(Peer) peer = peer_start(script_odd_error, FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) client = qmp_client_connect(peer->address, TIMEOUT_MS, &error);
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    g_assert_no_error(error);
    g_assert_null(qmp_client_execute(client, cmd, &error));
    g_assert_error(error, QMP_ERROR, QMP_ERROR_COMMAND);
    g_assert_cmpstr(error->message, ==, "QEMU reported an error without a description");
    g_clear_error(&error);
    g_assert_false(qmp_client_wait_event(client, G_MAXINT64, &error));
    g_assert_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(error->message, "neither a reply nor an event"));
}

/* ---- the proxy's worker runs the same inventory -------------------------- */

static void
test_proxy_worker(void)
{
    static const Case c = { "proxy", OP_LIST, "query-chardev", "{}",
                            "unexpected reply to query-chardev: the list is an object" };
    g_autoptr(Peer) peer = peer_start_with_data(script_vm, FALSE, &c);
    g_autofree char *path = g_build_filename(peer->dir, "proxy.sock", NULL);
    g_autoptr(GSocket) listener = testvm_listen_unix(path);
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSubprocess) proxy = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(json_object) query = json_object_new_object();
    g_autoptr(json_object) status = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;

    g_subprocess_launcher_take_fd(launcher, dup(g_socket_get_fd(listener)), 3);
    proxy = g_subprocess_launcher_spawn(launcher, &error, SPICEVMC_PROXY, "--upstream",
                                        peer->address, "--listen-fd", "3", NULL);
    g_assert_no_error(error);
    client = qmp_client_connect(path, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    json_object_object_add(query, "execute", json_object_new_string("query-spicevmc"));
    g_assert_null(qmp_client_execute(client, query, &error));
    g_assert_error(error, QMP_ERROR, QMP_ERROR_COMMAND);
    g_assert_nonnull(strstr(error->message, c.expected));
    g_clear_error(&error);
    /* The proxy is still there, and still QEMU's monitor. */
    ret = qmp_client_execute(client, status, &error);
    g_assert_no_error(error);
    g_clear_pointer(&client, qmp_client_free);
    g_subprocess_send_signal(proxy, SIGTERM);
    g_assert_true(g_subprocess_wait_check(proxy, NULL, &error));
    g_assert_no_error(error);
    unlink(path);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    peer_load_schema();
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu-replies/inventory/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/qemu-replies/inventory/unspoilt", test_unspoilt);
    g_test_add_func("/qemu-replies/client/greeting", test_greeting);
    g_test_add_func("/qemu-replies/client/odd-error-and-event", test_odd_error_and_event);
    g_test_add_func("/qemu-replies/proxy-worker", test_proxy_worker);
    return g_test_run();
}
