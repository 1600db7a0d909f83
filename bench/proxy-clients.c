/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/proxy-clients.c — the bench's QMP clients: many at once one command at a time, and one
 * keeping several commands in flight. */
#include "config.h"

#include <string.h>
#include <time.h>

#include <gio/gunixsocketaddress.h>

#include "proxy-clients.h"

#define READ_SIZE (64 * 1024)
#define MAX_CLIENTS BENCH_MAX_CLIENTS

/* As QmpClient writes commands. */
#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Finer than g_get_monotonic_time(): a round trip is tens of us. */
gint64
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

/* ---- one at a time: the library's own client --------------------------- */

typedef struct {
    QmpClient *client;
    guint n;
    GArray *us;               /* NULL: not timed */
    GError *error;
} Turn;

static gpointer
run_turn(gpointer data)
{
    Turn *turn = data;
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    for (guint i = 0; i < turn->n; i++) {
        gint64 start = bench_now_ns();
        g_autoptr(json_object) ret = qmp_client_execute(turn->client, cmd, &turn->error);
        double took = (bench_now_ns() - start) / 1000.0;

        if (!ret)
            return NULL;
        if (turn->us)
            g_array_append_val(turn->us, took);
    }
    return NULL;
}

/* @count clients of one side at once, @n round trips each; their times into @us. */
gboolean
bench_turns(QmpClient **clients, guint count, guint n, GArray *us, GError **error)
{
    Turn t[MAX_CLIENTS] = { { NULL } };
    GThread *threads[MAX_CLIENTS];

    for (guint i = 0; i < count; i++) {
        t[i] = (Turn){ clients[i], n, us ? g_array_new(FALSE, FALSE, sizeof(double)) : NULL,
                       NULL };
        threads[i] = g_thread_new("client", run_turn, &t[i]);
    }
    for (guint i = 0; i < count; i++) {
        g_thread_join(threads[i]);
        if (us)
            g_array_append_vals(us, t[i].us->data, t[i].us->len);
        g_clear_pointer(&t[i].us, g_array_unref);
        if (t[i].error && !*error)
            g_propagate_error(error, g_steal_pointer(&t[i].error));
        g_clear_error(&t[i].error);
    }
    return !*error;
}

/* ---- pipelined: a raw client ------------------------------------------- */

struct _BenchRaw {
    GSocketConnection *conn;
    GSocket *sock;            /* conn's; blocking with a timeout */
    QmpParser *parser;
    char *buf;
};

void
bench_raw_free(BenchRaw *r)
{
    if (!r)
        return;
    g_clear_object(&r->conn);
    qmp_parser_free(r->parser);
    g_free(r->buf);
    g_free(r);
}

/* What has arrived, as whole messages appended to @messages; nothing yet is no error. */
static gboolean
receive(BenchRaw *r, GPtrArray *messages, GError **error)
{
    g_autoptr(GError) local = NULL;
    gssize n = g_socket_receive(r->sock, r->buf, READ_SIZE, NULL, &local);

    if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
    if (n < 0) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (n == 0) {
        g_set_error_literal(error, QMP_ERROR, QMP_ERROR_CLOSED, "the monitor hung up");
        return FALSE;
    }
    return qmp_parser_feed(r->parser, r->buf, n, messages, error);
}

static json_object *
read_one(BenchRaw *r, GError **error)
{
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);

    while (messages->len == 0) {
        if (!receive(r, messages, error))
            return NULL;
    }
    return g_ptr_array_steal_index(messages, 0);
}

static gboolean
send_message(BenchRaw *r, json_object *msg, GError **error)
{
    g_autofree char *text = g_strdup_printf("%s\n", json_object_to_json_string_ext(msg, PLAIN));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(r->conn));

    return g_output_stream_write_all(out, text, strlen(text), NULL, NULL, error);
}

/* Negotiated as QmpClient does it, read-ahead (oob) included when offered. */
static gboolean
negotiate(BenchRaw *r, GError **error)
{
    g_autoptr(json_object) greeting = read_one(r, error);
    g_autoptr(json_object) cmd = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(json_object) ret = NULL;

    if (!greeting)
        return FALSE;
    cmd = qmp_cmd_capabilities(qmp_greeting_offers_oob(greeting));
    if (!send_message(r, cmd, error) || !(reply = read_one(r, error)))
        return FALSE;
    ret = qmp_reply_take_return(reply, error);
    return ret != NULL;
}

