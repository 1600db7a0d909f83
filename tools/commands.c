/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt-spicevmc's commands, on a QEMU over QMP or on a libvirt domain. */
#include "config.h"

#include <stdio.h>

#include <gio/gunixinputstream.h>

#include "cli.h"
#include "output.h"

void
target_clear(Target *t)
{
    g_clear_pointer(&t->vm, svc_vm_free);
    if (t->domain)
        t->api->free(g_steal_pointer(&t->domain));
}

gboolean
target_open(Options *o, Target *t, GError **error)
{
    if (o->domain) {
        /* Neither, or --current: live when running, else the definition. */
        t->affect = (o->live || o->persistent ? SVC_AFFECT_LIVE : 0) |
                    (o->config || o->persistent ? SVC_AFFECT_CONFIG : 0);
        /* The program without libvirt ran the one with it before it came here. */
        g_assert(o->api);
        t->api = o->api;
        t->domain = t->api->open(o->uri, o->domain, o->timeout_ms, error);
        return t->domain != NULL;
    }
    if (o->live || o->config || o->persistent || o->current) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "--live, --config, --persistent and --current are for a libvirt "
                            "domain");
        return FALSE;
    }
    if (!o->qmp) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "--qmp PATH is required: the VM's QMP socket (or give a libvirt "
                            "DOMAIN before the command)");
        return FALSE;
    }
    t->vm = svc_vm_connect_qmp(o->qmp, o->timeout_ms, error);
    return t->vm != NULL;
}

static gboolean
no_arguments(char **args, GError **error)
{
    g_autofree char *shown = NULL;

    if (!args[0])
        return TRUE;
    shown = qmp_escape(args[0]);
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "unexpected argument '%s'", shown);
    return FALSE;
}

/* ---- kinds ----------------------------------------------------------- */

/* A kind for kinds --json: names as the catalogue has them (a numbered SPICE name is the
 * prefix), the limit as the table shows it. */
static json_object *
kind_json(const SvcKind *k, guint max)
{
    json_object *obj = json_object_new_object();

    json_object_object_add(obj, "kind", json_object_new_string(k->name));
    json_object_object_add(obj, "backend", json_object_new_string(
                                               k->backend == SVC_BACKEND_SPICEVMC ? "spicevmc"
                                                                                  : "spiceport"));
    if (k->spice_name)
        json_object_object_add(obj, "spice-name", json_object_new_string(k->spice_name));
    json_object_object_add(obj, "numbered", json_object_new_boolean(k->numbered));
    json_object_object_add(obj, "frontend",
                           json_object_new_string(svc_frontend_driver(k->frontend)));
    if (k->port_name)
        json_object_object_add(obj, "port-name", json_object_new_string(k->port_name));
    json_object_object_add(obj, "max", json_object_new_int64(max));
    json_object_object_add(obj, "summary", json_object_new_string(k->summary));
    return obj;
}

gboolean
cmd_kinds(Options *o, char **args, GError **error)
{
    static const char *const headers[] = { "Kind", "Backend", "SPICE name", "Frontend",
                                           "Guest port name", "Max", "What it is", NULL };
    g_autoptr(Table) table = table_new(headers);
    g_autoptr(json_object) arr = json_object_new_array();
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    if (!no_arguments(args, error))
        return FALSE;
    for (guint i = 0; i < n; i++) {
        const SvcKind *k = &kinds[i];
        g_autofree char *spice = k->numbered ? g_strdup_printf("%sN", k->spice_name)
                                             : g_strdup(k->spice_name ? k->spice_name : "(fqdn)");
        const char *port = svc_frontend_is_virtio_serial(k->frontend)
                               ? (k->port_name ? k->port_name : "(SPICE name)") : NULL;
        guint max = k->max ? k->max : svc_class_limit(k->spice_class);
        g_autofree char *limit = g_strdup_printf("%u", max);
        const char *cells[] = { k->name,
                                k->backend == SVC_BACKEND_SPICEVMC ? "spicevmc" : "spiceport",
                                spice, svc_frontend_driver(k->frontend), port, limit,
                                k->summary, NULL };

        table_add(table, cells);
        json_object_array_add(arr, kind_json(k, max));
    }
    if (o->json)
        print_json(arr);
    else
        table_print(table, stdout, !o->quiet);
    return TRUE;
}

