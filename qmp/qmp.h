/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP wire protocol: message framing, a synchronous client, typed command builders. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* json_object_put as a GDestroyNotify, for containers of json objects. */
static inline void
qmp_json_free(gpointer obj)
{
    json_object_put(obj);
}

#define QMP_ERROR qmp_error_quark()
GQuark qmp_error_quark(void);

typedef enum {
    QMP_ERROR_CONNECT,        /* the monitor cannot be reached */
    QMP_ERROR_PROTOCOL,       /* the peer broke the protocol: bad JSON, no greeting, stray id */
    QMP_ERROR_TOO_BIG,        /* a message exceeded the size limit */
    QMP_ERROR_CLOSED,         /* the peer closed the connection */
    QMP_ERROR_TIMEOUT,        /* no answer before the deadline */
    QMP_ERROR_COMMAND,        /* QEMU answered with an error; the message is its "desc" */
    QMP_ERROR_SCHEMA,         /* a QAPI schema file is malformed */
    QMP_ERROR_ARGUMENT,       /* arguments do not match a QAPI schema; the message is QEMU's wording */
    QMP_ERROR_CANCELLED,      /* the caller's cancellable ended a wait for an event */
} QmpErrorCode;

/* Largest QMP message accepted from QEMU; query-qmp-schema of QEMU 7.2 is about 200 KiB. */
#define QMP_MAX_MESSAGE (16 * 1024 * 1024)

/* What QEMU's own JSON parser accepts in one message (MAX_NESTING, MAX_TOKEN_SIZE and
 * MAX_TOKEN_COUNT of QEMU 7.2's qobject/json-streamer.c): containers nested 1024 deep, tokens
 * of 64 MiB in all less one byte, 2 Mi tokens.  Whitespace is no token and costs nothing. */
#define QMP_MAX_NESTING 1024
#define QMP_MAX_TOKEN_BYTES (64 * 1024 * 1024)
#define QMP_MAX_TOKENS (2 * 1024 * 1024)

/* ---- framing: bytes in, whole JSON objects out ----------------------- */

typedef struct _QmpParser QmpParser;

QmpParser *qmp_parser_new(gsize max_message);
void qmp_parser_free(QmpParser *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpParser, qmp_parser_free)

/* Consume @len bytes.  Each complete message (a JSON object) is appended to @messages, which
 * must free with json_object_put.  Bytes between messages may be any JSON whitespace (CRLF
 * included).  On a malformed message, one over @max_message bytes or over QEMU's limits
 * (QMP_ERROR_TOO_BIG, with QEMU's words), FALSE is returned, the parser is reset and the rest
 * of @data is dropped; messages completed before it are still appended. */
gboolean qmp_parser_feed(QmpParser *parser, const char *data, gsize len,
                         GPtrArray *messages, GError **error);

/* For a proxy's clients: consume @data up to the end of the first message (*message, a new
 * reference) or error (@error), and return how many bytes were taken; the caller feeds the
 * rest when it is ready for the next message.  After an error, parsing starts again on the
 * next line, so that a client gets one error for a broken line, as from QEMU, and stays
 * connected. */
gsize qmp_parser_feed_one(QmpParser *parser, const char *data, gsize len, json_object **message,
                          GError **error);
/* qmp_parser_feed_one() over all of @data: each message to @messages, each error (a GError) to
 * @errors. */
void qmp_parser_feed_each(QmpParser *parser, const char *data, gsize len, GPtrArray *messages,
                          GPtrArray *errors);

/* TRUE when part of a message has been consumed but not yet completed. */
gboolean qmp_parser_in_message(const QmpParser *parser);
/* Bytes of the message consumed but not yet completed. */
gsize qmp_parser_pending(const QmpParser *parser);

/* ---- addresses (address.c) ------------------------------------------- */

/* A unix socket path longer than sun_path holds (107 bytes) is refused with
 * G_IO_ERROR_FILENAME_TOO_LONG, an empty one with G_IO_ERROR_INVALID_ARGUMENT: GLib would cut
 * it short without a word and reach, or make, another socket.  Every socket path goes through
 * this check.  The message does not repeat the path: the caller says which it is. */
gboolean qmp_check_unix_path(const char *path, GError **error);
/* The address of @path, checked as qmp_check_unix_path() does. */
GSocketAddress *qmp_unix_address_new(const char *path, GError **error);
/* @address as qmp_client_connect() takes it: a unix socket path, "unix:PATH", "HOST:PORT" or
 * "tcp:HOST:PORT". */
GSocketConnectable *qmp_address_parse(const char *address, GError **error);
/* A connection to the monitor at @address.  A unix socket whose queue of waiting clients is
 * full (another client holds the monitor: QEMU serves one at a time) is tried again until the
 * monotonic @deadline, then QMP_ERROR_TIMEOUT; anything else that fails is QMP_ERROR_CONNECT. */
GSocketConnection *qmp_address_connect(const char *address, gint64 deadline, GError **error);

/* ---- text for messages (text.c) ---------------------------------------- */

/* @text (a name, a path, a peer's words) to show between quotes in a one-line message:
 * control characters and bytes that are not UTF-8 as C escapes (a newline as \n, ESC as
 * \x1b), a backslash as \\ and a quote as \'. */
char *qmp_escape(const char *text);
/* The same for @len bytes that may hold NULs, as a peer sent them. */
char *qmp_escape_bytes(const char *data, gsize len);
/* A whole message made one line: control characters and bytes that are not UTF-8 escaped as
 * qmp_escape() does, the rest (names it escaped already) left as it is. */
