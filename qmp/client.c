/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP client: a synchronous, single-threaded connection to QEMU's monitor over GIO. */
#include "config.h"

#include <string.h>

#include "qmp.h"

#define READ_SIZE (64 * 1024)
/* How much of an unexpected message an error message quotes. */
#define QUOTE_MAX 80
/* How many of a peer's first bytes are kept, to show what it is when it is not QMP. */
#define FIRST_BYTES 24

struct _QmpClient {
    char *address;
    GSocketConnection *conn;
    GSocket *socket;          /* owned by conn; non-blocking, waits are ours */
    QmpParser *parser;
    GQueue inbox;             /* messages read but not yet looked at, oldest first */
    GByteArray *out;          /* commands not yet written */
    gsize out_done;           /* bytes of out already written */
    char *buf;
    json_object *greeting;
    char first[FIRST_BYTES];  /* the peer's first bytes */
    gsize first_len;
    guint timeout_ms;
    gint64 next_id;
    QmpEventFunc event_func;
    gpointer event_data;
    gboolean dispatching;
    GError *broken;           /* the transport error that made the connection unusable */
};

/* What a caller waits for: bounds the wait and explains a failure. */
typedef struct {
    gint64 deadline;          /* monotonic, µs */
    gint64 span;              /* µs the caller allowed, for messages */
    const char *command;      /* waiting for QEMU to answer it; or NULL */
    const char *what;         /* otherwise: "the QMP greeting", "a QMP event" */
    GCancellable *cancellable;  /* ends the wait early, or NULL */
} Wait;

static Wait
wait_for(guint timeout_ms, const char *what)
{
    Wait w = { g_get_monotonic_time() + (gint64)timeout_ms * 1000, (gint64)timeout_ms * 1000,
               NULL, what, NULL };
    return w;
}

static char *
describe(const Wait *w)
{
    if (w->command)
        return g_strdup_printf("QEMU to answer '%s'", w->command);
    return g_strdup(w->what);
}

static char *
format_span(gint64 us)
{
    gint64 ms = (us + 500) / 1000;

    if (ms > 0 && ms % 1000 == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT " s", ms / 1000);
    if (ms < 1000)
        return g_strdup_printf("%" G_GINT64_FORMAT " ms", MAX(ms, 0));
    return g_strdup_printf("%.1f s", ms / 1000.0);
}

/* A message for humans: its JSON, cut short. */
static char *
quote(json_object *msg)
{
    const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
    g_autofree char *cut = NULL;

    if (g_utf8_strlen(text, -1) <= QUOTE_MAX)
        return g_strdup(text);
    cut = g_utf8_substring(text, 0, QUOTE_MAX);
    return g_strconcat(cut, "…", NULL);
}

static gboolean
timed_out(const Wait *w, GError **error)
{
    g_autofree char *span = format_span(w->span);
    g_autofree char *what = describe(w);

    g_set_error(error, QMP_ERROR, QMP_ERROR_TIMEOUT, "timed out after %s waiting for %s",
                span, what);
    return FALSE;
}

static gboolean
closed(QmpClient *client, const Wait *w, GError **error)
{
    g_autofree char *what = describe(w);

    g_set_error(error, QMP_ERROR, QMP_ERROR_CLOSED,
                "QEMU closed the monitor connection%s while waiting for %s",
                qmp_parser_in_message(client->parser) ? " in the middle of a message" : "",
                what);
    return FALSE;
}

/* A socket error: a reset is QEMU going away, anything else is reported as it is. */
static gboolean
lost(QmpClient *client, const Wait *w, const GError *cause, GError **error)
{
    g_autofree char *what = NULL;

    if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        return closed(client, w, error);
    what = describe(w);
    if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_CANCELLED, "cancelled while waiting for %s",
                    what);
        return FALSE;
    }
    g_set_error(error, QMP_ERROR, QMP_ERROR_CLOSED,
                "lost the QMP connection while waiting for %s: %s", what, cause->message);
    return FALSE;
}

