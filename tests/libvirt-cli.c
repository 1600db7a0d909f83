/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the end-to-end libvirt tests (libvirt-cli.h). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "skip.h"

/* A case that hangs is killed after this; its parent still destroys its domain. */
#define CASE_TIMEOUT_S 300
/* How long libvirt and the kernel may take to let a domain's processes go after destroy. */
#define GONE_TIMEOUT_S 30
/* How much of each log a failed case shows. */
#define LOG_TAIL_LINES 30

static const Case *all_cases;

/* Made by the parent, handed to each case's child through the environment. */
static struct {
    char *argv0;              /* the test program, run again for each case */
    char *root;               /* of qemu:///embed, which only subprocesses may open */
    char *uri;
    gboolean system;          /* a libvirtd answers at qemu:///system */
    gboolean keep;            /* $SVC_TEST_KEEP: the root and its logs stay */
    gboolean failed;          /* a case failed: the root stays, for its logs */
    const Fixture *current;   /* the case under way, whose directory has virsh's log */
} env;

/* ---- subprocesses ---------------------------------------------------- */

static gboolean
is_embed(const char *uri)
{
    return uri && g_str_has_prefix(uri, "qemu:///embed");
}

/* virsh -c URI ARG…, or virt-spicevmc [-c URI] ARG…, up to the first NULL ARG.  With @r NULL,
 * asserts success and returns stdout. */
static char *
run_va(Run *r, gboolean is_virsh, const char *uri, const char *input, va_list ap)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *log = g_strdup_printf("LIBVIRT_LOG_OUTPUTS=3:file:%s/virsh.log",
                                           env.current ? env.current->dir : env.root);
    /* virsh on an embed URI logs warnings on stderr: they go to a file.  The CLI must keep
     * its stderr to one line by itself, so it gets no LIBVIRT_LOG_OUTPUTS. */
    const char *virsh_env[] = { "LIBVIRT_DEFAULT_URI", log,
                                is_embed(uri) ? "LD_PRELOAD=" QUICK_EXIT_SO : NULL, NULL };
    const char *cli_env[] = { "LIBVIRT_DEFAULT_URI", "LIBVIRT_LOG_OUTPUTS", NULL };
    RunOptions o = { input, is_virsh ? virsh_env : cli_env };
    g_auto(Run) own = { NULL };

    g_ptr_array_add(argv, (gpointer)(is_virsh ? "virsh" : VIRT_SPICEVMC));
    if (uri) {
        g_ptr_array_add(argv, (gpointer)"-c");
        g_ptr_array_add(argv, (gpointer)uri);
    }
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    g_ptr_array_add(argv, NULL);
    if (!r)
        r = &own;
    run_argv(r, (const char *const *)argv->pdata, &o);
    /* Whatever the case expects of it, a signal is news. */
    if (r->signal)
        run_explain(r);
    if (r != &own)
        return NULL;
    run_assert_ok(r);
    return g_steal_pointer(&r->out);
}

char *
run(Run *r, gboolean is_virsh, const char *uri, ...)
{
    va_list ap;
    char *out;

    va_start(ap, uri);
    out = run_va(r, is_virsh, uri, NULL, ap);
    va_end(ap);
    return out;
}

char *
cli_input_ok(const char *uri, const char *input, ...)
{
    va_list ap;
    char *out;

    va_start(ap, input);
    out = run_va(NULL, FALSE, uri, input, ap);
    va_end(ap);
    return out;
}

/* strstr that fails showing both strings. */
void
assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        g_assert_cmpstr(haystack, ==, needle);
}

void
assert_no_report(const char *text)
{
    if (g_regex_match_simple("Sanitizer|runtime error|^==[0-9]+== [A-Z]", text, G_REGEX_MULTILINE,
                             0))
        g_assert_cmpstr(text, ==, "(no sanitizer or valgrind report)");
}

void
assert_one_error(Run *r, const char *fragment)
{
    run_assert_error_line(r, "virt-spicevmc: error: ", fragment);
}

/* ---- what libvirt and QEMU say ---------------------------------------- */

/* virsh qemu-monitor-command: QEMU's "return". */
json_object *
qemu(Fixture *f, const char *cmd)
{
    g_autofree char *out = virsh_ok(f->uri, "qemu-monitor-command", f->name, cmd);
    g_autoptr(json_object) reply = parse_json(out);

    return json_object_get(member(reply, "return"));
}

char *
virsh_metadata(Fixture *f, const char *ns, gboolean config)
{
    g_auto(Run) r = { NULL };

    virsh(&r, f->uri, "metadata", f->name, "--uri", ns, config ? "--config" : "--live");
    if (r.status != 0) {
        assert_contains(r.err, "metadata not found");
        return g_strdup("");
    }
    return g_steal_pointer(&r.out);
}

