/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The executor: add channels as one transaction, remove them in one batch. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "svc-private.h"

/* What to take away: the devices (frontends, then the usb-ccids they sat on) in one batch,
 * then the chardevs, each only once its frontend is confirmed gone ("is busy" otherwise). */
typedef struct {
    GPtrArray *devices;       /* device ids */
    GPtrArray *chardevs;      /* chardev ids */
    GPtrArray *owners;        /* per chardev: its frontend's id, or NULL */
} Teardown;

static void
teardown_init(Teardown *td)
{
    td->devices = g_ptr_array_new_with_free_func(g_free);
    td->chardevs = g_ptr_array_new_with_free_func(g_free);
    td->owners = g_ptr_array_new_with_free_func(g_free);
}

static void
teardown_clear(Teardown *td)
{
    g_clear_pointer(&td->devices, g_ptr_array_unref);
    g_clear_pointer(&td->chardevs, g_ptr_array_unref);
    g_clear_pointer(&td->owners, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Teardown, teardown_clear)

static void
teardown_add_chardev(Teardown *td, const char *chardev, const char *owner)
{
    g_ptr_array_add(td->chardevs, g_strdup(chardev));
    g_ptr_array_add(td->owners, g_strdup(owner));
}

/* Keep the first error; later ones are only logged (libvirt's virErrorPreserveLast). */
static void
keep_first(GError **first, GError *err)
{
    if (!*first) {
        *first = err;
        return;
    }
    g_message("also: %s", err->message);
    g_error_free(err);
}

/* device_del every id at once and wait for their DEVICE_DELETED; ids that could not be
 * deleted, or were not confirmed in time, end up in @stuck. */
static gboolean
delete_devices(SvcVm *vm, GPtrArray *ids, GHashTable *stuck, GError **first, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GHashTable) pending = g_hash_table_new(g_str_hash, g_str_equal);
    SvcReply *r = NULL;
    GHashTableIter iter;
    gpointer id;
    gint64 deadline;

    if (!ids->len)
        return TRUE;
    for (guint i = 0; i < ids->len; i++)
        g_ptr_array_add(cmds, qmp_cmd_device_del(ids->pdata[i]));
    deadline = g_get_monotonic_time() + (gint64)svc_vm_get_timeout(vm) * 1000;
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    for (guint i = 0; i < ids->len; i++) {
        if (!r[i].error) {
            g_hash_table_add(pending, ids->pdata[i]);
        } else if (!g_error_matches(r[i].error, SVC_ERROR, SVC_ERROR_NOT_FOUND)) {
            g_hash_table_add(stuck, g_strdup(ids->pdata[i]));
            keep_first(first, g_steal_pointer(&r[i].error));
        }
    }
    svc_replies_free(r, cmds->len);
    if (!svc_vm_wait_deleted(vm, pending, deadline, error))
        return FALSE;
    g_hash_table_iter_init(&iter, pending);
    while (g_hash_table_iter_next(&iter, &id, NULL))
        g_hash_table_add(stuck, g_strdup(id));
    return TRUE;
}

/* The labels of query-chardev's reply, checked by svc_reply_check_chardevs(). */
static GHashTable *
chardev_labels(json_object *list)
{
    GHashTable *labels = g_hash_table_new(g_str_hash, g_str_equal);

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *label = json_object_object_get(json_object_array_get_idx(list, i), "label");

        g_hash_table_add(labels, (gpointer)json_object_get_string(label));
    }
    return labels;
}

/* Whether QEMU still has each of @labels. */
static gboolean
chardevs_present(SvcVm *vm, GPtrArray *labels, gboolean *present, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GHashTable) now = NULL;
    SvcReply *r = NULL;
    gboolean ok;

    g_ptr_array_add(cmds, qmp_cmd_query_chardev());
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    if (r[0].error) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_QEMU, "cannot read the chardev list: %s",
                    r[0].error->message);
        ok = FALSE;
    } else {
        ok = svc_reply_check_chardevs(r[0].ret, error);
    }
    if (ok) {
        now = chardev_labels(r[0].ret);
        for (guint i = 0; i < labels->len; i++)
            present[i] = g_hash_table_contains(now, labels->pdata[i]);
    }
    svc_replies_free(r, cmds->len);
    return ok;
}