static gboolean
receive(QmpClient *client, const Wait *w, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GPtrArray) messages = NULL;
    gssize n = g_socket_receive(client->socket, client->buf, READ_SIZE, NULL, &local);

    if (n < 0)
        return g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ||
               lost(client, w, local, error);
    if (n == 0)
        return closed(client, w, error);
    if (client->first_len < FIRST_BYTES) {
        gsize take = MIN((gsize)n, FIRST_BYTES - client->first_len);

        memcpy(client->first + client->first_len, client->buf, take);
        client->first_len += take;
    }

    messages = g_ptr_array_new_with_free_func(qmp_json_free);
    if (!qmp_parser_feed(client->parser, client->buf, n, messages, error))
        return FALSE;
    for (guint i = 0; i < messages->len; i++)
        g_queue_push_tail(&client->inbox, messages->pdata[i]);
    g_ptr_array_set_free_func(messages, NULL);
    return TRUE;
}

static gboolean
flush(QmpClient *client, const Wait *w, GError **error)
{
    while (client->out_done < client->out->len) {
        g_autoptr(GError) local = NULL;
        gssize n = g_socket_send(client->socket, (const char *)client->out->data + client->out_done,
                                 client->out->len - client->out_done, NULL, &local);

        if (n < 0)
            return g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ||
                   lost(client, w, local, error);
        client->out_done += n;
    }
    g_byte_array_set_size(client->out, 0);
    client->out_done = 0;
    return TRUE;
}

/* Wait until the socket is ready, then write what is pending and read what has arrived.
 * Reading while writing keeps a long batch from deadlocking against a peer that answers
 * before it has read everything. */
static gboolean
pump(QmpClient *client, const Wait *w, GError **error)
{
    GIOCondition cond = client->out->len > 0 ? G_IO_IN | G_IO_OUT : G_IO_IN;
    gint64 left = w->deadline - g_get_monotonic_time();
    g_autoptr(GError) local = NULL;

    if (left <= 0)
        return timed_out(w, error);
    /* GIO waits in whole milliseconds, rounded down: round up, and let the caller look at
     * the clock again rather than trusting the wait to have lasted long enough. */
    left = (left + 999) / 1000 * 1000;
    if (!g_socket_condition_timed_wait(client->socket, cond, left, w->cancellable, &local))
        return g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
               lost(client, w, local, error);
    /* Reading first reports a peer that went away as closed, not as a failed write. */
    return receive(client, w, error) && flush(client, w, error);
}

/* The oldest message not yet looked at, reading until one is complete. */
static json_object *
next_message(QmpClient *client, const Wait *w, GError **error)
{
    while (g_queue_is_empty(&client->inbox)) {
        if (!pump(client, w, error))
            return NULL;
    }
    return g_queue_pop_head(&client->inbox);
}

/* An event names itself with a string; anything else is neither an event nor a reply. */
static gboolean
is_event(json_object *msg)
{
    json_object *name;

    return json_object_object_get_ex(msg, "event", &name) &&
           json_object_is_type(name, json_type_string);
}

static void
dispatch(QmpClient *client, json_object *event)
{
    if (!client->event_func)
        return;
    client->dispatching = TRUE;
    client->event_func(json_object_get_string(json_object_object_get(event, "event")), event,
                       client->event_data);
    client->dispatching = FALSE;
}

static gboolean
protocol_error(const char *problem, json_object *msg, GError **error)
{
    g_autofree char *text = quote(msg);

    g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL, "%s: %s", problem, text);
    return FALSE;
}

/* Which of the @n commands sent with ids from @first_id a reply answers. */
static gboolean
match_reply(json_object *msg, gint64 first_id, guint n, json_object *const *replies,
            guint *slot, GError **error)
{
    json_object *id;
    gint64 i;

    if (!json_object_object_get_ex(msg, "return", NULL) &&
        !json_object_object_get_ex(msg, "error", NULL))
        return protocol_error("QEMU sent a message that is neither a reply nor an event", msg,
                              error);
    /* QEMU answers without an id when it could not parse a command at all. */
    if (!json_object_object_get_ex(msg, "id", &id))
        return protocol_error("QEMU sent a reply without an id", msg, error);
    i = json_object_is_type(id, json_type_int) ? json_object_get_int64(id) - first_id : -1;
    if (i < 0 || i >= n || replies[i])
        return protocol_error("QEMU answered a command that was not sent", msg, error);
    *slot = i;
    return TRUE;
}

