/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt domains: what libvirt can do it does, the rest goes through QMP passthrough, and
 * the domain's metadata remembers what only spicevmc knows. */
#include "config.h"

#include <string.h>

#include "svc-domain.h"

/* Two records in the domain's <metadata>, each a <devices> batch in spicevmc's grammar: the
 * channels to add back when the domain starts (libvirt cannot), and the channels spicevmc
 * added through passthrough, kept in the persistent definition too so that a restart shows
 * them as gone rather than forgetting them. */
#define RESTORE_URI SVC_DOMAIN_RESTORE_URI
#define RESTORE_KEY "spicevmc"
#define ADDED_URI SVC_DOMAIN_ADDED_URI
#define ADDED_KEY "spicevmc-added"

/* One connection per URI for the process: qemu:///embed registers a driver for every
 * connection opened ("Too many drivers" after a dozen), and one lives as long anyway. */
static virConnectPtr
shared_connection(const char *uri)
{
    static GMutex lock;
    static GHashTable *open;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);
    virConnectPtr conn;

    if (!open)
        open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if ((conn = g_hash_table_lookup(open, uri ? uri : ""))) {
        if (virConnectIsAlive(conn) == 1) {
            virConnectRef(conn);
            return conn;
        }
        /* libvirt closed it (libvirtd restarted): those who hold it keep their reference. */
        g_hash_table_remove(open, uri ? uri : "");
        virConnectClose(conn);
    }
    if ((conn = virConnectOpen(uri))) {
        virConnSetErrorFunc(conn, NULL, svc_libvirt_quiet);
        virConnectRef(conn);
        g_hash_table_insert(open, g_strdup(uri ? uri : ""), conn);
    }
    return conn;
}

virDomainPtr
svc_libvirt_lookup(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = NULL;
    gint64 id;

    if (g_ascii_string_to_signed(name, 10, 0, G_MAXINT, &id, NULL))
        dom = virDomainLookupByID(conn, (int)id);
    if (!dom && strlen(name) == VIR_UUID_STRING_BUFLEN - 1)
        dom = virDomainLookupByUUIDString(conn, name);
    if (!dom)
        dom = virDomainLookupByName(conn, name);
    return dom;
}

/* Only the QEMU driver passes QMP through (libvirt-qemu); any other would fail later, without
 * saying why. */
static gboolean
check_driver(virConnectPtr conn, const char *uri, GError **error)
{
    const char *type = virConnectGetType(conn);

    if (!type)
        return svc_libvirt_error(error, "cannot ask libvirt which driver it is");
    if (g_ascii_strcasecmp(type, "QEMU") == 0)
        return TRUE;
    g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                "libvirt's %s driver at '%s' cannot pass QMP commands to QEMU: spicevmc needs "
                "a domain of the QEMU driver (qemu:///system, qemu:///session, "
                "qemu:///embed?root=DIR)", type, uri ? uri : "(default)");
    return FALSE;
}

SvcDomain *
svc_domain_open(const char *uri, const char *name, guint timeout_ms, GError **error)
{
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    SvcDomain *d;

    if (!svc_libvirt_check_event_loop(error))
        return NULL;
    if (!(conn = shared_connection(uri))) {
        g_autofree char *what = g_strdup_printf("cannot connect to libvirt at '%s'",
                                                uri ? uri : "(default)");

        svc_libvirt_error(error, what);
        return NULL;
    }
    if (!check_driver(conn, uri, error) || !svc_libvirt_settle(conn, error))
        return NULL;
    if (!(dom = svc_libvirt_lookup(conn, name))) {
        g_autofree char *what = g_strdup_printf("cannot open domain '%s'", name);

        svc_libvirt_error(error, what);
        return NULL;
    }
    d = g_new0(SvcDomain, 1);
    d->conn = g_steal_pointer(&conn);
    d->name = g_strdup(virDomainGetName(dom));
    d->dom = g_steal_pointer(&dom);
    d->timeout_ms = timeout_ms;
    return d;
}

void
svc_domain_free(SvcDomain *d)
{
    if (!d)
        return;
    g_clear_pointer(&d->vm, svc_vm_free);
    virDomainFree(d->dom);
    virConnectClose(d->conn);
    g_free(d->name);
    g_free(d);
}

gboolean
svc_domain_is_running(SvcDomain *d)
{
    return virDomainIsActive(d->dom) == 1;
}

