/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/watch.c — a VM's SPICE channels followed, for any transport that receives QEMU's
 * events: what QEMU announces (a device deleted, a port opened, a SPICE client) from its
 * events, at once; what it does not (a device added) from the channel list, read every
 * POLL_MS; one stream of SvcEvents in the order things happened. */
#include "config.h"

#include "svc-private.h"

/* QEMU 7.2 has no event for an added device: the longest one goes unseen, and how often the
 * monitor is asked (one round trip while nothing changes). */
#define POLL_MS 500
/* After a failed poll, the time the transport has to say why: the lifecycle event of a domain
 * that stopped may come after the failed command. */
#define END_GRACE_MS 1000

struct _SvcWatch {
    SvcVm *vm;
    SvcEventQueue *queue;
    const SvcEventSourceOps *ops;
    gpointer source;
    GCancellable *cancellable;
    GHashTable *known;        /* chardev label -> SvcChannel with its frontend, announced */
    GHashTable *missing;      /* labels of known channels the last list lacked */
    char *signature;          /* of the channel list last read */
    SvcSpiceLinks *links;
    GQueue ready;             /* SvcEvent, in order */
    gint64 next_poll;         /* monotonic */
    gboolean ended;           /* SVC_EVENT_ENDED is queued: nothing comes after it */
};

static void
ready(SvcWatch *w, SvcEvent *e)
{
    if (w->ended) {
        svc_event_free(e);
        return;
    }
    w->ended = e->type == SVC_EVENT_ENDED;
    g_queue_push_tail(&w->ready, e);
}

/* The last event: why nothing more can be told. */
static void
finish(SvcWatch *w, const char *why)
{
    SvcEvent *e = svc_event_new(SVC_EVENT_ENDED, 0);

    e->reason = g_strdup(why);
    ready(w, e);
}

static SvcEvent *
channel_event(SvcEventType type, const SvcChannel *ch, const char *source,
              const SvcRawEvent *raw)
{
    SvcEvent *e = svc_event_new(type, raw ? raw->time : 0);

    e->id = g_strdup(ch->id);
    e->channel = svc_channel_copy(ch);
    e->source = g_strdup(source);
    if (raw && raw->data)
        e->data = json_object_get(raw->data);
    return e;
}

/* A device without an id is known by its QOM path, as QEMU names it in DEVICE_DELETED. */
static const char *
find_label(SvcWatch *w, const char *id)
{
    GHashTableIter iter;
    gpointer label, ch;

    g_hash_table_iter_init(&iter, w->known);
    while (id && g_hash_table_iter_next(&iter, &label, &ch)) {
        if (g_strcmp0(((SvcChannel *)ch)->id, id) == 0)
            return label;
    }
    return NULL;
}

/* The removal of @ch is queued already: the event will tell it, in its place. */
static gboolean
removal_queued(SvcWatch *w, const SvcChannel *ch)
{
    return svc_event_queue_holds(w->queue, "DEVICE_DELETED", "device", ch->id) ||
           svc_event_queue_holds(w->queue, "DEVICE_DELETED", "path", ch->id) ||
           svc_event_queue_holds(w->queue, "libvirt:device-removed", "device", ch->id);
}

/* The channels with a frontend now: those that left, then those that came, in the list's
 * order.  A frontend never leaves without QEMU's DEVICE_DELETED, which libvirt may pass on
 * after the reply that shows it gone: a channel missing from the list is told of by its event
 * if one comes before the next list, else (an event lost) by that list. */
static void
apply_list(SvcWatch *w, GPtrArray *channels)
{
    g_autoptr(GHashTable) now = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter iter;
    gpointer label, value;

    for (guint i = 0; i < channels->len; i++) {
        SvcChannel *ch = channels->pdata[i];

        if (ch->state == SVC_STATE_OK)
            g_hash_table_insert(now, ch->chardev, ch);
    }
    g_hash_table_iter_init(&iter, w->known);
    while (g_hash_table_iter_next(&iter, &label, &value)) {
        SvcChannel *old = value;
        SvcChannel *cur = g_hash_table_lookup(now, label);
        gboolean same = cur && g_strcmp0(cur->id, old->id) == 0 &&
                        g_strcmp0(cur->driver, old->driver) == 0;

        if (same || (!cur && removal_queued(w, old))) {
            g_hash_table_remove(w->missing, label);
            continue;
        }
        if (!cur && g_hash_table_add(w->missing, g_strdup(label)))
            continue;
        ready(w, channel_event(SVC_EVENT_CHANNEL_REMOVED, old, "inventory", NULL));
        g_hash_table_remove(w->missing, label);
        g_hash_table_iter_remove(&iter);
    }
    for (guint i = 0; i < channels->len; i++) {
        SvcChannel *ch = channels->pdata[i];

        if (ch->state != SVC_STATE_OK || g_hash_table_contains(w->known, ch->chardev))
            continue;
        ready(w, channel_event(SVC_EVENT_CHANNEL_ADDED, ch, "inventory", NULL));
        g_hash_table_insert(w->known, g_strdup(ch->chardev), svc_channel_copy(ch));
    }
}