static const char *
command_name(json_object *cmd)
{
    json_object *name;

    if (json_object_object_get_ex(cmd, "execute", &name) &&
        json_object_is_type(name, json_type_string))
        return json_object_get_string(name);
    return "(unnamed command)";
}

/* Wait for the replies to @n commands, dispatching the events that come between them.  The
 * timeout bounds the wait for each reply, not the batch: QEMU takes ~40 ms per usb-redir, so
 * a large batch may rightly take longer than any one answer should. */
static gboolean
collect(QmpClient *client, json_object *const *cmds, guint n, gint64 first_id,
        json_object **replies, GError **error)
{
    Wait w = wait_for(client->timeout_ms, NULL);
    guint first = 0;

    for (guint left = n; left > 0;) {
        g_autoptr(json_object) msg = NULL;
        guint slot;

        while (replies[first])
            first++;
        w.command = command_name(cmds[first]);
        if (!(msg = next_message(client, &w, error)))
            return FALSE;
        if (is_event(msg)) {
            dispatch(client, msg);
            continue;
        }
        if (!match_reply(msg, first_id, n, replies, &slot, error))
            return FALSE;
        replies[slot] = g_steal_pointer(&msg);
        left--;
        w = wait_for(client->timeout_ms, NULL);
    }
    return TRUE;
}

/* Queue a copy of @cmd carrying the next id; the caller's object stays as it was. */
static void
queue_command(QmpClient *client, json_object *cmd)
{
    g_autoptr(json_object) copy = json_object_new_object();
    const char *text;

    json_object_object_foreach(cmd, key, value) {
        if (strcmp(key, "id") != 0)
            json_object_object_add(copy, key, json_object_get(value));
    }
    json_object_object_add(copy, "id", json_object_new_int64(client->next_id++));
    text = json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    g_byte_array_append(client->out, (const guint8 *)text, strlen(text));
    g_byte_array_append(client->out, (const guint8 *)"\n", 1);
}

/* Fail fast once the connection is known to be unusable. */
static gboolean
usable(QmpClient *client, GError **error)
{
    if (!client->broken)
        return TRUE;
    g_set_error(error, QMP_ERROR, client->broken->code,
                "the QMP connection is unusable after an earlier error: %s",
                client->broken->message);
    return FALSE;
}

/* A transport error: remember it, hang up (QEMU may still be answering) and report it. */
static gboolean
fail(QmpClient *client, GError *local, GError **error)
{
    client->broken = g_error_copy(local);
    g_socket_close(client->socket, NULL);
    g_propagate_error(error, local);
    return FALSE;
}

gboolean
qmp_client_execute_many(QmpClient *client, json_object *const *cmds, guint n,
                        json_object **replies, GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 first_id = client->next_id;

    g_return_val_if_fail(!client->dispatching, FALSE);
    for (guint i = 0; i < n; i++)
        replies[i] = NULL;
    for (guint i = 0; i < n; i++)
        g_return_val_if_fail(json_object_is_type(cmds[i], json_type_object), FALSE);
    if (!usable(client, error))
        return FALSE;
    for (guint i = 0; i < n; i++)
        queue_command(client, cmds[i]);
    if (!collect(client, cmds, n, first_id, replies, &local))
        return fail(client, g_steal_pointer(&local), error);
    return TRUE;
}

json_object *
qmp_client_execute(QmpClient *client, json_object *cmd, GError **error)
{
    g_autoptr(json_object) reply = NULL;

    if (!qmp_client_execute_many(client, &cmd, 1, &reply, error))
        return NULL;
    return qmp_reply_take_return(reply, error);
}

