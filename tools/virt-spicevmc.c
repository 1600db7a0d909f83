/* virt-spicevmc: add, list and remove SPICE channels of a running QEMU, from the shell. */
#include "config.h"

#include <locale.h>
#include <stdio.h>

#include <gio/gunixinputstream.h>

#include "output.h"
#include "spicevmc.h"

#define DEFAULT_TIMEOUT 10.0

typedef struct {
    char *qmp;
    double timeout;
    gboolean json;
    gboolean xml;
    gboolean all;
    char *id;
    char *fqdn;
    char *port_name;
    char *bus;
    char *nr;
} Options;

static void
options_clear(Options *o)
{
    g_free(o->qmp);
    g_free(o->id);
    g_free(o->fqdn);
    g_free(o->port_name);
    g_free(o->bus);
    g_free(o->nr);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

typedef gboolean (*CommandFunc)(Options *o, char **args, GError **error);

/* ---- kinds ----------------------------------------------------------- */

static gboolean
cmd_kinds(Options *o, char **args, GError **error)
{
    static const char *const headers[] = { "Kind", "Backend", "SPICE name", "Frontend",
                                           "Guest port name", "Max", "What it is", NULL };
    g_autoptr(Table) table = table_new(headers);
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

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

static SvcVm *
connect_vm(Options *o, GError **error)
{
    SvcVm *vm;

    if (!o->qmp) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "--qmp PATH is required: the VM's QMP socket");
        return NULL;
    }
    vm = svc_vm_connect_qmp(o->qmp, (guint)(o->timeout * 1000), error);
    return vm;
}

static void
print_json(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
print_channels(GPtrArray *channels)
{
    static const char *const headers[] = { "Id", "Kind", "SPICE name", "Frontend", "Bus",
                                           "Port", "Guest port name", "Guest", NULL };
    g_autoptr(Table) table = table_new(headers);
    gboolean inferred = FALSE;

    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];
        g_autofree char *kind = g_strdup_printf("%s%s", ch->kind ? ch->kind->name : "?",
                                                ch->ours ? "" : "*");
        g_autofree char *nr = ch->nr ? g_strdup_printf("%u", ch->nr) : NULL;
        const char *cells[] = { ch->id, kind, ch->spice_name,
                                ch->state == SVC_STATE_OK ? ch->driver : "(removed)",
                                ch->bus, nr, ch->port_name,
                                ch->guest_open ? "open" : "closed", NULL };

        inferred |= !ch->ours;
        table_add(table, cells);
    }
    table_print(table, stdout);
    if (inferred)
        printf("\n* not added by spicevmc: kind and names inferred from what QEMU shows\n");
}

static gboolean
cmd_list(Options *o, char **args, GError **error)
{
    g_autoptr(SvcVm) vm = NULL;
    g_autoptr(GPtrArray) channels = NULL;

    if (args[0]) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "unexpected argument '%s'", args[0]);
        return FALSE;
    }
    if (o->json && o->xml) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID, "give --json or --xml, not both");
        return FALSE;
    }
    if (!(vm = connect_vm(o, error)))
        return FALSE;
    if (o->xml) {
        g_autofree char *xml = svc_xml_list(vm, error);

        if (!xml)
            return FALSE;
        printf("%s\n", xml);
        return TRUE;
    }
    if (!(channels = svc_list(vm, error)))
        return FALSE;
    if (o->json) {
        g_autoptr(json_object) arr = json_object_new_array();

        for (guint i = 0; i < channels->len; i++)
            json_object_array_add(arr, svc_channel_to_json(channels->pdata[i]));
        print_json(arr);
    } else {
        print_channels(channels);
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

static void
print_added(const SvcChannel *ch)
{
    g_autofree char *where = ch->nr ? g_strdup_printf("%s port %u", ch->bus, ch->nr)
                                    : g_strdup(ch->bus);

    printf("Channel '%s' added: %s '%s', %s on %s\n", ch->id, ch->kind->name, ch->spice_name,
           ch->driver, where);
}

static gboolean
cmd_add(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(SvcVm) vm = NULL;

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
    if (!apply_single_options(o, specs, error) || !(vm = connect_vm(o, error)) ||
        !svc_add(vm, (SvcSpec *const *)specs->pdata, specs->len, &added, error))
        return FALSE;
    for (guint i = 0; i < added->len; i++)
        print_added(added->pdata[i]);
    return TRUE;
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
        g_prefix_error(error, "cannot read %s: ", from_stdin ? "standard input" : args[0]);
        return NULL;
    }
    return svc_xml_parse_specs(data, len, from_stdin ? "stdin" : args[0], error);
}

