/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc's QMP commands served by the QMP proxy; for spicevmc's own front ends, not installed. */
#pragma once

#include "proxy.h"
#include "qapi.h"
#include "spicevmc.h"

G_BEGIN_DECLS

typedef struct _SvcQmpService SvcQmpService;
typedef struct _SvcProxyTransport SvcProxyTransport;

/* spicevmc's commands, schemas/spicevmc.json, as built into the library. */
QapiSchema *svc_qmp_schema(GError **error);

/* A VM reached through @proxy's upstream connection, for a thread other than the proxy's;
 * call it from the proxy's thread.  Each wait for a reply is bounded by the VM's timeout; once
 * one passes, commands fail at once until QEMU answers again.  *@transport (nullable) is the
 * transport, owned by the VM, for svc_proxy_transport_end(). */
SvcVm *svc_vm_new_proxy(QmpProxy *proxy, SvcProxyTransport **transport);
/* From now on every wait of the VM's ends at once with @why; any thread. */
void svc_proxy_transport_end(SvcProxyTransport *transport, const char *why);

/* Serve spicevmc-add, spicevmc-remove and query-spicevmc on @proxy, their arguments checked
 * against @schema (borrowed; it and @proxy must outlive the service), and add them to the
 * answers of query-commands and query-qmp-schema.  The commands run one at a time on a worker
 * thread, so two clients cannot race for a port while passthrough commands keep flowing.
 * Call from the proxy's thread; @timeout_ms bounds the wait for QEMU to confirm a removal. */
SvcQmpService *svc_qmp_service_new(QmpProxy *proxy, QapiSchema *schema, guint timeout_ms);
/* As svc_vm_set_placement(), for the channels the service adds; before any client connects. */
void svc_qmp_service_set_placement(SvcQmpService *service, const char *id_prefix,
                                   gboolean from_top);
/* Turns the calling thread's loop until the commands taken are answered (new ones are refused,
 * and the one at work gets SVC_QMP_STOP_GRACE_MS before its waits for QEMU end), then frees;
 * before qmp_proxy_free(). */
void svc_qmp_service_free(SvcQmpService *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcQmpService, svc_qmp_service_free)
#define SVC_QMP_STOP_GRACE_MS 500

typedef struct {
    guint timeout_ms;         /* for QEMU's greeting, and for each reply to our commands */
    guint max_clients;        /* 0: the proxy's default */
    const char *upstream;     /* how messages name QEMU's monitor: its path */
    const char *id_prefix;    /* as for svc_vm_set_placement() */
    gboolean from_top;
} SvcQmpServeOptions;

/* The proxy with the service, between QEMU's monitor @upstream and clients on @listener,
 * until QEMU goes away (FALSE, with why) or the process gets SIGTERM, SIGINT or SIGHUP (TRUE).
 * Either way every command taken is answered first, within SVC_QMP_STOP_GRACE_MS of a signal
 * (an error when QEMU did not answer in time; when QEMU went away, an error saying why), and
 * the clients are given their answers for up
 * to as long again.  Installs the proxy's log (qmp_proxy_log_install()) and ignores SIGPIPE. */
gboolean svc_qmp_serve(GSocket *upstream, GSocket *listener, QapiSchema *schema,
                       const SvcQmpServeOptions *options, GError **error);
/* For a program about to make what it must undo on the way out (its socket): SIGTERM, SIGINT
 * and SIGHUP wait, blocked, until svc_qmp_serve() handles them, and are blocked again when it
 * returns.  Before any thread is started. */
void svc_qmp_block_stop_signals(void);

G_END_DECLS
