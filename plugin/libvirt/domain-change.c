/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Adding SPICE channels to a libvirt domain, and restoring them, each with its undo. */
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

/* libvirt's live devices, detached as remove detaches them: virDomainDetachDeviceFlags()
 * waits for QEMU's DEVICE_DELETED, where virDomainDetachDeviceAlias() returns before it and
 * leaves the device in QEMU and in the live XML after the command has said it changed
 * nothing. */
static void
undo_live_libvirt(SvcDomain *d, GPtrArray *aliases)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) devices = NULL;

    if (!aliases->len)
        return;
    if (!(devices = svc_domain_devices(d, FALSE, &error))) {
        logged(FALSE, error);
        return;
    }
    for (guint i = 0; i < aliases->len; i++) {
        const LvDevice *dev = svc_domain_find_device(devices, aliases->pdata[i]);
        g_autoptr(GError) detach_error = NULL;

        if (dev && virDomainDetachDeviceFlags(d->dom, dev->xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
            logged(svc_libvirt_error(&detach_error, "detach"), detach_error);
    }
}

/* Keep the first error; the undo's failures are only logged. */
static void
undo_run(SvcDomain *d, Undo *u)
{
    undo_live_libvirt(d, u->live_libvirt);
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

        logged(svc_domain_write_specs(d, u->config_meta, &error), error);
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
    if (ch->kind->numbered && !copy->fqdn)
        copy->fqdn = g_strdup(ch->spice_name);
    return copy;
}

void
svc_domain_plan_libvirt(SvcDryRun *run, const char *what, const char *id, const char *xml)
{
    SvcStep *step = run->steps->len ? g_ptr_array_index(run->steps, run->steps->len - 1) : NULL;

    if (!step || g_strcmp0(step->what, what) != 0)
        step = svc_dry_run_add_step(run, what);
    g_ptr_array_add(step->ids, g_strdup(id));
    if (step->xml) {
        g_autofree char *before = step->xml;

        step->xml = g_strconcat(before, "\n", xml, NULL);
    } else {
        step->xml = g_strdup(xml);
    }
}

void
svc_domain_plan_metadata(SvcDryRun *run, const char *what, GPtrArray *specs)
{
    SvcStep *step = svc_dry_run_add_step(run, what);

    for (guint i = 0; i < specs->len; i++)
        g_ptr_array_add(step->ids, g_strdup(((SvcSpec *)specs->pdata[i])->id));
    step->xml = svc_domain_specs_xml(specs);
}

/* Through passthrough: svc_add's own steps, or its dry run. */
static gboolean
add_ours(SvcDomain *d, GPtrArray *ours, SvcDryRun *run, GError **error)
{
    g_autoptr(SvcDryRun) theirs = NULL;
    SvcStep *step;

    if (!run)
        return svc_add(d->vm, (SvcSpec *const *)ours->pdata, ours->len, NULL, error);
    if (!(theirs = svc_dry_run_add(d->vm, (SvcSpec *const *)ours->pdata, ours->len, error)))
        return FALSE;
    step = g_ptr_array_steal_index(theirs->steps, 0);
    g_free(step->what);
    step->what = g_strdup("QMP through libvirt (virsh qemu-monitor-command)");
    g_ptr_array_add(run->steps, step);
    step = svc_dry_run_add_step(run, "spicevmc metadata " SVC_DOMAIN_ADDED_URI " --live --config");
    for (guint i = 0; i < ours->len; i++)
        g_ptr_array_add(step->ids, g_strdup(((SvcSpec *)ours->pdata[i])->id));
    return TRUE;
}

static gboolean
add_live(SvcDomain *d, SvcSpec *const *specs, GPtrArray *planned, Undo *u, SvcDryRun *run,
         GError **error)
{
    g_autoptr(GPtrArray) ours = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    for (guint i = 0; i < planned->len; i++) {
        if (!libvirt_plugs_live(specs[i]))
            g_ptr_array_add(ours, pinned(specs[i], planned->pdata[i]));
    }
    if (ours->len && !add_ours(d, ours, run, error))
        return FALSE;
    for (guint i = 0; i < ours->len && !run; i++)
        g_ptr_array_add(u->live_ours, g_strdup(((SvcSpec *)ours->pdata[i])->id));
    for (guint i = 0; i < planned->len; i++) {
        const SvcChannel *ch = planned->pdata[i];
        g_autofree char *xml = NULL;

        if (!libvirt_plugs_live(specs[i]))
            continue;
        if (!(xml = svc_xml_for_libvirt(ch, error)))
            return FALSE;
        if (run) {
            svc_domain_plan_libvirt(run, "libvirt attach-device --live", ch->id, xml);
            continue;
        }
        if (virDomainAttachDeviceFlags(d->dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            g_autofree char *what = g_strdup_printf("libvirt cannot hot-plug the %s channel",
                                                    ch->kind->name);

            return svc_libvirt_error(error, what);
        }
        g_ptr_array_add(u->live_libvirt, g_strdup(ch->id));
    }
    return TRUE;
}

static gboolean
add_config(SvcDomain *d, GPtrArray *planned, Undo *u, SvcDryRun *run, GError **error)
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
        if (run) {
            svc_domain_plan_libvirt(run, "libvirt attach-device --config", ch->id, xml);
            continue;
        }
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
    if (run) {
        svc_domain_plan_metadata(run, "spicevmc metadata " SVC_DOMAIN_RESTORE_URI " --config",
                                 grown);
        return TRUE;
    }
    u->config_meta = g_ptr_array_ref(meta);
    return svc_domain_write_specs(d, grown, error);
}

/* A SPICE port name libvirt's XML already gives is taken, though QEMU does not show it; a
 * serial console takes the lowest number free in both.  So is an alias in the definition: a
 * channel added live does not take the name of one that would come back at the next start. */
static GPtrArray *
pin_names(SvcDomain *d, SvcSpec *const *specs, guint n, gboolean config, GError **error)
{
    g_autoptr(GHashTable) names = svc_domain_spice_names(d, config, error);
    g_autoptr(GHashTable) ids = names ? svc_domain_aliases(d, error) : NULL;
    g_autoptr(GPtrArray) live = ids ? svc_list(d->vm, error) : NULL;
    g_autoptr(GPtrArray) pinned = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    if (!live)
        return NULL;
    for (guint i = 0; i < live->len; i++) {
        const SvcChannel *ch = live->pdata[i];

        if (ch->spice_name && ch->kind && ch->kind->backend == SVC_BACKEND_SPICEPORT &&
            !g_hash_table_contains(names, ch->spice_name))
            g_hash_table_insert(names, g_strdup(ch->spice_name), g_strdup(ch->id));
        if (ch->id)
            g_hash_table_add(ids, g_strdup(ch->id));
    }
    for (guint i = 0; i < n; i++) {
        SvcSpec *spec = svc_spec_copy(specs[i]);
        const char *owner = spec->fqdn ? g_hash_table_lookup(names, spec->fqdn) : NULL;

        g_ptr_array_add(pinned, spec);
        if (owner) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                        "SPICE port name '%s' is already used by '%s'", spec->fqdn, owner);
            svc_spec_prefix_error(error, spec);
            return NULL;
        }
        if (spec->kind->numbered && !spec->fqdn)
            spec->fqdn = svc_first_free_name(names, spec->kind->spice_name, 0);
        if (!spec->id) {
            g_autofree char *prefix = g_strconcat(SVC_DOMAIN_ID_PREFIX, spec->kind->name, NULL);

            spec->id = svc_first_free_name(ids, prefix, 0);
        }
        g_hash_table_add(ids, g_strdup(spec->id));
        if (spec->kind->backend == SVC_BACKEND_SPICEPORT && spec->fqdn)
            g_hash_table_insert(names, g_strdup(spec->fqdn), g_strdup(spec->id));
    }
    return g_steal_pointer(&pinned);
}

