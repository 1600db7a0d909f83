/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scripted QMP peer for tests: plays QEMU from a script, in a thread, on one connection. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "qmp-peer.h"
#include "testvm.h"

static json_object *schema;   /* query-qmp-schema of the real QEMU */

void
peer_load_schema(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) client = testvm_qmp(vm);
    g_autoptr(json_object) cmd = qmp_cmd_query_qmp_schema();

    schema = testvm_exec(client, g_steal_pointer(&cmd));
}

static json_object *
schema_entry(const char *name)
{
    for (size_t i = 0; i < json_object_array_length(schema); i++) {
        json_object *info = json_object_array_get_idx(schema, i);

        if (g_strcmp0(json_object_get_string(json_object_object_get(info, "name")), name) == 0)
            return info;
    }
    return NULL;
}

static gboolean
has_member(json_object *type, const char *name)
{
    json_object *members = json_object_object_get(type, "members");

    for (size_t i = 0; i < json_object_array_length(members); i++) {
        json_object *m = json_object_array_get_idx(members, i);

        if (g_strcmp0(json_object_get_string(json_object_object_get(m, "name")), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* A command QEMU would not know, or an argument it would refuse, is a bug in the script or in
 * the client, not a test of it. */
static void
check_against_schema(json_object *cmd)
{
    const char *name = json_object_get_string(json_object_object_get(cmd, "execute"));
    json_object *info = schema_entry(name);
    json_object *args = json_object_object_get(cmd, "arguments");
    json_object *arg_type;

    g_assert_nonnull(schema);
    if (!info || g_strcmp0(json_object_get_string(json_object_object_get(info, "meta-type")),
                           "command") != 0)
        g_error("QEMU has no command '%s'", name);
    if (!args)
        return;
    arg_type = schema_entry(json_object_get_string(json_object_object_get(info, "arg-type")));
    json_object_object_foreach(args, key, value) {
        (void)value;
        /* device_add passes driver properties through, beyond its schema. */
        if (!has_member(arg_type, key) && g_strcmp0(name, "device_add") != 0)
            g_error("QEMU's '%s' takes no argument '%s'", name, key);
    }
}

/* Send @len bytes; FALSE when the client has hung up. */
gboolean
peer_send_len(Peer *peer, const char *data, gsize len)
{
    for (gsize done = 0; done < len;) {
        gssize n = g_socket_send(peer->conn, data + done, len - done, NULL, NULL);

        if (n <= 0)
            return FALSE;
        done += n;
    }
    return TRUE;
}

void
peer_send(Peer *peer, const char *text)
{
    g_assert_true(peer_send_len(peer, text, strlen(text)));
}

/* Read until a command has arrived; FALSE when the client hung up first. */
static gboolean
receive_command(Peer *peer)
{
    while (g_queue_is_empty(&peer->received)) {
        g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
        g_autoptr(GError) error = NULL;
        char buf[4096];
        gssize n = g_socket_receive(peer->conn, buf, sizeof(buf), NULL, &error);

        if (n <= 0)
            return FALSE;
        g_assert_true(qmp_parser_feed(peer->parser, buf, n, messages, &error));
        for (guint i = 0; i < messages->len; i++)
            g_queue_push_tail(&peer->received, json_object_get(messages->pdata[i]));
    }
    return TRUE;
}

/* The next command the client sent, with the name @name, and an integer id above the last
 * one, as spicevmc's client numbers them. */
json_object *
peer_expect_command(Peer *peer, const char *name)
{
    json_object *cmd;
    gint64 id;

    g_assert_true(receive_command(peer));
    cmd = g_queue_pop_head(&peer->received);
    check_against_schema(cmd);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(cmd, "execute")), ==, name);
    g_assert_true(json_object_is_type(json_object_object_get(cmd, "id"), json_type_int));
    id = json_object_get_int64(json_object_object_get(cmd, "id"));
    g_assert_cmpint(id, >, peer->last_id);
    peer->last_id = id;
    return cmd;
}

json_object *
peer_next_command(Peer *peer)
{
    json_object *cmd;

    if (!receive_command(peer))
        return NULL;
    cmd = g_queue_pop_head(&peer->received);
    check_against_schema(cmd);
    return cmd;
}

gint64
peer_expect(Peer *peer, const char *name)
{
    g_autoptr(json_object) cmd = peer_expect_command(peer, name);

    return json_object_get_int64(json_object_object_get(cmd, "id"));
}

char *
reply_text(gint64 id, const char *value)
{
    return g_strdup_printf("{\"return\": %s, \"id\": %" G_GINT64_FORMAT "}\r\n", value, id);
}

void
peer_reply(Peer *peer, gint64 id, const char *value)
{
    g_autofree char *text = reply_text(id, value);

    peer_send(peer, text);
}

char *
event_text(const char *name)
{
    return g_strdup_printf("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 1}, "
                           "\"event\": \"%s\"}\r\n", name);
}

void
peer_greet(Peer *peer)
{
    peer_send(peer, GREETING);
    peer_reply(peer, peer_expect(peer, "qmp_capabilities"), "{}");
}

/* Wait until the client hangs up, reading (and ignoring) what it still sends. */
static void
peer_drain(Peer *peer)
{
    char buf[4096];

    while (g_socket_receive(peer->conn, buf, sizeof(buf), NULL, NULL) > 0)
        ;
}

static gpointer
peer_run(gpointer data)
{
    Peer *peer = data;
    g_autoptr(GError) error = NULL;

    peer->conn = g_socket_accept(peer->listener, NULL, &error);
    g_assert_no_error(error);
    peer->script(peer);
    if (!g_socket_is_closed(peer->conn))
        peer_drain(peer);
    g_clear_object(&peer->conn);
    return NULL;
}

Peer *
peer_start(Script script, gboolean tcp)
{
    return peer_start_with_data(script, tcp, NULL);
}

Peer *
peer_start_with_data(Script script, gboolean tcp, gconstpointer data)
{
    Peer *peer = g_new0(Peer, 1);
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(GError) error = NULL;

    if (tcp) {
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);

        addr = g_inet_socket_address_new(loopback, 0);
    } else {
        peer->dir = g_dir_make_tmp("test-qmp-client-XXXXXX", &error);
        g_assert_no_error(error);
        peer->address = g_build_filename(peer->dir, "qmp.sock", NULL);
        addr = qmp_unix_address_new(peer->address, &error);
        g_assert_no_error(error);
    }
    peer->listener = g_socket_new(g_socket_address_get_family(addr), G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_DEFAULT, &error);
    g_assert_no_error(error);
    g_socket_bind(peer->listener, addr, TRUE, &error);
    g_assert_no_error(error);
    g_socket_listen(peer->listener, &error);
    g_assert_no_error(error);
    if (tcp) {
        bound = g_socket_get_local_address(peer->listener, &error);
        g_assert_no_error(error);
        peer->address = g_strdup_printf("127.0.0.1:%u", g_inet_socket_address_get_port(
                                                            G_INET_SOCKET_ADDRESS(bound)));
    }
    peer->parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_queue_init(&peer->received);
    peer->script = script;
    peer->data = data;
    peer->thread = g_thread_new("qmp-peer", peer_run, peer);
    return peer;
}

void
peer_free(Peer *peer)
{
    if (!peer)
        return;
    g_thread_join(peer->thread);
    g_object_unref(peer->listener);
    qmp_parser_free(peer->parser);
    g_queue_clear_full(&peer->received, qmp_json_free);
    if (peer->dir) {
        g_unlink(peer->address);
        g_rmdir(peer->dir);
    }
    g_free(peer->dir);
    g_free(peer->address);
    g_free(peer);
}

/* ---- the fixture of the client tests ---------------------------------- */

static void
on_event(const char *name, json_object *event, gpointer user_data)
{
    PeerFixture *f = user_data;

    g_assert_cmpstr(json_object_get_string(json_object_object_get(event, "event")), ==, name);
    g_ptr_array_add(f->events, g_strdup(name));
}

void
peer_fixture_setup(PeerFixture *f, gconstpointer data)
{
    f->events = g_ptr_array_new_with_free_func(g_free);
    if (data)
        f->peer = peer_start((Script)data, FALSE);
}

void
peer_fixture_teardown(PeerFixture *f, gconstpointer data)
{
    /* Hanging up first lets the peer finish its script. */
    g_clear_pointer(&f->client, qmp_client_free);
    g_clear_pointer(&f->peer, peer_free);
    g_ptr_array_unref(f->events);
    g_clear_error(&f->error);
}

void
peer_fixture_connect(PeerFixture *f)
{
    f->client = qmp_client_connect(f->peer->address, TIMEOUT_MS, &f->error);
    g_assert_no_error(f->error);
    g_assert_nonnull(f->client);
    qmp_client_set_event_handler(f->client, on_event, f);
}

json_object **
peer_long_commands(guint n)
{
    g_autofree char *path = g_strnfill(PEER_LONG_PATH_LEN, 'p');
    json_object **cmds = g_new(json_object *, n);

    for (guint i = 0; i < n; i++)
        cmds[i] = qmp_cmd_qom_get(path, "type");
    return cmds;
}

void
peer_free_commands(json_object **cmds, guint n)
{
    for (guint i = 0; i < n; i++)
        json_object_put(cmds[i]);
    g_free(cmds);
}