gboolean
qmp_client_wait_event_cancellable(QmpClient *client, gint64 deadline,
                                  GCancellable *cancellable, GError **error)
{
    Wait w = { deadline, deadline - g_get_monotonic_time(), NULL, "a QMP event", cancellable };
    g_autoptr(GError) local = NULL;
    g_autoptr(json_object) msg = NULL;
    guint slot;

    g_return_val_if_fail(!client->dispatching, FALSE);
    if (!usable(client, error))
        return FALSE;
    if (!(msg = next_message(client, &w, &local))) {
        /* No event yet is an answer, not a broken connection; nor is the caller's giving up
         * (nothing was half read: messages are taken whole). */
        if (g_error_matches(local, QMP_ERROR, QMP_ERROR_TIMEOUT) ||
            g_error_matches(local, QMP_ERROR, QMP_ERROR_CANCELLED)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        return fail(client, g_steal_pointer(&local), error);
    }
    if (!is_event(msg)) {
        /* Every command has been answered, so any reply is a stray one. */
        match_reply(msg, 0, 0, NULL, &slot, &local);
        return fail(client, g_steal_pointer(&local), error);
    }
    dispatch(client, msg);
    return TRUE;
}

gboolean
qmp_client_wait_event(QmpClient *client, gint64 deadline, GError **error)
{
    return qmp_client_wait_event_cancellable(client, deadline, NULL, error);
}

/* {"QMP": {"capabilities": ["oob", …], …}}: the only part of the greeting read. */
static json_object *
greeting_capabilities(json_object *greeting)
{
    json_object *caps = json_object_object_get(json_object_object_get(greeting, "QMP"),
                                               "capabilities");

    return json_object_is_type(caps, json_type_array) ? caps : NULL;
}

/* Whether the capabilities are a list of names, as QEMU sends them. */
static gboolean
greeting_valid(json_object *greeting)
{
    json_object *caps = greeting_capabilities(greeting);

    for (size_t i = 0; caps && i < json_object_array_length(caps); i++) {
        if (!json_object_is_type(json_object_array_get_idx(caps, i), json_type_string))
            return FALSE;
    }
    return caps != NULL;
}

/* No greeting: say why, as far as the client can tell.  QEMU leaves a second client waiting,
 * silent, until the first leaves; a socket that is not a monitor is silent (SPICE waits for its
 * client to speak first) or speaks something else at once (VNC, an HMP monitor, binary). */
static gboolean
no_greeting(QmpClient *client, GError *cause, GError **error)
{
    g_autofree char *first = NULL;

    if (g_error_matches(cause, QMP_ERROR, QMP_ERROR_TIMEOUT)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_TIMEOUT, "%s: another client may hold the "
                    "monitor (QEMU serves one client at a time), or this is not a QMP monitor",
                    cause->message);
    } else if (g_error_matches(cause, QMP_ERROR, QMP_ERROR_PROTOCOL) ||
               g_error_matches(cause, QMP_ERROR, QMP_ERROR_TOO_BIG)) {
        first = qmp_escape_bytes(client->first, client->first_len);
        g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "probably not a QMP monitor: it began with '%s%s' (%s)", first,
                    client->first_len == FIRST_BYTES ? "…" : "", cause->message);
    } else {
        g_propagate_error(error, g_steal_pointer(&cause));
    }
    g_clear_error(&cause);
    return FALSE;
}

/* Read the greeting (by @deadline) and leave capabilities negotiation mode. */
static gboolean
handshake(QmpClient *client, gint64 deadline, GError **error)
{
    Wait w = { deadline, (gint64)client->timeout_ms * 1000, NULL, "the QMP greeting", NULL };
    g_autoptr(json_object) greeting = NULL;
    g_autoptr(json_object) cmd = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(json_object) ret = NULL;
    g_autoptr(GError) local = NULL;

    if (!(greeting = next_message(client, &w, &local)))
        return no_greeting(client, g_steal_pointer(&local), error);
    if (!json_object_is_type(json_object_object_get(greeting, "QMP"), json_type_object))
        return protocol_error("the peer is not a QMP monitor, it greeted with", greeting, error);
    if (!greeting_valid(greeting))
        return protocol_error("unexpected QMP greeting (its capabilities are not a list of "
                              "names)", greeting, error);
    client->greeting = g_steal_pointer(&greeting);
    cmd = qmp_cmd_capabilities(qmp_greeting_offers_oob(client->greeting));
    if (!qmp_client_execute_many(client, &cmd, 1, &reply, error))
        return FALSE;
    if (!(ret = qmp_reply_take_return(reply, &local))) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "QEMU refused QMP capabilities negotiation: %s", local->message);
        return FALSE;
    }
    return TRUE;
}

