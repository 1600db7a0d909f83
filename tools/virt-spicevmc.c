/* virt-spicevmc: add, list and remove SPICE channels of a running QEMU or libvirt domain. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_TIMEOUT 10.0

static void
options_clear(Options *o)
{
    g_free(o->qmp);
    g_free(o->uri);
    g_free(o->domain);
    g_free(o->id);
    g_free(o->fqdn);
    g_free(o->port_name);
    g_free(o->bus);
    g_free(o->nr);
    g_free(o->wrapper);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static GOptionEntry *
global_entries(Options *o)
{
    GOptionEntry entries[] = {
        { "qmp", 'q', 0, G_OPTION_ARG_FILENAME, &o->qmp,
          "The VM's QMP monitor: a unix socket path or HOST:PORT", "ADDRESS" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &o->uri,
          "libvirt URI of the DOMAIN (default: $LIBVIRT_DEFAULT_URI, else libvirt's)", "URI" },
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &o->timeout,
          "Seconds to wait for QEMU (default 10)", "SECONDS" },
        { NULL }
    };

    return g_memdup2(entries, sizeof(entries));
}

/* Options of commands that change a domain, as virsh has them. */
#define AFFECT_ENTRIES(o)                                                                       \
    { "live", 0, 0, G_OPTION_ARG_NONE, &(o)->live, "Change the running domain", NULL },        \
    { "config", 0, 0, G_OPTION_ARG_NONE, &(o)->config,                                          \
      "Change the persistent definition", NULL },                                               \
    { "persistent", 0, 0, G_OPTION_ARG_NONE, &(o)->persistent, "Change both", NULL }

static GOptionEntry *
command_entries(Options *o, const char *command)
{
    GOptionEntry add[] = {
        { "id", 0, 0, G_OPTION_ARG_STRING, &o->id, "Device id of the new channel", "ID" },
        { "fqdn", 0, 0, G_OPTION_ARG_STRING, &o->fqdn, "SPICE port name (kind 'port')", "NAME" },
        { "port-name", 0, 0, G_OPTION_ARG_STRING, &o->port_name, "Guest port name", "NAME" },
        { "bus", 0, 0, G_OPTION_ARG_STRING, &o->bus, "Bus to put the frontend on", "BUS" },
        { "nr", 0, 0, G_OPTION_ARG_STRING, &o->nr, "virtio-serial port number", "N" },
        AFFECT_ENTRIES(o),
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
        { "all", 0, 0, G_OPTION_ARG_NONE, &o->all,
          "Remove every channel spicevmc added (of a domain: every SPICE channel)", NULL },
        AFFECT_ENTRIES(o),
        { NULL }
    };
    GOptionEntry change[] = {
        AFFECT_ENTRIES(o),
        { NULL }
    };
    GOptionEntry emulator[] = {
        { "wrapper", 0, 0, G_OPTION_ARG_FILENAME, &o->wrapper,
          "The QEMU wrapper (default " SPICEVMC_WRAPPER ")", "PATH" },
        AFFECT_ENTRIES(o),
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
    if (g_str_equal(command, "attach") || g_str_equal(command, "detach"))
        return g_memdup2(change, sizeof(change));
    if (g_str_equal(command, "enable") || g_str_equal(command, "disable"))
        return g_memdup2(emulator, sizeof(emulator));
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
    { "list", cmd_list, "[--json|--xml]", "list the SPICE channels" },
    { "attach", cmd_attach, "FILE.xml|-", "add the channels of libvirt device XML" },
    { "detach", cmd_detach, "FILE.xml|-", "remove the channels of libvirt device XML" },
    { "restore", cmd_restore, "[DOMAIN]", "add what a domain's definition asks that libvirt cannot" },
    { "enable", cmd_enable, "[DOMAIN]", "give a domain spicevmc's QMP commands (spicevmc-qemu)" },
    { "disable", cmd_disable, "[DOMAIN]", "give a domain its own QEMU back" },
    { "xml", cmd_xml, "KIND", "print the device XML of a channel" },
    { "kinds", cmd_kinds, "", "list the kinds of channel spicevmc knows" },
};

/* "add, remove, …", for the errors that ask for a command. */
static char *
command_names(void)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(out, "%s%s", i ? ", " : "", commands[i].name);
    return g_string_free(out, FALSE);
}

static char *
commands_summary(void)
{
    GString *out = g_string_new("Usage: virt-spicevmc [--qmp ADDRESS] COMMAND [ARG…]\n"
                                "       virt-spicevmc [-c URI] DOMAIN COMMAND [ARG…]\n\n"
                                "Commands:");

    /* Padded by characters, not bytes: "…" is three. */
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(out, "\n  %-8s %s%*s %s", commands[i].name, commands[i].args,
                               (int)(20 - g_utf8_strlen(commands[i].args, -1)), "",
                               commands[i].summary);
    return g_string_free(out, FALSE);
}

