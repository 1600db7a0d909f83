/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/libvirt/sync.c — a running domain's SPICE channels made to match its persistent
 * definition: what virt-manager and virsh --config put there goes live now, not at the next
 * start. */
#include "config.h"

#include "svc-domain.h"

void
svc_sync_change_free(SvcSyncChange *change)
{
    if (!change)
        return;
    svc_channel_free(change->channel);
    g_free(change);
}

const char *
svc_sync_action_name(SvcSyncAction action)
{
    static const char *const names[] = {
        [SVC_SYNC_LIVE] = "live",
        [SVC_SYNC_ADDED] = "added",
        [SVC_SYNC_REMOVED] = "removed",
        [SVC_SYNC_SKIPPED] = "skipped",
    };

    return names[action];
}

typedef struct {
    SvcDomain *d;
    LvSyncRecord *before;     /* the record as sync left it last time */
    LvSyncRecord *after;      /* as this sync leaves it */
    GPtrArray *config;        /* LvDevice of the definition; taken: live */
    GPtrArray *live;          /* SvcChannel, the running domain's */
    GPtrArray *live_devices;  /* LvDevice of the live XML */
    GArray *matched;          /* for each of @live, its device in @config, or -1 */
    GPtrArray *changes;       /* SvcSyncChange */
    gboolean passthrough;     /* a channel went through QMP passthrough */
} Sync;