QmpClient *
qmp_client_connect(const char *address, guint timeout_ms, GError **error)
{
    g_autoptr(QmpClient) client = g_new0(QmpClient, 1);
    /* One deadline for reaching the monitor: a wait for another client to leave it ends up
     * in the connect or in the wait for the greeting, whichever QEMU's queue makes it. */
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    client->address = g_strdup(address);
    client->parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_queue_init(&client->inbox);
    client->out = g_byte_array_new();
    client->buf = g_malloc(READ_SIZE);
    client->timeout_ms = timeout_ms;
    client->next_id = 1;

    if (!(client->conn = qmp_address_connect(address, deadline, error)))
        return NULL;
    client->socket = g_socket_connection_get_socket(client->conn);
    g_socket_set_timeout(client->socket, 0);
    g_socket_set_blocking(client->socket, FALSE);
    if (!handshake(client, deadline, error)) {
        g_autofree char *shown = qmp_escape(address);

        g_prefix_error(error, "QMP socket '%s': ", shown);
        return NULL;
    }
    return g_steal_pointer(&client);
}

void
qmp_client_free(QmpClient *client)
{
    if (!client)
        return;
    g_clear_object(&client->conn);
    qmp_parser_free(client->parser);
    g_queue_clear_full(&client->inbox, qmp_json_free);
    g_byte_array_unref(client->out);
    g_free(client->buf);
    json_object_put(client->greeting);
    g_clear_error(&client->broken);
    g_free(client->address);
    g_free(client);
}

const GError *
qmp_client_get_error(QmpClient *client)
{
    return client->broken;
}

json_object *
qmp_client_get_greeting(QmpClient *client)
{
    return client->greeting;
}

void
qmp_client_set_timeout(QmpClient *client, guint timeout_ms)
{
    client->timeout_ms = timeout_ms;
}

void
qmp_client_set_event_handler(QmpClient *client, QmpEventFunc func, gpointer user_data)
{
    client->event_func = func;
    client->event_data = user_data;
}

json_object *
qmp_reply_take_return(json_object *reply, GError **error)
{
    json_object *value;

    if (json_object_object_get_ex(reply, "return", &value)) {
        if (value)
            return json_object_get(value);
        g_set_error_literal(error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QEMU returned null");
        return NULL;
    }
    if (json_object_object_get_ex(reply, "error", &value)) {
        json_object *desc = json_object_object_get(value, "desc");

        g_set_error_literal(error, QMP_ERROR, QMP_ERROR_COMMAND,
                            json_object_is_type(desc, json_type_string)
                                ? json_object_get_string(desc)
                                : "QEMU reported an error without a description");
        return NULL;
    }
    g_set_error_literal(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "a QMP reply has neither \"return\" nor \"error\"");
    return NULL;
}

gboolean
qmp_greeting_offers_oob(json_object *greeting)
{
    json_object *caps = greeting_capabilities(greeting);

    for (size_t i = 0; caps && i < json_object_array_length(caps); i++) {
        json_object *cap = json_object_array_get_idx(caps, i);

        if (json_object_is_type(cap, json_type_string) &&
            g_str_equal(json_object_get_string(cap), "oob"))
            return TRUE;
    }
    return FALSE;
}

const char *
qmp_reply_error_class(json_object *reply)
{
    json_object *err;
    json_object *klass;

    if (!json_object_object_get_ex(reply, "error", &err) ||
        !json_object_object_get_ex(err, "class", &klass) ||
        !json_object_is_type(klass, json_type_string))
        return NULL;
    return json_object_get_string(klass);
}
