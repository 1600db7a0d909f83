/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/libvirt/domain-remove.c — taking SPICE channels away from a libvirt domain, running and from
 * its definition: by id, by device XML, or all of them, decided whole before anything changes. */
#include "config.h"

#include "svc-domain.h"

/* Who takes each channel away: libvirt (by the element of its live or persistent XML),
 * spicevmc's passthrough, or spicevmc's metadata. */
typedef struct {
    SvcDomain *d;
    SvcAffect affect;
    GPtrArray *all;           /* svc_domain_list() */
    GPtrArray *live_devices;  /* LvDevice of the live XML, when running */
    GPtrArray *config_devices; /* LvDevice of the persistent definition, for --config */
    GPtrArray *meta;          /* the persistent metadata, entries dropped as they are taken */
    gboolean meta_changed;
    SvcInventory *inv;        /* the live QEMU, for the controller of a bus, when a spec says */
    GPtrArray *taken;         /* SvcChannel of @all taken already */
    GPtrArray *ours;          /* ids, live, through passthrough */
    GPtrArray *live_xml;      /* elements for libvirt to detach live */
    GPtrArray *live_ids;
    GPtrArray *config_xml;    /* elements for libvirt to take from the persistent definition */
    GPtrArray *config_ids;
    GPtrArray *config_define; /* elements libvirt will not detach: defined again without */
    GPtrArray *define_ids;
    GPtrArray *meta_ids;
    GPtrArray *removed;       /* SvcChannel, as reported */
    LvSyncRecord *synced;     /* what sync added for the definition, when running */
} Removal;

static void
removal_clear(Removal *r)
{
    g_clear_pointer(&r->all, g_ptr_array_unref);
    g_clear_pointer(&r->live_devices, g_ptr_array_unref);
    g_clear_pointer(&r->config_devices, g_ptr_array_unref);
    g_clear_pointer(&r->meta, g_ptr_array_unref);
    g_clear_pointer(&r->inv, svc_inventory_free);
    g_clear_pointer(&r->taken, g_ptr_array_unref);
    g_clear_pointer(&r->ours, g_ptr_array_unref);
    g_clear_pointer(&r->live_xml, g_ptr_array_unref);
    g_clear_pointer(&r->live_ids, g_ptr_array_unref);
    g_clear_pointer(&r->config_xml, g_ptr_array_unref);
    g_clear_pointer(&r->config_ids, g_ptr_array_unref);
    g_clear_pointer(&r->config_define, g_ptr_array_unref);
    g_clear_pointer(&r->define_ids, g_ptr_array_unref);
    g_clear_pointer(&r->meta_ids, g_ptr_array_unref);
    g_clear_pointer(&r->removed, g_ptr_array_unref);
    g_clear_pointer(&r->synced, svc_sync_record_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Removal, removal_clear)

static gboolean
removal_init(Removal *r, SvcDomain *d, SvcAffect affect, GError **error)
{
    r->d = d;
    r->taken = g_ptr_array_new();
    r->ours = g_ptr_array_new_with_free_func(g_free);
    r->live_xml = g_ptr_array_new_with_free_func(g_free);
    r->live_ids = g_ptr_array_new_with_free_func(g_free);
    r->config_xml = g_ptr_array_new_with_free_func(g_free);
    r->config_ids = g_ptr_array_new_with_free_func(g_free);
    r->config_define = g_ptr_array_new_with_free_func(g_free);
    r->define_ids = g_ptr_array_new_with_free_func(g_free);
    r->meta_ids = g_ptr_array_new_with_free_func(g_free);
    r->removed = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    if (!svc_domain_resolve_affect(d, &affect, error))
        return FALSE;
    r->affect = affect;
    if (((affect & SVC_AFFECT_LIVE) && !svc_domain_get_vm(d, error)) ||
        !(r->all = svc_domain_list(d, error)))
        return FALSE;
    /* The live XML tells which running device a definition's device is. */
    if (svc_domain_is_running(d) && (!(r->live_devices = svc_domain_devices(d, FALSE, error)) ||
                                     !(r->synced = svc_sync_record_read(d, error))))
        return FALSE;
    if (affect & SVC_AFFECT_CONFIG)
        return (r->config_devices = svc_domain_devices(d, TRUE, error)) &&
               (r->meta = svc_domain_read_metadata(d, TRUE, error));
    return TRUE;
}

/* ---- which channel a request names ----------------------------------- */

static SvcChannel *
live_by_id(Removal *r, const char *id, GError **error)
{
    for (guint i = 0; i < r->all->len; i++) {
        SvcChannel *ch = r->all->pdata[i];

        if (g_strcmp0(ch->id, id) != 0 || (ch->state != SVC_STATE_OK &&
                                           ch->state != SVC_STATE_NO_DEVICE))
            continue;
        if (!ch->ours) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS,
                        "cannot remove '%s': neither libvirt nor spicevmc added it", id);
            return NULL;
        }
        return ch;
    }
    return NULL;
}

