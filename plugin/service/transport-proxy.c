/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transport over a QMP proxy's upstream connection, for a worker thread: commands are sent
 * from the proxy's thread, and the worker waits for their replies, each within the timeout,
 * and for DEVICE_DELETED. */
#include "config.h"

#include "qmp-service.h"
#include "svc-private.h"

struct _SvcProxyTransport {
    QmpProxy *proxy;
    GMainContext *context;    /* the proxy's thread */
    SvcDeletions events;      /* its lock guards the batches, @stalled and @timeout_ms too */
    guint timeout_ms;
    /* Why QEMU is taken to be stuck: a reply it did not give in time.  Until it answers
     * again, commands fail at once rather than wait again, so that an add's undo, and the
     * commands queued behind, are answered within the timeout too. */
    char *stalled;
    GList *batches;           /* those the proxy still has commands of */
};

typedef struct _Batch Batch;

typedef struct {
    Batch *batch;
    guint handle;
    gboolean done;            /* answered, or withdrawn unsent */
} Slot;

/* One run's commands, shared by the worker (until it returns), the proxy's thread (until every
 * command is answered or withdrawn) and what the worker asks of that thread (until it ran). */
struct _Batch {
    SvcProxyTransport *t;
    gint refs;                /* atomic */
    guint n;
    json_object **cmds;
    SvcReply *replies;        /* the worker's; NULL once it gave up waiting */
    Slot *slots;
    guint answered;
    gboolean lost;            /* a command got no reply: QEMU went away */
    gboolean proxy_done;
};

static Batch *
batch_ref(Batch *b)
{
    g_atomic_int_inc(&b->refs);
    return b;
}

static void
batch_unref(Batch *b)
{
    if (!g_atomic_int_dec_and_test(&b->refs))
        return;
    for (guint i = 0; i < b->n; i++)
        json_object_put(b->cmds[i]);
    g_free(b->cmds);
    g_free(b->slots);
    g_free(b);
}

/* Under the lock: TRUE when every command is answered or withdrawn, the first time. */
static gboolean
batch_proxy_check(Batch *b)
{
    if (b->proxy_done)
        return FALSE;
    for (guint i = 0; i < b->n; i++) {
        if (!b->slots[i].done)
            return FALSE;
    }
    b->t->batches = g_list_remove(b->t->batches, b);
    b->proxy_done = TRUE;
    return TRUE;
}

static void
on_event(const char *name, json_object *event, gpointer user_data)
{
    SvcProxyTransport *t = user_data;

    if (g_strcmp0(name, "DEVICE_DELETED") == 0)
        svc_deletions_add(&t->events, json_object_object_get(event, "data"));
}

static void
on_reply(json_object *reply, GError *error, gpointer user_data)
{
    Slot *slot = user_data;
    Batch *b = slot->batch;
    SvcProxyTransport *t = b->t;
    gboolean done;

    if (!reply)
        svc_deletions_end(&t->events, error->message);
    g_mutex_lock(&t->events.lock);
    if (reply && b->replies)
        svc_reply_set(&b->replies[slot - b->slots], reply);
    if (reply)
        g_clear_pointer(&t->stalled, g_free);
    else
        b->lost = TRUE;
    slot->done = TRUE;
    b->answered++;
    done = batch_proxy_check(b);
    g_cond_broadcast(&t->events.changed);
    g_mutex_unlock(&t->events.lock);
    if (done)
        batch_unref(b);
}

/* In the proxy's thread: the batch goes upstream, one command at a time. */
static gboolean
send_batch(gpointer data)
{
    Batch *b = data;
    QmpProxy *proxy = b->t->proxy;

    for (guint i = 0; i < b->n; i++)
        b->slots[i].handle = qmp_proxy_execute(proxy, b->cmds[i], on_reply, &b->slots[i]);
    batch_unref(b);
    return G_SOURCE_REMOVE;
}

/* In the proxy's thread, once the worker gave up: what is not upstream yet never goes. */
static gboolean
withdraw_batch(gpointer data)
{
    Batch *b = data;
    SvcProxyTransport *t = b->t;
    gboolean done;

    for (guint i = 0; i < b->n; i++) {
        if (!b->slots[i].done && b->slots[i].handle &&
            qmp_proxy_cancel(t->proxy, b->slots[i].handle))
            b->slots[i].done = TRUE;
    }
    g_mutex_lock(&t->events.lock);
    done = batch_proxy_check(b);
    g_mutex_unlock(&t->events.lock);
    if (done)
        batch_unref(b);
    batch_unref(b);
    return G_SOURCE_REMOVE;
}

static char *
format_ms(guint ms)
{
    if (ms % 1000 == 0)
        return g_strdup_printf("%u s", ms / 1000);
    return ms < 1000 ? g_strdup_printf("%u ms", ms) : g_strdup_printf("%.1f s", ms / 1000.0);
}