/* ---- list ------------------------------------------------------------ */

static SvcChannel *
find_channel(GPtrArray *channels, const char *id)
{
    for (guint i = 0; i < channels->len; i++) {
        SvcChannel *ch = channels->pdata[i];

        if (g_strcmp0(ch->id, id) == 0)
            return ch;
    }
    return NULL;
}

/* The channels with @ids, in that order; an id that names none is an error. */
static GPtrArray *
select_ids(GPtrArray *channels, char **ids, GError **error)
{
    g_autoptr(GPtrArray) chosen = g_ptr_array_new();

    for (guint i = 0; ids[i]; i++) {
        SvcChannel *ch = find_channel(channels, ids[i]);

        if (!ch) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND, "there is no SPICE channel '%s'",
                        ids[i]);
            return NULL;
        }
        g_ptr_array_add(chosen, ch);
    }
    return g_steal_pointer(&chosen);
}

gboolean
cmd_list(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) channels = NULL;
    g_autoptr(GPtrArray) chosen = NULL;
    const char *const *ids = args[0] ? (const char *const *)args : NULL;

    if (o->json && o->xml) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID, "give --json or --xml, not both");
        return FALSE;
    }
    if (!target_open(o, &t, error))
        return FALSE;
    if (o->xml) {
        g_autoptr(GPtrArray) listed = t.domain ? t.api->list(t.domain, error) : NULL;
        g_autofree char *xml = !t.domain ? svc_xml_list(t.vm, ids, error)
                               : listed  ? t.api->list_xml(t.domain, listed, ids, error)
                                         : NULL;

        if (!xml)
            return FALSE;
        /* The warning is the domain's, whichever of its channels are printed. */
        if (listed)
            print_warnings(listed, TRUE);
        printf("%s\n", xml);
        return TRUE;
    }
    channels = t.domain ? t.api->list(t.domain, error) : svc_list(t.vm, error);
    if (!channels || (ids && !(chosen = select_ids(channels, args, error))))
        return FALSE;
    print_warnings(chosen ? chosen : channels, t.domain != NULL);
    if (o->json)
        print_channels_json(chosen ? chosen : channels);
    else
        print_channels(chosen ? chosen : channels, t.domain != NULL, o->quiet);
    return TRUE;
}

/* ---- add ------------------------------------------------------------- */

/* --id and friends describe one channel; several channels take KIND,key=value each. */
static gboolean
apply_single_options(Options *o, GPtrArray *specs, GError **error)
{
    const struct {
        const char *key;
        const char *value;
    } opts[] = {
        { "id", o->id }, { "fqdn", o->fqdn }, { "port-name", o->port_name },
        { "bus", o->bus }, { "nr", o->nr },
    };

    for (guint i = 0; i < G_N_ELEMENTS(opts); i++) {
        if (!opts[i].value)
            continue;
        if (specs->len != 1) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                        "--%s applies to a single channel; for several, write "
                        "KIND,%s=VALUE for each", opts[i].key, opts[i].key);
            return FALSE;
        }
        if (!svc_spec_set(specs->pdata[0], opts[i].key, opts[i].value, error))
            return FALSE;
    }
    return TRUE;
}

static void
report_added(Options *o, GPtrArray *added)
{
    if (o->json)
        print_channels_json(added);
    else if (!o->quiet)
        print_added(added);
}

static gboolean
add_specs(Options *o, GPtrArray *specs, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) added = NULL;
    SvcSpec *const *list = (SvcSpec *const *)specs->pdata;

    if (!target_open(o, &t, error))
        return FALSE;
    if (o->dry_run) {
        g_autoptr(SvcDryRun) run = t.domain ? t.api->dry_run_add(t.domain, list, specs->len,
                                                                     t.affect, error)
                                            : svc_dry_run_add(t.vm, list, specs->len, error);

        if (run)
            print_dry_run(run, o->json);
        return run != NULL;
    }
    if (t.domain ? !t.api->add(t.domain, list, specs->len, t.affect, &added, error)
                 : !svc_add(t.vm, list, specs->len, &added, error))
        return FALSE;
    report_added(o, added);
    return TRUE;
}

