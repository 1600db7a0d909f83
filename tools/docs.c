/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/docs.c — what bash completion and virt-spicevmc(1) say of the commands, read from the
 * command and option tables, so that neither can drift from what the parser takes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* ---- completion -------------------------------------------------------- */

static const GOptionEntry *
find_global(const GOptionEntry *globals, const char *word)
{
    for (guint i = 0; globals[i].long_name; i++) {
        const GOptionEntry *e = &globals[i];

        if ((g_str_has_prefix(word, "--") && g_str_equal(word + 2, e->long_name)) ||
            (e->short_name && word[0] == '-' && word[1] == e->short_name && !word[2]))
            return e;
    }
    return NULL;
}

static const CliOption *
find_option(const CliCommand *cmd, const char *word)
{
    for (guint i = 0; cmd && g_str_has_prefix(word, "--") && i < cli_n_options; i++) {
        if ((cmd->options & cli_options[i].group) && g_str_equal(word + 2, cli_options[i].name))
            return &cli_options[i];
    }
    return NULL;
}

static const CliCommand *
find_command(const char *word)
{
    for (guint i = 0; i < cli_n_commands; i++) {
        if (g_str_equal(cli_commands[i].name, word))
            return &cli_commands[i];
    }
    return NULL;
}

static void
offer(const char *candidate, const char *prefix)
{
    if (g_str_has_prefix(candidate, prefix))
        printf("%s\n", candidate);
}

/* What a command line says so far: its command, its target, and the option awaiting a value. */
typedef struct {
    const CliCommand *cmd;
    const char *qmp;
    const char *uri;
    const char *domain;
    const char *value_of;     /* the option the word being completed is the value of */
} Line;

static void
read_line(char **words, guint last, const GOptionEntry *globals, Line *l)
{
    for (guint i = 0; i < last; i++) {
        const char *w = words[i];
        const GOptionEntry *g = w[0] == '-' ? find_global(globals, w) : NULL;
        const CliOption *o = w[0] == '-' ? find_option(l->cmd, w) : NULL;
        gboolean takes = (g && g->arg != G_OPTION_ARG_NONE) || (o && o->arg != G_OPTION_ARG_NONE);

        if (takes && i + 1 == last) {
            l->value_of = g ? g->long_name : o->name;
        } else if (takes) {
            if (g && g_str_equal(g->long_name, "qmp"))
                l->qmp = words[i + 1];
            else if (g && g_str_equal(g->long_name, "connect"))
                l->uri = words[i + 1];
            i++;
        } else if (w[0] != '-' && !l->cmd && find_command(w)) {
            l->cmd = find_command(w);
        } else if (w[0] != '-' && !l->cmd && !l->domain) {
            l->domain = w;
        } else if (w[0] != '-' && l->cmd && !l->domain && l->cmd->scope == SCOPE_DOMAIN) {
            l->domain = w;     /* "virt-spicevmc restore DOMAIN", as virsh orders it */
        }
    }
}

/* "@KIND" and the arguments that say where, tab-separated: the completion script lists domains
 * (virsh list --name) or channel ids (virt-spicevmc … list -q) there, or files. */
static void
offer_listed(const char *what, const Line *l)
{
    printf("@%s", what);
    if (l->qmp)
        printf("\t--qmp\t%s", l->qmp);
    if (l->uri)
        printf("\t-c\t%s", l->uri);
    if (l->domain && g_str_equal(what, "ids"))
        printf("\t%s", l->domain);
    printf("\n");
}

/* virt-spicevmc complete -- WORD…: candidates for the last word, one a line. */
gboolean
cmd_complete(Options *o, char **args, GError **error)
{
    Options scratch = { 0 };
    g_autofree GOptionEntry *globals = cli_global_entries(&scratch);
    guint n = g_strv_length(args);
    const char *cur = n ? args[n - 1] : "";
    Line l = { NULL };
    guint kinds_n;
    const SvcKind *kinds = svc_kinds(&kinds_n);

    read_line(args, n ? n - 1 : 0, globals, &l);
    if (l.value_of) {
        if (g_str_equal(l.value_of, "qmp") || g_str_equal(l.value_of, "wrapper"))
            printf("@files\n");
        return TRUE;
    }
    if (cur[0] == '-') {
        for (guint i = 0; globals[i].long_name; i++) {
            g_autofree char *name = g_strconcat("--", globals[i].long_name, NULL);

            offer(name, cur);
        }
        for (guint i = 0; l.cmd && i < cli_n_options; i++) {
            g_autofree char *name = g_strconcat("--", cli_options[i].name, NULL);

            if (l.cmd->options & cli_options[i].group)
                offer(name, cur);
        }
        return TRUE;
    }
    if (!l.cmd) {
        for (guint i = 0; i < cli_n_commands; i++) {
            if (!(l.qmp && cli_commands[i].scope == SCOPE_DOMAIN))
                offer(cli_commands[i].name, cur);
        }
        if (!l.domain && !l.qmp)
            offer_listed("domains", &l);
        return TRUE;
    }
    if (g_str_equal(l.cmd->name, "help")) {
        for (guint i = 0; i < cli_n_commands; i++)
            offer(cli_commands[i].name, cur);
    } else if (g_str_equal(l.cmd->name, "add") || g_str_equal(l.cmd->name, "xml")) {
        for (guint i = 0; i < kinds_n; i++)
            offer(kinds[i].name, cur);
    } else if (g_str_equal(l.cmd->name, "remove") || g_str_equal(l.cmd->name, "list")) {
        if (l.qmp || l.domain)
            offer_listed("ids", &l);
    } else if (g_str_equal(l.cmd->name, "attach") || g_str_equal(l.cmd->name, "detach")) {
        printf("@files\n");
    } else if (l.cmd->scope == SCOPE_DOMAIN && !l.domain) {
        offer_listed("domains", &l);
    }
    return TRUE;
}

