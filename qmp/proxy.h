/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A QMP proxy: to any number of clients it is QEMU's monitor, plus the commands it is given. */
#pragma once

#include "qmp.h"

G_BEGIN_DECLS

typedef struct _QmpProxy QmpProxy;
typedef struct _QmpProxyRequest QmpProxyRequest;

/* A command the proxy answers itself; it must call qmp_proxy_reply() exactly once, at any
 * later time, from the proxy's thread.  The client sends nothing more meanwhile, as with a
 * command of QEMU's. */
typedef void (*QmpProxyHandler)(QmpProxy *proxy, QmpProxyRequest *request, const char *command,
                                json_object *arguments, gpointer user_data);
/* Rewrites QEMU's "return" of a client's command before the client sees it (transfer full in,
 * transfer full out). */
typedef json_object *(*QmpProxyFilter)(json_object *ret, gpointer user_data);
typedef void (*QmpProxyEventFunc)(const char *name, json_object *event, gpointer user_data);
/* @reply is QEMU's whole reply, or NULL with @error when QEMU went away first. */
typedef void (*QmpProxyReplyFunc)(json_object *reply, GError *error, gpointer user_data);
typedef void (*QmpProxyLostFunc)(const char *reason, gpointer user_data);

/* Take over the QMP connection @upstream (connected, QEMU's greeting not read yet), reading
 * the greeting and negotiating in the thread-default main context.  @on_lost is called once
 * when QEMU goes away (or does not greet in time), after every command waiting for it has been
 * answered with an error; the clients stay until the proxy is freed, to read their answers. */
QmpProxy *qmp_proxy_new(GSocket *upstream, QmpProxyLostFunc on_lost, gpointer user_data);
void qmp_proxy_free(QmpProxy *proxy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpProxy, qmp_proxy_free)

/* QEMU must greet within @timeout_ms, else the proxy is lost with a message naming @name (the
 * monitor's path) and its likely cause; before the loop runs. */
void qmp_proxy_set_greeting_timeout(QmpProxy *proxy, guint timeout_ms, const char *name);
#define QMP_PROXY_DEFAULT_MAX_CLIENTS 64
/* At most @max_clients at a time (0: QMP_PROXY_DEFAULT_MAX_CLIENTS); the next wait in the
 * listener's queue. */
void qmp_proxy_set_max_clients(QmpProxy *proxy, guint max_clients);

/* Take no new client and no new command; what is at work goes on. */
void qmp_proxy_shutdown(QmpProxy *proxy);
/* Answer every command still waiting for QEMU with @reason (clients get a GenericError, the
 * proxy's own commands a QMP_ERROR_CLOSED). */
void qmp_proxy_fail_pending(QmpProxy *proxy, const char *reason);
/* Turn the proxy's loop until every client has been sent what is queued for it, or
 * @timeout_ms passed. */
void qmp_proxy_flush(QmpProxy *proxy, guint timeout_ms);

/* Accept clients on the listening socket @listener. */
void qmp_proxy_listen(QmpProxy *proxy, GSocket *listener);
/* Serve one client already connected on @sock. */
void qmp_proxy_add_client(QmpProxy *proxy, GSocket *sock);

void qmp_proxy_add_command(QmpProxy *proxy, const char *name, QmpProxyHandler handler,
                           gpointer user_data);
void qmp_proxy_add_filter(QmpProxy *proxy, const char *command, QmpProxyFilter filter,
                          gpointer user_data);
void qmp_proxy_add_event_listener(QmpProxy *proxy, QmpProxyEventFunc func, gpointer user_data);
void qmp_proxy_remove_event_listener(QmpProxy *proxy, QmpProxyEventFunc func,
                                     gpointer user_data);

/* An event of the proxy's own (@data, transfer full, may be NULL), stamped and shaped as
 * QEMU's, to its event listeners and to every client as QEMU's events go: a client that
 * leaves too much unread is dropped. */
void qmp_proxy_emit_event(QmpProxy *proxy, const char *name, json_object *data);

/* Answer @request with @ret (transfer full) or QEMU-style @error class and text. */
void qmp_proxy_reply(QmpProxyRequest *request, json_object *ret, const char *error_class,
                     const char *error_desc);
/* TRUE once the client of @request has gone; any thread. */
gboolean qmp_proxy_request_cancelled(QmpProxyRequest *request);

/* Send one command of the proxy's own to QEMU (borrowed); @func gets the whole reply.  The
 * proxy's own commands go one at a time, each once the one before is answered.  Returns a
 * handle for qmp_proxy_cancel(). */
guint qmp_proxy_execute(QmpProxy *proxy, json_object *cmd, QmpProxyReplyFunc func,
                        gpointer user_data);
/* Withdraw the command of @handle if it has not gone upstream yet: TRUE, and its @func is
 * never called.  FALSE when it is upstream (or answered): its @func is called as usual. */
gboolean qmp_proxy_cancel(QmpProxy *proxy, guint handle);
/* @func will never be called for the command of @handle: withdrawn, or its reply dropped. */
void qmp_proxy_forget(QmpProxy *proxy, guint handle);

/* For a program that runs a proxy: its log messages (g_message…) become one line each on
 * standard error, "PRGNAME: text", a line repeated within 5 s is counted rather than written,
 * at most 50 lines go out every 5 s, and a write that would block is dropped (and counted)
 * rather than wait: a log must never stop the proxy.  Process-wide; call once, early. */
void qmp_proxy_log_install(const char *prgname);
/* "PRGNAME: error: …" on standard error the same way, never held back as repeated. */
void qmp_proxy_log_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* The number of clients connected; for tests and logs. */
guint qmp_proxy_count_clients(QmpProxy *proxy);

G_END_DECLS
