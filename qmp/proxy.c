/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A QMP proxy: to any number of clients it is QEMU's monitor, plus the commands it is given.
 * Every client command goes upstream with an id of the proxy's, and its reply comes back to
 * that client with the client's own id; events go to every client that has negotiated; file
 * descriptors a client passes go upstream with its next command for QEMU. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <gio/gunixfdmessage.h>

#include "proxy-private.h"

static void up_lost(QmpProxy *proxy, const char *reason);

/* ---- streams -------------------------------------------------------- */

static void
clear_mark(gpointer data)
{
    FdMark *mark = data;

    g_clear_object(&mark->fds);
}

static gssize
send_bytes(GSocket *sock, const guint8 *bytes, gsize len, GUnixFDList *fds, GError **error)
{
    GOutputVector vector = { bytes, len };
    g_autoptr(GSocketControlMessage) msg = NULL;

    if (!fds)
        return g_socket_send(sock, (const char *)bytes, len, NULL, error);
    msg = g_unix_fd_message_new_with_fd_list(fds);
    return g_socket_send_message(sock, NULL, &vector, 1, &msg, 1, G_SOCKET_MSG_NONE, NULL,
                                 error);
}

/* The fds of a command go with its first byte, so a send stops short of the next command
 * that has fds; whatever part of the bytes a send takes, the fds went with them. */
static gboolean
proxy_conn_flush(GSocket *sock, GIOCondition cond, gpointer data)
{
    Conn *conn = data;
    FdMark *first = conn->marks->len ? &g_array_index(conn->marks, FdMark, 0) : NULL;
    GUnixFDList *fds = first && first->offset == 0 ? first->fds : NULL;
    guint next = fds ? 1 : 0;
    gsize len = conn->marks->len > next ? g_array_index(conn->marks, FdMark, next).offset
                                        : conn->queued->len;
    g_autoptr(GError) error = NULL;
    gssize n = send_bytes(conn->sock, conn->queued->data, len, fds, &error);

    if (n < 0 && fds && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        /* Rather than retry for ever: the command goes alone and QEMU says what it lacks. */
        g_message("cannot pass %d file descriptors on: %s", g_unix_fd_list_get_length(fds),
                  error->message);
        g_array_remove_index(conn->marks, 0);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;   /* the reader sees the hang-up and closes */
    if (n > 0) {
        if (fds)
            g_array_remove_index(conn->marks, 0);
        for (guint i = 0; i < conn->marks->len; i++)
            g_array_index(conn->marks, FdMark, i).offset -= n;
        g_byte_array_remove_range(conn->queued, 0, n);
    }
    if (conn->queued->len)
        return G_SOURCE_CONTINUE;
    g_clear_pointer(&conn->out, g_source_unref);
    return G_SOURCE_REMOVE;
}

/* Write what the socket takes now and wait for G_IO_OUT only for the rest: a source per message
 * costs a main-loop pass, and GLib wakes its own loop (an eventfd written, polled and read)
 * each time a source's fd joins or leaves the poll set. */
static void
conn_push(QmpProxy *proxy, Conn *conn)
{
    if (conn->out || proxy_conn_flush(conn->sock, G_IO_OUT, conn) == G_SOURCE_REMOVE)
        return;
    conn->out = g_socket_create_source(conn->sock, G_IO_OUT, NULL);
    g_source_set_callback(conn->out, G_SOURCE_FUNC(proxy_conn_flush), conn, NULL);
    g_source_attach(conn->out, proxy->context);
}

void
proxy_conn_send(QmpProxy *proxy, Conn *conn, const char *data, gsize len)
{
    g_byte_array_append(conn->queued, (const guint8 *)data, len);
    conn_push(proxy, conn);
}

/* Send @msg, with @fds (transfer full, nullable) to go with its first byte. */
void
proxy_conn_write(QmpProxy *proxy, Conn *conn, json_object *msg, GUnixFDList *fds)
{
    const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);

    if (fds) {
        FdMark mark = { conn->queued->len, fds };

        g_array_append_val(conn->marks, mark);
    }
    /* One buffer, so that the message and its end go out in one write. */
    g_byte_array_append(conn->queued, (const guint8 *)text, strlen(text));
    g_byte_array_append(conn->queued, (const guint8 *)"\r\n", 2);
    conn_push(proxy, conn);
}

