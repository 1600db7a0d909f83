/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/events.c — QEMU's events on their way from a transport to a watcher: a bounded queue
 * any thread may feed, and the end of the stream (the VM or libvirt gone). */
#include "config.h"

#include "svc-private.h"

struct _SvcEventQueue {
    gint refs;                /* atomic */
    GMutex lock;
    GCond changed;
    GQueue events;            /* SvcRawEvent, oldest first */
    guint max;
    guint lost;               /* dropped since last asked */
    char *ended;
    gboolean cancelled;       /* the waiter's cancellable fired */
};

void
svc_raw_event_free(SvcRawEvent *e)
{
    if (!e)
        return;
    g_free(e->name);
    if (e->data)
        json_object_put(e->data);
    g_free(e);
}

SvcEventQueue *
svc_event_queue_new(guint max)
{
    SvcEventQueue *q = g_new0(SvcEventQueue, 1);

    q->refs = 1;
    q->max = MAX(max, 1);
    g_mutex_init(&q->lock);
    g_cond_init(&q->changed);
    g_queue_init(&q->events);
    return q;
}

SvcEventQueue *
svc_event_queue_ref(SvcEventQueue *q)
{
    g_atomic_int_inc(&q->refs);
    return q;
}

void
svc_event_queue_unref(SvcEventQueue *q)
{
    if (!q || !g_atomic_int_dec_and_test(&q->refs))
        return;
    g_queue_clear_full(&q->events, (GDestroyNotify)svc_raw_event_free);
    g_mutex_clear(&q->lock);
    g_cond_clear(&q->changed);
    g_free(q->ended);
    g_free(q);
}

void
svc_event_queue_push(SvcEventQueue *q, const char *name, json_object *data, gint64 time)
{
    SvcRawEvent *e = g_new0(SvcRawEvent, 1);

    e->name = g_strdup(name);
    e->data = data ? json_object_get(data) : NULL;
    e->time = time ? time : g_get_real_time();
    g_mutex_lock(&q->lock);
    /* A watcher that does not keep up loses the oldest, and is told how many. */
    while (q->events.length >= q->max) {
        svc_raw_event_free(g_queue_pop_head(&q->events));
        q->lost++;
    }
    g_queue_push_tail(&q->events, e);
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
}

/* {"seconds": S, "microseconds": U} as QEMU stamps its events, or 0 when it is not one. */
static gint64
message_time(json_object *message)
{
    json_object *stamp, *seconds, *micros;

    if (!json_object_object_get_ex(message, "timestamp", &stamp) ||
        !json_object_object_get_ex(stamp, "seconds", &seconds) ||
        !json_object_object_get_ex(stamp, "microseconds", &micros) ||
        !json_object_is_type(seconds, json_type_int) ||
        !json_object_is_type(micros, json_type_int))
        return 0;
    /* QEMU stamps an event it could not time with -1 (and gives no reason to trust more). */
    if (json_object_get_int64(seconds) <= 0 || json_object_get_int64(micros) < 0 ||
        json_object_get_int64(micros) >= G_USEC_PER_SEC ||
        json_object_get_int64(seconds) > G_MAXINT64 / G_USEC_PER_SEC - 1)
        return 0;
    return json_object_get_int64(seconds) * G_USEC_PER_SEC + json_object_get_int64(micros);
}

void
svc_event_queue_push_message(SvcEventQueue *q, json_object *message)
{
    json_object *name = json_object_object_get(message, "event");

    if (!json_object_is_type(name, json_type_string))
        return;
    svc_event_queue_push(q, json_object_get_string(name), json_object_object_get(message, "data"),
                         message_time(message));
}

void
svc_event_queue_end(SvcEventQueue *q, const char *why)
{
    g_mutex_lock(&q->lock);
    if (!q->ended)
        q->ended = g_strdup(why);
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
}

static void
on_cancelled(GCancellable *cancellable, gpointer data)
{
    SvcEventQueue *q = data;

    g_mutex_lock(&q->lock);
    q->cancelled = TRUE;
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
}

gboolean
svc_event_queue_wait(SvcEventQueue *q, gint64 deadline, GCancellable *cancellable,
                     GError **error)
{
    gulong handler = 0;
    gboolean cancelled;

    g_mutex_lock(&q->lock);
    q->cancelled = FALSE;
    g_mutex_unlock(&q->lock);
    /* Called at once when the cancellable is cancelled already; not with the lock held. */
    if (cancellable)
        handler = g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), q, NULL);
    g_mutex_lock(&q->lock);
    while (!q->events.length && !q->ended && !q->cancelled &&
           g_cond_wait_until(&q->changed, &q->lock, deadline))
        ;
    cancelled = q->cancelled;
    q->cancelled = FALSE;
    g_mutex_unlock(&q->lock);
    if (cancellable)
        g_cancellable_disconnect(cancellable, handler);
    if (cancelled) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                            "cancelled while waiting for an event");
        return FALSE;
    }
    return TRUE;
}

SvcRawEvent *
svc_event_queue_pop(SvcEventQueue *q)
{
    SvcRawEvent *e;

    g_mutex_lock(&q->lock);
    e = g_queue_pop_head(&q->events);
    g_mutex_unlock(&q->lock);
    return e;
}

guint
svc_event_queue_take_lost(SvcEventQueue *q)
{
    guint lost;

    g_mutex_lock(&q->lock);
    lost = q->lost;
    q->lost = 0;
    g_mutex_unlock(&q->lock);
    return lost;
}

char *
svc_event_queue_ended(SvcEventQueue *q)
{
    char *why;

    g_mutex_lock(&q->lock);
    why = g_strdup(q->ended);
    g_mutex_unlock(&q->lock);
    return why;
}

gboolean
svc_event_queue_holds(SvcEventQueue *q, const char *name, const char *key, const char *value)
{
    gboolean found = FALSE;

    g_mutex_lock(&q->lock);
    for (GList *l = q->events.head; l && !found; l = l->next) {
        SvcRawEvent *e = l->data;
        json_object *member;

        found = g_str_equal(e->name, name) && json_object_object_get_ex(e->data, key, &member) &&
                json_object_is_type(member, json_type_string) &&
                g_strcmp0(json_object_get_string(member), value) == 0;
    }
    g_mutex_unlock(&q->lock);
    return found;
}