static gboolean
not_running(SvcDomain *d, GError **error)
{
    g_set_error(error, SVC_ERROR, SVC_ERROR_STATE, "domain '%s' is not running", d->name);
    return FALSE;
}

SvcVm *
svc_domain_get_vm(SvcDomain *d, GError **error)
{
    if (d->vm)
        return d->vm;
    if (!svc_domain_is_running(d)) {
        not_running(d, error);
        return NULL;
    }
    if (!(d->vm = svc_vm_new_libvirt(d->conn, d->dom, error)))
        return NULL;
    svc_vm_set_placement(d->vm, SVC_DOMAIN_ID_PREFIX, TRUE);
    svc_vm_set_timeout(d->vm, d->timeout_ms);
    return d->vm;
}

/* Live when running, else the persistent definition; and what was asked must be possible. */
gboolean
svc_domain_resolve_affect(SvcDomain *d, SvcAffect *affect, GError **error)
{
    gboolean running = svc_domain_is_running(d);

    if (*affect == SVC_AFFECT_CURRENT)
        *affect = running ? SVC_AFFECT_LIVE : SVC_AFFECT_CONFIG;
    if ((*affect & SVC_AFFECT_LIVE) && !running)
        return not_running(d, error);
    if ((*affect & SVC_AFFECT_CONFIG) && virDomainIsPersistent(d->dom) != 1) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                    "domain '%s' is transient: it has no persistent definition", d->name);
        return FALSE;
    }
    return TRUE;
}

/* ---- what spicevmc remembers ----------------------------------------- */

static GPtrArray *
read_record(SvcDomain *d, const char *uri, gboolean config, GError **error)
{
    g_autofree char *text = virDomainGetMetadata(d->dom, VIR_DOMAIN_METADATA_ELEMENT, uri,
                                                 config ? VIR_DOMAIN_AFFECT_CONFIG
                                                        : VIR_DOMAIN_AFFECT_LIVE);

    if (!text) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN_METADATA)
            return g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
        svc_libvirt_error(error, "cannot read spicevmc's domain metadata");
        return NULL;
    }
    return svc_xml_parse_specs(text, strlen(text), "domain metadata", error);
}

/* Written without layout: libvirt indents what it is given only when it has no whitespace of
 * its own, and then it sits in virsh dumpxml like the rest. */
static gboolean
write_record(SvcDomain *d, const char *uri, const char *key, GPtrArray *channels,
             unsigned int flags, GError **error)
{
    g_autofree char *text = channels->len ? svc_xml_for_channels(channels, SVC_XML_BATCH) : NULL;

    if (virDomainSetMetadata(d->dom, VIR_DOMAIN_METADATA_ELEMENT, text, key, uri, flags) < 0)
        return svc_libvirt_error(error, "cannot write spicevmc's domain metadata");
    return TRUE;
}

GPtrArray *
svc_domain_read_metadata(SvcDomain *d, gboolean config, GError **error)
{
    return read_record(d, RESTORE_URI, config, error);
}

SvcSpec *
svc_domain_find_spec(GPtrArray *specs, const char *id)
{
    for (guint i = 0; i < specs->len; i++) {
        SvcSpec *spec = specs->pdata[i];

        if (g_strcmp0(spec->id, id) == 0)
            return spec;
    }
    return NULL;
}

/* The record of what spicevmc added is what QEMU has of ours that libvirt does not know:
 * rewritten from QEMU after every change, so entries of channels QEMU lost drop out. */