void
proxy_conn_open(QmpProxy *proxy, Conn *conn, GSocket *sock, GSocketSourceFunc on_read,
                gpointer data)
{
    conn->sock = g_object_ref(sock);
    g_socket_set_blocking(sock, FALSE);
    conn->queued = g_byte_array_new();
    conn->marks = g_array_new(FALSE, FALSE, sizeof(FdMark));
    g_array_set_clear_func(conn->marks, clear_mark);
    conn->in = g_socket_create_source(sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(conn->in, G_SOURCE_FUNC(on_read), data, NULL);
    /* GLib takes a source that may not recurse out of the poll set while it is dispatched and
     * puts it back after, waking its own loop through an eventfd both times: one more pass for
     * every read.  Nothing here runs a nested main loop, so there is no recursion to prevent. */
    g_source_set_can_recurse(conn->in, TRUE);
    g_source_attach(conn->in, proxy->context);
}

void
proxy_conn_close(Conn *conn)
{
    if (conn->in) {
        g_source_destroy(conn->in);
        g_clear_pointer(&conn->in, g_source_unref);
    }
    if (conn->out) {
        g_source_destroy(conn->out);
        g_clear_pointer(&conn->out, g_source_unref);
    }
    if (conn->sock)
        g_socket_close(conn->sock, NULL);
    g_clear_object(&conn->sock);
    g_clear_pointer(&conn->queued, g_byte_array_unref);
    g_clear_pointer(&conn->marks, g_array_unref);
}

/* The fds that came in @messages (freed), in one list; NULL when none did. */
static GUnixFDList *
take_fds(GSocketControlMessage **messages, gint n_messages)
{
    GUnixFDList *fds = NULL;

    for (gint i = 0; i < n_messages; i++) {
        g_autoptr(GSocketControlMessage) msg = messages[i];
        GUnixFDList *got;
        const gint *each;
        gint n;

        if (!G_IS_UNIX_FD_MESSAGE(msg))
            continue;
        got = g_unix_fd_message_get_fd_list(G_UNIX_FD_MESSAGE(msg));
        if (!fds) {
            fds = g_object_ref(got);
            continue;
        }
        each = g_unix_fd_list_peek_fds(got, &n);
        for (gint j = 0; j < n; j++)
            g_unix_fd_list_append(fds, each[j], NULL);
    }
    g_free(messages);
    return fds;
}

/* Read what is there, and with @fds non-NULL the fds that came with it (NULL when none did);
 * FALSE (with @reason) when the peer is gone. */
gboolean
proxy_conn_read(Conn *conn, char *buf, gssize *n, GUnixFDList **fds, char **reason)
{
    g_autoptr(GError) error = NULL;
    GInputVector vector = { buf, READ_SIZE };
    GSocketControlMessage **messages = NULL;
    gint n_messages = 0;
    gint flags = 0;

    /* Without a place for control messages the kernel closes any fds that come. */
    *n = g_socket_receive_message(conn->sock, NULL, &vector, 1, fds ? &messages : NULL,
                                  fds ? &n_messages : NULL, &flags, NULL, &error);
    if (fds)
        *fds = take_fds(messages, n_messages);
    if (fds && (flags & MSG_CTRUNC))
        g_message("a QMP client sent more file descriptors than one read takes; some are lost");
    if (*n > 0 || (*n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
        return TRUE;
    *reason = g_strdup(*n == 0 ? "closed the connection" : error->message);
    return FALSE;
}

/* ---- upstream --------------------------------------------------------- */

static void
pending_free(Pending *p)
{
    if (p->client)
        proxy_client_unref(p->client);
    json_object_put(p->id);
    g_free(p->command);
    g_free(p);
}

static void
held_free(Held *h)
{
    json_object_put(h->cmd);
    g_clear_object(&h->fds);
    g_free(h);
}

static void
send_up(QmpProxy *proxy, json_object *cmd, Pending *p, GUnixFDList *fds)
{
    if (fds)
        proxy->fds_unanswered = p;
    proxy_conn_write(proxy, &proxy->up, cmd, fds);
}

/* Send @cmd upstream under an id of the proxy's; @p says where its reply goes, @fds (transfer
 * full, nullable) go with it.
 *
 * QEMU 7.2 reads its monitor one byte per main-loop pass, 5 to 10 µs a byte, so the id is paid
 * for on every command: it is the smallest number not in flight, as short as the number of
 * commands in flight allows however long the proxy has run, and shorter than most clients'.
 *
 * QEMU keeps only the fds of its last read that carried some, and with oob it reads ahead of
 * the command it runs: a command with fds waits until QEMU has answered the last one sent with
 * fds, and every command after it waits too, so that each client's commands stay in order. */
void
proxy_forward(QmpProxy *proxy, json_object *cmd, Pending *p, GUnixFDList *fds)
{
    guint id = proxy->lowest_free;
    Held *h;

    while (g_hash_table_contains(proxy->pending, GUINT_TO_POINTER(id)))
        id++;
    proxy->lowest_free = id + 1;
    p->up_id = id;
    json_object_object_add(cmd, "id", json_object_new_int64(id));
    g_hash_table_insert(proxy->pending, GUINT_TO_POINTER(id), p);
    if (g_queue_is_empty(proxy->held) && !(fds && proxy->fds_unanswered)) {
        send_up(proxy, cmd, p, fds);
        return;
    }
    h = g_new0(Held, 1);
    h->cmd = json_object_get(cmd);
    h->pending = p;
    h->fds = fds;
    g_queue_push_tail(proxy->held, h);
}

/* The command QEMU answers with @id, no longer pending; its id may be given again. */
static Pending *
pending_take(QmpProxy *proxy, json_object *id)
{
    gint64 n = json_object_get_int64(id);
    Pending *p;

    if (!json_object_is_type(id, json_type_int) || n < 0 || n > G_MAXUINT ||
        !(p = g_hash_table_lookup(proxy->pending, GUINT_TO_POINTER(n))))
        return NULL;
    g_hash_table_steal(proxy->pending, GUINT_TO_POINTER(n));
    proxy->lowest_free = MIN(proxy->lowest_free, p->up_id);
    return p;
}

/* QEMU answered the command sent with fds: what waited for it goes, up to the next with fds. */
static void
release_held(QmpProxy *proxy)
{
    Held *h;

    proxy->fds_unanswered = NULL;
    while (!proxy->fds_unanswered && (h = g_queue_pop_head(proxy->held))) {
        send_up(proxy, h->cmd, h->pending, g_steal_pointer(&h->fds));
        held_free(h);
    }
}

static void
deliver_reply(QmpProxy *proxy, json_object *reply, Pending *p)
{
    Filter *f = p->command ? g_hash_table_lookup(proxy->filters, p->command) : NULL;
    json_object *ret;

    if (p->func) {
        p->func(reply, NULL, p->data);
        return;
    }
    json_object_object_del(reply, "id");
    if (p->id)
        json_object_object_add(reply, "id", json_object_get(p->id));
    if (f && json_object_object_get_ex(reply, "return", &ret)) {
        json_object *filtered = f->filter(json_object_get(ret), f->data);

        json_object_object_add(reply, "return", filtered);
    }
    proxy_client_send(p->client, reply);
}

static void
fan_out(QmpProxy *proxy, json_object *event)
{
    const char *name = json_object_get_string(json_object_object_get(event, "event"));

    for (guint i = 0; i < proxy->listeners->len; i++) {
        Listener *l = &g_array_index(proxy->listeners, Listener, i);

        l->func(name, event, l->data);
    }
    for (guint i = 0; i < proxy->clients->len; i++) {
        Client *c = proxy->clients->pdata[i];

        if (c->negotiated)
            proxy_client_send(c, event);
    }
}

static void
start_accepting(QmpProxy *proxy)
{
    if (proxy->state != UP_READY || !proxy->listener || proxy->accepting)
        return;
    proxy->accepting = g_socket_create_source(proxy->listener, G_IO_IN, NULL);
    g_source_set_callback(proxy->accepting, G_SOURCE_FUNC(proxy_on_accept), proxy, NULL);
    g_source_attach(proxy->accepting, proxy->context);
}

/* QEMU's greeting is every client's; read-ahead (oob) is asked for the proxy's own sake. */
static void
up_greeting(QmpProxy *proxy, json_object *msg)
{
    g_autoptr(json_object) cmd = NULL;

    if (!json_object_object_get(msg, "QMP")) {
        up_lost(proxy, "QEMU's monitor did not greet with QMP");
        return;
    }
    proxy->greeting = g_strdup_printf("%s\r\n", json_object_to_json_string_ext(
                                                    msg, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    cmd = qmp_cmd_capabilities(qmp_greeting_offers_oob(msg));
    json_object_object_add(cmd, "id", json_object_new_string("svc-negotiation"));
    proxy_conn_write(proxy, &proxy->up, cmd, NULL);
    proxy->state = UP_NEGOTIATING;
}

static void
up_message(QmpProxy *proxy, json_object *msg)
{
    Pending *p;

    if (proxy->state == UP_GREETING) {
        up_greeting(proxy, msg);
    } else if (proxy->state == UP_NEGOTIATING) {
        if (!json_object_object_get(msg, "return")) {
            up_lost(proxy, "QEMU refused QMP capabilities negotiation");
            return;
        }
        proxy->state = UP_READY;
        start_accepting(proxy);
    } else if (json_object_object_get(msg, "event")) {
        fan_out(proxy, msg);
    } else if ((p = pending_take(proxy, json_object_object_get(msg, "id")))) {
        if (p == proxy->fds_unanswered)
            release_held(proxy);
        deliver_reply(proxy, msg, p);
        pending_free(p);
    } else {
        g_message("dropping a QMP reply with an id the proxy did not give: %s",
                  json_object_to_json_string(msg));
    }
}

static gboolean
on_up_read(GSocket *sock, GIOCondition cond, gpointer data)
{
    QmpProxy *proxy = data;
    char *buf = proxy->read_buf;
    g_autofree char *reason = NULL;
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GError) error = NULL;
    gssize n;

    if (!proxy_conn_read(&proxy->up, buf, &n, NULL, &reason)) {
        g_autofree char *why = g_strdup_printf("QEMU's monitor %s", reason);

        up_lost(proxy, why);
        return G_SOURCE_REMOVE;
    }
    if (n > 0 && !qmp_parser_feed(proxy->up_parser, buf, n, messages, &error)) {
        up_lost(proxy, error->message);
        return G_SOURCE_REMOVE;
    }
    for (guint i = 0; i < messages->len && proxy->state != UP_LOST; i++)
        up_message(proxy, messages->pdata[i]);
    return proxy->state == UP_LOST ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Every client is told and closed; the proxy's own commands get an error. */
static void
up_lost(QmpProxy *proxy, const char *reason)
{
    GHashTableIter iter;
    gpointer value;

    if (proxy->state == UP_LOST)
        return;
    proxy->state = UP_LOST;
    g_message("%s; closing every client", reason);
    g_hash_table_iter_init(&iter, proxy->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        Pending *p = value;
        g_autoptr(GError) error = g_error_new(QMP_ERROR, QMP_ERROR_CLOSED, "%s", reason);

        if (p->func)
            p->func(NULL, error, p->data);
        else
            proxy_client_error(p->client, "GenericError", reason, p->id);
    }
    g_hash_table_remove_all(proxy->pending);
    proxy->lowest_free = 0;
    g_queue_clear_full(proxy->held, (GDestroyNotify)held_free);
    proxy->fds_unanswered = NULL;
    while (proxy->clients->len)
        proxy_client_close(proxy->clients->pdata[0]);
    if (proxy->on_lost)
        proxy->on_lost(reason, proxy->lost_data);
}

/* ---- the proxy -------------------------------------------------------- */

QmpProxy *
qmp_proxy_new(GSocket *upstream, QmpProxyLostFunc on_lost, gpointer user_data)
{
    QmpProxy *proxy = g_new0(QmpProxy, 1);

    proxy->context = g_main_context_ref_thread_default();
    proxy->up_parser = qmp_parser_new(QMP_MAX_MESSAGE);
    proxy->read_buf = g_malloc(READ_SIZE);
    proxy->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                           (GDestroyNotify)pending_free);
    proxy->held = g_queue_new();
    proxy->clients = g_ptr_array_new();
    proxy->commands = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    proxy->filters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    proxy->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
    proxy->on_lost = on_lost;
    proxy->lost_data = user_data;
    proxy_conn_open(proxy, &proxy->up, upstream, on_up_read, proxy);
    return proxy;
}

void
qmp_proxy_free(QmpProxy *proxy)
{
    if (!proxy)
        return;
    proxy->on_lost = NULL;
    while (proxy->clients->len)
        proxy_client_close(proxy->clients->pdata[0]);
    if (proxy->accepting) {
        g_source_destroy(proxy->accepting);
        g_source_unref(proxy->accepting);
    }
    g_clear_object(&proxy->listener);
    proxy_conn_close(&proxy->up);
    qmp_parser_free(proxy->up_parser);
    g_hash_table_unref(proxy->pending);
    g_queue_free_full(proxy->held, (GDestroyNotify)held_free);
    g_ptr_array_unref(proxy->clients);
    g_hash_table_unref(proxy->commands);
    g_hash_table_unref(proxy->filters);
    g_array_unref(proxy->listeners);
    g_free(proxy->greeting);
    g_free(proxy->read_buf);
    g_main_context_unref(proxy->context);
    g_free(proxy);
}

void
qmp_proxy_listen(QmpProxy *proxy, GSocket *listener)
{
    g_socket_set_blocking(listener, FALSE);
    proxy->listener = g_object_ref(listener);
    start_accepting(proxy);
}

void
qmp_proxy_add_command(QmpProxy *proxy, const char *name, QmpProxyHandler handler,
                      gpointer user_data)
{
    Command *c = g_new0(Command, 1);

    c->handler = handler;
    c->data = user_data;
    g_hash_table_insert(proxy->commands, g_strdup(name), c);
}

void
qmp_proxy_add_filter(QmpProxy *proxy, const char *command, QmpProxyFilter filter,
                     gpointer user_data)
{
    Filter *f = g_new0(Filter, 1);

    f->filter = filter;
    f->data = user_data;
    g_hash_table_insert(proxy->filters, g_strdup(command), f);
}

void
qmp_proxy_add_event_listener(QmpProxy *proxy, QmpProxyEventFunc func, gpointer user_data)
{
    Listener l = { func, user_data };

    g_array_append_val(proxy->listeners, l);
}

void
qmp_proxy_execute(QmpProxy *proxy, json_object *cmd, QmpProxyReplyFunc func, gpointer user_data)
{
    g_autoptr(json_object) copy = NULL;
    Pending *p;

    if (proxy->state == UP_LOST) {
        g_autoptr(GError) error = g_error_new_literal(QMP_ERROR, QMP_ERROR_CLOSED,
                                                      "QEMU's monitor went away");

        func(NULL, error, user_data);
        return;
    }
    copy = json_object_new_object();
    json_object_object_foreach(cmd, key, value)
        json_object_object_add(copy, key, json_object_get(value));
    p = g_new0(Pending, 1);
    p->func = func;
    p->data = user_data;
    proxy_forward(proxy, copy, p, NULL);
}

guint
qmp_proxy_count_clients(QmpProxy *proxy)
{
    return proxy->clients->len;
}