/* <ELEMENT …>…<alias name='ALIAS'/> in libvirt's XML; element NULL: any. */
gboolean
has_alias_in(const char *xml, const char *element, const char *alias)
{
    g_autofree char *quoted = g_regex_escape_string(alias, -1);
    g_autofree char *pattern = element
        ? g_strdup_printf("<%s[ >](?:(?!</%s>).)*<alias name=['\"]%s['\"]/>", element, element,
                          quoted)
        : g_strdup_printf("<alias name=['\"]%s['\"]/>", quoted);

    return g_regex_match_simple(pattern, xml, G_REGEX_DOTALL, 0);
}

#define PASSTHROUGH_WARNING "virt-spicevmc: warning: channels managed by spicevmc go through " \
                            "QMP passthrough: libvirt taints the domain custom-monitor"

/* @err is the passthrough warning, on one line. */
static void
assert_passthrough_warning(const char *err)
{
    g_assert_true(g_str_has_prefix(err, PASSTHROUGH_WARNING));
    g_assert_cmpstr(strchr(err, '\n'), ==, "\n");
}

/* Whether @list has a channel spicevmc passed through QMP, running; and whether one of them is
 * not in the definition (*@unkept). */
static gboolean
has_passthrough(json_object *list, gboolean *unkept)
{
    gboolean found = FALSE;

    *unkept = FALSE;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *ch = json_object_array_get_idx(list, i);

        if (!member_bool(ch, "libvirt") && !member_bool(ch, "inferred") &&
            g_str_equal(member_str(ch, "state"), "ok")) {
            found = TRUE;
            *unkept |= !member_bool(ch, "persistent");
        }
    }
    return found;
}

/* list --json: JSON alone on stdout, and the passthrough warning on stderr exactly when a
 * channel went through passthrough. */
json_object *
list_json(Fixture *f, const char *uri)
{
    g_auto(Run) r = { NULL };
    gboolean unkept;
    json_object *list;

    cli(&r, uri, f->name, "list", "--json");
    if (r.status != 0)
        run_explain(&r);
    g_assert_cmpint(r.status, ==, 0);
    list = parse_json(r.out);
    g_assert_true(json_object_is_type(list, json_type_array));
    if (has_passthrough(list, &unkept)) {
        assert_passthrough_warning(r.err);
        /* --config is the advice only for channels that are not in the definition already. */
        assert_contains(r.err, unkept ? "add them with --config" : "they are in the definition");
    } else {
        g_assert_cmpstr(r.err, ==, "");
    }
    return list;
}

char *
list_xml(Fixture *f, const char *id, gboolean warned)
{
    g_auto(Run) r = { NULL };

    cli(&r, f->uri, f->name, "list", "--xml", id, NULL);
    if (r.status != 0 || !warned != !*r.err)
        run_explain(&r);
    g_assert_cmpint(r.status, ==, 0);
    if (warned)
        assert_passthrough_warning(r.err);
    else
        g_assert_cmpstr(r.err, ==, "");
    return g_steal_pointer(&r.out);
}

void
domain_destroy(Fixture *f)
{
    g_auto(Run) destroy = { NULL };

    virsh(&destroy, f->uri, "destroy", f->name);
    /* On qemu:///embed, virsh's own reconnection may see QEMU go first (DEVELOPERS.md). */
    if (destroy.status != 0)
        assert_contains(destroy.err, "domain is not running");
}

void
domain_restart(Fixture *f)
{
    domain_destroy(f);
    g_free(virsh_ok(f->uri, "start", "--paused", f->name));
}

int
domain_qemu_pid(Fixture *f)
{
    g_autofree char *file = g_strconcat(f->name, ".pid", NULL);
    g_autofree char *path = f->c->system ? g_build_filename("/run/libvirt/qemu", file, NULL)
                                         : g_build_filename(env.root, "run", "qemu", file, NULL);
    g_autofree char *text = NULL;
    gint64 pid = 0;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_ascii_string_to_signed(g_strstrip(text), 10, 2, G_MAXINT, &pid, NULL));
    return (int)pid;
}

char *
domain_log_path(Fixture *f)
{
    g_autofree char *file = g_strconcat(f->name, ".log", NULL);

    if (f->c->system)
        return g_build_filename("/var/log/libvirt/qemu", file, NULL);
    return g_build_filename(env.root, "log", "qemu", file, NULL);
}

/* ---- fixture: the parent sets up and tears down, a child runs the case ---- */

/* Why the case cannot run here (no libvirtd, or what its missing() says), or NULL. */
static const char *
case_missing(const Case *c)
{
    if (c->system && !env.system)
        return "no libvirtd at " SYSTEM_URI " (CI starts one with .ci/libvirtd)";
    return c->missing ? c->missing() : NULL;
}

/* What a case starts with, made by the parent; FALSE when libvirt refused it (and said why
 * in the log), with nothing left behind. */