/* Some frontends (usb-redir) delete their chardev when unplugged, so a refusal is checked
 * against the chardev list before it counts. */
static gboolean
remove_chardevs(SvcVm *vm, Teardown *td, GHashTable *stuck, GError **first, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) labels = g_ptr_array_new();
    g_autoptr(GPtrArray) refused = g_ptr_array_new();
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autofree gboolean *present = NULL;
    SvcReply *r = NULL;

    for (guint i = 0; i < td->chardevs->len; i++) {
        const char *owner = td->owners->pdata[i];

        if (owner && g_hash_table_contains(stuck, owner))
            continue;
        g_ptr_array_add(cmds, qmp_cmd_chardev_remove(td->chardevs->pdata[i]));
        g_ptr_array_add(labels, td->chardevs->pdata[i]);
    }
    if (!labels->len)
        return TRUE;
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    for (guint i = 0; i < labels->len; i++) {
        if (r[i].error) {
            g_ptr_array_add(refused, labels->pdata[i]);
            g_ptr_array_add(errors, g_steal_pointer(&r[i].error));
        }
    }
    svc_replies_free(r, cmds->len);
    if (!refused->len)
        return TRUE;
    present = g_new0(gboolean, refused->len);
    if (!chardevs_present(vm, refused, present, error))
        return FALSE;
    for (guint i = 0; i < refused->len; i++) {
        if (present[i])
            keep_first(first, g_steal_pointer(&errors->pdata[i]));
    }
    return TRUE;
}

/* Run @td.  Devices QEMU did not let go of (and so their chardevs, still busy) are left in
 * @stuck; QEMU's refusals are kept in @first. */
static gboolean
teardown_run(SvcVm *vm, Teardown *td, GHashTable *stuck, GError **first, GError **error)
{
    return delete_devices(vm, td->devices, stuck, first, error) &&
           remove_chardevs(vm, td, stuck, first, error);
}

/* Undo a failed add; the VM should end as it began, and if it cannot, the user is told. */
static void
rollback(SvcVm *vm, Teardown *td)
{
    g_autoptr(GHashTable) stuck = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GError) first = NULL;
    g_autoptr(GError) transport = NULL;

    if (!teardown_run(vm, td, stuck, &first, &transport))
        g_message("could not undo the partial add: %s", transport->message);
    else if (first || g_hash_table_size(stuck))
        g_message("could not fully undo the partial add: %s",
                  first ? first->message : "QEMU did not confirm a device removal in time");
}

/* One command of an add, with what undoes it when it succeeded. */
typedef enum { UNDO_NONE, UNDO_FRONTEND, UNDO_CONTROLLER, UNDO_CHARDEV } UndoKind;

typedef struct {
    json_object *cmd;
    const SvcPlanned *p;
    UndoKind undo;
} Step;

static void
add_step(GArray *steps, json_object *cmd, const SvcPlanned *p, UndoKind undo)
{
    Step step = { cmd, p, undo };

    g_array_append_val(steps, step);
}

static void
step_clear(Step *step)
{
    json_object_put(step->cmd);
}

static void
record_undo(Teardown *td, const Step *step)
{
    switch (step->undo) {
    case UNDO_NONE:
        break;
    case UNDO_FRONTEND:
        g_ptr_array_insert(td->devices, 0, g_strdup(step->p->channel->id));
        break;
    case UNDO_CONTROLLER:
        g_ptr_array_add(td->devices, g_strdup(step->p->channel->controller));
        break;
    case UNDO_CHARDEV:
        teardown_add_chardev(td, step->p->channel->chardev, step->p->channel->id);
        break;
    }
}

