/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What libspicevmc's libvirt files share: errors, cleanups, the transport. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "svc-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* Whether the application registered a libvirt event loop, which libvirt needs for events. */
gboolean svc_libvirt_check_event_loop(GError **error);
/* Whether @uri is an embedded driver's, qemu:///embed?root=DIR, which runs in this process. */
gboolean svc_libvirt_in_process(const char *uri);
/* On an embedded driver (else nothing): wait until libvirt has reconnected to the QEMU of every
 * running domain, which it does in threads of this process when @conn opens.  FALSE when
 * libvirt could not finish, as when QEMU did not answer within libvirt's job timeout. */
gboolean svc_libvirt_settle(virConnectPtr conn, GError **error);
/* A virErrorFunc that prints nothing, for the connections spicevmc opens. */
void svc_libvirt_quiet(void *data, virErrorPtr err);
/* The domain @name names as virsh finds it: by id when it reads as one, by UUID when it has a
 * UUID's length, else (and when neither found it) by name; NULL when none. */
virDomainPtr svc_libvirt_lookup(virConnectPtr conn, const char *name);
/* "@what: libvirt's last error"; returns FALSE. */
gboolean svc_libvirt_error(GError **error, const char *what);

/* A VM reached through libvirt's QMP passthrough (libvirt taints the domain custom-monitor). */
SvcVm *svc_vm_new_libvirt(virConnectPtr conn, virDomainPtr dom, GError **error);
