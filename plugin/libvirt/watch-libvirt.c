/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/libvirt/watch-libvirt.c — a running domain watched through libvirt: QEMU's events
 * from the passthrough transport (transport-libvirt.c), and here libvirt's own: devices it
 * added or removed, the domain stopping, the connection closing; all fed from libvirt's event
 * loop to the watcher (watch.c). */
#include "config.h"

#include "svc-domain.h"

typedef struct {
    virConnectPtr conn;
    virDomainPtr dom;
    SvcEventQueue *queue;
    const SvcEventSourceOps *qemu_ops;
    gpointer qemu;            /* the transport's source of QEMU's events */
    int lifecycle_cb;
    int added_cb;
    int removed_cb;
    gboolean close_cb;
} LibvirtSource;

/* Each registration holds the queue until libvirt is done with the callback, which may be
 * running in the event loop's thread while it is deregistered. */
static void
release(void *opaque)
{
    svc_event_queue_unref(opaque);
}

static void
push_device(SvcEventQueue *q, const char *name, const char *alias)
{
    g_autoptr(json_object) data = json_object_new_object();

    json_object_object_add(data, "device", json_object_new_string(alias ? alias : ""));
    svc_event_queue_push(q, name, data, 0);
}

static void
on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    push_device(opaque, "libvirt:device-added", alias);
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    push_device(opaque, "libvirt:device-removed", alias);
}

static const char *const stopped_details[] = {
    [VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN] = "shut down",
    [VIR_DOMAIN_EVENT_STOPPED_DESTROYED] = "destroyed",
    [VIR_DOMAIN_EVENT_STOPPED_CRASHED] = "crashed",
    [VIR_DOMAIN_EVENT_STOPPED_MIGRATED] = "migrated",
    [VIR_DOMAIN_EVENT_STOPPED_SAVED] = "saved",
    [VIR_DOMAIN_EVENT_STOPPED_FAILED] = "failed",
    [VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT] = "reverted to a snapshot",
};

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    const char *how = detail >= 0 && detail < (int)G_N_ELEMENTS(stopped_details)
                          ? stopped_details[detail]
                          : NULL;
    g_autofree char *why = NULL;

    if (event != VIR_DOMAIN_EVENT_STOPPED)
        return 0;
    why = how ? g_strdup_printf("domain '%s' stopped: %s", virDomainGetName(dom), how)
              : g_strdup_printf("domain '%s' stopped", virDomainGetName(dom));
    svc_event_queue_end(opaque, why);
    return 0;
}

