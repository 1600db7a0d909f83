/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc's QMP commands served by the QMP proxy; for spicevmc's own front ends, not installed. */
#pragma once

#include "proxy.h"
#include "qapi.h"
#include "spicevmc.h"

G_BEGIN_DECLS

typedef struct _SvcQmpService SvcQmpService;

/* spicevmc's commands, schemas/spicevmc.json, as built into the library. */
QapiSchema *svc_qmp_schema(GError **error);

/* A VM reached through @proxy's upstream connection, for a thread other than the proxy's;
 * call it from the proxy's thread. */
SvcVm *svc_vm_new_proxy(QmpProxy *proxy);

/* Serve spicevmc-add, spicevmc-remove and query-spicevmc on @proxy, their arguments checked
 * against @schema (borrowed; it and @proxy must outlive the service), and add them to the
 * answers of query-commands and query-qmp-schema.  The commands run one at a time on a worker
 * thread, so two clients cannot race for a port while passthrough commands keep flowing.
 * Call from the proxy's thread; @timeout_ms bounds the wait for QEMU to confirm a removal. */
SvcQmpService *svc_qmp_service_new(QmpProxy *proxy, QapiSchema *schema, guint timeout_ms);
/* As svc_vm_set_placement(), for the channels the service adds; before any client connects. */
void svc_qmp_service_set_placement(SvcQmpService *service, const char *id_prefix,
                                   gboolean from_top);
/* Turns the calling thread's loop until the commands taken are answered (new ones are refused),
 * then frees; before qmp_proxy_free(). */
void svc_qmp_service_free(SvcQmpService *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcQmpService, svc_qmp_service_free)

/* The proxy with the service, between QEMU's monitor @upstream and clients on @listener,
 * until QEMU goes away or the process gets SIGTERM or SIGINT; @id_prefix and @from_top as for
 * svc_vm_set_placement(). */
void svc_qmp_serve(GSocket *upstream, GSocket *listener, QapiSchema *schema, guint timeout_ms,
                   const char *id_prefix, gboolean from_top);

G_END_DECLS
