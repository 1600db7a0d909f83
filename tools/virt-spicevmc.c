/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt-spicevmc's command table and main: add, list and remove SPICE channels of a running
 * QEMU or libvirt domain. */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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

/* ---- the options: one row each, commands name the groups they take ---- */

const CliOption cli_options[] = {
    { OPT_CHANNEL, "id", G_OPTION_ARG_STRING, offsetof(Options, id),
      "Device id of the channel (of a domain: a user alias, ua-…)", "ID" },
    { OPT_CHANNEL, "fqdn", G_OPTION_ARG_STRING, offsetof(Options, fqdn),
      "SPICE port name (kind 'port')", "NAME" },
    { OPT_CHANNEL, "port-name", G_OPTION_ARG_STRING, offsetof(Options, port_name),
      "Guest port name", "NAME" },
    { OPT_PLACE, "bus", G_OPTION_ARG_STRING, offsetof(Options, bus),
      "Bus to put the frontend on", "BUS" },
    { OPT_PLACE, "nr", G_OPTION_ARG_STRING, offsetof(Options, nr), "virtio-serial port number",
      "N" },
    { OPT_AFFECT, "live", G_OPTION_ARG_NONE, offsetof(Options, live),
      "Change the running domain", NULL },
    { OPT_AFFECT, "config", G_OPTION_ARG_NONE, offsetof(Options, config),
      "Change the persistent definition", NULL },
    { OPT_AFFECT, "persistent", G_OPTION_ARG_NONE, offsetof(Options, persistent),
      "Change both", NULL },
    { OPT_AFFECT, "current", G_OPTION_ARG_NONE, offsetof(Options, current),
      "Change the running domain if it runs, else its definition (the default)", NULL },
    { OPT_ALL, "all", G_OPTION_ARG_NONE, offsetof(Options, all),
      "Every channel spicevmc added (of a domain: every SPICE channel, in the scope asked; "
      "of sync: every domain)", NULL },
    { OPT_FOLLOW, "follow", G_OPTION_ARG_NONE, offsetof(Options, follow),
      "Keep running: apply each change of the definitions as libvirt makes it", NULL },
    { OPT_JSON, "json", G_OPTION_ARG_NONE, offsetof(Options, json), "Print JSON", NULL },
    { OPT_XML, "xml", G_OPTION_ARG_NONE, offsetof(Options, xml),
      "Print device XML that attach and virsh attach-device take", NULL },
    { OPT_DRY_RUN, "dry-run", G_OPTION_ARG_NONE, offsetof(Options, dry_run),
      "Print what would change (device XML, QMP commands) and change nothing", NULL },
    { OPT_DRY_RUN, "print-xml", G_OPTION_ARG_NONE, offsetof(Options, dry_run),
      "The same as --dry-run, as virsh names it", NULL },
    { OPT_WRAPPER, "wrapper", G_OPTION_ARG_FILENAME, offsetof(Options, wrapper),
      "The QEMU wrapper (default " SPICEVMC_WRAPPER ")", "PATH" },
};
const guint cli_n_options = G_N_ELEMENTS(cli_options);

/* A command is one row: help, usage errors, the option parser, completion and the manual read
 * it. */