static void
sync_clear(Sync *s)
{
    g_clear_pointer(&s->before, svc_sync_record_free);
    g_clear_pointer(&s->after, svc_sync_record_free);
    g_clear_pointer(&s->config, g_ptr_array_unref);
    g_clear_pointer(&s->live, g_ptr_array_unref);
    g_clear_pointer(&s->live_devices, g_ptr_array_unref);
    g_clear_pointer(&s->matched, g_array_unref);
    g_clear_pointer(&s->changes, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Sync, sync_clear)

static void
report(Sync *s, SvcSyncAction action, SvcChannel *ch)
{
    SvcSyncChange *change = g_new0(SvcSyncChange, 1);

    change->action = action;
    change->channel = ch;
    g_ptr_array_add(s->changes, change);
}

static gboolean
check_state(SvcDomain *d, GError **error)
{
    if (!svc_domain_is_running(d)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                    "domain '%s' is not running: libvirt starts it as its definition says",
                    d->name);
        return FALSE;
    }
    if (virDomainIsPersistent(d->dom) != 1) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                    "domain '%s' is transient: it has no persistent definition to follow",
                    d->name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
load(Sync *s, GError **error)
{
    return svc_domain_get_vm(s->d, error) &&
           (s->before = svc_sync_record_read(s->d, error)) &&
           (s->config = svc_domain_devices(s->d, TRUE, error)) &&
           (s->live_devices = svc_domain_devices(s->d, FALSE, error)) &&
           (s->live = svc_list(s->d->vm, error)) &&
           (s->matched = svc_domain_match_live(s->live, s->live_devices, s->config,
                                               s->before->added));
}

/* The channels sync added whose device left the definition go; those QEMU lost (removed by
 * hand) are forgotten; the others stay recorded. */
static gboolean
remove_orphans(Sync *s, GError **error)
{
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    g_autoptr(GPtrArray) removed = NULL;

    for (guint i = 0; i < s->live->len; i++) {
        const SvcChannel *ch = s->live->pdata[i];

        if (!ch->id || !g_hash_table_contains(s->before->added, ch->id))
            continue;
        if (g_array_index(s->matched, int, i) >= 0)
            g_hash_table_add(s->after->added, g_strdup(ch->id));
        else
            g_ptr_array_add(ids, ch->id);
    }
    if (!ids->len)
        return TRUE;
    g_ptr_array_add(ids, NULL);
    if (!svc_domain_remove(s->d, (const char *const *)ids->pdata, SVC_AFFECT_LIVE, &removed,
                           error))
        return FALSE;
    for (guint i = 0; i < removed->len; i++)
        report(s, SVC_SYNC_REMOVED, g_steal_pointer(&removed->pdata[i]));
    return TRUE;
}

/* What the definition's device asks for: its kind and names, its user alias if it has one
 * (else a name of spicevmc's, "ua-KINDn").  Its address is libvirt's plan for the next start;
 * live, a passthrough channel takes the ports libvirt does not allocate from. */
static SvcSpec *
spec_of_device(const LvDevice *lv)
{
    SvcSpec *spec = svc_spec_from_channel(lv->ch);

    if (!lv->aliased)
        g_clear_pointer(&spec->id, g_free);
    if (lv->ch->kind->numbered && !spec->fqdn)
        spec->fqdn = g_strdup(lv->ch->spice_name);
    return spec;
}

static void
record_added(Sync *s, GPtrArray *added)
{
    for (guint i = 0; i < added->len; i++) {
        SvcChannel *ch = g_steal_pointer(&added->pdata[i]);

        g_hash_table_add(s->after->added, g_strdup(ch->id));
        s->passthrough |= !ch->libvirt;
        report(s, SVC_SYNC_ADDED, ch);
    }
}

/* libvirt gone (libvirtd restarted, the network down) is no reason to skip a device: the
 * whole sync stops, to be done again once libvirt is back. */
static gboolean
connection_lost(SvcDomain *d)
{
    return virConnectIsAlive(d->conn) != 1;
}

static gboolean
skip(Sync *s, const LvDevice *lv, GError **why, GError **error)
{
    SvcChannel *skipped;

    if (connection_lost(s->d)) {
        g_propagate_error(error, g_steal_pointer(why));
        return FALSE;
    }
    svc_sync_record_skip(s->after, lv, (*why)->message);
    skipped = svc_channel_copy(lv->ch);
    skipped->state = SVC_STATE_CONFIG;
    skipped->persistent = TRUE;
    skipped->reason = g_strdup(svc_sync_record_reason(s->after, lv));
    report(s, SVC_SYNC_SKIPPED, skipped);
    return TRUE;
}

/* The definition's devices that are not live: all at once (one transaction), else each alone,
 * so that one that cannot go live keeps none of the others back. */
static gboolean
add_missing(Sync *s, GError **error)
{
    g_autoptr(GPtrArray) devices = g_ptr_array_new();
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GError) why = NULL;

    for (guint i = 0; i < s->config->len; i++) {
        LvDevice *lv = s->config->pdata[i];

        if (lv->taken)
            continue;
        g_ptr_array_add(devices, lv);
        g_ptr_array_add(specs, spec_of_device(lv));
    }
    if (!specs->len)
        return TRUE;
    if (svc_domain_add(s->d, (SvcSpec *const *)specs->pdata, specs->len, SVC_AFFECT_LIVE,
                       &added, &why)) {
        record_added(s, added);
        return TRUE;
    }
    if (specs->len == 1 || connection_lost(s->d))
        return skip(s, devices->pdata[0], &why, error);
    for (guint i = 0; i < specs->len; i++) {
        g_clear_error(&why);
        g_clear_pointer(&added, g_ptr_array_unref);
        if (svc_domain_add(s->d, (SvcSpec *const *)&specs->pdata[i], 1, SVC_AFFECT_LIVE,
                           &added, &why))
            record_added(s, added);
        else if (!skip(s, devices->pdata[i], &why, error))
            return FALSE;
    }
    return TRUE;
}

static void
report_live(Sync *s)
{
    for (guint i = 0; i < s->live->len; i++) {
        if (g_array_index(s->matched, int, i) >= 0)
            report(s, SVC_SYNC_LIVE, svc_channel_copy(s->live->pdata[i]));
    }
}

gboolean
svc_domain_sync(SvcDomain *d, GPtrArray **changes, GError **error)
{
    g_auto(Sync) s = { .d = d };

    if (!check_state(d, error) || !load(&s, error))
        return FALSE;
    s.after = svc_sync_record_new();
    s.changes = g_ptr_array_new_with_free_func((GDestroyNotify)svc_sync_change_free);
    report_live(&s);
    if (!remove_orphans(&s, error) || !add_missing(&s, error))
        return FALSE;
    if (!svc_sync_record_equal(s.before, s.after)) {
        if (!svc_sync_record_write(d, s.after, error))
            return FALSE;
        /* The record of passthrough channels written while adding did not know these yet:
         * they are not lost at the next start, libvirt brings their devices back. */
        if (s.passthrough && !svc_domain_sync_live_metadata(d, error))
            return FALSE;
    }
    if (changes)
        *changes = g_steal_pointer(&s.changes);
    return TRUE;
}