/* Whether @ch sits on the controller @spec's address names (libvirt's index). */
static gboolean
on_controller(Removal *r, const SvcSpec *spec, const SvcChannel *ch, GError **error)
{
    if (spec->controller < 0)
        return TRUE;
    if (!r->inv && !(r->inv = svc_inventory_load(r->d->vm, TRUE, error)))
        return FALSE;
    return svc_inventory_controller_of_bus(r->inv, ch->kind->frontend, ch->bus) ==
           spec->controller;
}

/* As virsh detach-device picks: the device of the alias, else the first that matches and is
 * not taken by an earlier device of the batch. */
static SvcChannel *
live_by_spec(Removal *r, const SvcSpec *spec, GError **error)
{
    if (spec->id) {
        SvcChannel *ch = live_by_id(r, spec->id, error);

        return ch && ch->kind == spec->kind ? ch : NULL;
    }
    for (guint i = 0; i < r->all->len; i++) {
        SvcChannel *ch = r->all->pdata[i];
        g_autoptr(GError) local = NULL;

        if (!svc_domain_channel_is_live(ch) || g_ptr_array_find(r->taken, ch, NULL) ||
            !svc_channel_matches(ch, spec))
            continue;
        if (on_controller(r, spec, ch, &local))
            return ch;
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    return NULL;
}

/* The device of the persistent definition that the running @live is. */
static LvDevice *
counterpart(Removal *r, const SvcChannel *live)
{
    LvDevice *lv = r->live_devices ? svc_domain_find_device(r->live_devices, live->id) : NULL;

    return svc_domain_config_device(r->config_devices, lv ? lv->ch : live,
                                    r->synced ? r->synced->added : NULL);
}

static LvDevice *
config_by_id(Removal *r, const char *id)
{
    LvDevice *lv;

    for (guint i = 0; i < r->all->len; i++) {
        SvcChannel *ch = r->all->pdata[i];

        if (svc_domain_channel_is_live(ch) && g_strcmp0(ch->id, id) == 0 &&
            (lv = counterpart(r, ch)))
            return lv;
    }
    lv = svc_domain_find_device(r->config_devices, id);
    return lv && !lv->taken ? lv : NULL;
}

static gboolean
config_matches(const LvDevice *lv, const SvcSpec *spec)
{
    return !lv->taken && lv->ch->kind == spec->kind &&
           (!spec->fqdn || g_strcmp0(lv->ch->spice_name, spec->fqdn) == 0) &&
           (!spec->port_name || g_strcmp0(lv->ch->port_name, spec->port_name) == 0) &&
           (!spec->nr || lv->port == spec->nr) &&
           (spec->controller < 0 || lv->controller == spec->controller);
}

static LvDevice *
config_by_spec(Removal *r, const SvcSpec *spec)
{
    LvDevice *lv;

    if (spec->id)
        return (lv = config_by_id(r, spec->id)) && lv->ch->kind == spec->kind ? lv : NULL;
    for (guint i = 0; i < r->config_devices->len; i++) {
        if (config_matches(r->config_devices->pdata[i], spec))
            return r->config_devices->pdata[i];
    }
    return NULL;
}

static SvcSpec *
meta_by_spec(Removal *r, const char *id, const SvcSpec *spec)
{
    for (guint i = 0; i < r->meta->len; i++) {
        SvcSpec *m = r->meta->pdata[i];

        if (spec ? m->kind == spec->kind && (!spec->id || g_strcmp0(m->id, spec->id) == 0) &&
                       (!spec->fqdn || g_strcmp0(m->fqdn, spec->fqdn) == 0)
                 : g_strcmp0(m->id, id) == 0)
            return m;
    }
    return NULL;
}

/* ---- taking them ------------------------------------------------------ */

/* libvirt 9.0 detaches everything SPICE live but a smartcard ("live detach of device
 * 'smartcard' is not supported"): refused before anything changes. */
static gboolean
check_live(const SvcChannel *live, GError **error)
{
    if (!live || !live->libvirt || live->kind->frontend != SVC_FRONT_CCID_CARD)
        return TRUE;
    g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                "cannot remove '%s' from the running domain: libvirt cannot detach a smartcard "
                "live; remove it with --config and restart the domain", live->id);
    return FALSE;
}