const CliCommand cli_commands[] = {
    { "add", cmd_add, OPT_CHANNEL | OPT_PLACE | OPT_AFFECT | OPT_JSON | OPT_DRY_RUN,
      SCOPE_QMP | SCOPE_DOMAIN, "KIND[,key=value]…", "add channels, all or none" },
    { "remove", cmd_remove, OPT_ALL | OPT_AFFECT | OPT_JSON | OPT_DRY_RUN,
      SCOPE_QMP | SCOPE_DOMAIN, "ID…|--all", "remove channels in one batch" },
    { "list", cmd_list, OPT_JSON | OPT_XML, SCOPE_QMP | SCOPE_DOMAIN, "[ID…] [--json|--xml]",
      "list the SPICE channels (those with these ids)" },
    { "watch", cmd_watch, OPT_JSON, SCOPE_QMP | SCOPE_DOMAIN, "[--json]",
      "print each change of the SPICE channels as it happens" },
    { "attach", cmd_attach, OPT_AFFECT | OPT_JSON | OPT_DRY_RUN, SCOPE_QMP | SCOPE_DOMAIN,
      "FILE.xml|-", "add the channels of libvirt device XML" },
    { "detach", cmd_detach, OPT_AFFECT | OPT_JSON | OPT_DRY_RUN, SCOPE_QMP | SCOPE_DOMAIN,
      "FILE.xml|-", "remove the channels of libvirt device XML" },
    { "restore", cmd_restore, OPT_JSON, SCOPE_DOMAIN, "[DOMAIN]",
      "add what a domain's definition asks that libvirt cannot" },
    { "enable", cmd_enable, OPT_WRAPPER | OPT_AFFECT, SCOPE_DOMAIN, "[DOMAIN]",
      "give a domain spicevmc's QMP commands (spicevmc-qemu)" },
    { "disable", cmd_disable, OPT_WRAPPER | OPT_AFFECT, SCOPE_DOMAIN, "[DOMAIN]",
      "give a domain its own QEMU back" },
    { "sync", cmd_sync, OPT_ALL | OPT_FOLLOW, SCOPE_DOMAIN, "DOMAIN…|--all",
      "make running domains' channels match their definitions" },
    { "xml", cmd_xml, OPT_CHANNEL | OPT_PLACE, SCOPE_NONE, "KIND[,key=value]…",
      "print the device XML of channels" },
    { "kinds", cmd_kinds, OPT_JSON, SCOPE_NONE, "", "list the kinds of channel spicevmc knows" },
    { "help", cmd_help, 0, SCOPE_NONE, "[COMMAND]", "describe a command" },
    { "complete", cmd_complete, 0, SCOPE_NONE, "-- WORD…",
      "candidates for the last word of a command line, for bash completion" },
};
const guint cli_n_commands = G_N_ELEMENTS(cli_commands);

GOptionEntry *
cli_global_entries(Options *o)
{
    GOptionEntry entries[] = {
        { "qmp", 0, 0, G_OPTION_ARG_FILENAME, &o->qmp,
          "The VM's QMP monitor: a unix socket path or HOST:PORT", "ADDRESS" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &o->uri,
          "libvirt URI of the DOMAIN (default: $LIBVIRT_DEFAULT_URI, else libvirt's)", "URI" },
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &o->timeout,
          "Seconds to wait for QEMU (default " G_STRINGIFY(SVC_DEFAULT_TIMEOUT_S) ")", "SECONDS" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
          "Print only what was asked for: no messages, no table headers (errors and "
          "warnings still go to stderr)", NULL },
        { "version", 'v', 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
        { NULL }
    };

    return g_memdup2(entries, sizeof(entries));
}

static GOptionEntry *
command_entries(Options *o, guint c)
{
    GOptionEntry *entries = g_new0(GOptionEntry, cli_n_options + 1);
    guint n = 0;

    for (guint i = 0; i < cli_n_options; i++) {
        if (!(cli_commands[c].options & cli_options[i].group))
            continue;
        entries[n].long_name = cli_options[i].name;
        entries[n].arg = cli_options[i].arg;
        entries[n].arg_data = (char *)o + cli_options[i].offset;
        entries[n].description = cli_options[i].help;
        entries[n].arg_description = cli_options[i].arg_name;
        n++;
    }
    return entries;
}

/* ---- commands --------------------------------------------------------- */

/* "add, remove, …", for the errors that ask for a command. */
static char *
command_names(void)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < cli_n_commands; i++)
        g_string_append_printf(out, "%s%s", i ? ", " : "", cli_commands[i].name);
    return g_string_free(out, FALSE);
}

static char *
commands_summary(void)
{
    GString *out = g_string_new("Usage: virt-spicevmc [--qmp ADDRESS] COMMAND [ARG…]\n"
                                "       virt-spicevmc [-c URI] DOMAIN COMMAND [ARG…]\n"
                                "       (DOMAIN: a name, an id or a UUID, as virsh takes "
                                "them)\n\n"
                                "Commands (virt-spicevmc help COMMAND for each):");

    /* Padded by characters, not bytes: "…" is three. */
    for (guint i = 0; i < cli_n_commands; i++)
        g_string_append_printf(out, "\n  %-8s %s%*s %s", cli_commands[i].name, cli_commands[i].args,
                               (int)(20 - g_utf8_strlen(cli_commands[i].args, -1)), "",
                               cli_commands[i].summary);
    return g_string_free(out, FALSE);
}

