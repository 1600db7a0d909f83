/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the end-to-end libvirt tests (libvirt-cli.h). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "skip.h"

/* A case that hangs is killed after this; its parent still destroys its domain. */
#define CASE_TIMEOUT_S 300

static const Case *all_cases;

/* Made by the parent, handed to each case's child through the environment. */
static struct {
    char *root;               /* of qemu:///embed, which only subprocesses may open */
    char *uri;
    char *virsh_log;          /* LIBVIRT_LOG_OUTPUTS for virsh */
    gboolean system;          /* a libvirtd answers at qemu:///system */
} env;

/* ---- subprocesses ---------------------------------------------------- */

static gboolean
is_embed(const char *uri)
{
    return uri && g_str_has_prefix(uri, "qemu:///embed");
}

/* virsh -c URI ARG…, or virt-spicevmc [-c URI] ARG…, up to the first NULL ARG.  With @r NULL,
 * asserts success and returns stdout. */
char *
run(Run *r, gboolean is_virsh, const char *uri, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *log = g_strdup_printf("LIBVIRT_LOG_OUTPUTS=%s", env.virsh_log);
    /* virsh on an embed URI logs warnings on stderr: they go to the root.  The CLI must keep
     * its stderr to one line by itself, so it gets no LIBVIRT_LOG_OUTPUTS. */
    const char *virsh_env[] = { "LIBVIRT_DEFAULT_URI", log,
                                is_embed(uri) ? "LD_PRELOAD=" QUICK_EXIT_SO : NULL, NULL };
    const char *cli_env[] = { "LIBVIRT_DEFAULT_URI", "LIBVIRT_LOG_OUTPUTS", NULL };
    RunOptions o = { NULL, is_virsh ? virsh_env : cli_env };
    g_auto(Run) own = { NULL };
    va_list ap;

    g_ptr_array_add(argv, (gpointer)(is_virsh ? "virsh" : VIRT_SPICEVMC));
    if (uri) {
        g_ptr_array_add(argv, (gpointer)"-c");
        g_ptr_array_add(argv, (gpointer)uri);
    }
    va_start(ap, uri);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
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

/* strstr that fails showing both strings. */
void
assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        g_assert_cmpstr(haystack, ==, needle);
}

/* The CLI's contract for errors: status 1, nothing on stdout, exactly one line on stderr,
 * "virt-spicevmc: error: …", containing @fragment. */
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

/* Whether @list has a channel spicevmc passed through QMP, running. */
static gboolean
has_passthrough(json_object *list)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *ch = json_object_array_get_idx(list, i);

        if (!member_bool(ch, "libvirt") && !member_bool(ch, "inferred") &&
            g_str_equal(member_str(ch, "state"), "ok"))
            return TRUE;
    }
    return FALSE;
}

/* list --json: JSON alone on stdout, and the passthrough warning on stderr exactly when a
 * channel went through passthrough. */
json_object *
list_json(Fixture *f, const char *uri)
{
    g_auto(Run) r = { NULL };
    json_object *list;

    cli(&r, uri, f->name, "list", "--json");
    g_assert_cmpint(r.status, ==, 0);
    list = parse_json(r.out);
    g_assert_true(json_object_is_type(list, json_type_array));
    if (has_passthrough(list)) {
        g_assert_true(g_str_has_prefix(r.err, PASSTHROUGH_WARNING));
        g_assert_cmpstr(strchr(r.err, '\n'), ==, "\n");
    } else {
        g_assert_cmpstr(r.err, ==, "");
    }
    return list;
}

