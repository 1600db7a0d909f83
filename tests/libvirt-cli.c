/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the end-to-end libvirt tests (libvirt-cli.h). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libvirt-cli.h"
#include "libvirt-env.h"

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

void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
    g_free(r->command);
}

/* Success prints nothing on stderr; the assertion shows what was printed instead. */
void
assert_ok(Run *r)
{
    if (r->status != 0 || g_strcmp0(r->err, "") != 0)
        g_printerr("# %s: exit status %d\n", r->command, r->status);
    g_assert_cmpstr(r->err, ==, "");
    g_assert_cmpint(r->status, ==, 0);
}

/* virsh -c URI ARG…, or virt-spicevmc [-c URI] ARG…, up to the first NULL ARG.  With @r NULL,
 * asserts success and returns stdout. */
char *
run(Run *r, gboolean is_virsh, const char *uri, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
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
    g_subprocess_launcher_unsetenv(launcher, "LIBVIRT_DEFAULT_URI");
    /* virsh on an embed URI logs warnings on stderr: they go to the root.  The CLI must keep
     * its stderr to one line by itself, so it gets no LIBVIRT_LOG_OUTPUTS. */
    if (is_virsh)
        g_subprocess_launcher_setenv(launcher, "LIBVIRT_LOG_OUTPUTS", env.virsh_log, TRUE);
    else
        g_subprocess_launcher_unsetenv(launcher, "LIBVIRT_LOG_OUTPUTS");
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    if (!r)
        r = &own;
    g_subprocess_communicate_utf8(proc, NULL, NULL, &r->out, &r->err, &error);
    g_assert_no_error(error);
    r->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    r->command = g_strjoinv(" ", (char **)argv->pdata);
    if (g_subprocess_get_if_signaled(proc))
        g_printerr("# %s: killed by signal %d\n", r->command, g_subprocess_get_term_sig(proc));
    if (r != &own)
        return NULL;
    assert_ok(r);
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
    g_assert_cmpint(r->status, ==, 1);
    g_assert_cmpstr(r->out, ==, "");
    g_assert_true(g_str_has_prefix(r->err, "virt-spicevmc: error: "));
    g_assert_cmpstr(strchr(r->err, '\n'), ==, "\n");
    assert_contains(r->err, fragment);
}

/* ---- what libvirt and QEMU say ---------------------------------------- */

json_object *
parse_json(const char *text)
{
    json_object *obj = json_tokener_parse(text);

    if (!obj)
        g_assert_cmpstr(text, ==, "(valid JSON)");
    return obj;
}

json_object *
member(json_object *obj, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(obj, key, &value))
        g_assert_cmpstr(json_object_to_json_string(obj), ==, key);
    return value;
}

const char *
member_str(json_object *obj, const char *key)
{
    return json_object_get_string(member(obj, key));
}

/* virsh qemu-monitor-command: QEMU's "return". */
json_object *
qemu(Fixture *f, const char *cmd)
{
    g_autofree char *out = virsh_ok(f->uri, "qemu-monitor-command", f->name, cmd);
    g_autoptr(json_object) reply = parse_json(out);

    return json_object_get(member(reply, "return"));
}

/* Entries of @arr whose @key starts with (@prefix) or is @value. */
guint
count_entries(json_object *arr, const char *key, const char *value, gboolean prefix)
{
    guint n = 0;

    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *s = member_str(json_object_array_get_idx(arr, i), key);

        n += prefix ? g_str_has_prefix(s, value) : g_strcmp0(s, value) == 0;
    }
    return n;
}

json_object *
find_entry(json_object *arr, const char *key, const char *value)
{
    json_object *found = NULL;

    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *entry = json_object_array_get_idx(arr, i);

        if (g_strcmp0(member_str(entry, key), value) == 0) {
            g_assert_null(found);
            found = entry;
        }
    }
    if (!found)
        g_assert_cmpstr(json_object_to_json_string(arr), ==, value);
    return found;
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

/* Whether @list has a channel spicevmc passed through QMP, running; and whether one of them is
 * not in the definition (*@unkept). */
static gboolean
has_passthrough(json_object *list, gboolean *unkept)
{
    gboolean found = FALSE;

    *unkept = FALSE;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *ch = json_object_array_get_idx(list, i);

        if (!json_object_get_boolean(member(ch, "libvirt")) &&
            !json_object_get_boolean(member(ch, "inferred")) &&
            g_str_equal(member_str(ch, "state"), "ok")) {
            found = TRUE;
            *unkept |= !json_object_get_boolean(member(ch, "persistent"));
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
    g_assert_cmpint(r.status, ==, 0);
    list = parse_json(r.out);
    g_assert_true(json_object_is_type(list, json_type_array));
    if (has_passthrough(list, &unkept)) {
        g_assert_true(g_str_has_prefix(r.err, PASSTHROUGH_WARNING));
        g_assert_cmpstr(strchr(r.err, '\n'), ==, "\n");
        /* --config is the advice only for channels that are not in the definition already. */
        assert_contains(r.err, unkept ? "add them with --config" : "they are in the definition");
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
        g_test_skip("no libvirtd at " SYSTEM_URI " (CI starts one with .ci/libvirtd)");
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
