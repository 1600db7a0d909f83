/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transport through libvirt: QMP passthrough with virDomainQemuMonitorCommand, and
 * QEMU's events from virConnectDomainQemuMonitorEventRegister: DEVICE_DELETED for removals,
 * every event for a watcher. */
#include "config.h"

#include "svc-libvirt.h"

/* The SvcVm holds one reference and each registered callback one: libvirt may be running a
 * callback on its event loop's thread when it is deregistered, and releases the callback's
 * reference once the callback has returned. */
typedef struct {
    gint refs;                /* atomic */
    virConnectPtr conn;
    virDomainPtr dom;
    int monitor_cb;
    int lifecycle_cb;
    SvcDeletions events;      /* its lock guards @watcher too */
    SvcEventQueue *watcher;   /* every event, while the domain is watched */
} LibvirtTransport;

/* libvirt delivers events, and (for qemu:///embed) drives QEMU's monitor, from the event loop
 * the application registered: process-wide state that belongs to the application, not to a
 * library.  Without one, libvirt's own errors come late and say little; say what is missing. */
static void
probe_timer(int timer, void *opaque)
{
}

gboolean
svc_libvirt_check_event_loop(GError **error)
{
    int timer = virEventAddTimeout(-1, probe_timer, NULL, NULL);

    if (timer >= 0) {
        virEventRemoveTimeout(timer);
        return TRUE;
    }
    g_set_error_literal(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                        "no libvirt event loop: the application must register one "
                        "(virEventRegisterDefaultImpl() and a thread running "
                        "virEventRunDefaultImpl()) before opening a domain");
    return FALSE;
}

/* Errors are reported where they are detected, once: on the connections spicevmc opens, libvirt
 * does not print them. */
void
svc_libvirt_quiet(void *data, virErrorPtr err)
{
}

gboolean
svc_libvirt_in_process(const char *uri)
{
    g_autoptr(GUri) parsed = uri ? g_uri_parse(uri, G_URI_FLAGS_NONE, NULL) : NULL;

    return parsed && g_strcmp0(g_uri_get_path(parsed), "/embed") == 0;
}

/* Opening qemu:///embed starts, in this process, one thread per running domain that
 * reconnects to its QEMU ("init-NAME", qemuProcessReconnect) and asks QEMU a series of
 * questions while it holds the domain's job.  A process that leaves with one unanswered
 * leaves QEMU to send the answer to the next client of its monitor, the next process's
 * driver, which takes it for a broken monitor and kills QEMU.  Taking the job waits for
 * the reconnection; virDomainGetPerfEvents() takes it and asks QEMU nothing. */
gboolean
svc_libvirt_settle(virConnectPtr conn, GError **error)
{
    g_autofree char *uri = virConnectGetURI(conn);
    virDomainPtr *doms = NULL;
    gboolean ok = TRUE;
    int n;

    if (!svc_libvirt_in_process(uri))
        return TRUE;
    if ((n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0)
        return svc_libvirt_error(error, "cannot list the running domains");
    for (int i = 0; i < n; i++) {
        /* Asked first: each call clears libvirt's last error. */
        const char *name = virDomainGetName(doms[i]);
        virTypedParameterPtr params = NULL;
        int nparams = 0;

        if (virDomainGetPerfEvents(doms[i], &params, &nparams, 0) == 0) {
            virTypedParamsFree(params, nparams);
        } else if (ok && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
            /* A domain that went meanwhile has nothing left to wait for. */
            g_autofree char *what = g_strdup_printf(
                "libvirt has not finished reconnecting to the QEMU of domain '%s'", name);

            ok = svc_libvirt_error(error, what);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return ok;
}

/* libvirt's own message for its last error; when a call failed without setting one, libvirt
 * says "no error", which names no cause. */
gboolean
svc_libvirt_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();

    if (!err || err->code == VIR_ERR_OK || !err->message)
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "%s: libvirt failed without saying why",
                    what);
    else
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "%s: %s", what, err->message);
    return FALSE;
}

/* libvirt's remote driver relays a connection's monitor events for a domain by the filter of
 * its first callback only (a second is "already tracked"): one callback takes them all. */
static void
on_monitor_event(virConnectPtr conn, virDomainPtr dom, const char *event, long long seconds,
                 unsigned int micros, const char *details, void *opaque)
{
    LibvirtTransport *t = opaque;
    g_autoptr(json_object) data = details ? json_tokener_parse(details) : NULL;
    gboolean stamped = seconds > 0 && seconds < G_MAXINT64 / G_USEC_PER_SEC - 1 &&
                       micros < G_USEC_PER_SEC;

    if (g_strcmp0(event, "DEVICE_DELETED") == 0)
        svc_deletions_add(&t->events, data);
    g_mutex_lock(&t->events.lock);
    if (t->watcher) {
        /* Text that is not JSON is kept as it came, for the watcher to refuse. */
        if (details && !data)
            data = json_object_new_string(details);
        svc_event_queue_push(t->watcher, event, data,
                             stamped ? seconds * G_USEC_PER_SEC + micros : 0);
    }
    g_mutex_unlock(&t->events.lock);
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    LibvirtTransport *t = opaque;

    if (event == VIR_DOMAIN_EVENT_STOPPED)
        svc_deletions_end(&t->events,
                          "the domain stopped while its devices were being removed");
    return 0;
}