/* One line, whatever the message holds (a file's XML, a name libvirt or QEMU sent back). */
static int
find_command(const char *name)
{
    for (guint c = 0; name && c < cli_n_commands; c++) {
        if (g_str_equal(cli_commands[c].name, name))
            return c;
    }
    return -1;
}

static const char *
scope_usage(Scope scope)
{
    if (scope == (SCOPE_QMP | SCOPE_DOMAIN))
        return "[--qmp ADDRESS | [-c URI] DOMAIN] ";
    if (scope == SCOPE_DOMAIN)
        return "[-c URI] ";
    return "";
}

/* The option context of command @c: its own options, then the global ones. */
static GOptionContext *
command_context(guint c, GOptionEntry *locals, GOptionEntry *globals)
{
    g_autofree char *param = g_strdup_printf("%s%s %s", scope_usage(cli_commands[c].scope),
                                             cli_commands[c].name, cli_commands[c].args);
    GOptionContext *context = g_option_context_new(param);

    g_option_context_add_main_entries(context, locals, NULL);
    g_option_context_add_main_entries(context, globals, NULL);
    g_option_context_set_summary(context, cli_commands[c].summary);
    return context;
}

static GOptionContext *
overview_context(GOptionEntry *globals, const char *summary)
{
    GOptionContext *context = g_option_context_new("[DOMAIN] COMMAND [ARG…]");

    g_option_context_add_main_entries(context, globals, NULL);
    g_option_context_set_summary(context, "Add, list and remove SPICE channels of a running "
                                          "QEMU or libvirt domain.");
    g_option_context_set_description(context, summary);
    return context;
}

char *
command_help(const char *name)
{
    g_auto(Options) o = { 0 };
    int c = name ? find_command(name) : -1;
    g_autofree GOptionEntry *globals = cli_global_entries(&o);
    g_autofree GOptionEntry *locals = NULL;
    g_autoptr(GOptionContext) context = NULL;
    g_autofree char *summary = NULL;

    if (!name) {
        summary = commands_summary();
        context = overview_context(globals, summary);
        return g_option_context_get_help(context, TRUE, NULL);
    }
    if (c < 0)
        return NULL;
    locals = command_entries(&o, c);
    context = command_context(c, locals, globals);
    return g_option_context_get_help(context, FALSE, NULL);
}

static int
fail(GError *error)
{
    g_autofree char *message = qmp_escape_message(error->message);

    fprintf(stderr, "%s: error: %s\n", g_get_prgname(), message);
    return 1;
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

/* What the command works on must be one it takes. */
static gboolean
check_scope(Options *o, guint c, GError **error)
{
    Scope scope = cli_commands[c].scope;

    if (o->domain && o->qmp) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "give --qmp or a libvirt DOMAIN, not both");
        return FALSE;
    }
    if (o->qmp && !(scope & SCOPE_QMP)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "%s %s", cli_commands[c].name,
                    scope & SCOPE_DOMAIN ? "is for a libvirt domain, not --qmp"
                                         : "works on no VM: --qmp does not apply");
        return FALSE;
    }
    if (o->domain && !scope) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s works on no VM: drop the domain '%s'", cli_commands[c].name, o->domain);
        return FALSE;
    }
    if (o->current && (o->live || o->config || o->persistent)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "--current cannot go with --live, --config or --persistent");
        return FALSE;
    }
    return svc_timeout_ms("--timeout", o->timeout, &o->timeout_ms, error);
}

/* The embedded libvirt driver logs its warnings to stderr; keep them in the root instead, so
 * that the user sees one line per error, as with a daemon.  The root is read as libvirt reads
 * it: the URI's "root" parameter, percent-decoded. */