BenchRaw *
bench_raw_connect(const char *path, GError **error)
{
    g_autoptr(GSocketClient) connector = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(BenchRaw) r = g_new0(BenchRaw, 1);

    r->parser = qmp_parser_new(QMP_MAX_MESSAGE);
    r->buf = g_malloc(READ_SIZE);
    if (!(r->conn = g_socket_client_connect(connector, G_SOCKET_CONNECTABLE(addr), NULL, error)))
        return NULL;
    r->sock = g_socket_connection_get_socket(r->conn);
    g_socket_set_timeout(r->sock, BENCH_TIMEOUT_MS / 1000);
    if (!negotiate(r, error)) {
        g_prefix_error(error, "QMP socket '%s': ", path);
        return NULL;
    }
    return g_steal_pointer(&r);
}

/* All the commands of a run, serialized before the clock starts; ids from 1. */
typedef struct {
    GByteArray *text;
    GArray *ends;             /* gsize: where command i ends in text */
} Batch;

static void
batch_clear(Batch *b)
{
    g_clear_pointer(&b->text, g_byte_array_unref);
    g_clear_pointer(&b->ends, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Batch, batch_clear)

static void
batch_init(Batch *b, guint n)
{
    b->text = g_byte_array_new();
    b->ends = g_array_sized_new(FALSE, FALSE, sizeof(gsize), n);
    for (guint i = 0; i < n; i++) {
        g_autoptr(json_object) cmd = qmp_cmd_query_status();
        const char *text;
        gsize end;

        json_object_object_add(cmd, "id", json_object_new_int64(i + 1));
        text = json_object_to_json_string_ext(cmd, PLAIN);
        g_byte_array_append(b->text, (const guint8 *)text, strlen(text));
        g_byte_array_append(b->text, (const guint8 *)"\n", 1);
        end = b->text->len;
        g_array_append_val(b->ends, end);
    }
}

static gboolean
count_replies(GPtrArray *messages, guint *answered, GError **error)
{
    for (guint i = 0; i < messages->len; i++) {
        json_object *msg = messages->pdata[i];
        json_object *id = json_object_object_get(msg, "id");

        if (json_object_object_get_ex(msg, "event", NULL))
            continue;
        if (!json_object_object_get_ex(msg, "return", NULL) ||
            json_object_get_int64(id) != *answered + 1) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "reply %u to a pipelined query-status is not its answer: %s",
                        *answered + 1, json_object_to_json_string(msg));
            return FALSE;
        }
        (*answered)++;
    }
    return TRUE;
}

/* Never more than @depth commands sent and not answered. */
gboolean
bench_pipeline(BenchRaw *r, guint n, guint depth, GArray *rates, GError **error)
{
    g_auto(Batch) b = { NULL };
    guint answered = 0;
    gsize written = 0;
    gint64 start;
    double rate;

    batch_init(&b, n);
    start = bench_now_ns();
    g_socket_set_blocking(r->sock, FALSE);
    while (answered < n) {
        gsize allowed = g_array_index(b.ends, gsize, MIN(n, answered + depth) - 1);
        g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
        gssize sent = 0;

        if (!g_socket_condition_timed_wait(r->sock, written < allowed ? G_IO_IN | G_IO_OUT
                                                                      : G_IO_IN,
                                           BENCH_TIMEOUT_MS * G_GINT64_CONSTANT(1000), NULL,
                                           error))
            return FALSE;
        /* A failed send shows as the hang-up the read below reports. */
        if (written < allowed &&
            (sent = g_socket_send(r->sock, (const char *)b.text->data + written,
                                  allowed - written, NULL, NULL)) > 0)
            written += sent;
        if (!receive(r, messages, error) || !count_replies(messages, &answered, error))
            return FALSE;
    }
    g_socket_set_blocking(r->sock, TRUE);
    rate = n / ((bench_now_ns() - start) / 1e9);
    g_array_append_val(rates, rate);
    return TRUE;
}

/* @depth commands always in flight, each timed from its send to its reply: what @depth clients
 * multiplexed onto one monitor could at best see. */
gboolean
bench_in_flight(BenchRaw *r, guint n, guint depth, GArray *us, GError **error)
{
    g_auto(Batch) b = { NULL };
    g_autofree gint64 *sent_at = g_new0(gint64, n);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(r->conn));
    guint answered = 0, sent = 0;

    batch_init(&b, n);
    while (answered < n) {
        g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
        guint before = answered;

        for (; sent < n && sent - answered < depth; sent++) {
            gsize from = sent ? g_array_index(b.ends, gsize, sent - 1) : 0;
            gsize to = g_array_index(b.ends, gsize, sent);

            sent_at[sent] = bench_now_ns();
            if (!g_output_stream_write_all(out, b.text->data + from, to - from, NULL, NULL,
                                           error))
                return FALSE;
        }
        if (!receive(r, messages, error) || !count_replies(messages, &answered, error))
            return FALSE;
        for (guint i = before; i < answered; i++) {
            double took = (bench_now_ns() - sent_at[i]) / 1000.0;

            g_array_append_val(us, took);
        }
    }
    return TRUE;
}