/* ---- fixture: the parent sets up and tears down, a child runs the case ---- */

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *spice = NULL, *xml = NULL, *path = NULL;
    g_auto(Run) r = { NULL };

    f->c = data;
    f->uri = f->c->system ? SYSTEM_URI : env.uri;
    /* Named alike in the parent and its child, without setenv() once threads run. */
    f->name = g_strdup_printf("svc-cli-%s-%d", g_getenv("SVC_TEST_PARENT"),
                              (int)(f->c - all_cases));
    f->dir = g_build_filename(env.root, f->name, NULL);
    if (g_test_subprocess() || (f->c->system && !env.system))
        return;
    g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
    f->made = TRUE;
    if (f->c->domain == DOMAIN_NONE || f->c->domain == DOMAIN_BY_CASE)
        return;
    spice = g_build_filename(f->dir, "spice.sock", NULL);
    xml = libvirt_env_domain_xml(f->name, spice, f->c->emulator);
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
    path = g_build_filename(f->dir, "domain.xml", NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, &error));
    g_assert_no_error(error);
    if (f->c->domain == DOMAIN_TRANSIENT) {
        g_free(virsh_ok(f->uri, "create", path, "--paused"));
        return;
    }
    g_free(virsh_ok(f->uri, "define", path));
    if (f->c->domain == DOMAIN_RUNNING)
        virsh(&r, f->uri, "start", "--paused", f->name);
    if (r.status != 0) {
        g_auto(Run) undefine = { NULL };

        virsh(&undefine, f->uri, "undefine", f->name);
        assert_ok(&r);
    }
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->made && f->c->domain != DOMAIN_NONE) {
        g_auto(Run) destroy = { NULL };
        g_auto(Run) undefine = { NULL };

        /* The domain may be stopped already: destroy's failure does not matter, a persistent
         * domain left behind does. */
        virsh(&destroy, f->uri, "destroy", f->name);
        if (f->c->domain != DOMAIN_TRANSIENT && f->c->domain != DOMAIN_BY_CASE) {
            virsh(&undefine, f->uri, "undefine", f->name);
            assert_ok(&undefine);
        }
    }
    if (f->made)
        libvirt_env_remove_root(f->dir);
    g_free(f->dir);
    g_free(f->name);
}

/* The case runs in a child so that a failed assertion, an abort, still leaves the parent to
 * destroy the domain in the teardown. */
static void
test_case(Fixture *f, gconstpointer data)
{
    if (g_test_subprocess()) {
        f->c->body(f, f->c->arg);
        return;
    }
    if (f->c->system && !env.system) {
        skip_missing("no libvirtd at " SYSTEM_URI " (CI starts one with .ci/libvirtd)");
        return;
    }
    g_test_trap_subprocess(NULL, CASE_TIMEOUT_S * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    if (!g_test_trap_has_passed())
        g_test_fail();
}

static void
env_init(void)
{
    g_auto(Run) r = { NULL };

    if (g_test_subprocess()) {
        env.root = g_strdup(g_getenv("SVC_TEST_ROOT"));
    } else {
        g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

        env.root = libvirt_env_embed_root();
        g_setenv("SVC_TEST_ROOT", env.root, TRUE);
        g_setenv("SVC_TEST_PARENT", pid, TRUE);
    }
    env.uri = libvirt_env_embed_uri(env.root);
    env.virsh_log = g_strdup_printf("3:file:%s/log/virsh.log", env.root);
    if (!g_test_subprocess()) {
        virsh(&r, SYSTEM_URI, "version");
        env.system = r.status == 0;
    }
}

void
libvirt_cli_init(int *argc, char ***argv, const Case *cases, guint n_cases)
{
    g_test_init(argc, argv, NULL);
    env_init();
    all_cases = cases;
    for (guint i = 0; i < n_cases; i++)
        g_test_add(cases[i].path, Fixture, &cases[i], fixture_setup, test_case, fixture_teardown);
}

int
libvirt_cli_run(void)
{
    int ret = g_test_run();

    /* Each teardown destroyed its domains: nothing runs in the root any more. */
    if (!g_test_subprocess())
        libvirt_env_remove_root(env.root);
    g_free(env.root);
    g_free(env.uri);
    g_free(env.virsh_log);
    return ret;
}