static const char *const close_reasons[] = {
    [VIR_CONNECT_CLOSE_REASON_ERROR] = "a read or write failed",
    [VIR_CONNECT_CLOSE_REASON_EOF] = "libvirt closed it",
    [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "libvirt stopped answering",
    [VIR_CONNECT_CLOSE_REASON_CLIENT] = "it was closed",
};

typedef struct {
    SvcEventQueue *queue;
    char *uri;
} CloseData;

static void
close_data_free(void *opaque)
{
    CloseData *c = opaque;

    svc_event_queue_unref(c->queue);
    g_free(c->uri);
    g_free(c);
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    CloseData *c = opaque;
    const char *how = reason >= 0 && reason < (int)G_N_ELEMENTS(close_reasons)
                          ? close_reasons[reason]
                          : "for a reason libvirt does not name";
    g_autofree char *why = g_strdup_printf("the connection to libvirt at '%s' closed: %s",
                                           c->uri, how);

    svc_event_queue_end(c->queue, why);
}

/* Both feed the one queue from libvirt's event loop: waiting for either is waiting for it. */
static gboolean
source_wait(gpointer source, gint64 deadline, GCancellable *cancellable, GError **error)
{
    LibvirtSource *s = source;

    return svc_event_queue_wait(s->queue, deadline, cancellable, error);
}

static void
source_free(gpointer source)
{
    LibvirtSource *s = source;

    if (s->qemu)
        s->qemu_ops->free(s->qemu);
    if (s->lifecycle_cb >= 0)
        virConnectDomainEventDeregisterAny(s->conn, s->lifecycle_cb);
    if (s->added_cb >= 0)
        virConnectDomainEventDeregisterAny(s->conn, s->added_cb);
    if (s->removed_cb >= 0)
        virConnectDomainEventDeregisterAny(s->conn, s->removed_cb);
    if (s->close_cb)
        virConnectUnregisterCloseCallback(s->conn, on_close);
    virDomainFree(s->dom);
    virConnectClose(s->conn);
    svc_event_queue_unref(s->queue);
    g_free(s);
}

static const SvcEventSourceOps libvirt_source_ops = {
    .wait = source_wait,
    .free = source_free,
};

/* One of libvirt's domain events into the queue; -1 and the error when libvirt refuses (it
 * then keeps no reference to the queue). */
static int
register_event(LibvirtSource *s, int id, virConnectDomainEventGenericCallback cb,
               GError **error)
{
    SvcEventQueue *held = svc_event_queue_ref(s->queue);
    int n = virConnectDomainEventRegisterAny(s->conn, s->dom, id, cb, held, release);

    if (n >= 0)
        return n;
    /* Read now: libvirt forgets its error at the next call. */
    svc_libvirt_error(error, "cannot watch the domain's events");
    svc_event_queue_unref(held);
    return -1;
}

/* libvirt takes one close callback per connection: without it (another part of the application
 * has it), a connection that closes still fails the next poll. */
static void
watch_close(LibvirtSource *s, SvcEventQueue *q)
{
    g_autofree char *uri = virConnectGetURI(s->conn);
    CloseData *c;

    /* An embedded driver cannot go away without this process; libvirt 9.0 takes its close
     * callback and never calls it, nor frees what it was given. */
    if (svc_libvirt_in_process(uri))
        return;
    c = g_new0(CloseData, 1);

    c->queue = svc_event_queue_ref(q);
    c->uri = g_strdup(uri ? uri : "(default)");
    s->close_cb = virConnectRegisterCloseCallback(s->conn, on_close, c, close_data_free) == 0;
    if (!s->close_cb)
        close_data_free(c);
}

/* Every event of the domain from now on, into @q: QEMU's through @vm's transport. */
static LibvirtSource *
source_new(SvcDomain *d, SvcVm *vm, SvcEventQueue *q, GError **error)
{
    LibvirtSource *s = g_new0(LibvirtSource, 1);

    virConnectRef(d->conn);
    virDomainRef(d->dom);
    s->conn = d->conn;
    s->dom = d->dom;
    s->queue = svc_event_queue_ref(q);
    s->lifecycle_cb = s->added_cb = s->removed_cb = -1;
    if (!(s->qemu = svc_vm_new_event_source(vm, q, &s->qemu_ops))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE, "domain '%s' is watched already",
                    d->name);
        source_free(s);
        return NULL;
    }
    if ((s->lifecycle_cb = register_event(s, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                          VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), error)) < 0 ||
        (s->added_cb = register_event(s, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                      VIR_DOMAIN_EVENT_CALLBACK(on_device_added), error)) < 0 ||
        (s->removed_cb = register_event(s, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                        VIR_DOMAIN_EVENT_CALLBACK(on_device_removed),
                                        error)) < 0) {
        source_free(s);
        return NULL;
    }
    watch_close(s, q);
    return s;
}

SvcWatch *
svc_domain_watch(SvcDomain *d, GError **error)
{
    SvcEventQueue *queue;
    LibvirtSource *source;
    SvcVm *vm;
    SvcWatch *w = NULL;

    if (!(vm = svc_domain_get_vm(d, error)))
        return NULL;
    queue = svc_event_queue_new(SVC_WATCH_QUEUE_MAX);
    source = source_new(d, vm, queue, error);
    /* Stopped before the lifecycle callback was there: nothing will say so. */
    if (source && !svc_domain_is_running(d)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE, "domain '%s' is not running", d->name);
        g_clear_pointer(&source, source_free);
    }
    if (source)
        w = svc_watch_new_on(vm, queue, &libvirt_source_ops, source, error);
    svc_event_queue_unref(queue);
    return w;
}
