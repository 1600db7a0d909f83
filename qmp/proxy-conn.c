/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp/proxy-conn.c — the QMP proxy's streams: non-blocking reads and writes, fds with them. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <gio/gunixfdmessage.h>

#include "proxy-private.h"

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

static void
conn_dequeue(Conn *conn, gsize n)
{
    for (guint i = 0; i < conn->marks->len; i++)
        g_array_index(conn->marks, FdMark, i).offset -= n;
    g_byte_array_remove_range(conn->queued, 0, n);
    if (conn->total)
        *conn->total -= n;
}

/* Write what the socket takes; TRUE once nothing is left.  The fds of a command go with its
 * first byte, so a send stops short of the next command that has fds; whatever part of the
 * bytes a send takes, the fds went with them. */
static gboolean
conn_write_out(Conn *conn)
{
    while (conn->queued->len) {
        FdMark *first = conn->marks->len ? &g_array_index(conn->marks, FdMark, 0) : NULL;
        GUnixFDList *fds = first && first->offset == 0 ? first->fds : NULL;
        guint next = fds ? 1 : 0;
        gsize len = conn->marks->len > next ? g_array_index(conn->marks, FdMark, next).offset
                                            : conn->queued->len;
        g_autoptr(GError) error = NULL;
        gssize n = send_bytes(conn->sock, conn->queued->data, len, fds, &error);

        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return FALSE;
        if (n < 0 && fds) {
            /* Rather than retry for ever: the command goes alone and QEMU says what it lacks. */
            g_message("cannot pass %d file descriptors on: %s", g_unix_fd_list_get_length(fds),
                      error->message);
            g_array_remove_index(conn->marks, 0);
            continue;
        }
        if (n < 0) {
            /* The peer is gone: what it was sent is lost, and its reader (if it still reads)
             * sees the hang-up and closes. */
            conn_dequeue(conn, conn->queued->len);
            g_array_set_size(conn->marks, 0);
            return TRUE;
        }
        if (fds)
            g_array_remove_index(conn->marks, 0);
        conn_dequeue(conn, n);
    }
    return TRUE;
}

static gboolean
on_writable(GSocket *sock, GIOCondition cond, gpointer data)
{
    Conn *conn = data;
    gboolean done = conn_write_out(conn);

    if (done)
        g_clear_pointer(&conn->out, g_source_unref);
    if (conn->drained)
        conn->drained(conn->data);
    return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Write what the socket takes now and wait for G_IO_OUT only for the rest: a source per message
 * costs a main-loop pass, and GLib wakes its own loop (an eventfd written, polled and read) each
 * time a source's fd joins or leaves the poll set. */
static void
conn_push(QmpProxy *proxy, Conn *conn)
{
    if (conn->out || conn_write_out(conn))
        return;
    conn->out = g_socket_create_source(conn->sock, G_IO_OUT, NULL);
    g_source_set_callback(conn->out, G_SOURCE_FUNC(on_writable), conn, NULL);
    g_source_attach(conn->out, proxy->context);
}

static void
conn_append(Conn *conn, const guint8 *data, gsize len)
{
    g_byte_array_append(conn->queued, data, len);
    if (conn->total)
        *conn->total += len;
}

void
proxy_conn_send(QmpProxy *proxy, Conn *conn, const char *data, gsize len)
{
    conn_append(conn, (const guint8 *)data, len);
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
    conn_append(conn, (const guint8 *)text, strlen(text));
    conn_append(conn, (const guint8 *)"\r\n", 2);
    conn_push(proxy, conn);
}

void
proxy_conn_read_start(QmpProxy *proxy, Conn *conn, GSocketSourceFunc on_read, gpointer data)
{
    if (conn->in)
        return;
    conn->in = g_socket_create_source(conn->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(conn->in, G_SOURCE_FUNC(on_read), data, NULL);
    /* GLib takes a source that may not recurse out of the poll set while it is dispatched and
     * puts it back after, waking its own loop through an eventfd both times: one more pass for
     * every read.  Nothing here runs a nested main loop, so there is no recursion to prevent. */
    g_source_set_can_recurse(conn->in, TRUE);
    g_source_attach(conn->in, proxy->context);
}

void
proxy_conn_read_stop(Conn *conn)
{
    if (!conn->in)
        return;
    g_source_destroy(conn->in);
    g_clear_pointer(&conn->in, g_source_unref);
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
    proxy_conn_read_start(proxy, conn, on_read, data);
}

void
proxy_conn_close(Conn *conn)
{
    proxy_conn_read_stop(conn);
    if (conn->out) {
        g_source_destroy(conn->out);
        g_clear_pointer(&conn->out, g_source_unref);
    }
    if (conn->sock)
        g_socket_close(conn->sock, NULL);
    g_clear_object(&conn->sock);
    if (conn->queued && conn->total)
        *conn->total -= conn->queued->len;
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

/* Read up to @size bytes, and with @fds non-NULL the fds that came with them (NULL when none
 * did); FALSE (with @reason) when the peer is gone. */
gboolean
proxy_conn_read(Conn *conn, char *buf, gsize size, gssize *n, GUnixFDList **fds, char **reason)
{
    g_autoptr(GError) error = NULL;
    GInputVector vector = { buf, size };
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
    /* A reset is a peer that went away with bytes unread, as a killed QEMU does. */
    if (*n == 0 || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        *reason = g_strdup("closed the connection");
    else
        *reason = g_strdup_printf("connection failed: %s", error->message);
    return FALSE;
}