/* The transport failed, or QEMU did not answer: the transport may be about to say why (a
 * domain that stopped), else this is why. */
static void
failed(SvcWatch *w, const char *message)
{
    gint64 deadline = g_get_monotonic_time() + END_GRACE_MS * 1000;
    g_autofree char *why = NULL;

    while (!(why = svc_event_queue_ended(w->queue)) && g_get_monotonic_time() < deadline &&
           w->ops->wait(w->source, deadline, w->cancellable, NULL))
        ;
    svc_event_queue_end(w->queue, message);
}

/* Read the channel list, unless the first round trip shows nothing came or went. */
static void
poll_list(SvcWatch *w)
{
    g_autoptr(SvcInventory) inv = NULL;
    g_autoptr(GError) error = NULL;

    /* From one start to the next: however long the transport takes, no more often. */
    w->next_poll = g_get_monotonic_time() + POLL_MS * 1000;
    if (!svc_inventory_load_changed(w->vm, &w->signature, &inv, &error)) {
        failed(w, error->message);
        return;
    }
    if (inv)
        apply_list(w, inv->channels);
    /* The next poll lists them again, changed or not. */
    if (g_hash_table_size(w->missing))
        g_clear_pointer(&w->signature, g_free);
}

/* ---- QEMU's and libvirt's events ---------------------------------------- */

/* A device deleted: DEVICE_DELETED ("device" or, without an id, "path"), libvirt's
 * device-removed ("device"), or the proxy's SPICEVMC_CHANNEL_DELETED ("id"). */
static gboolean
take_deleted(SvcWatch *w, const SvcRawEvent *raw, GError **error)
{
    static const char *const keys[] = { "device", "path", "id" };

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_object *name;
        const char *label;

        if (!svc_event_member(raw->data, raw->name, keys[i], json_type_string, FALSE, &name,
                              error))
            return FALSE;
        if (!(label = find_label(w, json_object_get_string(name))))
            continue;
        ready(w, channel_event(SVC_EVENT_CHANNEL_REMOVED, g_hash_table_lookup(w->known, label),
                               raw->name, raw));
        g_hash_table_remove(w->missing, label);
        g_hash_table_remove(w->known, label);
        return TRUE;
    }
    return TRUE;
}

/* A device added, announced (by the proxy, or libvirt): no need to wait for the next poll. */
static gboolean
take_added(SvcWatch *w, const SvcRawEvent *raw, GError **error)
{
    poll_list(w);
    return TRUE;
}

/* The guest opened or closed a port: a SPICE channel's, once listed (a port just added may
 * not be yet); other ports are not watched. */
static gboolean
take_port(SvcWatch *w, const SvcRawEvent *raw, GError **error)
{
    json_object *id, *open;
    const char *label;
    SvcChannel *ch;

    if (!svc_event_member(raw->data, raw->name, "id", json_type_string, TRUE, &id, error) ||
        !svc_event_member(raw->data, raw->name, "open", json_type_boolean, TRUE, &open, error))
        return FALSE;
    if (!(label = find_label(w, json_object_get_string(id)))) {
        poll_list(w);
        label = find_label(w, json_object_get_string(id));
    }
    if (!label)
        return TRUE;
    ch = g_hash_table_lookup(w->known, label);
    ch->guest_open = json_object_get_boolean(open);
    ready(w, channel_event(ch->guest_open ? SVC_EVENT_PORT_OPENED : SVC_EVENT_PORT_CLOSED, ch,
                           raw->name, raw));
    return TRUE;
}

static gboolean
take_client(SvcWatch *w, const SvcRawEvent *raw, GError **error)
{
    SvcEvent *e = svc_spice_links_event(w->links, w->vm, raw, error);

    if (e)
        ready(w, e);
    return e != NULL;
}

static const struct {
    const char *name;
    gboolean (*take)(SvcWatch *w, const SvcRawEvent *raw, GError **error);
} takers[] = {
    { "DEVICE_DELETED", take_deleted },
    { "libvirt:device-removed", take_deleted },
    { "SPICEVMC_CHANNEL_DELETED", take_deleted },
    { "SPICEVMC_CHANNEL_ADDED", take_added },
    { "libvirt:device-added", take_added },
    { "VSERPORT_CHANGE", take_port },
    { "SPICE_CONNECTED", take_client },
    { "SPICE_INITIALIZED", take_client },
    { "SPICE_DISCONNECTED", take_client },
};