static gboolean
run_one(LibvirtTransport *t, json_object *cmd, SvcReply *reply, GError **error)
{
    const char *text = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
    g_autofree char *result = NULL;
    g_autoptr(json_object) raw = NULL;

    if (virDomainQemuMonitorCommand(t->dom, text, &result, 0) < 0) {
        g_autofree char *what = g_strdup_printf(
            "cannot pass '%s' to QEMU through libvirt",
            json_object_get_string(json_object_object_get(cmd, "execute")));

        return svc_libvirt_error(error, what);
    }
    if (!(raw = json_tokener_parse(result))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_TRANSPORT,
                    "libvirt passed on a reply that is not JSON: %.80s", result);
        return FALSE;
    }
    svc_reply_set(reply, raw);
    return TRUE;
}

/* libvirt takes one monitor command at a time, so there is no pipelining here. */
static gboolean
transport_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
              GError **error)
{
    LibvirtTransport *t = impl;

    svc_deletions_reset(&t->events);
    for (guint i = 0; i < n; i++) {
        if (!run_one(t, cmds[i], &replies[i], error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
transport_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    LibvirtTransport *t = impl;

    return svc_deletions_wait(&t->events, pending, deadline, error);
}

static LibvirtTransport *
transport_ref(LibvirtTransport *t)
{
    g_atomic_int_inc(&t->refs);
    return t;
}

/* What the callbacks share; the connection and the domain went with the SvcVm. */
static void
transport_unref(void *opaque)
{
    LibvirtTransport *t = opaque;

    if (!g_atomic_int_dec_and_test(&t->refs))
        return;
    g_clear_pointer(&t->watcher, svc_event_queue_unref);
    svc_deletions_clear(&t->events);
    g_free(t);
}

static void
transport_free(gpointer impl)
{
    LibvirtTransport *t = impl;

    /* On a connection libvirt closed these fail; libvirt releases the callbacks all the same. */
    if (t->monitor_cb >= 0)
        virConnectDomainQemuMonitorEventDeregister(t->conn, t->monitor_cb);
    if (t->lifecycle_cb >= 0)
        virConnectDomainEventDeregisterAny(t->conn, t->lifecycle_cb);
    g_clear_pointer(&t->dom, virDomainFree);
    g_clear_pointer(&t->conn, virConnectClose);
    transport_unref(t);
}

/* ---- the events of a watched domain ---------------------------------------- */

static gboolean
source_wait(gpointer source, gint64 deadline, GCancellable *cancellable, GError **error)
{
    LibvirtTransport *t = source;

    return svc_event_queue_wait(t->watcher, deadline, cancellable, error);
}

static void
source_free(gpointer source)
{
    LibvirtTransport *t = source;

    g_mutex_lock(&t->events.lock);
    g_clear_pointer(&t->watcher, svc_event_queue_unref);
    g_mutex_unlock(&t->events.lock);
}

static const SvcEventSourceOps source_ops = {
    .wait = source_wait,
    .free = source_free,
};

static gpointer
source_new(gpointer impl, SvcEventQueue *queue, const SvcEventSourceOps **ops)
{
    LibvirtTransport *t = impl;
    gboolean watched;

    g_mutex_lock(&t->events.lock);
    watched = t->watcher != NULL;
    if (!watched)
        t->watcher = svc_event_queue_ref(queue);
    g_mutex_unlock(&t->events.lock);
    /* One watch per VM: a second would take the first one's events. */
    g_return_val_if_fail(!watched, NULL);
    *ops = &source_ops;
    return t;
}

static const SvcTransportOps libvirt_ops = {
    .run = transport_run,
    .wait_deleted = transport_wait_deleted,
    .free = transport_free,
};

SvcVm *
svc_vm_new_libvirt(virConnectPtr conn, virDomainPtr dom, GError **error)
{
    LibvirtTransport *t = g_new0(LibvirtTransport, 1);
    SvcVm *vm;

    t->refs = 1;
    svc_deletions_init(&t->events);
    virConnectRef(conn);
    virDomainRef(dom);
    t->conn = conn;
    t->dom = dom;
    /* A refused registration keeps no reference: libvirt does not call its free function. */
    t->lifecycle_cb = -1;
    t->monitor_cb = virConnectDomainQemuMonitorEventRegister(conn, dom, NULL, on_monitor_event,
                                                             transport_ref(t), transport_unref,
                                                             0);
    if (t->monitor_cb >= 0)
        t->lifecycle_cb = virConnectDomainEventRegisterAny(
            conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
            transport_ref(t), transport_unref);
    if (t->monitor_cb < 0 || t->lifecycle_cb < 0) {
        /* Read before another call: libvirt forgets its error at the next one. */
        svc_libvirt_error(error, "cannot watch the domain's QEMU events");
        transport_unref(t);     /* the refused registration's */
        transport_free(t);
        return NULL;
    }
    vm = svc_vm_new(&libvirt_ops, t);
    svc_vm_set_event_source(vm, source_new);
    return vm;
}
