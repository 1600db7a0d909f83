/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the QMP client against a scripted peer: connecting, commands and events.  Real
 * QEMU cannot produce these cases on demand (a bad greeting, a silent or refusing peer, replies
 * in any order, cut at arbitrary bytes), so a thread plays QEMU from a script; the client
 * against real QEMU is tested in test-qmp-qemu.c, a peer that breaks the protocol in
 * test-qmp-faults.c. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "qmp-peer.h"

/* ---- asserts ------------------------------------------------------------ */

static void
assert_events(PeerFixture *f, const char *const *names)
{
    g_assert_cmpuint(f->events->len, ==, g_strv_length((char **)names));
    for (guint i = 0; names[i]; i++)
        g_assert_cmpstr(f->events->pdata[i], ==, names[i]);
}

static void
assert_status(json_object *ret, const char *status)
{
    g_assert_cmpstr(json_object_get_string(json_object_object_get(ret, "status")), ==, status);
}

/* ---- connecting -------------------------------------------------------- */

static void
script_status(Peer *peer)
{
    peer_greet(peer);
    peer_reply(peer, peer_expect(peer, "query-status"), "{\"status\": \"paused\"}");
}

static void
test_connect(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;
    json_object *greeting;

    peer_fixture_connect(f);
    greeting = qmp_client_get_greeting(f->client);
    g_assert_true(json_object_is_type(json_object_object_get(greeting, "QMP"), json_type_object));
    ret = qmp_client_execute(f->client, cmd, &f->error);
    g_assert_no_error(f->error);
    assert_status(ret, "paused");
    /* The id went on a copy. */
    g_assert_false(json_object_object_get_ex(cmd, "id", NULL));
}

static void
test_connect_unix_prefix(PeerFixture *f, gconstpointer data)
{
    g_autofree char *address = g_strconcat("unix:", f->peer->address, NULL);
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;

    f->client = qmp_client_connect(address, TIMEOUT_MS, &f->error);
    g_assert_no_error(f->error);
    ret = qmp_client_execute(f->client, cmd, &f->error);
    g_assert_no_error(f->error);
}

