/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transport over a QMP proxy's upstream connection, for a worker thread: commands are sent
 * from the proxy's thread, and the worker waits for their replies and for DEVICE_DELETED. */
#include "config.h"

#include "qmp-service.h"
#include "svc-private.h"

typedef struct {
    QmpProxy *proxy;
    GMainContext *context;    /* the proxy's thread */
    SvcDeletions events;      /* its lock guards the slots' replies too */
} ProxyTransport;

/* One command of a batch; the worker waits until every one is answered. */
typedef struct {
    ProxyTransport *t;
    json_object *cmd;
    SvcReply *reply;
    guint *left;
} Slot;

static void
on_event(const char *name, json_object *event, gpointer user_data)
{
    ProxyTransport *t = user_data;

    if (g_strcmp0(name, "DEVICE_DELETED") == 0)
        svc_deletions_add(&t->events, json_object_object_get(event, "data"));
}

static void
on_reply(json_object *reply, GError *error, gpointer user_data)
{
    Slot *slot = user_data;
    SvcDeletions *events = &slot->t->events;

    if (!reply)
        svc_deletions_end(events, error->message);
    g_mutex_lock(&events->lock);
    if (reply)
        svc_reply_set(slot->reply, reply);
    (*slot->left)--;
    g_cond_broadcast(&events->changed);
    g_mutex_unlock(&events->lock);
}

/* In the proxy's thread: all of the batch goes upstream at once. */
static gboolean
send_slot(gpointer data)
{
    Slot *slot = data;

    qmp_proxy_execute(slot->t->proxy, slot->cmd, on_reply, slot);
    return G_SOURCE_REMOVE;
}

static gboolean
transport_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
              GError **error)
{
    ProxyTransport *t = impl;
    g_autofree Slot *slots = g_new0(Slot, MAX(n, 1));
    guint left = n;
    gboolean ok;

    svc_deletions_reset(&t->events);
    for (guint i = 0; i < n; i++) {
        slots[i] = (Slot){ t, cmds[i], &replies[i], &left };
        g_main_context_invoke(t->context, send_slot, &slots[i]);
    }
    g_mutex_lock(&t->events.lock);
    while (left)
        g_cond_wait(&t->events.changed, &t->events.lock);
    ok = !t->events.ended;
    if (!ok)
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TRANSPORT, t->events.ended);
    g_mutex_unlock(&t->events.lock);
    return ok;
}

static gboolean
transport_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    ProxyTransport *t = impl;

    return svc_deletions_wait(&t->events, pending, deadline, error);
}

static void
transport_free(gpointer impl)
{
    ProxyTransport *t = impl;

    svc_deletions_clear(&t->events);
    g_main_context_unref(t->context);
    g_free(t);
}

static const SvcTransportOps proxy_ops = {
    .run = transport_run,
    .wait_deleted = transport_wait_deleted,
    .free = transport_free,
};

SvcVm *
svc_vm_new_proxy(QmpProxy *proxy)
{
    ProxyTransport *t = g_new0(ProxyTransport, 1);

    t->proxy = proxy;
    t->context = g_main_context_ref_thread_default();
    svc_deletions_init(&t->events);
    qmp_proxy_add_event_listener(proxy, on_event, t);
    return svc_vm_new(&proxy_ops, t);
}
