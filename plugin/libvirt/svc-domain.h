/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libvirt domain files share: the domain, its XML devices, spicevmc's metadata. */
#pragma once

#include "svc-libvirt.h"
#include "xml/svc-xml.h"

/* libvirt never names a device "ua-…" itself, and takes such names from users as QEMU ids. */
#define SVC_DOMAIN_ID_PREFIX "ua-"

struct _SvcDomain {
    virConnectPtr conn;
    virDomainPtr dom;
    char *name;
    guint timeout_ms;
    SvcVm *vm;                /* passthrough to the running QEMU, made when first needed */
};

/* A SPICE device of the domain XML, as a channel, with the element to detach it by. */
typedef struct {
    SvcChannel *ch;
    char *xml;
} LvDevice;

/* The domain XML, with virDomainGetXMLDesc's @flags. */
xmlDoc *svc_domain_doc(SvcDomain *d, unsigned int flags, GError **error);
gboolean svc_domain_resolve_affect(SvcDomain *d, SvcAffect *affect, GError **error);
/* The SPICE devices of the live (or the persistent) domain XML, LvDevice each. */
GPtrArray *svc_domain_devices(SvcDomain *d, gboolean inactive, GError **error);
LvDevice *svc_domain_find_device(GPtrArray *devices, const char *id);
/* The device of the persistent definition that live @ch is: by alias, else (libvirt keeps no
 * aliases of its own there) the first of the same kind and names. */
LvDevice *svc_domain_config_device(GPtrArray *config_devices, const SvcChannel *ch);
/* Names and ids for new channels of a domain that is not running, from its definition. */
GPtrArray *svc_domain_plan_config(SvcDomain *d, SvcSpec *const *specs, guint n, GError **error);

/* spicevmc's metadata: specs of the channels libvirt does not know (live), or cannot keep
 * (persistent). */
GPtrArray *svc_domain_read_metadata(SvcDomain *d, gboolean config, GError **error);
gboolean svc_domain_write_specs(SvcDomain *d, GPtrArray *specs, gboolean config,
                                GError **error);
SvcSpec *svc_domain_find_spec(GPtrArray *specs, const char *id);
/* Rewrite the live metadata from what QEMU has: entries of channels it lost drop out. */
gboolean svc_domain_sync_live_metadata(SvcDomain *d, GError **error);