static void
quiet_embedded_libvirt(const char *uri)
{
    g_autoptr(GUri) parsed = NULL;
    g_autoptr(GHashTable) params = NULL;
    const char *root;
    g_autofree char *log = NULL;
    g_autofree char *outputs = NULL;

    if (!uri || g_getenv("LIBVIRT_LOG_OUTPUTS") ||
        !(parsed = g_uri_parse(uri, G_URI_FLAGS_ENCODED_QUERY, NULL)) ||
        g_strcmp0(g_uri_get_path(parsed), "/embed") != 0 || !g_uri_get_query(parsed) ||
        !(params = g_uri_parse_params(g_uri_get_query(parsed), -1, "&", G_URI_PARAMS_NONE,
                                      NULL)) ||
        !(root = g_hash_table_lookup(params, "root")))
        return;
    log = g_build_filename(root, "log", NULL);
    /* A root libvirt has not used yet has no log directory; where none can be made, libvirt
     * will say why it cannot use the root, and nothing needs logging.  libvirt's log settings
     * cannot name a file whose path has a space (it splits them there) or a colon (it splits
     * each one there): for such a root, nothing is logged either. */
    outputs = !strpbrk(log, " :") && g_mkdir_with_parents(log, 0700) == 0
                  ? g_strdup_printf("3:file:%s/libvirt.log", log)
                  : g_strdup("3:file:/dev/null");
    g_setenv("LIBVIRT_LOG_OUTPUTS", outputs, TRUE);
}

/* --version, before or after the command, as virsh takes it. */
static int
print_version(void)
{
    printf("virt-spicevmc (spicevmc) %s\n", PACKAGE_VERSION);
    return 0;
}

/* A domain needs libvirt, and so does a command that only a domain has. */
static gboolean
needs_libvirt(Options *o, guint c)
{
    return o->domain || cli_commands[c].scope == SCOPE_DOMAIN;
}

/* virt-spicevmc-libvirt: beside this program in the build tree, else where it is installed. */
static char *
libvirt_cli_path(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    char *beside = dir ? g_build_filename(dir, "virt-spicevmc-libvirt", NULL) : NULL;

    if (beside && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        return beside;
    g_free(beside);
    return g_strdup(SPICEVMC_LIBVIRT_CLI);
}

/* The command line as given, to the program that has libvirt; nothing has been read or
 * changed yet, standard input included. */
static int
run_libvirt_cli(char **original)
{
    g_autofree char *path = libvirt_cli_path();

    execv(path, original);
    fprintf(stderr, "%s: error: cannot run %s for a libvirt domain: %s\n", g_get_prgname(),
            path, g_strerror(errno));
    return 1;
}

int
cli_main(int argc, char **argv, const CliDomainApi *api)
{
    g_auto(Options) o = { .timeout = SVC_DEFAULT_TIMEOUT_MS / 1000.0, .api = api };
    g_auto(GStrv) original = g_strdupv(argv);
    g_autoptr(GError) error = NULL;
    g_autofree GOptionEntry *globals = cli_global_entries(&o);
    g_autofree char *summary = commands_summary();
    g_autoptr(GOptionContext) global = overview_context(globals, summary);
    g_autoptr(GOptionContext) local = NULL;
    g_autofree GOptionEntry *locals = NULL;
    int c;

    setlocale(LC_ALL, "");
    g_set_prgname("virt-spicevmc");
    g_option_context_set_strict_posix(global, TRUE);
    if (!g_option_context_parse(global, &argc, &argv, &error))
        return fail(error);
    if (o.version)
        return print_version();
    if ((c = split_command(&o, &argc, &argv, &error)) < 0)
        return fail(error);

    /* Options may also follow the command, as with virsh. */
    locals = command_entries(&o, c);
    local = command_context(c, locals, globals);
    if (!g_option_context_parse(local, &argc, &argv, &error))
        return fail(error);
    if (o.version)
        return print_version();
    if (!check_scope(&o, c, &error))
        return fail(error);
    if (!api && needs_libvirt(&o, c))
        return run_libvirt_cli(original);
    quiet_embedded_libvirt(o.uri ? o.uri : g_getenv("LIBVIRT_DEFAULT_URI"));
    if (!cli_commands[c].func(&o, argv + 1, &error))
        return fail(error);
    return 0;
}