gboolean
svc_domain_sync_live_metadata(SvcDomain *d, GError **error)
{
    g_autoptr(GPtrArray) live = svc_list(d->vm, error);
    g_autoptr(GPtrArray) devices = live ? svc_domain_devices(d, FALSE, error) : NULL;
    g_autoptr(LvSyncRecord) synced = devices ? svc_sync_record_read(d, error) : NULL;
    g_autoptr(GPtrArray) ours = g_ptr_array_new();
    g_autoptr(GPtrArray) lost_at_restart = g_ptr_array_new();

    if (!synced)
        return FALSE;
    for (guint i = 0; i < live->len; i++) {
        SvcChannel *ch = live->pdata[i];

        if (!ch->ours || ch->state != SVC_STATE_OK || svc_domain_find_device(devices, ch->id))
            continue;
        g_ptr_array_add(ours, ch);
        /* What sync added for the definition, libvirt brings back at the next start. */
        if (!g_hash_table_contains(synced->added, ch->id))
            g_ptr_array_add(lost_at_restart, ch);
    }
    if (virDomainIsPersistent(d->dom) != 1)
        return write_record(d, ADDED_URI, ADDED_KEY, ours, VIR_DOMAIN_AFFECT_LIVE, error);
    if (ours->len == lost_at_restart->len)
        return write_record(d, ADDED_URI, ADDED_KEY, ours,
                            VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, error);
    return write_record(d, ADDED_URI, ADDED_KEY, ours, VIR_DOMAIN_AFFECT_LIVE, error) &&
           write_record(d, ADDED_URI, ADDED_KEY, lost_at_restart, VIR_DOMAIN_AFFECT_CONFIG,
                        error);
}

static GPtrArray *
channels_of_specs(GPtrArray *specs)
{
    GPtrArray *channels = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);

    for (guint i = 0; i < specs->len; i++)
        g_ptr_array_add(channels, svc_channel_from_spec(specs->pdata[i]));
    return channels;
}

char *
svc_domain_specs_xml(GPtrArray *specs)
{
    g_autoptr(GPtrArray) channels = channels_of_specs(specs);

    return svc_xml_for_channels(channels, SVC_XML_FORMATTED | SVC_XML_BATCH);
}

/* The running domain's copy of the record (libvirt copies the persistent metadata at start)
 * follows too, so that virsh metadata --live does not show channels already gone. */
gboolean
svc_domain_write_specs(SvcDomain *d, GPtrArray *specs, GError **error)
{
    g_autoptr(GPtrArray) channels = channels_of_specs(specs);

    return write_record(d, RESTORE_URI, RESTORE_KEY, channels,
                        VIR_DOMAIN_AFFECT_CONFIG |
                            (svc_domain_is_running(d) ? VIR_DOMAIN_AFFECT_LIVE : 0),
                        error);
}

/* ---- a domain that is not running ------------------------------------- */

/* Every device alias of the definition, SPICE or not: a new one must differ from them all. */
static void
collect_aliases(xmlNode *node, GHashTable *taken)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (g_str_equal((const char *)n->name, "alias")) {
            char *name = svc_xml_attr(n, "name");

            if (name)
                g_hash_table_add(taken, name);
        }
        collect_aliases(n->children, taken);
    }
}

typedef struct {
    GHashTable *ids;
    GHashTable *spice_names;
    guint per_kind[16];
} Taken;

static void
taken_clear(Taken *t)
{
    g_clear_pointer(&t->ids, g_hash_table_unref);
    g_clear_pointer(&t->spice_names, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Taken, taken_clear)

static void
take(Taken *t, const SvcChannel *ch)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    if (ch->id)
        g_hash_table_add(t->ids, g_strdup(ch->id));
    if (ch->spice_name && ch->kind->backend == SVC_BACKEND_SPICEPORT)
        g_hash_table_add(t->spice_names, g_strdup(ch->spice_name));
    t->per_kind[ch->kind - kinds]++;
}

static SvcChannel *
plan_one(Taken *t, const SvcSpec *spec, GError **error)
{
    g_autoptr(SvcSpec) pinned = svc_spec_copy(spec);
    g_autoptr(SvcChannel) ch = NULL;
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    if (spec->kind->max && t->per_kind[spec->kind - kinds] >= spec->kind->max) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "the definition already has a %s channel, the most spice-server serves",
                    spec->kind->name);
        return NULL;
    }
    if (!pinned->id) {
        g_autofree char *prefix = g_strconcat(SVC_DOMAIN_ID_PREFIX, spec->kind->name, NULL);

        pinned->id = svc_first_free_name(t->ids, prefix, 0);
    } else if (g_hash_table_contains(t->ids, pinned->id)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE, "device id '%s' is already in use",
                    pinned->id);
        return NULL;
    }
    if (spec->kind->numbered && !pinned->fqdn)
        pinned->fqdn = svc_first_free_name(t->spice_names, spec->kind->spice_name, 0);
    ch = svc_channel_from_spec(pinned);
    if (ch->spice_name && spec->kind->backend == SVC_BACKEND_SPICEPORT &&
        g_hash_table_contains(t->spice_names, ch->spice_name)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "SPICE port name '%s' is already in the definition", ch->spice_name);
        return NULL;
    }
    take(t, ch);
    return g_steal_pointer(&ch);
}

