/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libvirt domain files share: the domain, its XML devices, spicevmc's metadata. */
#pragma once

#include "svc-libvirt.h"
#include "xml/svc-xml.h"

/* libvirt never names a device "ua-…" itself, and takes such names from users as QEMU ids. */
#define SVC_DOMAIN_ID_PREFIX "ua-"

/* spicevmc's records in the domain's <metadata> (domain.c). */
#define SVC_DOMAIN_RESTORE_URI "urn:spicevmc:1"
#define SVC_DOMAIN_ADDED_URI "urn:spicevmc:added:1"
#define SVC_DOMAIN_SYNC_URI "urn:spicevmc:sync:1"

struct _SvcDomain {
    virConnectPtr conn;
    virDomainPtr dom;
    char *name;
    guint timeout_ms;
    SvcVm *vm;                /* passthrough to the running QEMU, made when first needed */
};

/* A SPICE device of the domain XML, as a channel, with the element to detach it by.  In the
 * persistent definition libvirt keeps only user aliases; a device without one gets, as its id,
 * the alias libvirt will give it at the next start ("channel1": its element and index). */
typedef struct {
    SvcChannel *ch;
    char *xml;
    gboolean aliased;         /* ch->id is the alias the XML gives */
    int controller;           /* its address's controller (libvirt's index); -1: none */
    guint port;               /* its virtio-serial port; 0: none */
    gboolean taken;           /* matched already (to a live channel, or by a removal) */
} LvDevice;

/* The domain XML, with virDomainGetXMLDesc's @flags. */
xmlDoc *svc_domain_doc(SvcDomain *d, unsigned int flags, GError **error);
/* Define the domain as @doc says. */
gboolean svc_domain_define(SvcDomain *d, xmlDoc *doc, GError **error);
/* Define the domain again without @elements (device XML as LvDevice has it), for what
 * libvirt's detach-device --config refuses (a smartcard). */
gboolean svc_domain_define_without(SvcDomain *d, GPtrArray *elements, GError **error);
gboolean svc_domain_resolve_affect(SvcDomain *d, SvcAffect *affect, GError **error);
/* The SPICE devices of domain XML @doc, each with its element as written (LvDevice). */
GPtrArray *svc_domain_devices_of_doc(xmlDoc *doc);
/* The SPICE devices of the live (or the persistent) domain XML, LvDevice each. */
GPtrArray *svc_domain_devices(SvcDomain *d, gboolean inactive, GError **error);
LvDevice *svc_domain_find_device(GPtrArray *devices, const char *id);
/* The device of the persistent definition that live @ch (as libvirt's live XML describes it,
 * when it does) is, not taken yet: by its user alias, else the first with no alias of the same
 * kind and names.  A channel sync added for a device without alias (its id in @synced, which
 * may be NULL) stands for that device: it is matched by what it is. */
LvDevice *svc_domain_config_device(GPtrArray *config_devices, const SvcChannel *ch,
                                   GHashTable *synced);
/* The live channel of @live that each device of @config_devices is: those matched are marked
 * taken, and the index of each channel's device in @config_devices (-1: none) is returned. */
GArray *svc_domain_match_live(GPtrArray *live, GPtrArray *live_devices,
                              GPtrArray *config_devices, GHashTable *synced);
/* Names and ids for new channels of a domain that is not running, from its definition. */
GPtrArray *svc_domain_plan_config(SvcDomain *d, SvcSpec *const *specs, guint n, GError **error);
/* Every alias of the domain's live XML and of its definition. */
GHashTable *svc_domain_aliases(SvcDomain *d, GError **error);
/* The SPICE port names the domain's libvirt XML gives (live, and persistent when @config),
 * for new channels to keep clear of. */
GHashTable *svc_domain_spice_names(SvcDomain *d, gboolean config, GError **error);

/* spicevmc's metadata: specs of the channels libvirt does not know (live), or cannot keep
 * (persistent). */
GPtrArray *svc_domain_read_metadata(SvcDomain *d, gboolean config, GError **error);
/* Rewrite the record of what to restore; it follows the persistent definition, and the
 * running domain's copy of it too. */
gboolean svc_domain_write_specs(SvcDomain *d, GPtrArray *specs, GError **error);
SvcSpec *svc_domain_find_spec(GPtrArray *specs, const char *id);
/* svc_domain_list_xml() of @all, the domain's channels as svc_domain_list() gave them. */
char *svc_domain_channels_xml(SvcDomain *d, GPtrArray *all, const char *const *ids,
                              GError **error);
/* Rewrite the live metadata from what QEMU has: entries of channels it lost drop out. */
gboolean svc_domain_sync_live_metadata(SvcDomain *d, GError **error);
/* What sync did to the running domain, kept in its live metadata (sync-record.c): the ids of
 * the channels it added for the definition, and the definition's devices it could not make
 * live (keyed by the checksum of their element), with why. */
typedef struct {
    GHashTable *added;        /* id */
    GHashTable *skipped;      /* checksum -> LvSkipped */
} LvSyncRecord;

typedef struct {
    char *device;             /* its id in the definition, for people reading the record */
    char *reason;
} LvSkipped;

LvSyncRecord *svc_sync_record_new(void);
void svc_sync_record_free(LvSyncRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvSyncRecord, svc_sync_record_free)
/* The running domain's record (empty when there is none). */
LvSyncRecord *svc_sync_record_read(SvcDomain *d, GError **error);
gboolean svc_sync_record_write(SvcDomain *d, LvSyncRecord *r, GError **error);
gboolean svc_sync_record_equal(LvSyncRecord *a, LvSyncRecord *b);
void svc_sync_record_skip(LvSyncRecord *r, const LvDevice *lv, const char *reason);
/* The reason recorded for the definition's device @lv, or NULL. */
const char *svc_sync_record_reason(LvSyncRecord *r, const LvDevice *lv);

/* The live channels of the domain's list that a change can take away. */
gboolean svc_domain_channel_is_live(const SvcChannel *ch);
/* The metadata record of the persistent definition as XML, for dry runs. */
char *svc_domain_specs_xml(GPtrArray *specs);

/* For dry runs: a step that gives libvirt @xml for channel @id (joined to the step before when
 * it does the same), and one that writes the metadata record of @specs. */
void svc_domain_plan_libvirt(SvcDryRun *run, const char *what, const char *id, const char *xml);
void svc_domain_plan_metadata(SvcDryRun *run, const char *what, GPtrArray *specs);