static void
test_connect_missing(PeerFixture *f, gconstpointer data)
{
    g_autofree char *dir = g_dir_make_tmp("test-qmp-client-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *expected = g_strdup_printf(
        "cannot connect to QMP socket '%s': No such file or directory", path);

    g_assert_null(qmp_client_connect(path, TIMEOUT_MS, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_CONNECT);
    g_assert_cmpstr(f->error->message, ==, expected);
    g_rmdir(dir);
}

static void
test_connect_bad_address(PeerFixture *f, gconstpointer data)
{
    const char *addresses[] = { "tcp:127.0.0.1:notaport", "tcp:127.0.0.1", "127.0.0.1:0" };

    for (guint i = 0; i < G_N_ELEMENTS(addresses); i++) {
        g_autofree char *quoted = g_strdup_printf("'%s'", addresses[i]);

        g_assert_null(qmp_client_connect(addresses[i], TIMEOUT_MS, &f->error));
        g_assert_error(f->error, QMP_ERROR, QMP_ERROR_CONNECT);
        g_test_message("error: %s", f->error->message);
        g_assert_nonnull(strstr(f->error->message, quoted));
        g_clear_error(&f->error);
    }
}

static void
test_connect_tcp(PeerFixture *f, gconstpointer data)
{
    const char *prefixes[] = { "", "tcp:" };

    for (guint i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        g_autofree char *address = NULL;
        g_autoptr(json_object) cmd = qmp_cmd_query_status();
        g_autoptr(json_object) ret = NULL;

        f->peer = peer_start(script_status, TRUE);
        address = g_strconcat(prefixes[i], f->peer->address, NULL);
        f->client = qmp_client_connect(address, TIMEOUT_MS, &f->error);
        g_assert_no_error(f->error);
        ret = qmp_client_execute(f->client, cmd, &f->error);
        g_assert_no_error(f->error);
        assert_status(ret, "paused");
        g_clear_pointer(&f->client, qmp_client_free);
        g_clear_pointer(&f->peer, peer_free);
    }
}

static void
script_bad_greeting(Peer *peer)
{
    peer_send(peer, "{\"hello\": {\"version\": 1}}\r\n");
}

static void
script_hmp(Peer *peer)
{
    peer_send(peer, "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ");
}

static void
script_silent(Peer *peer)
{
}

static void
script_hang_up(Peer *peer)
{
    g_socket_close(peer->conn, NULL);
}

static void
script_refuse(Peer *peer)
{
    g_autofree char *text = NULL;

    peer_send(peer, GREETING);
    text = g_strdup_printf("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                           "qmp_capabilities has not been found\"}, \"id\": %" G_GINT64_FORMAT
                           "}\r\n", peer_expect(peer, "qmp_capabilities"));
    peer_send(peer, text);
}

static void
assert_connect_fails(PeerFixture *f, guint timeout_ms, int code, const char *part)
{
    g_assert_null(qmp_client_connect(f->peer->address, timeout_ms, &f->error));
    g_assert_error(f->error, QMP_ERROR, code);
    g_test_message("error: %s", f->error->message);
    g_assert_nonnull(strstr(f->error->message, f->peer->address));
    g_assert_nonnull(strstr(f->error->message, part));
}

static void
test_bad_greeting(PeerFixture *f, gconstpointer data)
{
    assert_connect_fails(f, TIMEOUT_MS, QMP_ERROR_PROTOCOL, "not a QMP monitor");
}

static void
test_not_qmp(PeerFixture *f, gconstpointer data)
{
    assert_connect_fails(f, TIMEOUT_MS, QMP_ERROR_PROTOCOL,
                         "probably not a QMP monitor: it began with 'QEMU 7.2.0 monitor - typ…' "
                         "(malformed");
}

static void
test_greeting_timeout(PeerFixture *f, gconstpointer data)
{
    assert_connect_fails(f, SHORT_TIMEOUT_MS, QMP_ERROR_TIMEOUT,
                         "timed out after 200 ms waiting for the QMP greeting");
}

static void
test_greeting_eof(PeerFixture *f, gconstpointer data)
{
    assert_connect_fails(f, TIMEOUT_MS, QMP_ERROR_CLOSED, "QEMU closed the monitor connection");
}

static void
test_negotiation_refused(PeerFixture *f, gconstpointer data)
{
    assert_connect_fails(f, TIMEOUT_MS, QMP_ERROR_PROTOCOL,
                         "The command qmp_capabilities has not been found");
}

/* A QEMU offering "oob" is asked for it (for read-ahead); one that does not, is not. */
static void
script_oob(Peer *peer)
{
    g_autoptr(json_object) cmd = NULL;
    json_object *enable;

    peer_send(peer, GREETING);
    cmd = peer_expect_command(peer, "qmp_capabilities");
    enable = json_object_object_get(json_object_object_get(cmd, "arguments"), "enable");
    g_assert_cmpint(json_object_array_length(enable), ==, 1);
    g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(enable, 0)), ==, "oob");
    peer_reply(peer, json_object_get_int64(json_object_object_get(cmd, "id")), "{}");
}

static void
script_no_oob(Peer *peer)
{
    g_autoptr(json_object) cmd = NULL;

    peer_send(peer, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
                    "\"major\": 2}, \"package\": \"\"}, \"capabilities\": []}}\r\n");
    cmd = peer_expect_command(peer, "qmp_capabilities");
    g_assert_null(json_object_object_get(cmd, "arguments"));
    peer_reply(peer, json_object_get_int64(json_object_object_get(cmd, "id")), "{}");
}

static void
test_negotiation(PeerFixture *f, gconstpointer data)
{
    peer_fixture_connect(f);
}

/* ---- commands and events ----------------------------------------------- */

static void
script_command_error(Peer *peer)
{
    g_autofree char *text = NULL;

    peer_greet(peer);
    text = g_strdup_printf("{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device "
                           "'nope' not found\"}, \"id\": %" G_GINT64_FORMAT "}\r\n",
                           peer_expect(peer, "device_del"));
    peer_send(peer, text);
    peer_reply(peer, peer_expect(peer, "query-status"), "{\"status\": \"running\"}");
}

static void
test_command_error(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) del = qmp_cmd_device_del("nope");
    g_autoptr(json_object) query = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;

    peer_fixture_connect(f);
    g_assert_null(qmp_client_execute(f->client, del, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_COMMAND);
    g_assert_cmpstr(f->error->message, ==, "Device 'nope' not found");
    g_clear_error(&f->error);

    /* QEMU refusing a command leaves the connection usable. */
    ret = qmp_client_execute(f->client, query, &f->error);
    g_assert_no_error(f->error);
    assert_status(ret, "running");
}

