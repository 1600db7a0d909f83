/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transport over a QMP socket of QEMU's own, through the qmp/ client. */
#include "config.h"

#include "svc-private.h"

typedef struct {
    QmpClient *client;
    GHashTable *deleted;      /* device ids QEMU reported deleted since the last run() */
    SvcEventQueue *watcher;   /* every event, while the VM is watched */
} QmpTransport;

static void
on_event(const char *name, json_object *event, gpointer user_data)
{
    QmpTransport *t = user_data;
    json_object *data, *device;

    if (t->watcher)
        svc_event_queue_push_message(t->watcher, event);
    if (g_strcmp0(name, "DEVICE_DELETED") != 0)
        return;
    /* Anonymous devices and a device's internal parts come with a path only; a device that is
     * not a string is not one we wait for. */
    if (json_object_object_get_ex(event, "data", &data) &&
        json_object_object_get_ex(data, "device", &device) &&
        json_object_is_type(device, json_type_string))
        g_hash_table_add(t->deleted, g_strdup(json_object_get_string(device)));
}

static void
transport_error(GError *qmp_error, GError **error)
{
    g_set_error_literal(error, SVC_ERROR,
                        qmp_error->code == QMP_ERROR_TIMEOUT ? SVC_ERROR_TIMEOUT
                                                             : SVC_ERROR_TRANSPORT,
                        qmp_error->message);
}

static gboolean
transport_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
              GError **error)
{
    QmpTransport *t = impl;
    g_autofree json_object **raw = g_new0(json_object *, MAX(n, 1));
    g_autoptr(GError) local = NULL;
    gboolean ok;

    g_hash_table_remove_all(t->deleted);
    ok = qmp_client_execute_many(t->client, cmds, n, raw, &local);
    for (guint i = 0; i < n; i++) {
        if (!raw[i])
            continue;
        if (ok)
            svc_reply_set(&replies[i], raw[i]);
        json_object_put(raw[i]);
    }
    if (!ok)
        transport_error(local, error);
    return ok;
}

static gboolean
transport_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    QmpTransport *t = impl;

    for (;;) {
        g_autoptr(GError) local = NULL;

        svc_pending_drop(pending, t->deleted);
        if (g_hash_table_size(pending) == 0)
            return TRUE;
        if (!qmp_client_wait_event(t->client, deadline, &local)) {
            if (g_error_matches(local, QMP_ERROR, QMP_ERROR_TIMEOUT))
                return TRUE;
            transport_error(local, error);
            return FALSE;
        }
    }
}

static void
transport_set_timeout(gpointer impl, guint timeout_ms)
{
    QmpTransport *t = impl;

    qmp_client_set_timeout(t->client, timeout_ms);
}

static void
transport_free(gpointer impl)
{
    QmpTransport *t = impl;

    qmp_client_free(t->client);
    g_hash_table_unref(t->deleted);
    g_clear_pointer(&t->watcher, svc_event_queue_unref);
    g_free(t);
}

/* ---- the events of a watched VM: read from the one connection, by the watcher's thread ---- */

static gboolean
source_wait(gpointer source, gint64 deadline, GCancellable *cancellable, GError **error)
{
    QmpTransport *t = source;
    g_autoptr(GError) local = NULL;
    g_autofree char *why = NULL;
    /* What broke the connection, be it a command before this wait, or the wait. */
    const GError *broken = qmp_client_get_error(t->client);

    if (!broken) {
        if (qmp_client_wait_event_cancellable(t->client, deadline, cancellable, &local) ||
            g_error_matches(local, QMP_ERROR, QMP_ERROR_TIMEOUT))
            return TRUE;
        if (g_error_matches(local, QMP_ERROR, QMP_ERROR_CANCELLED)) {
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, local->message);
            return FALSE;
        }
        if (!(broken = qmp_client_get_error(t->client)))
            broken = local;
    }
    why = g_strdup_printf("%s: %s", g_error_matches(broken, QMP_ERROR, QMP_ERROR_TIMEOUT)
                                        ? "the VM stopped answering"
                                        : "the VM went away",
                          broken->message);
    svc_event_queue_end(t->watcher, why);
    return TRUE;
}

static void
source_free(gpointer source)
{
    QmpTransport *t = source;

    g_clear_pointer(&t->watcher, svc_event_queue_unref);
}

static const SvcEventSourceOps qmp_source_ops = {
    .wait = source_wait,
    .free = source_free,
};

static gpointer
source_new(gpointer impl, SvcEventQueue *queue, const SvcEventSourceOps **ops)
{
    QmpTransport *t = impl;

    /* One watch per VM: a second would take the first one's events. */
    g_return_val_if_fail(!t->watcher, NULL);
    t->watcher = svc_event_queue_ref(queue);
    *ops = &qmp_source_ops;
    return t;
}

static const SvcTransportOps qmp_transport_ops = {
    .run = transport_run,
    .wait_deleted = transport_wait_deleted,
    .set_timeout = transport_set_timeout,
    .free = transport_free,
};

SvcVm *
svc_vm_connect_qmp(const char *address, guint timeout_ms, GError **error)
{
    g_autoptr(GError) local = NULL;
    QmpClient *client = qmp_client_connect(address, timeout_ms, &local);
    QmpTransport *t;
    SvcVm *vm;

    if (!client) {
        transport_error(local, error);
        return NULL;
    }
    t = g_new0(QmpTransport, 1);
    t->client = client;
    t->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    qmp_client_set_event_handler(client, on_event, t);
    vm = svc_vm_new(&qmp_transport_ops, t);
    svc_vm_set_timeout(vm, timeout_ms);
    svc_vm_set_event_source(vm, source_new);
    return vm;
}