static const char *
command_name(json_object *cmd)
{
    const char *name = json_object_get_string(json_object_object_get(cmd, "execute"));

    return name ? name : "(unnamed command)";
}

/* Under the lock: wait for every reply, the timeout counted from the last one. */
static gboolean
wait_batch(SvcProxyTransport *t, Batch *b, GError **error)
{
    guint seen = 0;
    gint64 deadline = g_get_monotonic_time() + (gint64)t->timeout_ms * 1000;

    while (b->answered < b->n && !b->lost && !t->events.ended) {
        if (b->answered != seen) {
            seen = b->answered;
            deadline = g_get_monotonic_time() + (gint64)t->timeout_ms * 1000;
        }
        if (!g_cond_wait_until(&t->events.changed, &t->events.lock, deadline) &&
            b->answered == seen) {
            g_autofree char *span = format_ms(t->timeout_ms);

            g_free(t->stalled);
            t->stalled = g_strdup_printf("timed out after %s waiting for QEMU to answer '%s'",
                                         span, command_name(b->cmds[b->answered]));
            g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TIMEOUT, t->stalled);
            return FALSE;
        }
    }
    if (b->answered < b->n || b->lost) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TRANSPORT, t->events.ended);
        return FALSE;
    }
    return TRUE;
}

static gboolean
transport_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
              GError **error)
{
    SvcProxyTransport *t = impl;
    Batch *b;
    gboolean ok;

    g_mutex_lock(&t->events.lock);
    if (t->events.ended || t->stalled) {
        g_set_error_literal(error, SVC_ERROR,
                            t->events.ended ? SVC_ERROR_TRANSPORT : SVC_ERROR_TIMEOUT,
                            t->events.ended ? t->events.ended : t->stalled);
        g_mutex_unlock(&t->events.lock);
        return FALSE;
    }
    g_mutex_unlock(&t->events.lock);
    svc_deletions_reset(&t->events);
    if (!n)
        return TRUE;
    b = g_new0(Batch, 1);
    b->t = t;
    b->refs = 3;              /* the worker's, the proxy's thread's, send_batch()'s */
    b->n = n;
    b->cmds = g_new0(json_object *, n);
    b->slots = g_new0(Slot, n);
    b->replies = replies;
    for (guint i = 0; i < n; i++) {
        b->cmds[i] = json_object_get(cmds[i]);
        b->slots[i].batch = b;
    }
    g_mutex_lock(&t->events.lock);
    t->batches = g_list_prepend(t->batches, b);
    g_mutex_unlock(&t->events.lock);
    g_main_context_invoke(t->context, send_batch, b);

    g_mutex_lock(&t->events.lock);
    ok = wait_batch(t, b, error);
    b->replies = NULL;
    if (!ok && !b->proxy_done)
        g_main_context_invoke(t->context, withdraw_batch, batch_ref(b));
    g_mutex_unlock(&t->events.lock);
    batch_unref(b);
    return ok;
}

static gboolean
transport_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    SvcProxyTransport *t = impl;

    return svc_deletions_wait(&t->events, pending, deadline, error);
}

static void
transport_set_timeout(gpointer impl, guint timeout_ms)
{
    SvcProxyTransport *t = impl;

    g_mutex_lock(&t->events.lock);
    t->timeout_ms = timeout_ms;
    g_mutex_unlock(&t->events.lock);
}

/* In the proxy's thread, with no run at work: what the proxy still has of ours it forgets. */
static void
transport_free(gpointer impl)
{
    SvcProxyTransport *t = impl;

    qmp_proxy_remove_event_listener(t->proxy, on_event, t);
    for (GList *l = t->batches; l; l = l->next) {
        Batch *b = l->data;

        for (guint i = 0; i < b->n; i++) {
            if (!b->slots[i].done && b->slots[i].handle)
                qmp_proxy_forget(t->proxy, b->slots[i].handle);
        }
        batch_unref(b);
    }
    g_list_free(t->batches);
    svc_deletions_clear(&t->events);
    g_main_context_unref(t->context);
    g_free(t->stalled);
    g_free(t);
}

static const SvcTransportOps proxy_ops = {
    .run = transport_run,
    .wait_deleted = transport_wait_deleted,
    .set_timeout = transport_set_timeout,
    .free = transport_free,
};

SvcVm *
svc_vm_new_proxy(QmpProxy *proxy, SvcProxyTransport **transport)
{
    SvcProxyTransport *t = g_new0(SvcProxyTransport, 1);

    t->proxy = proxy;
    t->context = g_main_context_ref_thread_default();
    t->timeout_ms = SVC_DEFAULT_TIMEOUT_MS;
    svc_deletions_init(&t->events);
    qmp_proxy_add_event_listener(proxy, on_event, t);
    if (transport)
        *transport = t;
    return svc_vm_new(&proxy_ops, t);
}

void
svc_proxy_transport_end(SvcProxyTransport *t, const char *why)
{
    svc_deletions_end(&t->events, why);
}