/* One line, whatever the message holds (a file's XML, a name libvirt or QEMU sent back). */
static int
fail(GError *error)
{
    g_autofree char *message = qmp_escape_message(error->message);

    fprintf(stderr, "%s: error: %s\n", g_get_prgname(), message);
    return 1;
}

static int
find_command(const char *name)
{
    for (guint c = 0; name && c < G_N_ELEMENTS(commands); c++) {
        if (g_str_equal(commands[c].name, name))
            return c;
    }
    return -1;
}

/* "COMMAND …" works on --qmp; "DOMAIN COMMAND …" on a libvirt domain, as virsh names them. */
static int
split_command(Options *o, int *argc, char ***argv, GError **error)
{
    int c = *argc > 1 ? find_command((*argv)[1]) : -1;
    g_autofree char *names = NULL;

    if (*argc < 2) {
        names = command_names();
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "a command is required (%s; see --help)", names);
        return -1;
    }
    if (c < 0 && *argc > 2 && !o->qmp && (c = find_command((*argv)[2])) >= 0) {
        o->domain = g_strdup((*argv)[1]);
        (*argv)[1] = (*argv)[0];
        (*argc)--;
        (*argv)++;
    }
    if (c < 0) {
        g_autofree char *shown = qmp_escape((*argv)[*argc > 2 && !o->qmp ? 2 : 1]);

        names = command_names();
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "unknown command '%s' (%s; see --help)",
                    shown, names);
        return -1;
    }
    (*argv)[1] = (*argv)[0];
    (*argc)--;
    (*argv)++;
    return c;
}

/* The embedded libvirt driver logs its warnings to stderr; keep them in the root instead, so
 * that the user sees one line per error, as with a daemon. */
static void
quiet_embedded_libvirt(const char *uri)
{
    const char *root = uri ? strstr(uri, "embed?root=") : NULL;
    g_autofree char *log = NULL;
    g_autofree char *outputs = NULL;

    if (!root || g_getenv("LIBVIRT_LOG_OUTPUTS"))
        return;
    root += strlen("embed?root=");
    log = g_strdup_printf("%.*s/log", (int)strcspn(root, "&"), root);
    /* A root libvirt has not used yet has no log directory; where none can be made, libvirt
     * will say why it cannot use the root, and nothing needs logging. */
    outputs = g_mkdir_with_parents(log, 0700) == 0
                  ? g_strdup_printf("3:file:%s/libvirt.log", log)
                  : g_strdup("3:file:/dev/null");
    g_setenv("LIBVIRT_LOG_OUTPUTS", outputs, TRUE);
}

int
main(int argc, char **argv)
{
    g_auto(Options) o = { .timeout = DEFAULT_TIMEOUT };
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) global = g_option_context_new("[DOMAIN] COMMAND [ARG…]");
    g_autoptr(GOptionContext) local = NULL;
    g_autofree GOptionEntry *globals = global_entries(&o);
    g_autofree GOptionEntry *locals = NULL;
    g_autofree char *summary = commands_summary();
    g_autofree char *param = NULL;
    int c;

    setlocale(LC_ALL, "");
    g_set_prgname("virt-spicevmc");
    g_option_context_add_main_entries(global, globals, NULL);
    g_option_context_set_summary(global, "Add, list and remove SPICE channels of a running QEMU "
                                         "or libvirt domain.");
    g_option_context_set_description(global, summary);
    g_option_context_set_strict_posix(global, TRUE);
    if (!g_option_context_parse(global, &argc, &argv, &error) ||
        (c = split_command(&o, &argc, &argv, &error)) < 0)
        return fail(error);

    /* Options may also follow the command, as with virsh. */
    param = g_strdup_printf("%s %s", commands[c].name, commands[c].args);
    local = g_option_context_new(param);
    locals = command_entries(&o, commands[c].name);
    g_option_context_add_main_entries(local, locals, NULL);
    g_option_context_add_main_entries(local, globals, NULL);
    g_option_context_set_summary(local, commands[c].summary);
    if (!g_option_context_parse(local, &argc, &argv, &error) ||
        !svc_timeout_ms("--timeout", o.timeout, &o.timeout_ms, &error))
        return fail(error);
    if (o.domain && o.qmp) {
        g_set_error_literal(&error, SVC_ERROR, SVC_ERROR_INVALID,
                            "give --qmp or a libvirt DOMAIN, not both");
        return fail(error);
    }
    quiet_embedded_libvirt(o.uri ? o.uri : g_getenv("LIBVIRT_DEFAULT_URI"));
    if (!commands[c].func(&o, argv + 1, &error))
        return fail(error);
    return 0;
}