char *qmp_escape_message(const char *message);

/* ---- client --------------------------------------------------------- */

typedef struct _QmpClient QmpClient;

/* Called for every event; @event is the whole message (borrowed).  It must not call back
 * into the client. */
typedef void (*QmpEventFunc)(const char *name, json_object *event, gpointer user_data);

/* @address: a unix socket path, "unix:PATH", or "HOST:PORT" / "tcp:HOST:PORT".  Connects and
 * reads the greeting within @timeout_ms, waiting while another client holds the monitor (QEMU
 * serves one at a time), then negotiates capabilities within @timeout_ms again.
 * QMP_ERROR_CONNECT when the socket cannot be reached; QMP_ERROR_TIMEOUT when the monitor
 * stayed busy or silent (another client holds it, or it is not a QMP monitor);
 * QMP_ERROR_PROTOCOL when the peer does not greet like QMP or refuses the negotiation.  After any error but QMP_ERROR_COMMAND (and a wait_event
 * timeout) the client is unusable: later calls fail at once with the same code. */
QmpClient *qmp_client_connect(const char *address, guint timeout_ms, GError **error);
void qmp_client_free(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* The error that made the client unusable (borrowed), or NULL while it is usable. */
const GError *qmp_client_get_error(QmpClient *client);
/* The whole greeting, {"QMP": {"version": …, "capabilities": …}} (borrowed). */
json_object *qmp_client_get_greeting(QmpClient *client);
void qmp_client_set_timeout(QmpClient *client, guint timeout_ms);
void qmp_client_set_event_handler(QmpClient *client, QmpEventFunc func, gpointer user_data);

/* Send one command (borrowed) and wait for its reply.  Returns the "return" member (a new
 * reference; an empty object for {}), or NULL and QMP_ERROR_COMMAND with QEMU's "desc". */
json_object *qmp_client_execute(QmpClient *client, json_object *cmd, GError **error);

/* Send all @n commands (borrowed) at once, then collect their replies: replies[i] receives the
 * whole reply ({"return":…} or {"error":…}, a new reference).  The client's timeout bounds the
 * wait for each reply in turn.  Events that arrive before the last reply are dispatched on the way; those
 * after it are left for the next call.  FALSE when the connection failed or timed out;
 * replies already received are kept, the others are NULL. */
gboolean qmp_client_execute_many(QmpClient *client, json_object *const *cmds, guint n,
                                 json_object **replies, GError **error);

/* Dispatch the next event to the handler, waiting for it until the monotonic @deadline (µs,
 * as g_get_monotonic_time); an event already received is dispatched at once.  FALSE with
 * QMP_ERROR_TIMEOUT when the deadline passes (the client stays usable), or another error when
 * the connection fails. */
gboolean qmp_client_wait_event(QmpClient *client, gint64 deadline, GError **error);
/* The same, ended early (QMP_ERROR_CANCELLED, the client stays usable) when @cancellable is
 * cancelled. */
gboolean qmp_client_wait_event_cancellable(QmpClient *client, gint64 deadline,
                                           GCancellable *cancellable, GError **error);

/* Turn a reply into its "return" value (new reference), or NULL and QMP_ERROR_COMMAND. */
json_object *qmp_reply_take_return(json_object *reply, GError **error);
/* Whether QEMU's @greeting offers out-of-band execution.  It is never used as such; enabling it
 * makes QEMU read ahead, up to 8 queued commands, still running them in order.  Without it
 * QEMU takes a command in one byte per main-loop pass (~5 µs a byte on QEMU 7.2) and only once
 * the one before it has run. */
gboolean qmp_greeting_offers_oob(json_object *greeting);
/* The "class" of an error reply ("GenericError", "DeviceNotFound", …), or NULL. */
const char *qmp_reply_error_class(json_object *reply);

/* ---- command builders: the only place QMP commands are spelt -------- */

/* With @oob, QEMU reads commands in its monitor thread while earlier ones run, instead of one
 * byte per main-loop pass after each command has run (see qmp_client_connect()). */
json_object *qmp_cmd_capabilities(gboolean oob);
json_object *qmp_cmd_query_chardev(void);
json_object *qmp_cmd_query_status(void);
json_object *qmp_cmd_query_qmp_schema(void);
json_object *qmp_cmd_query_commands(void);
json_object *qmp_cmd_query_spice(void);
json_object *qmp_cmd_qom_list(const char *path);
json_object *qmp_cmd_qom_get(const char *path, const char *property);
json_object *qmp_cmd_chardev_add_spicevmc(const char *id, const char *subtype);
json_object *qmp_cmd_chardev_add_spiceport(const char *id, const char *fqdn);
json_object *qmp_cmd_chardev_remove(const char *id);
/* device_add; a NULL @bus lets QEMU choose. */
json_object *qmp_cmd_device_add(const char *driver, const char *id, const char *bus);
/* A USB device at root @port of @bus (0: QEMU picks). */
json_object *qmp_cmd_device_add_usb(const char *driver, const char *id, const char *bus,
                                    guint port);
json_object *qmp_cmd_device_add_chardev(const char *driver, const char *id, const char *bus,
                                        const char *chardev);
json_object *qmp_cmd_device_add_virtio_port(const char *driver, const char *id, const char *bus,
                                            guint nr, const char *chardev, const char *name);
json_object *qmp_cmd_device_del(const char *id);
/* A small object with no side effect, for leaving a mark in a QEMU process. */
json_object *qmp_cmd_object_add_authz_simple(const char *id, const char *identity);

G_END_DECLS