/* @live, @config and @meta are one channel (any may be NULL): report it, and take each. */
static void
take(Removal *r, SvcChannel *live, LvDevice *config, SvcSpec *meta)
{
    SvcChannel *ch = live ? svc_channel_copy(live)
                          : config ? svc_channel_copy(config->ch) : svc_channel_from_spec(meta);

    if (!live)
        ch->state = SVC_STATE_CONFIG;
    ch->persistent = config || meta;
    g_ptr_array_add(r->removed, ch);
    if (live) {
        LvDevice *lv = r->live_devices ? svc_domain_find_device(r->live_devices, live->id)
                                       : NULL;

        g_ptr_array_add(r->taken, live);
        if (live->libvirt && lv) {
            g_ptr_array_add(r->live_xml, g_strdup(lv->xml));
            g_ptr_array_add(r->live_ids, g_strdup(live->id));
        } else {
            g_ptr_array_add(r->ours, g_strdup(live->id));
        }
    }
    if (config) {
        /* libvirt 9.0: "persistent detach of device 'smartcard' is not supported". */
        gboolean define = config->ch->kind->frontend == SVC_FRONT_CCID_CARD;

        config->taken = TRUE;
        g_ptr_array_add(define ? r->config_define : r->config_xml, g_strdup(config->xml));
        g_ptr_array_add(define ? r->define_ids : r->config_ids, g_strdup(config->ch->id));
    } else if (meta) {
        g_ptr_array_add(r->meta_ids, g_strdup(meta->id));
        g_ptr_array_remove(r->meta, meta);
        r->meta_changed = TRUE;
    }
}

static const char *
scope_words(SvcAffect affect)
{
    if (affect == SVC_AFFECT_LIVE)
        return "running";
    if (affect == SVC_AFFECT_CONFIG)
        return "in its persistent definition";
    return "running or in its persistent definition";
}