static void
script_events_while_waiting(Peer *peer)
{
    g_autofree char *stop = event_text("STOP");
    g_autofree char *deleted = event_text("DEVICE_DELETED");
    gint64 id;

    peer_greet(peer);
    id = peer_expect(peer, "device_del");
    peer_send(peer, stop);
    peer_send(peer, deleted);
    peer_reply(peer, id, "{}");
}

static void
test_events_while_waiting(PeerFixture *f, gconstpointer data)
{
    const char *expected[] = { "STOP", "DEVICE_DELETED", NULL };
    g_autoptr(json_object) del = qmp_cmd_device_del("channel0");
    g_autoptr(json_object) ret = NULL;

    peer_fixture_connect(f);
    ret = qmp_client_execute(f->client, del, &f->error);
    g_assert_no_error(f->error);
    g_assert_cmpint(json_object_object_length(ret), ==, 0);
    assert_events(f, expected);
}

/* Answer @n query-status commands, each with {"n": its index}, in the order of @order,
 * with an event before each reply, all in one write. */
static void
peer_answer_batch(Peer *peer, guint n, const guint *order, gsize chunk_max)
{
    g_autofree gint64 *ids = g_new(gint64, n);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        ids[i] = peer_expect(peer, "query-status");
    for (guint i = 0; i < n; i++) {
        g_autofree char *event = g_strdup_printf("EVENT_%u", i);
        g_autofree char *event_msg = event_text(event);
        g_autofree char *value = g_strdup_printf("{\"n\": %u}", order[i]);
        g_autofree char *reply = reply_text(ids[order[i]], value);

        g_string_append(text, event_msg);
        g_string_append(text, reply);
    }
    /* Cut the stream at random places so that the client sees partial messages. */
    for (gsize pos = 0; pos < text->len;) {
        gsize len = g_test_rand_int_range(1, chunk_max + 1);

        len = MIN(len, text->len - pos);

        g_assert_true(peer_send_len(peer, text->str + pos, len));
        pos += len;
    }
}

static void
script_interleaved(Peer *peer)
{
    const guint order[] = { 3, 1, 0, 4, 2 };

    peer_greet(peer);
    peer_answer_batch(peer, G_N_ELEMENTS(order), order, 4096);
}

static void
script_split_merged(Peer *peer)
{
    guint order[50];

    for (guint i = 0; i < G_N_ELEMENTS(order); i++)
        order[i] = i;
    peer_greet(peer);
    peer_answer_batch(peer, G_N_ELEMENTS(order), order, 100);
}

/* Send @n query-status at once; replies[i] must be the answer to command i. */
static void
assert_batch(PeerFixture *f, guint n)
{
    g_autofree json_object **cmds = g_new(json_object *, n);
    g_autofree json_object **replies = g_new(json_object *, n);

    for (guint i = 0; i < n; i++)
        cmds[i] = qmp_cmd_query_status();
    g_assert_true(qmp_client_execute_many(f->client, cmds, n, replies, &f->error));
    g_assert_no_error(f->error);
    for (guint i = 0; i < n; i++) {
        g_autoptr(json_object) ret = qmp_reply_take_return(replies[i], &f->error);

        g_assert_no_error(f->error);
        g_assert_cmpint(json_object_get_int(json_object_object_get(ret, "n")), ==, i);
        json_object_put(replies[i]);
        json_object_put(cmds[i]);
    }
    g_assert_cmpuint(f->events->len, ==, n);
}

static void
test_interleaved(PeerFixture *f, gconstpointer data)
{
    peer_fixture_connect(f);
    assert_batch(f, 5);
    for (guint i = 0; i < 5; i++) {
        g_autofree char *name = g_strdup_printf("EVENT_%u", i);

        g_assert_cmpstr(f->events->pdata[i], ==, name);
    }
}

static void
test_split_merged(PeerFixture *f, gconstpointer data)
{
    /* The peer reads all 50 commands before it answers: this passes only if they were
     * all sent before the client waited for the first reply. */
    peer_fixture_connect(f);
    assert_batch(f, 50);
}

#define BIG_BATCH 2000

static void
script_big_batch(Peer *peer)
{
    g_autofree char *padding = g_strnfill(PEER_LONG_PATH_LEN, 'x');
    g_autofree char *value = g_strdup_printf("\"%s\"", padding);

    peer_greet(peer);
    /* Answer each command as soon as it is read: the replies fill the client's socket
     * while it is still writing, which deadlocks a client that does not read meanwhile. */
    for (guint i = 0; i < BIG_BATCH; i++)
        peer_reply(peer, peer_expect(peer, "qom-get"), value);
}