static void
take(SvcWatch *w, const SvcRawEvent *raw)
{
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(takers); i++) {
        if (g_str_equal(takers[i].name, raw->name)) {
            if (!takers[i].take(w, raw, &error))
                finish(w, error->message);
            return;
        }
    }
}

/* Everything queued, in order; then the end, when the source has ended. */
static void
drain(SvcWatch *w)
{
    g_autofree char *why = NULL;

    while (!w->ended) {
        g_autoptr(SvcRawEvent) raw = svc_event_queue_pop(w->queue);
        guint lost = svc_event_queue_take_lost(w->queue);

        if (lost) {
            SvcEvent *e = svc_event_new(SVC_EVENT_EVENTS_LOST, 0);

            e->lost = lost;
            ready(w, e);
        }
        if (!raw)
            break;
        take(w, raw);
    }
    if (!w->ended && (why = svc_event_queue_ended(w->queue)))
        finish(w, why);
}

/* ---- the watch ---------------------------------------------------------- */

SvcWatch *
svc_watch_new_on(SvcVm *vm, SvcEventQueue *queue, const SvcEventSourceOps *ops,
                 gpointer source, GError **error)
{
    g_autoptr(SvcWatch) w = g_new0(SvcWatch, 1);
    g_autoptr(SvcInventory) inv = NULL;
    SvcEvent *first;

    w->vm = vm;
    w->queue = svc_event_queue_ref(queue);
    w->ops = ops;
    w->source = source;
    w->cancellable = g_cancellable_new();
    w->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)svc_channel_free);
    w->missing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    w->links = svc_spice_links_new();
    g_queue_init(&w->ready);
    /* The source feeds the queue already: what happens from here on is told. */
    if (!svc_inventory_load_changed(vm, &w->signature, &inv, error) ||
        !svc_spice_links_load(w->links, vm, error))
        return NULL;
    first = svc_event_new(SVC_EVENT_WATCHING, 0);
    first->channels = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    for (guint i = 0; i < inv->channels->len; i++) {
        SvcChannel *ch = inv->channels->pdata[i];

        if (ch->state != SVC_STATE_OK)
            continue;
        g_ptr_array_add(first->channels, svc_channel_copy(ch));
        g_hash_table_insert(w->known, g_strdup(ch->chardev), svc_channel_copy(ch));
    }
    ready(w, first);
    w->next_poll = g_get_monotonic_time() + POLL_MS * 1000;
    return g_steal_pointer(&w);
}

SvcWatch *
svc_watch_new(SvcVm *vm, GError **error)
{
    SvcEventQueue *queue = svc_event_queue_new(SVC_WATCH_QUEUE_MAX);
    const SvcEventSourceOps *ops = NULL;
    gpointer source = svc_vm_new_event_source(vm, queue, &ops);
    SvcWatch *w = NULL;

    if (!source)
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "this VM's transport receives no QEMU events: watch a VM connected "
                            "with svc_vm_connect_qmp(), or a libvirt domain");
    else
        w = svc_watch_new_on(vm, queue, ops, source, error);
    svc_event_queue_unref(queue);
    return w;
}

SvcEvent *
svc_watch_next(SvcWatch *w, GError **error)
{
    for (;;) {
        SvcEvent *e;

        if (g_cancellable_is_cancelled(w->cancellable)) {
            g_set_error_literal(error, SVC_ERROR, SVC_ERROR_CANCELLED, "the watch was cancelled");
            return NULL;
        }
        if ((e = g_queue_pop_head(&w->ready)))
            return e;
        if (w->ended) {
            g_set_error_literal(error, SVC_ERROR, SVC_ERROR_STATE, "the watch has ended");
            return NULL;
        }
        drain(w);
        if (!g_queue_is_empty(&w->ready) || w->ended)
            continue;
        if (g_get_monotonic_time() >= w->next_poll)
            poll_list(w);
        else
            w->ops->wait(w->source, w->next_poll, w->cancellable, NULL);
    }
}

void
svc_watch_cancel(SvcWatch *w)
{
    g_cancellable_cancel(w->cancellable);
}

void
svc_watch_free(SvcWatch *w)
{
    if (!w)
        return;
    if (w->source)
        w->ops->free(w->source);
    g_clear_pointer(&w->queue, svc_event_queue_unref);
    g_clear_object(&w->cancellable);
    g_clear_pointer(&w->known, g_hash_table_unref);
    g_clear_pointer(&w->missing, g_hash_table_unref);
    g_clear_pointer(&w->links, svc_spice_links_free);
    g_queue_clear_full(&w->ready, (GDestroyNotify)svc_event_free);
    g_free(w->signature);
    g_free(w);
}