/* One channel, named by @id or described by @spec, in every scope asked. */
static gboolean
take_one(Removal *r, const char *id, const SvcSpec *spec, GError **error)
{
    SvcChannel *live = NULL;
    LvDevice *config = NULL;
    SvcSpec *meta = NULL;
    g_autoptr(GError) local = NULL;

    if (r->affect & SVC_AFFECT_LIVE) {
        live = spec ? live_by_spec(r, spec, &local) : live_by_id(r, id, &local);
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        /* "remove a a" removes a once. */
        if (live && !spec && g_ptr_array_find(r->taken, live, NULL))
            return TRUE;
    }
    if (r->affect & SVC_AFFECT_CONFIG) {
        config = live ? counterpart(r, live) : spec ? config_by_spec(r, spec) : config_by_id(r, id);
        if (!config && !(live && live->libvirt))
            meta = meta_by_spec(r, live ? live->id : id, live ? NULL : spec);
    }
    if (!check_live(live, error))
        return FALSE;
    if (!live && !config && !meta) {
        if (spec)
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "cannot remove the %s channel%s%s: domain '%s' has no%s such channel %s",
                        spec->kind->name, spec->origin ? " of " : "",
                        spec->origin ? spec->origin : "", r->d->name,
                        r->removed->len ? " other" : "", scope_words(r->affect));
        else
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "cannot remove '%s': domain '%s' has no such SPICE channel %s", id,
                        r->d->name, scope_words(r->affect));
        return FALSE;
    }
    take(r, live, config, meta);
    return TRUE;
}

/* Every channel in the scope asked. */
static gboolean
take_all(Removal *r, GError **error)
{
    for (guint i = 0; (r->affect & SVC_AFFECT_LIVE) && i < r->all->len; i++) {
        SvcChannel *ch = r->all->pdata[i];
        LvDevice *config;

        if (!svc_domain_channel_is_live(ch))
            continue;
        if (!check_live(ch, error))
            return FALSE;
        config = (r->affect & SVC_AFFECT_CONFIG) ? counterpart(r, ch) : NULL;
        take(r, ch, config,
             !config && (r->affect & SVC_AFFECT_CONFIG) ? meta_by_spec(r, ch->id, NULL) : NULL);
    }
    if (!(r->affect & SVC_AFFECT_CONFIG))
        return TRUE;
    for (guint i = 0; i < r->config_devices->len; i++) {
        LvDevice *lv = r->config_devices->pdata[i];

        if (!lv->taken)
            take(r, NULL, lv, NULL);
    }
    while (r->meta->len)
        take(r, NULL, NULL, r->meta->pdata[0]);
    return TRUE;
}

/* ---- doing it --------------------------------------------------------- */

static gboolean
remove_ours(Removal *r, SvcDryRun *run, GError **error)
{
    g_autoptr(SvcDryRun) theirs = NULL;
    SvcStep *step;

    g_ptr_array_add(r->ours, NULL);
    if (!run)
        return svc_remove(r->d->vm, (const char *const *)r->ours->pdata, NULL, error);
    if (!(theirs = svc_dry_run_remove(r->d->vm, (const char *const *)r->ours->pdata, error)))
        return FALSE;
    step = g_ptr_array_steal_index(theirs->steps, 0);
    g_free(step->what);
    step->what = g_strdup("QMP through libvirt (virsh qemu-monitor-command)");
    g_ptr_array_add(run->steps, step);
    return TRUE;
}

static gboolean
detach_all(Removal *r, GPtrArray *xml, GPtrArray *ids, gboolean config, SvcDryRun *run,
           GError **error)
{
    for (guint i = 0; i < xml->len; i++) {
        if (run) {
            svc_domain_plan_libvirt(run, config ? "libvirt detach-device --config"
                                                : "libvirt detach-device --live",
                                    ids->pdata[i], xml->pdata[i]);
            continue;
        }
        /* libvirt waits for QEMU's DEVICE_DELETED itself. */
        if (virDomainDetachDeviceFlags(r->d->dom, xml->pdata[i], config
                                                                   ? VIR_DOMAIN_AFFECT_CONFIG
                                                                   : VIR_DOMAIN_AFFECT_LIVE) < 0) {
            g_autofree char *what = g_strdup_printf(
                config ? "libvirt cannot remove '%s' from the persistent definition"
                       : "libvirt cannot detach '%s'", (char *)ids->pdata[i]);

            return svc_libvirt_error(error, what);
        }
    }
    return TRUE;
}

