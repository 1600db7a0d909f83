/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VM as libspicevmc sees it: a transport to its QMP monitor and a timeout. */
#include "config.h"

#include "svc-private.h"

struct _SvcVm {
    const SvcTransportOps *ops;
    gpointer impl;
    guint timeout_ms;
    char *id_prefix;
    gboolean from_top;
    SvcEventSourceNew event_source;   /* NULL: the transport receives no events */
};

G_DEFINE_QUARK(svc-error-quark, svc_error)

SvcVm *
svc_vm_new(const SvcTransportOps *ops, gpointer impl)
{
    SvcVm *vm = g_new0(SvcVm, 1);

    vm->ops = ops;
    vm->impl = impl;
    vm->timeout_ms = SVC_DEFAULT_TIMEOUT_MS;
    return vm;
}

void
svc_vm_free(SvcVm *vm)
{
    if (!vm)
        return;
    if (vm->ops->free)
        vm->ops->free(vm->impl);
    g_free(vm->id_prefix);
    g_free(vm);
}

void
svc_vm_set_timeout(SvcVm *vm, guint timeout_ms)
{
    vm->timeout_ms = timeout_ms;
    if (vm->ops->set_timeout)
        vm->ops->set_timeout(vm->impl, timeout_ms);
}

gboolean
svc_timeout_ms(const char *option, double seconds, guint *timeout_ms, GError **error)
{
    /* Below a millisecond every wait would be over before it began (and round to none). */
    if (seconds >= 0.001 && seconds <= 24 * 3600) {
        *timeout_ms = (guint)(seconds * 1000 + 0.5);
        return TRUE;
    }
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                "invalid %s %g: expected seconds, from 0.001 (1 ms) to 86400 (a day)", option,
                seconds);
    return FALSE;
}

void
svc_vm_set_placement(SvcVm *vm, const char *id_prefix, gboolean from_top)
{
    g_free(vm->id_prefix);
    vm->id_prefix = g_strdup(id_prefix);
    vm->from_top = from_top;
}

void
svc_vm_set_event_source(SvcVm *vm, SvcEventSourceNew func)
{
    vm->event_source = func;
}

gpointer
svc_vm_new_event_source(SvcVm *vm, SvcEventQueue *queue, const SvcEventSourceOps **ops)
{
    return vm->event_source ? vm->event_source(vm->impl, queue, ops) : NULL;
}

const char *
svc_vm_get_id_prefix(SvcVm *vm)
{
    return vm->id_prefix;
}

gboolean
svc_vm_get_from_top(SvcVm *vm)
{
    return vm->from_top;
}

guint
svc_vm_get_timeout(SvcVm *vm)
{
    return vm->timeout_ms;
}

void
svc_replies_free(SvcReply *replies, guint n)
{
    if (!replies)
        return;
    for (guint i = 0; i < n; i++) {
        if (replies[i].ret)
            json_object_put(replies[i].ret);
        g_clear_error(&replies[i].error);
    }
    g_free(replies);
}

gboolean
svc_vm_run(SvcVm *vm, GPtrArray *cmds, SvcReply **replies, GError **error)
{
    SvcReply *out = g_new0(SvcReply, MAX(cmds->len, 1));

    if (!vm->ops->run(vm->impl, (json_object *const *)cmds->pdata, cmds->len, out, error)) {
        svc_replies_free(out, cmds->len);
        return FALSE;
    }
    *replies = out;
    return TRUE;
}

gboolean
svc_vm_wait_deleted(SvcVm *vm, GHashTable *pending, gint64 deadline, GError **error)
{
    return vm->ops->wait_deleted(vm->impl, pending, deadline, error);
}

void
svc_pending_drop(GHashTable *pending, GHashTable *deleted)
{
    GHashTableIter iter;
    gpointer id;

    g_hash_table_iter_init(&iter, pending);
    while (g_hash_table_iter_next(&iter, &id, NULL)) {
        if (g_hash_table_contains(deleted, id))
            g_hash_table_iter_remove(&iter);
    }
}

void
svc_reply_set(SvcReply *reply, json_object *raw)
{
    g_autoptr(GError) qerr = NULL;

    reply->ret = qmp_reply_take_return(raw, &qerr);
    if (qerr)
        reply->error = g_error_new_literal(
            SVC_ERROR,
            g_strcmp0(qmp_reply_error_class(raw), "DeviceNotFound") == 0 ? SVC_ERROR_NOT_FOUND
                                                                         : SVC_ERROR_QEMU,
            qerr->message);
}