/* Run one stage of an add, all commands at once; what succeeded joins @td, the first refusal
 * becomes @error. */
static gboolean
run_stage(SvcVm *vm, GArray *steps, Teardown *td, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GError) first = NULL;
    SvcReply *r = NULL;

    for (guint i = 0; i < steps->len; i++)
        g_ptr_array_add(cmds, json_object_get(g_array_index(steps, Step, i).cmd));
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    for (guint i = 0; i < steps->len; i++) {
        const Step *step = &g_array_index(steps, Step, i);

        if (!r[i].error) {
            record_undo(td, step);
        } else if (!first) {
            first = g_steal_pointer(&r[i].error);
            svc_spec_prefix_error(&first, step->p->spec);
        }
    }
    svc_replies_free(r, cmds->len);
    if (first) {
        g_propagate_error(error, g_steal_pointer(&first));
        return FALSE;
    }
    return TRUE;
}

/* Stage 1 adds controllers and chardevs, stage 2 the frontends that use them; each stage is
 * one pipelined batch. */
static void
build_stages(GPtrArray *planned, GArray *stage1, GArray *stage2)
{
    for (guint i = 0; i < planned->len; i++) {
        SvcPlanned *p = planned->pdata[i];
        const SvcChannel *ch = p->channel;

        if (p->new_ccid)
            add_step(stage1, qmp_cmd_device_add_usb("usb-ccid", ch->controller, p->ccid_usb_bus,
                                                    p->ccid_usb_port),
                     p, UNDO_CONTROLLER);
        add_step(stage1, svc_cmd_chardev_add(ch), p, UNDO_CHARDEV);
        /* Once the card's device_add has been tried, spice-server may hold the reader: the
         * marker must stay even if the add is undone. */
        if (p->mark_smartcard)
            add_step(stage2, qmp_cmd_object_add_authz_simple(SVC_SMARTCARD_MARKER, "spicevmc"),
                     p, UNDO_NONE);
        add_step(stage2, svc_cmd_frontend_add(ch), p, UNDO_FRONTEND);
    }
}

static GArray *
stage_new(void)
{
    GArray *stage = g_array_new(FALSE, FALSE, sizeof(Step));

    g_array_set_clear_func(stage, (GDestroyNotify)step_clear);
    return stage;
}

static gboolean
execute_add(SvcVm *vm, GPtrArray *planned, Teardown *td, GError **error)
{
    g_autoptr(GArray) stage1 = stage_new();
    g_autoptr(GArray) stage2 = stage_new();

    build_stages(planned, stage1, stage2);
    return run_stage(vm, stage1, td, error) && run_stage(vm, stage2, td, error);
}

static gboolean
plan_all(SvcVm *vm, SvcSpec *const *specs, guint n, GPtrArray *planned, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, TRUE, error);

    if (!inv)
        return FALSE;
    for (guint i = 0; i < n; i++) {
        SvcPlanned *p = svc_plan_add(inv, specs[i], error);

        if (!p) {
            svc_spec_prefix_error(error, specs[i]);
            return FALSE;
        }
        g_ptr_array_add(planned, p);
    }
    return TRUE;
}

GPtrArray *
svc_plan(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(GPtrArray) planned = g_ptr_array_new_with_free_func((GDestroyNotify)svc_planned_free);
    GPtrArray *channels;

    if (!plan_all(vm, specs, n, planned, error))
        return NULL;
    channels = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    for (guint i = 0; i < planned->len; i++) {
        SvcPlanned *p = planned->pdata[i];

        g_ptr_array_add(channels, g_steal_pointer(&p->channel));
    }
    return channels;
}

static void
append_commands(json_object *commands, GArray *stage)
{
    for (guint i = 0; i < stage->len; i++)
        json_object_array_add(commands, json_object_get(g_array_index(stage, Step, i).cmd));
}