/* Everything is decided, and checked against the VM and the definition, before anything
 * changes: the channels each spec becomes. */
static GPtrArray *
plan_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect, GPtrArray **live_specs,
         GError **error)
{
    g_autoptr(GPtrArray) pinned_names = NULL;
    g_autoptr(GPtrArray) planned = NULL;
    g_autoptr(GPtrArray) again = NULL;
    g_autoptr(GPtrArray) checked = NULL;

    if (!(affect & SVC_AFFECT_LIVE))
        return svc_domain_plan_config(d, specs, n, error);
    if (!svc_domain_get_vm(d, error) ||
        !(pinned_names = pin_names(d, specs, n, (affect & SVC_AFFECT_CONFIG) != 0, error)) ||
        !(planned = svc_plan(d->vm, (SvcSpec *const *)pinned_names->pdata, n, error)))
        return NULL;
    /* The same ids and names must be free in the definition too. */
    if (affect & SVC_AFFECT_CONFIG) {
        again = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
        for (guint i = 0; i < n; i++)
            g_ptr_array_add(again, pinned(pinned_names->pdata[i], planned->pdata[i]));
        if (!(checked = svc_domain_plan_config(d, (SvcSpec *const *)again->pdata, n, error)))
            return NULL;
    }
    *live_specs = g_steal_pointer(&pinned_names);
    return g_steal_pointer(&planned);
}

static gboolean
do_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect, GPtrArray **added,
       SvcDryRun *run, GError **error)
{
    g_autoptr(GPtrArray) planned = NULL;
    g_autoptr(GPtrArray) live_specs = NULL;
    g_auto(Undo) u = { g_ptr_array_new_with_free_func(g_free),
                       g_ptr_array_new_with_free_func(g_free),
                       g_ptr_array_new_with_free_func(g_free), NULL };
    g_autoptr(GError) local = NULL;

    if (!svc_domain_resolve_affect(d, &affect, error) || !check_ids(specs, n, error) ||
        !(planned = plan_add(d, specs, n, affect, &live_specs, error)))
        return FALSE;
    if (live_specs)
        specs = (SvcSpec *const *)live_specs->pdata;
    /* The record of passthrough channels is written last: libvirt cannot take away the
     * <metadata/> a record leaves, so a change undone must not have written one. */
    if (((affect & SVC_AFFECT_LIVE) && !add_live(d, specs, planned, &u, run, &local)) ||
        ((affect & SVC_AFFECT_CONFIG) && !add_config(d, planned, &u, run, &local)) ||
        ((affect & SVC_AFFECT_LIVE) && !run && !svc_domain_sync_live_metadata(d, &local))) {
        if (!run)
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

gboolean
svc_domain_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
               GPtrArray **added, GError **error)
{
    return do_add(d, specs, n, affect, added, NULL, error);
}

SvcDryRun *
svc_domain_dry_run_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                       GError **error)
{
    g_autoptr(SvcDryRun) run = svc_dry_run_new();
    g_autoptr(GPtrArray) planned = NULL;

    if (!do_add(d, specs, n, affect, &planned, run, error))
        return NULL;
    for (guint i = 0; i < planned->len; i++)
        g_ptr_array_add(run->channels, g_steal_pointer(&planned->pdata[i]));
    return g_steal_pointer(&run);
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