/* The channels KIND[,key=value]… ask for, with --id and friends for a single one. */
static GPtrArray *
parse_specs(Options *o, char **args, const char *command, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    if (!args[0]) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s needs at least one KIND (see 'virt-spicevmc kinds')", command);
        return NULL;
    }
    for (guint i = 0; args[i]; i++) {
        SvcSpec *spec = svc_spec_parse(args[i], error);

        if (!spec)
            return NULL;
        g_ptr_array_add(specs, spec);
    }
    return apply_single_options(o, specs, error) ? g_steal_pointer(&specs) : NULL;
}

gboolean
cmd_add(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = parse_specs(o, args, "add", error);

    return specs && add_specs(o, specs, error);
}

/* ---- remove ---------------------------------------------------------- */

/* Removed from a domain: channels; from a QEMU: ids, for JSON shown as @before (listed before
 * the removal) had them. */
static void
report_removed(Options *o, Target *t, GPtrArray *removed, GPtrArray *before)
{
    g_autoptr(GPtrArray) channels = NULL;

    if (!o->json) {
        if (!o->quiet && t->domain)
            print_removed(removed);
        else if (!o->quiet)
            print_removed_ids(removed);
        return;
    }
    if (t->domain) {
        print_channels_json(removed);
        return;
    }
    channels = g_ptr_array_new();
    for (guint i = 0; removed && i < removed->len; i++) {
        SvcChannel *ch = find_channel(before, removed->pdata[i]);

        if (ch)
            g_ptr_array_add(channels, ch);
    }
    print_channels_json(channels);
}

gboolean
cmd_remove(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GPtrArray) before = NULL;
    const char *const *ids = o->all ? NULL : (const char *const *)args;
    gboolean ok;

    if (o->all == (args[0] != NULL)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            o->all ? "give either channel ids or --all, not both"
                                   : "remove needs channel ids or --all");
        return FALSE;
    }
    if (!target_open(o, &t, error))
        return FALSE;
    if (o->dry_run) {
        g_autoptr(SvcDryRun) run = t.domain ? t.api->dry_run_remove(t.domain, ids, t.affect,
                                                                        error)
                                            : svc_dry_run_remove(t.vm, ids, error);

        if (run)
            print_dry_run(run, o->json);
        return run != NULL;
    }
    if (t.domain) {
        ok = t.api->remove(t.domain, ids, t.affect, &removed, error);
    } else {
        if (o->json && !(before = svc_list(t.vm, error)))
            return FALSE;
        ok = svc_remove(t.vm, ids, &removed, error);
    }
    report_removed(o, &t, removed, before);
    return ok;
}

/* ---- device XML: attach, detach, xml --------------------------------- */

/* Device XML from FILE, or from standard input for "-".  Reading stops one byte past the
 * size limit, so a huge file is refused without being read whole. */
static GPtrArray *
read_specs(char **args, GError **error)
{
    g_autoptr(GInputStream) in = NULL;
    g_autofree char *data = g_malloc(SVC_XML_MAX_SIZE + 1);
    gboolean from_stdin;
    gsize len = 0;

    if (!args[0] || args[1]) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "give one device XML file (or - for standard input)");
        return NULL;
    }
    from_stdin = g_str_equal(args[0], "-");
    if (from_stdin) {
        in = g_unix_input_stream_new(0, FALSE);
    } else {
        g_autoptr(GFile) file = g_file_new_for_commandline_arg(args[0]);

        in = G_INPUT_STREAM(g_file_read(file, NULL, error));
    }
    if (!in || !g_input_stream_read_all(in, data, SVC_XML_MAX_SIZE + 1, &len, NULL, error)) {
        g_autofree char *shown = qmp_escape(args[0]);

        g_prefix_error(error, "cannot read %s: ", from_stdin ? "standard input" : shown);
        return NULL;
    }
    return svc_xml_parse_specs(data, len, from_stdin ? "stdin" : args[0], error);
}

gboolean
cmd_attach(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = read_specs(args, error);

    if (!specs)
        return FALSE;
    svc_xml_specs_for_attach(specs);
    return add_specs(o, specs, error);
}