SvcDryRun *
svc_dry_run_add(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(GPtrArray) planned = g_ptr_array_new_with_free_func((GDestroyNotify)svc_planned_free);
    g_autoptr(GArray) stage1 = stage_new();
    g_autoptr(GArray) stage2 = stage_new();
    SvcDryRun *run;
    SvcStep *step;

    if (!plan_all(vm, specs, n, planned, error))
        return NULL;
    build_stages(planned, stage1, stage2);
    run = svc_dry_run_new();
    step = svc_dry_run_add_step(run, "QMP");
    step->commands = json_object_new_array();
    append_commands(step->commands, stage1);
    append_commands(step->commands, stage2);
    for (guint i = 0; i < planned->len; i++) {
        SvcPlanned *p = planned->pdata[i];

        g_ptr_array_add(step->ids, g_strdup(p->channel->id));
        g_ptr_array_add(run->channels, g_steal_pointer(&p->channel));
    }
    return run;
}

gboolean
svc_add(SvcVm *vm, SvcSpec *const *specs, guint n, GPtrArray **added, GError **error)
{
    g_autoptr(GPtrArray) planned = g_ptr_array_new_with_free_func((GDestroyNotify)svc_planned_free);
    g_autoptr(GError) local = NULL;
    g_auto(Teardown) td = { NULL };

    if (!plan_all(vm, specs, n, planned, error))
        return FALSE;
    teardown_init(&td);
    if (!execute_add(vm, planned, &td, &local)) {
        /* Without a working connection there is no undoing; say what may be left. */
        if (g_error_matches(local, SVC_ERROR, SVC_ERROR_TRANSPORT) ||
            g_error_matches(local, SVC_ERROR, SVC_ERROR_TIMEOUT)) {
            g_set_error(error, local->domain, local->code,
                        "cannot add: %s; the VM may keep part of the change", local->message);
            return FALSE;
        }
        rollback(vm, &td);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (added) {
        *added = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
        for (guint i = 0; i < planned->len; i++) {
            SvcPlanned *p = planned->pdata[i];

            g_ptr_array_add(*added, g_steal_pointer(&p->channel));
        }
    }
    return TRUE;
}

/* The channels named by @ids (all of ours when NULL), refusing the whole request if one id is
 * unknown or names a channel spicevmc did not create. */
static GPtrArray *
resolve_targets(SvcInventory *inv, const char *const *ids, GError **error)
{
    g_autoptr(GPtrArray) targets = g_ptr_array_new();

    for (guint i = 0; i < inv->channels->len && !ids; i++) {
        SvcChannel *ch = inv->channels->pdata[i];

        if (ch->ours)
            g_ptr_array_add(targets, ch);
    }
    for (guint i = 0; ids && ids[i]; i++) {
        SvcChannel *ch = svc_inventory_find_channel(inv, ids[i]);
        g_autofree char *shown = qmp_escape(ids[i]);

        if (!ch) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "cannot remove '%s': the VM has no SPICE channel with that id", shown);
            return NULL;
        }
        if (!ch->ours) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS,
                        "cannot remove '%s': it was not added by spicevmc; remove it the way "
                        "it was added", shown);
            return NULL;
        }
        if (!g_ptr_array_find(targets, ch, NULL))
            g_ptr_array_add(targets, ch);
    }
    return g_steal_pointer(&targets);
}

/* How many ids a message names; the rest are counted. */
#define IDS_SHOWN 5

/* "serial2" before "serial10", as list shows them. */
static int
compare_ids(gconstpointer a, gconstpointer b)
{
    g_autofree char *ka = g_utf8_collate_key_for_filename(*(char *const *)a, -1);
    g_autofree char *kb = g_utf8_collate_key_for_filename(*(char *const *)b, -1);

    return strcmp(ka, kb);
}