static void
print_removed(GPtrArray *removed)
{
    for (guint i = 0; removed && i < removed->len; i++)
        printf("Channel '%s' removed\n", (char *)removed->pdata[i]);
}

static gboolean
cmd_attach(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = read_specs(args, error);
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(SvcVm) vm = NULL;

    if (!specs || !(vm = connect_vm(o, error)) ||
        !svc_add(vm, (SvcSpec *const *)specs->pdata, specs->len, &added, error))
        return FALSE;
    for (guint i = 0; i < added->len; i++)
        print_added(added->pdata[i]);
    return TRUE;
}

static gboolean
cmd_detach(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) specs = read_specs(args, error);
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(SvcVm) vm = NULL;
    gboolean ok;

    if (!specs || !(vm = connect_vm(o, error)))
        return FALSE;
    ok = svc_remove_specs(vm, (SvcSpec *const *)specs->pdata, specs->len, &removed, error);
    print_removed(removed);
    return ok;
}

static gboolean
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

/* ---- remove ---------------------------------------------------------- */

static gboolean
cmd_remove(Options *o, char **args, GError **error)
{
    g_autoptr(SvcVm) vm = NULL;
    g_autoptr(GPtrArray) removed = NULL;
    gboolean ok;

    if (o->all == (args[0] != NULL)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            o->all ? "give either channel ids or --all, not both"
                                   : "remove needs channel ids or --all");
        return FALSE;
    }
    if (!(vm = connect_vm(o, error)))
        return FALSE;
    ok = svc_remove(vm, o->all ? NULL : (const char *const *)args, &removed, error);
    print_removed(removed);
    return ok;
}

/* ---- command line ---------------------------------------------------- */

static GOptionEntry *
global_entries(Options *o)
{
    GOptionEntry entries[] = {
        { "qmp", 'q', 0, G_OPTION_ARG_FILENAME, &o->qmp,
          "The VM's QMP monitor: a unix socket path or HOST:PORT", "ADDRESS" },
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &o->timeout,
          "Seconds to wait for QEMU (default 10)", "SECONDS" },
        { NULL }
    };

    return g_memdup2(entries, sizeof(entries));
}

static GOptionEntry *
command_entries(Options *o, const char *command)
{
    GOptionEntry add[] = {
        { "id", 0, 0, G_OPTION_ARG_STRING, &o->id, "Device id of the new channel", "ID" },
        { "fqdn", 0, 0, G_OPTION_ARG_STRING, &o->fqdn, "SPICE port name (kind 'port')", "NAME" },
        { "port-name", 0, 0, G_OPTION_ARG_STRING, &o->port_name, "Guest port name", "NAME" },
        { "bus", 0, 0, G_OPTION_ARG_STRING, &o->bus, "Bus to put the frontend on", "BUS" },
        { "nr", 0, 0, G_OPTION_ARG_STRING, &o->nr, "virtio-serial port number", "N" },
        { NULL }
    };
    GOptionEntry list[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print JSON", NULL },
        { "xml", 0, 0, G_OPTION_ARG_NONE, &o->xml, "Print device XML that attach takes", NULL },
        { NULL }
    };
    GOptionEntry xml[] = {
        { "id", 0, 0, G_OPTION_ARG_STRING, &o->id, "Alias (ua-…) of the channel", "ID" },
        { "fqdn", 0, 0, G_OPTION_ARG_STRING, &o->fqdn, "SPICE port name (kind 'port')", "NAME" },
        { "port-name", 0, 0, G_OPTION_ARG_STRING, &o->port_name, "Guest port name", "NAME" },
        { NULL }
    };
    GOptionEntry remove[] = {
        { "all", 0, 0, G_OPTION_ARG_NONE, &o->all, "Remove every channel spicevmc added", NULL },
        { NULL }
    };

    if (g_str_equal(command, "add"))
        return g_memdup2(add, sizeof(add));
    if (g_str_equal(command, "list"))
        return g_memdup2(list, sizeof(list));
    if (g_str_equal(command, "remove"))
        return g_memdup2(remove, sizeof(remove));
    if (g_str_equal(command, "xml"))
        return g_memdup2(xml, sizeof(xml));
    return g_new0(GOptionEntry, 1);
}