gboolean
cmd_detach(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = read_specs(args, error);
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GPtrArray) before = NULL;
    g_auto(Target) t = { NULL };
    SvcSpec *const *list;
    gboolean ok;

    if (!specs || !target_open(o, &t, error))
        return FALSE;
    list = (SvcSpec *const *)specs->pdata;
    if (o->dry_run) {
        g_autoptr(SvcDryRun) run =
            t.domain ? t.api->dry_run_remove_specs(t.domain, list, specs->len, t.affect, error)
                     : svc_dry_run_remove_specs(t.vm, list, specs->len, error);

        if (run)
            print_dry_run(run, o->json);
        return run != NULL;
    }
    if (t.domain) {
        ok = t.api->remove_specs(t.domain, list, specs->len, t.affect, &removed, error);
    } else {
        if (o->json && !(before = svc_list(t.vm, error)))
            return FALSE;
        ok = svc_remove_specs(t.vm, list, specs->len, &removed, error);
    }
    report_removed(o, &t, removed, before);
    return ok;
}

gboolean
cmd_xml(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = parse_specs(o, args, "xml", error);
    g_autofree char *xml = specs ? svc_xml_for_specs((SvcSpec *const *)specs->pdata, specs->len,
                                                     error)
                                 : NULL;

    if (!xml)
        return FALSE;
    printf("%s\n", xml);
    return TRUE;
}

gboolean
cmd_help(Options *o, char **args, GError **error)
{
    g_autofree char *help = NULL;

    if (args[0] && args[1]) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "unexpected argument '%s'", args[1]);
        return FALSE;
    }
    if (!(help = command_help(args[0]))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "unknown command '%s' (see virt-spicevmc --help)", args[0]);
        return FALSE;
    }
    printf("%s", help);
    return TRUE;
}

/* ---- restore, enable, disable: commands of a domain only ------------- */

/* The domain goes before the command, as for every other command, or after it, as virsh writes
 * its own: "virt-spicevmc enable DOMAIN". */
static gboolean
domain_only(Options *o, const char *command, char **args, GError **error)
{
    if (!o->domain && !o->qmp && args[0])
        o->domain = g_strdup(*args++);
    if (!o->domain) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s is for a libvirt domain: virt-spicevmc %s DOMAIN", command, command);
        return FALSE;
    }
    return no_arguments(args, error);
}

gboolean
cmd_restore(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) added = NULL;

    if (!domain_only(o, "restore", args, error) || !target_open(o, &t, error) ||
        !t.api->restore(t.domain, &added, error))
        return FALSE;
    report_added(o, added);
    return TRUE;
}

/* Only the persistent definition can change: libvirt starts QEMU once. */
static gboolean
open_for_emulator(Options *o, const char *command, char **args, Target *t, GError **error)
{
    if (!domain_only(o, command, args, error))
        return FALSE;
    if (o->live || o->persistent) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "a running domain keeps its emulator: %s changes the persistent "
                    "definition only (--config), for the next start", command);
        return FALSE;
    }
    return target_open(o, t, error);
}

gboolean
cmd_enable(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    const char *wrapper = o->wrapper ? o->wrapper : SPICEVMC_WRAPPER;
    gboolean changed;

    if (!open_for_emulator(o, "enable", args, &t, error) ||
        !t.api->enable_wrapper(t.domain, wrapper, SPICEVMC_QEMU, &changed, error))
        return FALSE;
    if (o->quiet)
        return TRUE;
    if (!changed)
        printf("Domain '%s' already uses %s\n", o->domain, wrapper);
    else if (t.api->is_running(t.domain))
        printf("Domain '%s' will use %s from its next start\n", o->domain, wrapper);
    else
        printf("Domain '%s' uses %s\n", o->domain, wrapper);
    return TRUE;
}

gboolean
cmd_disable(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    const char *wrapper = o->wrapper ? o->wrapper : SPICEVMC_WRAPPER;
    gboolean changed;

    if (!open_for_emulator(o, "disable", args, &t, error) ||
        !t.api->disable_wrapper(t.domain, wrapper, SPICEVMC_QEMU, &changed, error))
        return FALSE;
    if (o->quiet)
        return TRUE;
    if (!changed)
        printf("Domain '%s' does not use %s\n", o->domain, wrapper);
    else if (t.api->runs_wrapper(t.domain, wrapper))
        printf("Domain '%s' will stop using %s from its next start\n", o->domain, wrapper);
    else
        printf("Domain '%s' no longer uses %s\n", o->domain, wrapper);
    return TRUE;
}
