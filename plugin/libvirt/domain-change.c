/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Changing a libvirt domain's SPICE channels: add, remove, restore, each with its undo. */
#include "config.h"

#include <string.h>

#include "svc-domain.h"

/* What libvirt hot-plugs itself: the agent under its usual name, and usb-redir. */
static gboolean
libvirt_plugs_live(const SvcSpec *spec)
{
    if (spec->bus)
        return FALSE;
    if (spec->kind->frontend == SVC_FRONT_USB_REDIR)
        return TRUE;
    return spec->kind->spice_class == SVC_CLASS_AGENT &&
           (!spec->port_name || g_str_equal(spec->port_name, spec->kind->port_name));
}

/* libvirt keeps all but the smartcard in the persistent definition ("this QEMU binary lacks
 * multiple smartcard support"); that one stays in spicevmc's metadata. */
static gboolean
libvirt_keeps_config(const SvcChannel *ch)
{
    return ch->kind->frontend != SVC_FRONT_CCID_CARD;
}

static gboolean
check_ids(SvcSpec *const *specs, guint n, GError **error)
{
    for (guint i = 0; i < n; i++) {
        if (specs[i]->id && !g_str_has_prefix(specs[i]->id, SVC_DOMAIN_ID_PREFIX)) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                        "device ids in a libvirt domain are user aliases: '%s' must start with "
                        "'%s'", specs[i]->id, SVC_DOMAIN_ID_PREFIX);
            return FALSE;
        }
    }
    return TRUE;
}

/* Everything a failed change did, to be taken back in reverse. */
typedef struct {
    GPtrArray *live_ours;     /* ids added through passthrough */
    GPtrArray *live_libvirt;  /* aliases libvirt hot-plugged */
    GPtrArray *config;        /* aliases added to the persistent definition */
    GPtrArray *config_meta;   /* the persistent metadata before the change, when it changed */
} Undo;

