/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP proxy's connections, clients and upstream state, shared by its parts. */
#pragma once

#include <gio/gunixfdlist.h>

#include "proxy.h"

G_BEGIN_DECLS

#define READ_SIZE (64 * 1024)

/* ---- the bounds (spicevmc-qmp-proxy(8) states them; keep it in step) ---- */

/* A client's bytes read ahead of the command it is at: the proxy stops reading it there. */
#define CLIENT_UNREAD_MAX READ_SIZE
/* A client's unfinished message, beyond which it needs the proxy's one large-message budget. */
#define CLIENT_INPUT_FREE (1024 * 1024)
/* No command is taken from a client with more than this unread: replies pile up no further. */
#define CLIENT_OUT_PAUSE (64 * 1024)
/* A client with more than this unread when an event comes (events are never held back) is
 * dropped. */
#define CLIENT_OUT_MAX (1024 * 1024)
/* When what all clients leave unread passes this, the one with most is dropped. */
#define CLIENTS_OUT_MAX (64 * 1024 * 1024)
/* After a failed accept (out of fds), the listener rests this long, doubled each time. */
#define ACCEPT_BACKOFF_MIN_MS 50
#define ACCEPT_BACKOFF_MAX_MS 1000

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
    gsize *total;             /* a sum of queued bytes this conn counts in, or NULL */
    GSourceFunc drained;      /* called (with @data) once queued bytes went out of a backlog */
    gpointer data;
} Conn;

typedef struct _Client Client;

struct _QmpProxyRequest {
    Client *client;
    json_object *id;          /* the client's, or NULL */
    gint cancelled;           /* atomic: the client has gone */
};

struct _Client {
    QmpProxy *proxy;
    Conn conn;
    QmpParser *parser;
    GByteArray *unread;       /* read, not yet given to the parser, from @unread_pos */
    gsize unread_pos;
    GUnixFDList *fds;         /* the last fds the client sent, for its next command to QEMU */
    QmpProxyRequest *request; /* its command the proxy answers itself, at work */
    guint number;             /* for the log */
    gboolean negotiated;
    gboolean busy;            /* a command taken and not answered: the next waits */
    gboolean holds_budget;    /* its unfinished message is past CLIENT_INPUT_FREE */
    gboolean wants_budget;
    gboolean pumping;         /* taking its commands: a reply given meanwhile takes no more */
    gboolean sent_all;        /* it shut its writing side: closed once all is answered */
    gboolean closed;
    gint refs;
};

/* A command sent upstream (or waiting to be), until its reply. */
typedef struct {
    guint up_id;              /* the proxy's id for it upstream */
    guint handle;             /* qmp_proxy_execute()'s, for the proxy's own; else 0 */
    Client *client;           /* NULL for the proxy's own */
    json_object *id;
    char *command;
    QmpProxyReplyFunc func;   /* the proxy's own: where its reply goes */
    gpointer data;
} Pending;

/* A command waiting for its turn upstream: the proxy's own behind the one it has there, or
 * a command with fds until QEMU has answered the last one sent with fds. */
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
    char *lost;               /* why QEMU's monitor went away */
    char *greeting;           /* QEMU's, as clients get it */
    char *read_buf;           /* READ_SIZE, for every read: no callback runs a nested loop */
    GSource *greeting_timer;
    GHashTable *pending;      /* upstream id (GUINT_TO_POINTER) -> Pending */
    guint lowest_free;        /* every upstream id below it is pending */
    Pending *fds_unanswered;  /* the last command sent with fds, until QEMU answers it */
    GQueue *held;             /* Held with fds, in order */
    GQueue *own;              /* Held: the proxy's own commands after the one upstream */
    gboolean own_busy;        /* one of the proxy's own commands is upstream */
    guint next_handle;
    GPtrArray *clients;
    guint clients_seen;
    guint max_clients;
    gsize out_total;          /* bytes all clients leave unread */
    Client *budget_holder;
    GQueue *budget_waiters;   /* Client, referenced */
    gboolean shut;            /* no new client, no new command */
    GSocket *listener;
    GSource *accepting;
    GSource *backoff;
    guint backoff_ms;
    GHashTable *commands;
    GHashTable *filters;
    GArray *listeners;
    QmpProxyLostFunc on_lost;
    gpointer lost_data;
};

/* streams (proxy-conn.c) */
G_GNUC_INTERNAL void proxy_conn_open(QmpProxy *proxy, Conn *conn, GSocket *sock,
                                     GSocketSourceFunc on_read, gpointer data);
G_GNUC_INTERNAL void proxy_conn_read_start(QmpProxy *proxy, Conn *conn,
                                           GSocketSourceFunc on_read, gpointer data);
G_GNUC_INTERNAL void proxy_conn_read_stop(Conn *conn);
G_GNUC_INTERNAL void proxy_conn_close(Conn *conn);
G_GNUC_INTERNAL gboolean proxy_conn_read(Conn *conn, char *buf, gsize size, gssize *n,
                                         GUnixFDList **fds, char **reason);
G_GNUC_INTERNAL void proxy_conn_send(QmpProxy *proxy, Conn *conn, const char *data, gsize len);
G_GNUC_INTERNAL void proxy_conn_write(QmpProxy *proxy, Conn *conn, json_object *msg,
                                      GUnixFDList *fds);

/* upstream (proxy.c) */
G_GNUC_INTERNAL void proxy_forward(QmpProxy *proxy, json_object *cmd, Pending *p,
                                   GUnixFDList *fds);
G_GNUC_INTERNAL void proxy_pending_free(Pending *p);
G_GNUC_INTERNAL void proxy_held_free(Held *h);

/* clients (proxy-client.c) */
G_GNUC_INTERNAL void proxy_client_send(Client *c, json_object *msg);
G_GNUC_INTERNAL void proxy_client_send_event(Client *c, json_object *event);
G_GNUC_INTERNAL void proxy_client_error(Client *c, const char *klass, const char *desc,
                                        json_object *id);
G_GNUC_INTERNAL void proxy_client_answered(Client *c);
G_GNUC_INTERNAL void proxy_client_close(Client *c, const char *why);
G_GNUC_INTERNAL void proxy_client_unref(Client *c);
G_GNUC_INTERNAL void proxy_client_stop_reading(Client *c);
G_GNUC_INTERNAL void proxy_start_accepting(QmpProxy *proxy);
G_GNUC_INTERNAL void proxy_stop_accepting(QmpProxy *proxy);
G_GNUC_INTERNAL void proxy_check_total(QmpProxy *proxy);

G_END_DECLS