GPtrArray *
svc_domain_plan_config(SvcDomain *d, SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(xmlDoc) doc = svc_domain_doc(d, VIR_DOMAIN_XML_INACTIVE, error);
    g_autoptr(GPtrArray) devices = doc ? svc_domain_devices_of_doc(doc) : NULL;
    g_autoptr(GPtrArray) meta = devices ? svc_domain_read_metadata(d, TRUE, error) : NULL;
    g_autoptr(GPtrArray) planned = g_ptr_array_new_with_free_func(
        (GDestroyNotify)svc_channel_free);
    g_auto(Taken) t = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };

    if (!meta)
        return NULL;
    collect_aliases(xmlDocGetRootElement(doc), t.ids);
    for (guint i = 0; i < devices->len; i++)
        take(&t, ((LvDevice *)devices->pdata[i])->ch);
    for (guint i = 0; i < meta->len; i++) {
        g_autoptr(SvcChannel) ch = svc_channel_from_spec(meta->pdata[i]);

        take(&t, ch);
    }
    for (guint i = 0; i < n; i++) {
        SvcChannel *ch = plan_one(&t, specs[i], error);

        if (!ch) {
            svc_spec_prefix_error(error, specs[i]);
            return NULL;
        }
        g_ptr_array_add(planned, ch);
    }
    return g_steal_pointer(&planned);
}

GHashTable *
svc_domain_aliases(SvcDomain *d, GError **error)
{
    g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(xmlDoc) live = svc_domain_doc(d, 0, error);
    g_autoptr(xmlDoc) config = NULL;

    if (!live)
        return NULL;
    collect_aliases(xmlDocGetRootElement(live), taken);
    if (virDomainIsPersistent(d->dom) == 1) {
        if (!(config = svc_domain_doc(d, VIR_DOMAIN_XML_INACTIVE, error)))
            return NULL;
        collect_aliases(xmlDocGetRootElement(config), taken);
    }
    return g_steal_pointer(&taken);
}

GHashTable *
svc_domain_spice_names(SvcDomain *d, gboolean config, GError **error)
{
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) live = svc_domain_devices(d, FALSE, error);
    g_autoptr(GPtrArray) inactive = live && config ? svc_domain_devices(d, TRUE, error) : NULL;
    GPtrArray *sets[] = { live, inactive };

    if (!live || (config && !inactive))
        return NULL;
    for (guint s = 0; s < G_N_ELEMENTS(sets); s++) {
        for (guint i = 0; sets[s] && i < sets[s]->len; i++) {
            const SvcChannel *ch = ((LvDevice *)sets[s]->pdata[i])->ch;

            if (ch->kind->backend == SVC_BACKEND_SPICEPORT && ch->spice_name &&
                !g_hash_table_contains(names, ch->spice_name))
                g_hash_table_insert(names, g_strdup(ch->spice_name), g_strdup(ch->id));
        }
    }
    return g_steal_pointer(&names);
}

/* ---- list ------------------------------------------------------------ */

/* @synced: what sync recorded of the running domain, with why a device is not live; NULL when
 * the domain is not running. */
static void
add_config_only(GPtrArray *out, GPtrArray *config_devices, GPtrArray *config_meta,
                LvSyncRecord *synced)
{
    for (guint i = 0; i < config_devices->len; i++) {
        LvDevice *lv = config_devices->pdata[i];
        SvcChannel *ch;

        if (lv->taken)
            continue;
        ch = svc_channel_copy(lv->ch);
        ch->state = SVC_STATE_CONFIG;
        ch->persistent = TRUE;
        if (synced)
            ch->reason = g_strdup(svc_sync_record_reason(synced, lv));
        g_ptr_array_add(out, ch);
    }
    for (guint i = 0; i < config_meta->len; i++) {
        SvcChannel *ch;

        if (svc_channels_find(out, ((SvcSpec *)config_meta->pdata[i])->id))
            continue;
        ch = svc_channel_from_spec(config_meta->pdata[i]);
        ch->state = SVC_STATE_CONFIG;
        ch->persistent = TRUE;
        g_ptr_array_add(out, ch);
    }
}