/* "'serial0', 'serial2' and 9 more": the first few ids of @set. */
static char *
some_ids(GHashTable *set)
{
    g_autofree const char **ids = (const char **)g_hash_table_get_keys_as_array(set, NULL);
    guint len = g_hash_table_size(set);
    guint n = MIN(len, IDS_SHOWN);
    g_autoptr(GString) out = g_string_new(NULL);

    qsort(ids, len, sizeof(*ids), compare_ids);
    for (guint i = 0; i < n; i++) {
        g_autofree char *shown = qmp_escape(ids[i]);

        g_string_append_printf(out, "%s'%s'", i == 0 ? "" : i + 1 < len ? ", " : " and ", shown);
    }
    if (len > n)
        g_string_append_printf(out, " and %u more", len - n);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
teardown_for(SvcInventory *inv, GPtrArray *targets, Teardown *td)
{
    teardown_init(td);
    for (guint i = 0; i < targets->len; i++) {
        SvcChannel *ch = targets->pdata[i];
        gboolean present = ch->state == SVC_STATE_OK;

        if (present)
            g_ptr_array_insert(td->devices, 0, g_strdup(ch->id));
        if (ch->controller && g_hash_table_contains(inv->device_ids, ch->controller))
            g_ptr_array_add(td->devices, g_strdup(ch->controller));
        teardown_add_chardev(td, ch->chardev, present ? ch->id : NULL);
    }
}

/* Channels @ids are still there: how many, the first few, and what finishes the job. */
static gboolean
removal_unconfirmed(SvcVm *vm, GHashTable *ids, GError **error)
{
    guint n = g_hash_table_size(ids);
    g_autofree char *names = some_ids(ids);

    g_set_error(error, SVC_ERROR, SVC_ERROR_TIMEOUT,
                "QEMU did not confirm within %g s the removal of %u channel%s: %s; their "
                "chardevs stay until it does: remove %s again to finish",
                svc_vm_get_timeout(vm) / 1000.0, n, n == 1 ? "" : "s", names,
                n == 1 ? "it" : "them");
    return FALSE;
}

/* Take @targets (channels of ours in @inv) away in one batch. */
static gboolean
remove_targets(SvcVm *vm, SvcInventory *inv, GPtrArray *targets, GPtrArray **removed,
               GError **error)
{
    g_autoptr(GHashTable) stuck = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) left = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) kept_removed = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) first = NULL;
    g_auto(Teardown) td = { NULL };

    teardown_for(inv, targets, &td);
    if (!teardown_run(vm, &td, stuck, &first, error))
        return FALSE;
    for (guint i = 0; i < targets->len; i++) {
        SvcChannel *ch = targets->pdata[i];

        if (g_hash_table_contains(stuck, ch->id))
            g_hash_table_add(left, ch->id);
        else if (removed)
            g_ptr_array_add(kept_removed, g_strdup(ch->id));
    }
    if (removed)
        *removed = g_steal_pointer(&kept_removed);
    if (first) {
        g_prefix_error(&first, "cannot remove every channel: ");
        g_propagate_error(error, g_steal_pointer(&first));
        return FALSE;
    }
    if (g_hash_table_size(left))
        return removal_unconfirmed(vm, left, error);
    if (g_hash_table_size(stuck)) {
        /* Only the usb-ccids the cards sat on: the channels themselves are gone. */
        g_autofree char *names = some_ids(stuck);

        g_set_error(error, SVC_ERROR, SVC_ERROR_TIMEOUT,
                    "QEMU did not confirm within %g s the removal of usb-ccid %s",
                    svc_vm_get_timeout(vm) / 1000.0, names);
        return FALSE;
    }
    return TRUE;
}

/* What remove_targets() would send: the device_dels, then (once QEMU confirmed them) the
 * chardev-removes. */