static void
undo_clear(Undo *u)
{
    g_clear_pointer(&u->live_ours, g_ptr_array_unref);
    g_clear_pointer(&u->live_libvirt, g_ptr_array_unref);
    g_clear_pointer(&u->config, g_ptr_array_unref);
    g_clear_pointer(&u->config_meta, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Undo, undo_clear)

static void
logged(gboolean ok, GError *error)
{
    if (!ok)
        g_message("could not fully undo the partial change: %s", error->message);
}

/* Keep the first error; the undo's failures are only logged. */
static void
undo_run(SvcDomain *d, Undo *u)
{
    for (guint i = 0; i < u->live_libvirt->len; i++) {
        g_autoptr(GError) error = NULL;

        if (virDomainDetachDeviceAlias(d->dom, u->live_libvirt->pdata[i],
                                       VIR_DOMAIN_AFFECT_LIVE) < 0)
            logged(svc_libvirt_error(&error, "detach"), error);
    }
    if (u->live_ours->len) {
        g_autoptr(GError) error = NULL;

        g_ptr_array_add(u->live_ours, NULL);
        logged(svc_remove(d->vm, (const char *const *)u->live_ours->pdata, NULL, &error) &&
               svc_domain_sync_live_metadata(d, &error), error);
    }
    for (guint i = 0; i < u->config->len; i++) {
        g_autoptr(GError) error = NULL;

        if (virDomainDetachDeviceAlias(d->dom, u->config->pdata[i], VIR_DOMAIN_AFFECT_CONFIG) < 0)
            logged(svc_libvirt_error(&error, "detach"), error);
    }
    if (u->config_meta) {
        g_autoptr(GError) error = NULL;

        logged(svc_domain_write_specs(d, u->config_meta, TRUE, &error), error);
    }
}

/* @spec again, with the id and address planning gave it: planned again without the
 * channels libvirt adds, it must land where the first plan said. */
static SvcSpec *
pinned(const SvcSpec *spec, const SvcChannel *ch)
{
    SvcSpec *copy = svc_spec_copy(spec);

    g_free(copy->id);
    copy->id = g_strdup(ch->id);
    if (ch->nr) {
        g_free(copy->bus);
        copy->bus = g_strdup(ch->bus);
        copy->nr = ch->nr;
    }
    return copy;
}

static gboolean
add_live(SvcDomain *d, SvcSpec *const *specs, GPtrArray *planned, Undo *u, GError **error)
{
    g_autoptr(GPtrArray) ours = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    for (guint i = 0; i < planned->len; i++) {
        if (!libvirt_plugs_live(specs[i]))
            g_ptr_array_add(ours, pinned(specs[i], planned->pdata[i]));
    }
    if (ours->len && !svc_add(d->vm, (SvcSpec *const *)ours->pdata, ours->len, NULL, error))
        return FALSE;
    for (guint i = 0; i < ours->len; i++)
        g_ptr_array_add(u->live_ours, g_strdup(((SvcSpec *)ours->pdata[i])->id));
    for (guint i = 0; i < planned->len; i++) {
        const SvcChannel *ch = planned->pdata[i];
        g_autofree char *xml = NULL;

        if (!libvirt_plugs_live(specs[i]))
            continue;
        if (!(xml = svc_xml_for_libvirt(ch, error)))
            return FALSE;
        if (virDomainAttachDeviceFlags(d->dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            g_autofree char *what = g_strdup_printf("libvirt cannot hot-plug the %s channel",
                                                    ch->kind->name);

            return svc_libvirt_error(error, what);
        }
        g_ptr_array_add(u->live_libvirt, g_strdup(ch->id));
    }
    return svc_domain_sync_live_metadata(d, error);
}

static gboolean
add_config(SvcDomain *d, GPtrArray *planned, Undo *u, GError **error)
{
    g_autoptr(GPtrArray) meta = svc_domain_read_metadata(d, TRUE, error);
    g_autoptr(GPtrArray) grown = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    gboolean changed = FALSE;

    if (!meta)
        return FALSE;
    for (guint i = 0; i < meta->len; i++)
        g_ptr_array_add(grown, svc_spec_copy(meta->pdata[i]));
    for (guint i = 0; i < planned->len; i++) {
        const SvcChannel *ch = planned->pdata[i];
        g_autofree char *xml = NULL;

        if (!libvirt_keeps_config(ch)) {
            g_ptr_array_add(grown, svc_spec_from_channel(ch));
            changed = TRUE;
            continue;
        }
        if (!(xml = svc_xml_for_libvirt(ch, error)))
            return FALSE;
        if (virDomainAttachDeviceFlags(d->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
            g_autofree char *what = g_strdup_printf(
                "libvirt cannot keep the %s channel in the persistent definition",
                ch->kind->name);

            return svc_libvirt_error(error, what);
        }
        g_ptr_array_add(u->config, g_strdup(ch->id));
    }
    if (!changed)
        return TRUE;
    u->config_meta = g_ptr_array_ref(meta);
    return svc_domain_write_specs(d, grown, TRUE, error);
}

gboolean
svc_domain_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
               GPtrArray **added, GError **error)
{
    g_autoptr(GPtrArray) planned = NULL;
    g_auto(Undo) u = { g_ptr_array_new_with_free_func(g_free),
                       g_ptr_array_new_with_free_func(g_free),
                       g_ptr_array_new_with_free_func(g_free), NULL };
    g_autoptr(GError) local = NULL;

    if (!svc_domain_resolve_affect(d, &affect, error) || !check_ids(specs, n, error))
        return FALSE;
    /* Everything is decided, and checked against the VM, before anything changes. */
    if (affect & SVC_AFFECT_LIVE) {
        if (!svc_domain_get_vm(d, error) || !(planned = svc_plan(d->vm, specs, n, error)))
            return FALSE;
    } else if (!(planned = svc_domain_plan_config(d, specs, n, error))) {
        return FALSE;
    }
    if (((affect & SVC_AFFECT_LIVE) && !add_live(d, specs, planned, &u, &local)) ||
        ((affect & SVC_AFFECT_CONFIG) && !add_config(d, planned, &u, &local))) {
        undo_run(d, &u);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    for (guint i = 0; i < planned->len; i++) {
        SvcChannel *ch = planned->pdata[i];

        ch->libvirt = (affect & SVC_AFFECT_LIVE) ? libvirt_plugs_live(specs[i])
                                                  : libvirt_keeps_config(ch);
        /* libvirt picks its own address; ours was only a plan. */
        if (ch->libvirt) {
            g_clear_pointer(&ch->bus, g_free);
            ch->nr = 0;
        }
        ch->persistent = (affect & SVC_AFFECT_CONFIG) != 0;
        ch->state = (affect & SVC_AFFECT_LIVE) ? SVC_STATE_OK : SVC_STATE_CONFIG;
    }
    if (added)
        *added = g_steal_pointer(&planned);
    return TRUE;
}

/* ---- remove ---------------------------------------------------------- */

/* Who takes each channel away: libvirt (by the element of its live or persistent XML),
 * spicevmc's passthrough, or spicevmc's metadata. */
typedef struct {
    GPtrArray *ours;          /* ids, live through passthrough */
    GPtrArray *live_xml;      /* elements for libvirt to detach live */
    GPtrArray *config_xml;    /* elements for libvirt to take from the persistent definition */
    GPtrArray *meta;          /* the persistent metadata, entries removed */
    gboolean meta_changed;
} Removal;

static void
removal_clear(Removal *r)
{
    g_clear_pointer(&r->ours, g_ptr_array_unref);
    g_clear_pointer(&r->live_xml, g_ptr_array_unref);
    g_clear_pointer(&r->config_xml, g_ptr_array_unref);
    g_clear_pointer(&r->meta, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Removal, removal_clear)

static gboolean
sort_live(SvcDomain *d, const char *id, SvcChannel *ch, GPtrArray *devices, Removal *r,
          GError **error)
{
    LvDevice *lv = svc_domain_find_device(devices, id);

    if (lv) {
        g_ptr_array_add(r->live_xml, g_strdup(lv->xml));
    } else if (ch && ch->ours && (ch->state == SVC_STATE_OK || ch->state == SVC_STATE_NO_DEVICE)) {
        g_ptr_array_add(r->ours, g_strdup(id));
    } else if (ch && !ch->ours) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS,
                    "cannot remove '%s': neither libvirt nor spicevmc added it", id);
        return FALSE;
    } else {
        return FALSE;
    }
    return TRUE;
}

static gboolean
sort_config(const char *id, SvcChannel *ch, GPtrArray *config_devices, Removal *r)
{
    LvDevice *lv = svc_domain_find_device(config_devices, id);
    SvcSpec *spec = svc_domain_find_spec(r->meta, id);

    if (!lv && ch)
        lv = svc_domain_config_device(config_devices, ch);
    if (lv) {
        g_ptr_array_add(r->config_xml, g_strdup(lv->xml));
        /* Taken: a second id must not pick the same element. */
        g_clear_pointer(&lv->ch, svc_channel_free);
    } else if (spec) {
        g_ptr_array_remove(r->meta, spec);
        r->meta_changed = TRUE;
    }
    return lv || spec;
}

/* Decide everything before changing anything: an unknown id refuses the whole request.  @all
 * is svc_domain_list(). */
static gboolean
sort_ids(SvcDomain *d, const char *const *ids, SvcAffect affect, GPtrArray *all, Removal *r,
         GError **error)
{
    g_autoptr(GPtrArray) devices = NULL;
    g_autoptr(GPtrArray) config_devices = NULL;

    if ((affect & SVC_AFFECT_LIVE) && !(devices = svc_domain_devices(d, FALSE, error)))
        return FALSE;
    if ((affect & SVC_AFFECT_CONFIG) &&
        (!(config_devices = svc_domain_devices(d, TRUE, error)) ||
         !(r->meta = svc_domain_read_metadata(d, TRUE, error))))
        return FALSE;
    for (guint i = 0; ids[i]; i++) {
        SvcChannel *ch = svc_channels_find(all, ids[i]);
        g_autoptr(GError) local = NULL;
        gboolean live = (affect & SVC_AFFECT_LIVE) && sort_live(d, ids[i], ch, devices, r, &local);
        gboolean config = (affect & SVC_AFFECT_CONFIG) && sort_config(ids[i], ch, config_devices, r);

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!live && !config) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "cannot remove '%s': domain '%s' has no such SPICE channel%s", ids[i],
                        d->name, (affect & SVC_AFFECT_CONFIG) ? "" : " running");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
remove_live(SvcDomain *d, Removal *r, GError **error)
{
    if (r->ours->len) {
        g_ptr_array_add(r->ours, NULL);
        if (!svc_remove(d->vm, (const char *const *)r->ours->pdata, NULL, error))
            return FALSE;
    }
    for (guint i = 0; i < r->live_xml->len; i++) {
        /* libvirt waits for QEMU's DEVICE_DELETED itself. */
        if (virDomainDetachDeviceFlags(d->dom, r->live_xml->pdata[i], VIR_DOMAIN_AFFECT_LIVE) < 0)
            return svc_libvirt_error(error, "libvirt cannot detach the channel");
    }
    return svc_domain_sync_live_metadata(d, error);
}

static gboolean
remove_config(SvcDomain *d, Removal *r, GError **error)
{
    for (guint i = 0; i < r->config_xml->len; i++) {
        if (virDomainDetachDeviceFlags(d->dom, r->config_xml->pdata[i],
                                       VIR_DOMAIN_AFFECT_CONFIG) < 0)
            return svc_libvirt_error(error, "libvirt cannot remove the channel from the "
                                            "persistent definition");
    }
    return !r->meta_changed || svc_domain_write_specs(d, r->meta, TRUE, error);
}

/* @all: the domain's channels as svc_domain_list() gives them, when the caller has them. */
static gboolean
remove_ids(SvcDomain *d, const char *const *ids, SvcAffect affect, GPtrArray *all,
           GPtrArray **removed, GError **error)
{
    g_auto(Removal) r = { g_ptr_array_new_with_free_func(g_free),
                          g_ptr_array_new_with_free_func(g_free),
                          g_ptr_array_new_with_free_func(g_free), NULL, FALSE };
    g_autoptr(GPtrArray) listed = NULL;

    if (!svc_domain_resolve_affect(d, &affect, error) ||
        ((affect & SVC_AFFECT_LIVE) && !svc_domain_get_vm(d, error)) ||
        (!all && !(all = listed = svc_domain_list(d, error))) ||
        !sort_ids(d, ids, affect, all, &r, error))
        return FALSE;
    if (((affect & SVC_AFFECT_LIVE) && !remove_live(d, &r, error)) ||
        ((affect & SVC_AFFECT_CONFIG) && !remove_config(d, &r, error)))
        return FALSE;
    if (removed) {
        *removed = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; ids[i]; i++)
            g_ptr_array_add(*removed, g_strdup(ids[i]));
    }
    return TRUE;
}

gboolean
svc_domain_remove(SvcDomain *d, const char *const *ids, SvcAffect affect, GPtrArray **removed,
                  GError **error)
{
    return remove_ids(d, ids, affect, NULL, removed, error);
}

gboolean
svc_domain_remove_specs(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                        GPtrArray **removed, GError **error)
{
    g_autoptr(GPtrArray) all = svc_domain_list(d, error);
    g_autoptr(GPtrArray) ids = g_ptr_array_new();

    if (!all)
        return FALSE;
    for (guint i = 0; i < n; i++) {
        SvcChannel *found = NULL;

        /* As virsh detach-device: the first that matches and is not taken already. */
        for (guint j = 0; j < all->len && !found; j++) {
            SvcChannel *ch = all->pdata[j];

            if (ch->ours && svc_channel_matches(ch, specs[i]) &&
                !g_ptr_array_find_with_equal_func(ids, ch->id, g_str_equal, NULL))
                found = ch;
        }
        if (!found) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "cannot remove the %s channel%s%s: domain '%s' has no%s such channel",
                        specs[i]->kind->name, specs[i]->origin ? " of " : "",
                        specs[i]->origin ? specs[i]->origin : "", d->name,
                        ids->len ? " other" : "");
            return FALSE;
        }
        g_ptr_array_add(ids, found->id);
    }
    g_ptr_array_add(ids, NULL);
    return remove_ids(d, (const char *const *)ids->pdata, affect, all, removed, error);
}

/* ---- restore --------------------------------------------------------- */

gboolean
svc_domain_restore(SvcDomain *d, GPtrArray **added, GError **error)
{
    g_autoptr(GPtrArray) meta = NULL;
    g_autoptr(GPtrArray) live = NULL;
    g_autoptr(GPtrArray) missing = g_ptr_array_new();

    if (!svc_domain_get_vm(d, error) || !(meta = svc_domain_read_metadata(d, TRUE, error)) ||
        !(live = svc_list(d->vm, error)))
        return FALSE;
    for (guint i = 0; i < meta->len; i++) {
        SvcSpec *spec = meta->pdata[i];

        if (!svc_channels_find(live, spec->id))
            g_ptr_array_add(missing, spec);
    }
    if (missing->len &&
        !svc_add(d->vm, (SvcSpec *const *)missing->pdata, missing->len, added, error))
        return FALSE;
    if (!missing->len && added)
        *added = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    return svc_domain_sync_live_metadata(d, error);
}