/* ---- the manual ------------------------------------------------------------ */

/* Text for troff: a leading dot or quote would be a request, a backslash an escape, and a
 * hyphen in an option a typographic one; troff reads ASCII, so "…" is \[u2026]. */
static void
roff(GString *out, const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        g_string_append(out, "\\&");
    for (const char *p = text; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c == '\\')
            g_string_append(out, "\\e");
        else if (c == '-')
            g_string_append(out, "\\-");
        else if (c >= 0x80)
            g_string_append_printf(out, "\\[u%04X]", c);
        else
            g_string_append_c(out, c);
    }
}

static void
roff_option(GString *out, const char *name, char short_name, const char *arg, const char *help)
{
    g_string_append(out, ".TP\n.B ");
    if (short_name)
        g_string_append_printf(out, "\\-%c\\fR, \\fB", short_name);
    g_string_append(out, "\\-\\-");
    roff(out, name);
    if (arg) {
        g_string_append(out, " \\fI");
        roff(out, arg);
        g_string_append(out, "\\fR");
    }
    g_string_append_c(out, '\n');
    roff(out, help);
    g_string_append(out, ".\n");
}

static const char *
scope_text(Scope scope)
{
    if (scope == (SCOPE_QMP | SCOPE_DOMAIN))
        return "On --qmp ADDRESS or a libvirt DOMAIN.";
    if (scope == SCOPE_DOMAIN)
        return "On a libvirt DOMAIN only (given before or after the command).";
    return "On no VM.";
}

/* The catalogue, as kinds prints it. */
static void
manual_kinds(GString *out)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    g_string_append(out, ".SH KINDS\nWhat each kind of channel is made of, and spice-server's "
                         "limit on it (\\fBvirt-spicevmc kinds\\fR shows the same).\n");
    for (guint i = 0; i < n; i++) {
        const SvcKind *k = &kinds[i];
        g_autofree char *what = g_strdup_printf(
            "%s: a %s chardev and a %s; at most %u.", k->summary,
            k->backend == SVC_BACKEND_SPICEVMC ? "spicevmc" : "spiceport",
            svc_frontend_driver(k->frontend), k->max ? k->max : svc_class_limit(k->spice_class));

        g_string_append(out, ".TP\n.B ");
        roff(out, k->name);
        g_string_append_c(out, '\n');
        roff(out, what);
        g_string_append_c(out, '\n');
    }
}

/* The GLOBAL OPTIONS, COMMANDS and KINDS sections of virt-spicevmc(1). */
char *
cli_manual_sections(void)
{
    Options scratch = { 0 };
    g_autofree GOptionEntry *globals = cli_global_entries(&scratch);
    GString *out = g_string_new(".SH GLOBAL OPTIONS\n"
                                "They go before the command, or after it, as with virsh.\n");

    for (guint i = 0; globals[i].long_name; i++)
        roff_option(out, globals[i].long_name, globals[i].short_name,
                    globals[i].arg_description, globals[i].description);
    g_string_append(out, ".TP\n.BR \\-h \", \" \\-\\-help\nShow the commands, or one "
                         "command's options after it.\n");
    g_string_append(out, ".SH COMMANDS\n");
    for (guint c = 0; c < cli_n_commands; c++) {
        const CliCommand *cmd = &cli_commands[c];

        g_string_append(out, ".SS ");
        roff(out, cmd->name);
        if (cmd->args[0]) {
            g_string_append(out, " ");
            roff(out, cmd->args);
        }
        g_string_append(out, "\n");
        roff(out, cmd->summary);
        g_string_append(out, ". ");
        roff(out, scope_text(cmd->scope));
        g_string_append(out, "\n");
        for (guint i = 0; i < cli_n_options; i++) {
            if (cmd->options & cli_options[i].group)
                roff_option(out, cli_options[i].name, 0, cli_options[i].arg_name,
                            cli_options[i].help);
        }
    }
    manual_kinds(out);
    return g_string_free(out, FALSE);
}