static SvcDryRun *
dry_run_targets(SvcInventory *inv, GPtrArray *targets)
{
    g_auto(Teardown) td = { NULL };
    SvcDryRun *run = svc_dry_run_new();
    SvcStep *step = svc_dry_run_add_step(run, "QMP");

    teardown_for(inv, targets, &td);
    step->commands = json_object_new_array();
    for (guint i = 0; i < td.devices->len; i++)
        json_object_array_add(step->commands, qmp_cmd_device_del(td.devices->pdata[i]));
    for (guint i = 0; i < td.chardevs->len; i++)
        json_object_array_add(step->commands, qmp_cmd_chardev_remove(td.chardevs->pdata[i]));
    for (guint i = 0; i < targets->len; i++) {
        SvcChannel *ch = targets->pdata[i];

        g_ptr_array_add(step->ids, g_strdup(ch->id));
        g_ptr_array_add(run->channels, svc_channel_copy(ch));
    }
    return run;
}

gboolean
svc_remove(SvcVm *vm, const char *const *ids, GPtrArray **removed, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, FALSE, error);
    g_autoptr(GPtrArray) targets = NULL;

    if (!inv || !(targets = resolve_targets(inv, ids, error)))
        return FALSE;
    return remove_targets(vm, inv, targets, removed, error);
}

SvcDryRun *
svc_dry_run_remove(SvcVm *vm, const char *const *ids, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, FALSE, error);
    g_autoptr(GPtrArray) targets = NULL;

    if (!inv || !(targets = resolve_targets(inv, ids, error)))
        return NULL;
    return dry_run_targets(inv, targets);
}

static gboolean
matches(SvcInventory *inv, const SvcSpec *spec, const SvcChannel *ch)
{
    if (!svc_channel_matches(ch, spec))
        return FALSE;
    return spec->controller < 0 ||
           svc_inventory_controller_of_bus(inv, ch->kind->frontend, ch->bus) == spec->controller;
}

/* The channel @spec describes: as virsh detach-device does, the first that matches, here
 * the first of ours not already taken by an earlier spec of the batch. */
static SvcChannel *
match_spec(SvcInventory *inv, const SvcSpec *spec, GPtrArray *taken, GError **error)
{
    const SvcChannel *theirs = NULL;

    for (guint i = 0; i < inv->channels->len; i++) {
        SvcChannel *ch = inv->channels->pdata[i];

        if (!matches(inv, spec, ch) || g_ptr_array_find(taken, ch, NULL))
            continue;
        if (ch->ours)
            return ch;
        theirs = theirs ? theirs : ch;
    }
    if (theirs) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS,
                    "'%s' was not added by spicevmc; remove it the way it was added", theirs->id);
    } else {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                    "the VM has no%s %s channel like this", taken->len ? " other" : "",
                    spec->kind->name);
    }
    return NULL;
}

static GPtrArray *
match_specs(SvcInventory *inv, SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(GPtrArray) targets = g_ptr_array_new();

    for (guint i = 0; i < n; i++) {
        SvcChannel *ch = match_spec(inv, specs[i], targets, error);

        if (!ch) {
            g_prefix_error(error, "cannot remove the %s channel%s%s: ", specs[i]->kind->name,
                           specs[i]->origin ? " of " : "",
                           specs[i]->origin ? specs[i]->origin : "");
            return NULL;
        }
        g_ptr_array_add(targets, ch);
    }
    return g_steal_pointer(&targets);
}

gboolean
svc_remove_specs(SvcVm *vm, SvcSpec *const *specs, guint n, GPtrArray **removed, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, TRUE, error);
    g_autoptr(GPtrArray) targets = inv ? match_specs(inv, specs, n, error) : NULL;

    return targets && remove_targets(vm, inv, targets, removed, error);
}

SvcDryRun *
svc_dry_run_remove_specs(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, TRUE, error);
    g_autoptr(GPtrArray) targets = inv ? match_specs(inv, specs, n, error) : NULL;

    return targets ? dry_run_targets(inv, targets) : NULL;
}
