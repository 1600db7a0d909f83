/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the QMP client against a scripted peer that breaks the protocol: a reply that never
 * comes, a peer that never reads, EOF in the middle of a reply, malformed or stray replies, a
 * message past the size limit.  Real QEMU cannot produce these on demand, so a thread plays
 * QEMU from a script (qmp-peer.h). */
#include "config.h"

#include <string.h>

#include "qmp-peer.h"

/* ---- a peer that breaks the protocol ------------------------------------ */

static void
script_no_reply(Peer *peer)
{
    peer_greet(peer);
    peer_expect(peer, "device_add");
}

/* Run one command that must fail with @code and a message containing @part. */
static void
assert_execute_fails(PeerFixture *f, json_object *cmd, int code, const char *part)
{
    g_assert_null(qmp_client_execute(f->client, cmd, &f->error));
    g_assert_error(f->error, QMP_ERROR, code);
    g_test_message("error: %s", f->error->message);
    g_assert_nonnull(strstr(f->error->message, part));
    g_clear_error(&f->error);

    /* The connection is broken now: the next call fails at once, the same way. */
    g_assert_null(qmp_client_execute(f->client, cmd, &f->error));
    g_assert_error(f->error, QMP_ERROR, code);
    g_clear_error(&f->error);
    g_assert_false(qmp_client_wait_event(f->client, G_MAXINT64, &f->error));
    g_assert_error(f->error, QMP_ERROR, code);
}

static void
test_timeout(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_device_add("virtserialport", "channel0", NULL);

    peer_fixture_connect(f);
    qmp_client_set_timeout(f->client, SHORT_TIMEOUT_MS);
    assert_execute_fails(f, cmd, QMP_ERROR_TIMEOUT,
                         "timed out after 200 ms waiting for QEMU to answer 'device_add'");
}

static void
script_never_read(Peer *peer)
{
    peer_greet(peer);
    /* Wait for the hang-up without reading, so that the client's writes fill the socket. */
    g_socket_condition_wait(peer->conn, G_IO_HUP, NULL, NULL);
}

static void
test_write_timeout(PeerFixture *f, gconstpointer data)
{
    const guint n = 20000;        /* about 8 MiB, more than any socket buffer */
    json_object **cmds = peer_long_commands(n);
    g_autofree json_object **replies = g_new(json_object *, n);

    peer_fixture_connect(f);
    qmp_client_set_timeout(f->client, SHORT_TIMEOUT_MS);
    g_assert_false(qmp_client_execute_many(f->client, cmds, n, replies, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(f->error->message, "'qom-get'"));
    for (guint i = 0; i < n; i++)
        g_assert_null(replies[i]);
    peer_free_commands(cmds, n);
}

static void
script_eof_mid_reply(Peer *peer)
{
    peer_greet(peer);
    peer_expect(peer, "query-status");
    peer_send(peer, "{\"return\": {\"status\": \"paused\", \"running\": fa");
    g_socket_close(peer->conn, NULL);
}

static void
test_eof_mid_reply(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    assert_execute_fails(f, cmd, QMP_ERROR_CLOSED,
                         "QEMU closed the monitor connection in the middle of a message "
                         "while waiting for QEMU to answer 'query-status'");
}

static void
script_eof_waiting(Peer *peer)
{
    peer_greet(peer);
    peer_expect(peer, "query-status");
    g_socket_close(peer->conn, NULL);
}

static void
test_eof_waiting(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    assert_execute_fails(f, cmd, QMP_ERROR_CLOSED,
                         "QEMU closed the monitor connection while waiting for QEMU to answer "
                         "'query-status'");
}

static void
script_malformed_reply(Peer *peer)
{
    g_autofree char *text = NULL;

    peer_greet(peer);
    text = g_strdup_printf("{\"return\": {]}, \"id\": %" G_GINT64_FORMAT "}\r\n",
                           peer_expect(peer, "query-status"));
    peer_send(peer, text);
}

static void
test_malformed_reply(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    assert_execute_fails(f, cmd, QMP_ERROR_PROTOCOL, "malformed");
}

static void
script_unknown_id(Peer *peer)
{
    peer_greet(peer);
    peer_reply(peer, peer_expect(peer, "query-status") + 100, "{\"status\": \"paused\"}");
}

static void
test_unknown_id(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    assert_execute_fails(f, cmd, QMP_ERROR_PROTOCOL, "not sent");
}

static void
script_reply_without_id(Peer *peer)
{
    peer_greet(peer);
    peer_expect(peer, "query-status");
    peer_send(peer, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
                    "expecting value\"}}\r\n");
}

static void
test_reply_without_id(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    assert_execute_fails(f, cmd, QMP_ERROR_PROTOCOL, "JSON parse error, expecting value");
}

static void
script_stray_reply(Peer *peer)
{
    peer_greet(peer);
    peer_send(peer, "{\"return\": {}, \"id\": 2}\r\n");
}

static void
test_stray_reply(PeerFixture *f, gconstpointer data)
{
    peer_fixture_connect(f);
    g_assert_false(qmp_client_wait_event(f->client, G_MAXINT64, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_PROTOCOL);
}

static void
script_too_big(Peer *peer)
{
    const gsize chunk = 64 * 1024;
    g_autofree char *filler = g_strnfill(chunk, 'x');

    peer_greet(peer);
    peer_expect(peer, "query-status");
    peer_send(peer, "{\"return\": \"");
    /* Until the client hangs up; twice the limit would be a client that does not stop. */
    for (gsize sent = 0; peer_send_len(peer, filler, chunk); sent += chunk)
        g_assert_cmpuint(sent, <, 2 * QMP_MAX_MESSAGE);
}

static void
test_too_big(PeerFixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    peer_fixture_connect(f);
    /* The README's 16 MiB, as a number. */
    assert_execute_fails(f, cmd, QMP_ERROR_TOO_BIG, "larger than the limit of 16777216 bytes");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    peer_load_schema();
    ADD_PEER("/qmp/client/timeout", script_no_reply, test_timeout);
    ADD_PEER("/qmp/client/write-timeout", script_never_read, test_write_timeout);
    ADD_PEER("/qmp/client/eof-mid-reply", script_eof_mid_reply, test_eof_mid_reply);
    ADD_PEER("/qmp/client/eof-waiting", script_eof_waiting, test_eof_waiting);
    ADD_PEER("/qmp/client/malformed-reply", script_malformed_reply, test_malformed_reply);
    ADD_PEER("/qmp/client/unknown-id", script_unknown_id, test_unknown_id);
    ADD_PEER("/qmp/client/reply-without-id", script_reply_without_id, test_reply_without_id);
    ADD_PEER("/qmp/client/stray-reply", script_stray_reply, test_stray_reply);
    ADD_PEER("/qmp/client/too-big", script_too_big, test_too_big);
    return g_test_run();
}