/* Mark what libvirt manages (its XML names it) and what comes back at the next start; the
 * config devices that are running are marked taken. */
static void
merge_live(GPtrArray *live, GPtrArray *devices, GPtrArray *config_devices, GPtrArray *config_meta,
           LvSyncRecord *synced)
{
    g_autoptr(GArray) matched = svc_domain_match_live(live, devices, config_devices,
                                                      synced->added);

    for (guint i = 0; i < live->len; i++) {
        SvcChannel *ch = live->pdata[i];
        LvDevice *lv = svc_domain_find_device(devices, ch->id);

        if (lv) {
            /* libvirt's XML has the names QEMU does not show. */
            g_free(ch->spice_name);
            ch->spice_name = g_strdup(lv->ch->spice_name);
            ch->kind = lv->ch->kind;
            ch->libvirt = ch->ours = TRUE;
        }
        ch->persistent = g_array_index(matched, int, i) >= 0 ||
                         svc_domain_find_spec(config_meta, ch->id);
    }
}

GPtrArray *
svc_domain_list(SvcDomain *d, GError **error)
{
    gboolean persistent = virDomainIsPersistent(d->dom) == 1;
    g_autoptr(GPtrArray) config_devices = persistent ? svc_domain_devices(d, TRUE, error)
                                                     : g_ptr_array_new();
    g_autoptr(GPtrArray) config_meta = NULL;
    g_autoptr(GPtrArray) live = NULL;
    g_autoptr(GPtrArray) devices = NULL;
    g_autoptr(GPtrArray) live_meta = NULL;
    g_autoptr(LvSyncRecord) synced = NULL;

    if (!config_devices ||
        !(config_meta = persistent ? svc_domain_read_metadata(d, TRUE, error) : g_ptr_array_new()))
        return NULL;
    if (!svc_domain_is_running(d)) {
        live = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
        add_config_only(live, config_devices, config_meta, NULL);
        return g_steal_pointer(&live);
    }
    if (!svc_domain_get_vm(d, error) || !(live = svc_list(d->vm, error)) ||
        !(devices = svc_domain_devices(d, FALSE, error)) ||
        !(live_meta = read_record(d, ADDED_URI, FALSE, error)) ||
        !(synced = svc_sync_record_read(d, error)))
        return NULL;
    merge_live(live, devices, config_devices, config_meta, synced);
    /* Recorded as added, but QEMU does not have it: the domain restarted without it. */
    for (guint i = 0; i < live_meta->len; i++) {
        SvcSpec *spec = live_meta->pdata[i];
        SvcChannel *ch;

        if (svc_channels_find(live, spec->id) || svc_domain_find_spec(config_meta, spec->id))
            continue;
        ch = svc_channel_from_spec(spec);
        ch->state = SVC_STATE_GONE;
        g_ptr_array_add(live, ch);
    }
    add_config_only(live, config_devices, config_meta, synced);
    return g_steal_pointer(&live);
}

static gboolean
ours_running(const SvcChannel *ch)
{
    return ch->ours && ch->state == SVC_STATE_OK;
}

static gboolean
ours_defined(const SvcChannel *ch)
{
    return ch->ours && ch->state == SVC_STATE_CONFIG;
}

char *
svc_domain_list_xml(SvcDomain *d, const char *const *ids, GError **error)
{
    g_autoptr(GPtrArray) all = svc_domain_list(d, error);

    return all ? svc_domain_channels_xml(d, all, ids, error) : NULL;
}

char *
svc_domain_channels_xml(SvcDomain *d, GPtrArray *all, const char *const *ids, GError **error)
{
    g_autoptr(GPtrArray) chosen = g_ptr_array_new();
    gboolean (*pick)(const SvcChannel *) = svc_domain_is_running(d) ? ours_running
                                                                      : ours_defined;

    for (guint i = 0; !ids && i < all->len; i++) {
        if (pick(all->pdata[i]))
            g_ptr_array_add(chosen, all->pdata[i]);
    }
    for (guint i = 0; ids && ids[i]; i++) {
        SvcChannel *ch = svc_channels_pick(all, ids[i], pick, error);

        if (!ch) {
            g_prefix_error(error, "domain '%s': ", d->name);
            return NULL;
        }
        g_ptr_array_add(chosen, ch);
    }
    return svc_xml_for_channels(chosen, SVC_XML_FORMATTED);
}