static gboolean
make_domain(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *spice = g_build_filename(f->dir, "spice.sock", NULL);
    g_autofree char *xml = libvirt_env_domain_xml(f->name, spice, f->c->emulator);
    g_autofree char *path = g_build_filename(f->dir, "domain.xml", NULL);
    g_auto(Run) made = { NULL };
    g_auto(Run) started = { NULL };

    if (f->c->devices) {
        char *end = strstr(xml, "  </devices>");
        g_autofree char *more = NULL;

        g_assert_nonnull(end);
        *end = '\0';
        more = g_strconcat(xml, f->c->devices, "  </devices>", end + strlen("  </devices>"),
                           NULL);
        g_free(xml);
        xml = g_steal_pointer(&more);
    }
    g_assert_true(g_file_set_contents(path, xml, -1, &error));
    g_assert_no_error(error);
    if (f->c->domain == DOMAIN_TRANSIENT)
        virsh(&made, f->uri, "create", path, "--paused");
    else
        virsh(&made, f->uri, "define", path);
    if (made.status != 0) {
        run_explain(&made);
        return FALSE;
    }
    if (f->c->domain != DOMAIN_RUNNING)
        return TRUE;
    virsh(&started, f->uri, "start", "--paused", f->name);
    if (started.status != 0) {
        g_auto(Run) undefine = { NULL };

        run_explain(&started);
        virsh(&undefine, f->uri, "undefine", f->name);
        return FALSE;
    }
    return TRUE;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    f->c = data;
    f->uri = f->c->system ? SYSTEM_URI : env.uri;
    /* Named alike in the parent and its child, without setenv() once threads run. */
    f->name = g_strdup_printf("svc-cli-%s-%d", g_getenv("SVC_TEST_PARENT"),
                              (int)(f->c - all_cases));
    f->dir = g_build_filename(env.root, f->name, NULL);
    env.current = f;
    if (g_test_subprocess() || case_missing(f->c))
        return;
    g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
    if (f->c->domain == DOMAIN_NONE || f->c->domain == DOMAIN_BY_CASE) {
        f->made = TRUE;
        return;
    }
    /* A setup that fails fails its case only, and leaves nothing: the next cases run. */
    f->made = make_domain(f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->made && f->c->domain != DOMAIN_NONE) {
        g_auto(Run) destroy = { NULL };
        g_auto(Run) undefine = { NULL };

        g_autofree char *processes = g_strdup_printf("guest=%s,", f->name);

        int holder;

        /* One process at a time runs the embedded driver: a command of the case's that is
         * still on its way out would refuse virsh the root. */
        if (is_embed(f->uri) && (holder = libvirt_env_root_wait_free(env.root, GONE_TIMEOUT_S))) {
            g_printerr("# %s: process %d still runs the embedded driver, killed\n", f->name,
                       holder);
            kill(holder, SIGKILL);
            g_assert_true(run_wait_pid_gone(holder, g_get_monotonic_time() +
                                                    GONE_TIMEOUT_S * G_USEC_PER_SEC));
            g_test_fail();
        }
        /* The domain may be stopped already: destroy's failure does not matter, a QEMU or a
         * persistent domain left behind does. */
        virsh(&destroy, f->uri, "destroy", f->name);
        if (run_wait_processes_gone(processes, GONE_TIMEOUT_S)) {
            g_printerr("# %s: QEMU still runs after virsh destroy, killed\n", f->name);
            run_explain(&destroy);
            run_kill_processes(processes, 0, GONE_TIMEOUT_S);
            g_test_fail();
        }
        if (f->c->domain != DOMAIN_TRANSIENT && f->c->domain != DOMAIN_BY_CASE) {
            virsh(&undefine, f->uri, "undefine", f->name);
            assert_ok(&undefine);
        }
    }
    if (f->made && !env.keep && !env.failed)
        libvirt_env_remove_root(f->dir);
    env.current = NULL;
    g_free(f->dir);
    g_free(f->name);
}

/* The last lines of @path on stderr, where the test's log has them. */
static void
print_tail(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint n;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    lines = g_strsplit(text, "\n", -1);
    n = g_strv_length(lines);
    g_printerr("# ---- %s, its last %u lines:\n", path, MIN(n, LOG_TAIL_LINES));
    for (guint i = n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0; i < n; i++) {
        if (lines[i][0])
            g_printerr("# %s\n", lines[i]);
    }
}

/* What a failed case leaves for whoever reads the test's log: how its child ended, and the
 * logs of virsh, of the CLI's embedded libvirt and of the domain's QEMU. */
