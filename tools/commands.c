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
    g_clear_pointer(&t->domain, svc_domain_free);
}

gboolean
target_open(Options *o, Target *t, GError **error)
{
    if (o->domain) {
        t->affect = (o->live || o->persistent ? SVC_AFFECT_LIVE : 0) |
                    (o->config || o->persistent ? SVC_AFFECT_CONFIG : 0);
        t->domain = svc_domain_open(o->uri, o->domain, o->timeout_ms, error);
        return t->domain != NULL;
    }
    if (o->live || o->config || o->persistent) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "--live, --config and --persistent are for a libvirt domain");
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

gboolean
cmd_kinds(Options *o, char **args, GError **error)
{
    static const char *const headers[] = { "Kind", "Backend", "SPICE name", "Frontend",
                                           "Guest port name", "Max", "What it is", NULL };
    g_autoptr(Table) table = table_new(headers);
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
    }
    table_print(table, stdout);
    return TRUE;
}

/* ---- list ------------------------------------------------------------ */

gboolean
cmd_list(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) channels = NULL;

    if (!no_arguments(args, error))
        return FALSE;
    if (o->json && o->xml) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID, "give --json or --xml, not both");
        return FALSE;
    }
    if (!target_open(o, &t, error))
        return FALSE;
    if (o->xml) {
        g_autofree char *xml = t.domain ? svc_domain_list_xml(t.domain, error)
                                        : svc_xml_list(t.vm, error);

        if (!xml)
            return FALSE;
        printf("%s\n", xml);
        return TRUE;
    }
    channels = t.domain ? svc_domain_list(t.domain, error) : svc_list(t.vm, error);
    if (!channels)
        return FALSE;
    if (o->json) {
        g_autoptr(json_object) arr = json_object_new_array();

        for (guint i = 0; i < channels->len; i++)
            json_object_array_add(arr, svc_channel_to_json(channels->pdata[i]));
        print_json(arr);
    } else {
        print_channels(channels, t.domain != NULL);
    }
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

static gboolean
add_specs(Options *o, GPtrArray *specs, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) added = NULL;
    SvcSpec *const *list = (SvcSpec *const *)specs->pdata;

    if (!target_open(o, &t, error))
        return FALSE;
    if (t.domain ? !svc_domain_add(t.domain, list, specs->len, t.affect, &added, error)
                 : !svc_add(t.vm, list, specs->len, &added, error))
        return FALSE;
    print_added(added);
    return TRUE;
}

gboolean
cmd_add(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    if (!args[0]) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "add needs at least one KIND (see 'virt-spicevmc kinds')");
        return FALSE;
    }
    for (guint i = 0; args[i]; i++) {
        SvcSpec *spec = svc_spec_parse(args[i], error);

        if (!spec)
            return FALSE;
        g_ptr_array_add(specs, spec);
    }
    return apply_single_options(o, specs, error) && add_specs(o, specs, error);
}

/* ---- remove ---------------------------------------------------------- */

/* Every channel of a domain that spicevmc or libvirt can take away, in the set @affect
 * names. */
static GPtrArray *
domain_ids(Target *t, GError **error)
{
    g_autoptr(GPtrArray) channels = svc_domain_list(t->domain, error);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

    if (!channels)
        return NULL;
    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];

        if (ch->ours && ch->id && ch->state != SVC_STATE_GONE)
            g_ptr_array_add(ids, g_strdup(ch->id));
    }
    g_ptr_array_add(ids, NULL);
    return g_steal_pointer(&ids);
}

gboolean
cmd_remove(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GPtrArray) all = NULL;
    const char *const *ids = (const char *const *)args;
    gboolean ok;

    if (o->all == (args[0] != NULL)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            o->all ? "give either channel ids or --all, not both"
                                   : "remove needs channel ids or --all");
        return FALSE;
    }
    if (!target_open(o, &t, error))
        return FALSE;
    if (t.domain) {
        if (o->all && !(all = domain_ids(&t, error)))
            return FALSE;
        ok = svc_domain_remove(t.domain, all ? (const char *const *)all->pdata : ids, t.affect,
                               &removed, error);
    } else {
        ok = svc_remove(t.vm, o->all ? NULL : ids, &removed, error);
    }
    print_removed(removed);
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

    return specs && add_specs(o, specs, error);
}

gboolean
cmd_detach(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = read_specs(args, error);
    g_autoptr(GPtrArray) removed = NULL;
    g_auto(Target) t = { NULL };
    SvcSpec *const *list;
    gboolean ok;

    if (!specs || !target_open(o, &t, error))
        return FALSE;
    list = (SvcSpec *const *)specs->pdata;
    ok = t.domain ? svc_domain_remove_specs(t.domain, list, specs->len, t.affect, &removed, error)
                  : svc_remove_specs(t.vm, list, specs->len, &removed, error);
    print_removed(removed);
    return ok;
}

gboolean
cmd_xml(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    g_autofree char *xml = NULL;

    if (!args[0] || args[1]) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "xml needs exactly one KIND (see 'virt-spicevmc kinds')");
        return FALSE;
    }
    g_ptr_array_add(specs, svc_spec_new(args[0], error));
    if (!specs->pdata[0] || !apply_single_options(o, specs, error) ||
        !(xml = svc_xml_for_spec(specs->pdata[0], error)))
        return FALSE;
    printf("%s\n", xml);
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
        !svc_domain_restore(t.domain, &added, error))
        return FALSE;
    print_added(added);
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
        !svc_domain_enable_wrapper(t.domain, wrapper, SPICEVMC_QEMU, &changed, error))
        return FALSE;
    if (!changed)
        printf("Domain '%s' already uses %s\n", o->domain, wrapper);
    else if (svc_domain_is_running(t.domain))
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
        !svc_domain_disable_wrapper(t.domain, wrapper, SPICEVMC_QEMU, &changed, error))
        return FALSE;
    if (!changed)
        printf("Domain '%s' does not use %s\n", o->domain, wrapper);
    else if (svc_domain_runs_wrapper(t.domain, wrapper))
        printf("Domain '%s' will stop using %s from its next start\n", o->domain, wrapper);
    else
        printf("Domain '%s' no longer uses %s\n", o->domain, wrapper);
    return TRUE;
}
