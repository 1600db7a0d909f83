/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A QMP proxy: to any number of clients it is QEMU's monitor, plus the commands it is given. */
#pragma once

#include "qmp.h"

G_BEGIN_DECLS

typedef struct _QmpProxy QmpProxy;
typedef struct _QmpProxyRequest QmpProxyRequest;

/* A command the proxy answers itself; it must call qmp_proxy_reply() exactly once, at any
 * later time, from the proxy's thread. */
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
 * when QEMU goes away, after every client has been closed. */
QmpProxy *qmp_proxy_new(GSocket *upstream, QmpProxyLostFunc on_lost, gpointer user_data);
void qmp_proxy_free(QmpProxy *proxy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpProxy, qmp_proxy_free)

/* Accept clients on the listening socket @listener. */
void qmp_proxy_listen(QmpProxy *proxy, GSocket *listener);
/* Serve one client already connected on @sock. */
void qmp_proxy_add_client(QmpProxy *proxy, GSocket *sock);

void qmp_proxy_add_command(QmpProxy *proxy, const char *name, QmpProxyHandler handler,
                           gpointer user_data);
void qmp_proxy_add_filter(QmpProxy *proxy, const char *command, QmpProxyFilter filter,
                          gpointer user_data);
void qmp_proxy_add_event_listener(QmpProxy *proxy, QmpProxyEventFunc func, gpointer user_data);

/* Answer @request with @ret (transfer full) or QEMU-style @error class and text. */
void qmp_proxy_reply(QmpProxyRequest *request, json_object *ret, const char *error_class,
                     const char *error_desc);

/* Send one command of the proxy's own to QEMU (borrowed); @func gets the whole reply. */
void qmp_proxy_execute(QmpProxy *proxy, json_object *cmd, QmpProxyReplyFunc func,
                       gpointer user_data);

/* The number of clients connected; for tests and logs. */
guint qmp_proxy_count_clients(QmpProxy *proxy);

G_END_DECLS
