/* The transport over a QMP proxy's upstream connection, for a worker thread: commands are sent
 * from the proxy's thread, and the worker waits for their replies and for DEVICE_DELETED. */
#include "config.h"

#include "qmp-service.h"
#include "svc-private.h"

typedef struct {
    QmpProxy *proxy;
    GMainContext *context;    /* the proxy's thread */
    GMutex lock;
    GCond changed;
    GHashTable *deleted;      /* device ids QEMU reported deleted since the last run() */
    char *lost;               /* why QEMU went away, once it has */
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
    json_object *data, *device;

    if (g_strcmp0(name, "DEVICE_DELETED") != 0 ||
        !json_object_object_get_ex(event, "data", &data) ||
        !json_object_object_get_ex(data, "device", &device))
        return;
    g_mutex_lock(&t->lock);
    g_hash_table_add(t->deleted, g_strdup(json_object_get_string(device)));
    g_cond_broadcast(&t->changed);
    g_mutex_unlock(&t->lock);
}

static void
on_reply(json_object *reply, GError *error, gpointer user_data)
{
    Slot *slot = user_data;
    ProxyTransport *t = slot->t;
    g_autoptr(GError) qerr = NULL;

    g_mutex_lock(&t->lock);
    if (reply) {
        slot->reply->ret = qmp_reply_take_return(reply, &qerr);
        if (qerr)
            slot->reply->error = g_error_new_literal(
                SVC_ERROR,
                g_strcmp0(qmp_reply_error_class(reply), "DeviceNotFound") == 0
                    ? SVC_ERROR_NOT_FOUND : SVC_ERROR_QEMU,
                qerr->message);
    } else if (!t->lost) {
        t->lost = g_strdup(error->message);
    }
    (*slot->left)--;
    g_cond_broadcast(&t->changed);
    g_mutex_unlock(&t->lock);
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
lost(ProxyTransport *t, GError **error)
{
    g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TRANSPORT, t->lost);
    return FALSE;
}

static gboolean
transport_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
              GError **error)
{
    ProxyTransport *t = impl;
    g_autofree Slot *slots = g_new0(Slot, MAX(n, 1));
    guint left = n;

    g_mutex_lock(&t->lock);
    g_hash_table_remove_all(t->deleted);
    g_mutex_unlock(&t->lock);
    for (guint i = 0; i < n; i++) {
        slots[i] = (Slot){ t, cmds[i], &replies[i], &left };
        g_main_context_invoke(t->context, send_slot, &slots[i]);
    }
    g_mutex_lock(&t->lock);
    while (left)
        g_cond_wait(&t->changed, &t->lock);
    g_mutex_unlock(&t->lock);
    return t->lost ? lost(t, error) : TRUE;
}

static gboolean
transport_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    ProxyTransport *t = impl;
    gboolean ok = TRUE;

    g_mutex_lock(&t->lock);
    for (;;) {
        svc_pending_drop(pending, t->deleted);
        if (!g_hash_table_size(pending))
            break;
        if (t->lost) {
            ok = lost(t, error);
            break;
        }
        if (!g_cond_wait_until(&t->changed, &t->lock, deadline))
            break;
    }
    g_mutex_unlock(&t->lock);
    return ok;
}

static void
transport_free(gpointer impl)
{
    ProxyTransport *t = impl;

    g_hash_table_unref(t->deleted);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->changed);
    g_main_context_unref(t->context);
    g_free(t->lost);
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
    g_mutex_init(&t->lock);
    g_cond_init(&t->changed);
    t->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    qmp_proxy_add_event_listener(proxy, on_event, t);
    return svc_vm_new(&proxy_ops, t);
}
