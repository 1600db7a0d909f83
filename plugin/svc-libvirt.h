/* What libspicevmc's libvirt files share: the event loop, errors, cleanups, the transport. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "svc-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* Register libvirt's default event loop and run it in a thread; once per process. */
void svc_libvirt_init(void);
void svc_libvirt_quiet(void *data, virErrorPtr err);
/* "@what: libvirt's last error"; returns FALSE. */
gboolean svc_libvirt_error(GError **error, const char *what);

/* A VM reached through libvirt's QMP passthrough (libvirt taints the domain custom-monitor). */
SvcVm *svc_vm_new_libvirt(virConnectPtr conn, virDomainPtr dom, GError **error);