static const struct {
    const char *name;
    CommandFunc func;
    const char *args;
    const char *summary;
} commands[] = {
    { "add", cmd_add, "KIND[,key=value]…", "add channels, all or none" },
    { "remove", cmd_remove, "ID… | --all", "remove channels in one batch" },
    { "list", cmd_list, "[--json|--xml]", "list the VM's SPICE channels" },
    { "attach", cmd_attach, "FILE.xml|-", "add the channels of libvirt device XML" },
    { "detach", cmd_detach, "FILE.xml|-", "remove the channels of libvirt device XML" },
    { "xml", cmd_xml, "KIND", "print the device XML of a channel" },
    { "kinds", cmd_kinds, "", "list the kinds of channel spicevmc knows" },
};

static char *
commands_summary(void)
{
    GString *out = g_string_new("Commands:");

    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(out, "\n  %-8s %-20s %s", commands[i].name, commands[i].args,
                               commands[i].summary);
    return g_string_free(out, FALSE);
}

static int
fail(GError *error)
{
    fprintf(stderr, "%s: error: %s\n", g_get_prgname(), error->message);
    return 1;
}

static gboolean
check_timeout(Options *o, GError **error)
{
    if (o->timeout > 0 && o->timeout <= 24 * 3600)
        return TRUE;
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                "invalid --timeout %g: expected seconds, more than 0 and at most a day",
                o->timeout);
    return FALSE;
}

int
main(int argc, char **argv)
{
    g_auto(Options) o = { .timeout = DEFAULT_TIMEOUT };
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) global = g_option_context_new("COMMAND [ARG…]");
    g_autoptr(GOptionContext) local = NULL;
    g_autofree GOptionEntry *globals = global_entries(&o);
    g_autofree GOptionEntry *locals = NULL;
    g_autofree char *summary = commands_summary();
    g_autofree char *param = NULL;
    const char *command;
    guint c;

    setlocale(LC_ALL, "");
    g_set_prgname("virt-spicevmc");
    g_option_context_add_main_entries(global, globals, NULL);
    g_option_context_set_summary(global, "Add, list and remove SPICE channels of a running QEMU.");
    g_option_context_set_description(global, summary);
    g_option_context_set_strict_posix(global, TRUE);
    if (!g_option_context_parse(global, &argc, &argv, &error))
        return fail(error);
    if (argc < 2) {
        g_set_error_literal(&error, SVC_ERROR, SVC_ERROR_INVALID,
                            "a command is required (add, remove, list, attach, detach, xml, kinds; see --help)");
        return fail(error);
    }
    command = argv[1];
    for (c = 0; c < G_N_ELEMENTS(commands) && !g_str_equal(commands[c].name, command); c++)
        ;
    if (c == G_N_ELEMENTS(commands)) {
        g_set_error(&error, SVC_ERROR, SVC_ERROR_INVALID,
                    "unknown command '%s' (add, remove, list, attach, detach, xml, kinds; see --help)", command);
        return fail(error);
    }

    /* Options may also follow the command, as with virsh. */
    param = g_strdup_printf("%s %s", command, commands[c].args);
    local = g_option_context_new(param);
    locals = command_entries(&o, command);
    g_option_context_add_main_entries(local, locals, NULL);
    g_option_context_add_main_entries(local, globals, NULL);
    g_option_context_set_summary(local, commands[c].summary);
    argv[1] = argv[0];
    argc--;
    argv++;
    if (!g_option_context_parse(local, &argc, &argv, &error) || !check_timeout(&o, &error) ||
        !commands[c].func(&o, argv + 1, &error))
        return fail(error);
    return 0;
}
