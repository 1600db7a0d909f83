/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP proxy's connections, clients and upstream state, shared by its two halves. */
#pragma once

#include <gio/gunixfdlist.h>

#include "proxy.h"

G_BEGIN_DECLS

#define READ_SIZE (64 * 1024)
/* A client that leaves this much unread is dropped rather than let it hold the others up. */
#define CLIENT_BACKLOG_MAX (64 * 1024 * 1024)

/* Fds that go with the queued bytes from @offset on. */
typedef struct {
    gsize offset;
    GUnixFDList *fds;
} FdMark;

/* One end of a stream: reads dispatched as they come; writes go out at once, what the socket
 * does not take is queued until it is writable. */
typedef struct {
    GSocket *sock;
    GSource *in;
    GSource *out;
    GByteArray *queued;
    GArray *marks;            /* FdMark, by offset */
} Conn;

typedef struct {
    QmpProxy *proxy;
    Conn conn;
    QmpParser *parser;
    GUnixFDList *fds;         /* the last fds the client sent, for its next command to QEMU */
    gboolean negotiated;
    gboolean closed;
    gint refs;
} Client;

struct _QmpProxyRequest {
    Client *client;
    json_object *id;          /* the client's, or NULL */
};

/* A command sent upstream (or held back), waiting for its reply. */
typedef struct {
    guint up_id;              /* the proxy's id for it upstream */
    Client *client;           /* NULL for the proxy's own */
    json_object *id;
    char *command;
    QmpProxyReplyFunc func;
    gpointer data;
} Pending;

/* A command held back until QEMU has taken the fds sent before it. */
typedef struct {
    json_object *cmd;
    Pending *pending;
    GUnixFDList *fds;
} Held;

typedef struct {
    QmpProxyHandler handler;
    gpointer data;
} Command;

typedef struct {
    QmpProxyFilter filter;
    gpointer data;
} Filter;

typedef struct {
    QmpProxyEventFunc func;
    gpointer data;
} Listener;

typedef enum { UP_GREETING, UP_NEGOTIATING, UP_READY, UP_LOST } UpState;

struct _QmpProxy {
    GMainContext *context;
    Conn up;
    QmpParser *up_parser;
    UpState state;
    char *greeting;           /* QEMU's, as clients get it */
    char *read_buf;           /* READ_SIZE, for every read: no callback runs a nested loop */
    GHashTable *pending;      /* upstream id (GUINT_TO_POINTER) -> Pending */
    guint lowest_free;        /* every upstream id below it is pending */
    Pending *fds_unanswered;  /* the last command sent with fds, until QEMU answers it */
    GQueue *held;             /* Held, in order */
    GPtrArray *clients;
    GSocket *listener;
    GSource *accepting;
    GHashTable *commands;
    GHashTable *filters;
    GArray *listeners;
    QmpProxyLostFunc on_lost;
    gpointer lost_data;
};

/* streams */
G_GNUC_INTERNAL void proxy_conn_open(QmpProxy *proxy, Conn *conn, GSocket *sock,
                                     GSocketSourceFunc on_read, gpointer data);
G_GNUC_INTERNAL void proxy_conn_close(Conn *conn);
G_GNUC_INTERNAL gboolean proxy_conn_read(Conn *conn, char *buf, gssize *n, GUnixFDList **fds,
                                         char **reason);
G_GNUC_INTERNAL void proxy_conn_send(QmpProxy *proxy, Conn *conn, const char *data, gsize len);
G_GNUC_INTERNAL void proxy_conn_write(QmpProxy *proxy, Conn *conn, json_object *msg,
                                      GUnixFDList *fds);

/* upstream (proxy.c) */
G_GNUC_INTERNAL void proxy_forward(QmpProxy *proxy, json_object *cmd, Pending *p,
                                   GUnixFDList *fds);

/* clients (proxy-client.c) */
G_GNUC_INTERNAL void proxy_client_send(Client *c, json_object *msg);
G_GNUC_INTERNAL void proxy_client_error(Client *c, const char *klass, const char *desc,
                                        json_object *id);
G_GNUC_INTERNAL void proxy_client_close(Client *c);
G_GNUC_INTERNAL void proxy_client_unref(Client *c);
G_GNUC_INTERNAL gboolean proxy_on_accept(GSocket *sock, GIOCondition cond, gpointer data);

G_END_DECLS