static void
explain_failure(Fixture *f, const Run *child)
{
    g_autofree char *virsh_log = g_build_filename(f->dir, "virsh.log", NULL);
    g_autofree char *libvirt_log = g_build_filename(env.root, "log", "libvirt.log", NULL);
    g_autofree char *qemu_log = domain_log_path(f);

    run_explain(child);
    print_tail(virsh_log);
    if (!f->c->system)
        print_tail(libvirt_log);
    print_tail(qemu_log);
    g_printerr("# the logs stay in %s\n", env.root);
    env.failed = TRUE;
}

/* The case's child, as GLib's g_test_trap_subprocess() would run it, but waited for here so
 * that its end is known: exit status, signal, or still running at the deadline. */
static void
run_child(Fixture *f)
{
    const char *argv[] = { env.argv0, "-q", "-p", g_test_get_path(), "--GTestSubprocess",
                           NULL };
    g_autoptr(GSubprocess) child = run_spawn(argv);
    int group = atoi(g_subprocess_get_identifier(child));
    g_auto(Run) r = { NULL };
    guint left;

    if (!run_wait(child, CASE_TIMEOUT_S))
        g_printerr("# %s: still running after %d s, killed\n", g_test_get_path(),
                   CASE_TIMEOUT_S);
    /* What the case started and did not wait for, as one that failed half-way may leave: it
     * could go on using the domain, or the embedded driver's root, under the teardown. */
    if ((left = run_kill_processes(NULL, group, GONE_TIMEOUT_S))) {
        g_printerr("# %s: left %u processes running, killed\n", g_test_get_path(), left);
        env.failed = TRUE;
        g_test_fail();
    }
    run_ended(&r, child, argv);
    if (r.status != 0) {
        explain_failure(f, &r);
        g_test_fail();
    }
}

/* Leave once the case is done, before the teardown (the parent's).  A case that opened
 * qemu:///embed itself has libvirt's reconnection threads, which exit-time destructors crash
 * (tests/quick-exit.c), and a process that ran the embedded driver cannot be checked by
 * LeakSanitizer (its tracer dies reading the driver's modules' dynamic TLS): it leaves as
 * virt-spicevmc-libvirt does, with _exit().  Any other leaves with exit(), and is checked. */
static void G_GNUC_NORETURN
leave_child(Fixture *f)
{
    int status = g_test_failed() ? 1 : 0;

    if (!is_embed(f->uri))
        exit(status);
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}

/* The case runs in a child so that a failed assertion, an abort, still leaves the parent to
 * destroy the domain in the teardown. */
static void
test_case(Fixture *f, gconstpointer data)
{
    if (g_test_subprocess()) {
        f->c->body(f, f->c->arg);
        leave_child(f);
    }
    if (case_missing(f->c)) {
        skip_missing(case_missing(f->c));
        return;
    }
    if (!f->made && f->c->domain != DOMAIN_NONE) {
        g_printerr("# %s: libvirt refused the case's domain\n", g_test_get_path());
        env.failed = TRUE;
        g_test_fail();
        return;
    }
    run_child(f);
}

static void
env_init(const char *argv0)
{
    g_auto(Run) r = { NULL };

    /* Before any thread, and the cases' children inherit it. */
    if (!g_test_subprocess())
        libvirt_env_pin_cpu();
    env.argv0 = g_strdup(argv0);
    env.keep = g_getenv("SVC_TEST_KEEP") != NULL;
    if (g_test_subprocess()) {
        env.root = g_strdup(g_getenv("SVC_TEST_ROOT"));
    } else {
        g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

        env.root = libvirt_env_embed_root();
        g_setenv("SVC_TEST_ROOT", env.root, TRUE);
        g_setenv("SVC_TEST_PARENT", pid, TRUE);
    }
    env.uri = libvirt_env_embed_uri(env.root);
    if (!g_test_subprocess()) {
        virsh(&r, SYSTEM_URI, "version");
        env.system = r.status == 0;
    }
}

void
libvirt_cli_init(int *argc, char ***argv, const Case *cases, guint n_cases)
{
    g_test_init(argc, argv, NULL);
    /* A failed assertion in the parent fails its case and goes on: the teardown still
     * destroys the domain, the next cases still run.  A case's child stops at the first. */
    if (!g_test_subprocess())
        g_test_set_nonfatal_assertions();
    env_init((*argv)[0]);
    all_cases = cases;
    for (guint i = 0; i < n_cases; i++)
        g_test_add(cases[i].path, Fixture, &cases[i], fixture_setup, test_case, fixture_teardown);
}

int
libvirt_cli_run(void)
{
    int ret = g_test_run();

    /* Each teardown destroyed its domains: nothing runs in the root any more. */
    if (!g_test_subprocess() && !env.keep && !env.failed)
        libvirt_env_remove_root(env.root);
    else if (!g_test_subprocess())
        g_printerr("# the embedded driver's root, with its logs: %s\n", env.root);
    g_free(env.argv0);
    g_free(env.root);
    g_free(env.uri);
    return ret;
}