static void
test_big_batch(PeerFixture *f, gconstpointer data)
{
    json_object **cmds = peer_long_commands(BIG_BATCH);
    g_autofree json_object **replies = g_new(json_object *, BIG_BATCH);

    peer_fixture_connect(f);
    g_assert_true(qmp_client_execute_many(f->client, cmds, BIG_BATCH, replies, &f->error));
    g_assert_no_error(f->error);
    for (guint i = 0; i < BIG_BATCH; i++) {
        g_assert_cmpuint(strlen(json_object_get_string(json_object_object_get(replies[i],
                                                                              "return"))), ==,
                         PEER_LONG_PATH_LEN);
        json_object_put(replies[i]);
    }
    peer_free_commands(cmds, BIG_BATCH);
}

static void
script_events_later(Peer *peer)
{
    g_autofree char *stop = event_text("STOP");
    g_autofree char *resume = event_text("RESUME");
    g_autofree char *reply = NULL;

    peer_greet(peer);
    reply = reply_text(peer_expect(peer, "query-status"), "{\"status\": \"paused\"}");
    peer_send(peer, reply);
    peer_send(peer, stop);
    peer_send(peer, resume);
}

static void
test_wait_event(PeerFixture *f, gconstpointer data)
{
    const char *expected[] = { "STOP", "RESUME", NULL };
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;
    gint64 deadline;

    peer_fixture_connect(f);
    ret = qmp_client_execute(f->client, cmd, &f->error);
    g_assert_no_error(f->error);
    /* Events after the reply are left for the next call, so waiting for one just after a
     * command cannot miss it. */
    g_assert_cmpuint(f->events->len, ==, 0);
    deadline = g_get_monotonic_time() + TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    g_assert_true(qmp_client_wait_event(f->client, deadline, &f->error));
    g_assert_no_error(f->error);
    g_assert_true(qmp_client_wait_event(f->client, deadline, &f->error));
    g_assert_no_error(f->error);
    assert_events(f, expected);
}

static void
test_wait_event_timeout(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = NULL;
    gint64 deadline = g_get_monotonic_time() + SHORT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

    peer_fixture_connect(f);
    g_assert_false(qmp_client_wait_event(f->client, deadline, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_TIMEOUT);
    g_assert_cmpint(g_get_monotonic_time(), >=, deadline);
    g_clear_error(&f->error);

    /* No event is not a broken connection. */
    ret = qmp_client_execute(f->client, cmd, &f->error);
    g_assert_no_error(f->error);
    assert_status(ret, "paused");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    peer_load_schema();
    ADD_PEER("/qmp/client/connect", script_status, test_connect);
    ADD_PEER("/qmp/client/connect-unix-prefix", script_status, test_connect_unix_prefix);
    ADD_PEER("/qmp/client/connect-missing", NULL, test_connect_missing);
    ADD_PEER("/qmp/client/connect-bad-address", NULL, test_connect_bad_address);
    ADD_PEER("/qmp/client/connect-tcp", NULL, test_connect_tcp);
    ADD_PEER("/qmp/client/bad-greeting", script_bad_greeting, test_bad_greeting);
    ADD_PEER("/qmp/client/not-qmp", script_hmp, test_not_qmp);
    ADD_PEER("/qmp/client/greeting-timeout", script_silent, test_greeting_timeout);
    ADD_PEER("/qmp/client/greeting-eof", script_hang_up, test_greeting_eof);
    ADD_PEER("/qmp/client/negotiates-oob", script_oob, test_negotiation);
    ADD_PEER("/qmp/client/no-oob-when-not-offered", script_no_oob, test_negotiation);
    ADD_PEER("/qmp/client/negotiation-refused", script_refuse, test_negotiation_refused);
    ADD_PEER("/qmp/client/command-error", script_command_error, test_command_error);
    ADD_PEER("/qmp/client/events-while-waiting", script_events_while_waiting,
                 test_events_while_waiting);
    ADD_PEER("/qmp/client/interleaved", script_interleaved, test_interleaved);
    ADD_PEER("/qmp/client/split-merged", script_split_merged, test_split_merged);
    ADD_PEER("/qmp/client/big-batch", script_big_batch, test_big_batch);
    ADD_PEER("/qmp/client/wait-event", script_events_later, test_wait_event);
    ADD_PEER("/qmp/client/wait-event-timeout", script_status, test_wait_event_timeout);
    return g_test_run();
}