static gboolean
execute(Removal *r, SvcDryRun *run, GError **error)
{
    if (r->affect & SVC_AFFECT_LIVE) {
        if ((r->ours->len && !remove_ours(r, run, error)) ||
            !detach_all(r, r->live_xml, r->live_ids, FALSE, run, error))
            return FALSE;
        if (run && r->ours->len)
            svc_dry_run_add_step(run, "spicevmc metadata " SVC_DOMAIN_ADDED_URI
                                      " --live --config");
        else if (!run && !svc_domain_sync_live_metadata(r->d, error))
            return FALSE;
    }
    if (!(r->affect & SVC_AFFECT_CONFIG))
        return TRUE;
    if (!detach_all(r, r->config_xml, r->config_ids, TRUE, run, error))
        return FALSE;
    if (r->config_define->len && run) {
        SvcStep *step = svc_dry_run_add_step(run, "libvirt define (the definition without them)");

        for (guint i = 0; i < r->define_ids->len; i++)
            g_ptr_array_add(step->ids, g_strdup(r->define_ids->pdata[i]));
    } else if (r->config_define->len && !svc_domain_define_without(r->d, r->config_define, error)) {
        return FALSE;
    }
    if (!r->meta_changed)
        return TRUE;
    if (run) {
        svc_domain_plan_metadata(run, "spicevmc metadata " SVC_DOMAIN_RESTORE_URI " --config",
                                 r->meta);
        return TRUE;
    }
    return svc_domain_write_specs(r->d, r->meta, error);
}

/* @ids (NULL: every channel in scope) or @specs; @run: only say what would be done. */
static gboolean
do_remove(SvcDomain *d, const char *const *ids, SvcSpec *const *specs, guint n,
          SvcAffect affect, GPtrArray **removed, SvcDryRun *run, GError **error)
{
    g_auto(Removal) r = { NULL };

    if (!removal_init(&r, d, affect, error))
        return FALSE;
    if (specs) {
        for (guint i = 0; i < n; i++) {
            if (!take_one(&r, NULL, specs[i], error))
                return FALSE;
        }
    } else if (ids) {
        for (guint i = 0; ids[i]; i++) {
            if (!take_one(&r, ids[i], NULL, error))
                return FALSE;
        }
    } else if (!take_all(&r, error)) {
        return FALSE;
    }
    if (!execute(&r, run, error))
        return FALSE;
    if (removed)
        *removed = g_steal_pointer(&r.removed);
    return TRUE;
}

gboolean
svc_domain_remove(SvcDomain *d, const char *const *ids, SvcAffect affect, GPtrArray **removed,
                  GError **error)
{
    return do_remove(d, ids, NULL, 0, affect, removed, NULL, error);
}

gboolean
svc_domain_remove_specs(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                        GPtrArray **removed, GError **error)
{
    return do_remove(d, NULL, specs, n, affect, removed, NULL, error);
}

static SvcDryRun *
dry_run(SvcDomain *d, const char *const *ids, SvcSpec *const *specs, guint n, SvcAffect affect,
        GError **error)
{
    g_autoptr(SvcDryRun) run = svc_dry_run_new();
    g_autoptr(GPtrArray) removed = NULL;

    if (!do_remove(d, ids, specs, n, affect, &removed, run, error))
        return NULL;
    for (guint i = 0; i < removed->len; i++)
        g_ptr_array_add(run->channels, g_steal_pointer(&removed->pdata[i]));
    return g_steal_pointer(&run);
}

SvcDryRun *
svc_domain_dry_run_remove(SvcDomain *d, const char *const *ids, SvcAffect affect,
                          GError **error)
{
    return dry_run(d, ids, NULL, 0, affect, error);
}

SvcDryRun *
svc_domain_dry_run_remove_specs(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                                GError **error)
{
    return dry_run(d, NULL, specs, n, affect, error);
}
