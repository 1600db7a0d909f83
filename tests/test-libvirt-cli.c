/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt-spicevmc on libvirt domains end to end, with the CLI and virsh run as a user runs them. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libvirt-views.h"

/* Where libvirtd runs hooks from, and where the hook says what it did. */
#define HOOK_PATH "/etc/libvirt/hooks/qemu.d/spicevmc"
#define HOOK_LOG "/var/log/libvirt/spicevmc-hook.log"
/* How the hook runs virt-spicevmc, installed (as make builds it) and as built. */
#define HOOK_RUNS "setsid -f " BINDIR "/virt-spicevmc "
#define HOOK_RUNS_BUILD "setsid -f " VIRT_SPICEVMC " "
/* How long the restore the hook starts may take to end. */
#define RESTORE_TIMEOUT_S 60
#define EVENT_TIMEOUT_S "60"
#define QOM_GET "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/%s\"," \
                "\"property\":\"%s\"}}"

/* ---- the cases --------------------------------------------------------- */

static const struct {
    const char *arg;
    const char *kind;
    const char *element;      /* what libvirt hot-plugs it as; NULL: passthrough */
} kinds[] = {
    { "vdagent", "vdagent", "channel" },
    { "usbredir", "usbredir", "redirdev" },
    { "smartcard", "smartcard", NULL },
    { "webdav", "webdav", NULL },
    { "serial", "serial", NULL },
    { "stream", "stream", NULL },
    { "port,fqdn=org.spicevmc.test.0", "port", NULL },
};

static void
every_kind(Fixture *f, const char *arg)
{
    g_auto(Views) v = { 0 };
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) chardevs = g_ptr_array_new_with_free_func(g_free);

    g_free(cli_ok(f->uri, f->name, "add", kinds[0].arg, kinds[1].arg, kinds[2].arg,
                  kinds[3].arg, kinds[4].arg, kinds[5].arg, kinds[6].arg));
    views_load(&v, f);
    g_assert_cmpuint(json_object_array_length(v.list), ==, G_N_ELEMENTS(kinds));
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        json_object *ch = find_entry(v.list, "kind", kinds[i].kind);

        g_ptr_array_add(ids, g_strdup(member_str(ch, "id")));
        g_ptr_array_add(chardevs, g_strdup(member_str(ch, "chardev")));
        g_assert_true(g_str_has_prefix(ids->pdata[i], "ua-"));
        if (kinds[i].element)
            views_assert_libvirt_channel(&v, ch, kinds[i].element);
        else
            views_assert_passthrough_channel(&v, ch);
    }
    g_assert_cmpuint(count_prefixed(v.chardevs, "label", "svc_"), ==, 5);

    for (guint i = 0; i < ids->len; i++) {
        g_autofree char *line = g_strdup_printf("Channel '%s' removed\n", (char *)ids->pdata[i]);
        g_autofree char *out = cli_ok(f->uri, f->name, "remove", ids->pdata[i]);
        g_autoptr(json_object) now = qemu(f, QUERY_CHARDEV);

        g_assert_cmpstr(out, ==, line);
        g_assert_false(has_entry(now, "label", chardevs->pdata[i]));
    }
    views_assert_clean(f);
}

/* What list --xml prints, detach takes from stdin: every channel goes, libvirt's and
 * spicevmc's alike.  The passthrough warning goes to stderr, as with a table. */
static void
list_xml_detach(Fixture *f, const char *arg)
{
    g_autofree char *xml = NULL, *out = NULL;

    g_free(cli_ok(f->uri, f->name, "add", "webdav", "vdagent", "serial"));
    xml = list_xml(f, NULL, TRUE);
    g_assert_true(g_str_has_prefix(xml, "<devices>\n"));
    out = cli_input_ok(f->uri, xml, f->name, "detach", "-", NULL);
    g_assert_cmpstr(out, ==, "Channel 'ua-serial0' removed\nChannel 'ua-vdagent0' removed\n"
                             "Channel 'ua-webdav0' removed\n");
    views_assert_clean(f);
}

/* list as a table: a header, then one row per channel, who manages it and whether it comes
 * back at the next start; the passthrough warning on stderr, not in the table. */
static void
list_table(Fixture *f, const char *arg)
{
    g_auto(Run) r = { NULL };
    g_auto(GStrv) lines = NULL;

    g_free(cli_ok(f->uri, f->name, "add", "--persistent", "webdav", "vdagent"));
    cli(&r, f->uri, f->name, "list");
    g_assert_cmpint(r.status, ==, 0);
    assert_contains(r.err, "warning: channels managed by spicevmc go through QMP passthrough");
    lines = g_strsplit(r.out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 5);
    g_assert_true(g_regex_match_simple("^ Id +Kind +SPICE name +Frontend +Bus +Port +Guest port "
                                       "name +Guest +State +Managed by +Persistent$", lines[0],
                                       0, 0));
    g_assert_true(g_regex_match_simple("^-+$", lines[1], 0, 0));
    g_assert_true(g_regex_match_simple("^ ua-vdagent0 +vdagent +vdagent +virtserialport +"
                                       "virtio-serial0.0 +1 +com.redhat.spice.0 +closed +ok +"
                                       "libvirt +yes$", lines[2], 0, 0));
    g_assert_true(g_regex_match_simple("^ ua-webdav0 +webdav +org.spice-space.webdav.0 +"
                                       "virtserialport +virtio-serial0.0 +30 +"
                                       "org.spice-space.webdav.0 +closed +ok +spicevmc +yes$",
                                       lines[3], 0, 0));
    g_assert_cmpstr(lines[4], ==, "");
}

/* On a defined domain that is not running, and on a name libvirt does not know: one line,
 * and the definition untouched. */
static void
stopped_or_missing(Fixture *f, const char *arg)
{
    g_autofree char *missing = g_strconcat(f->name, "-missing", NULL);
    g_autofree char *not_found = g_strdup_printf("cannot open domain '%s': Domain not found",
                                                 missing);
    g_autofree char *not_running = g_strdup_printf("domain '%s' is not running", f->name);
    g_autofree char *before = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    g_autofree char *meta_before = virsh_metadata(f, RESTORE_NS, TRUE);
    g_autofree char *after = NULL, *meta_after = NULL, *state = NULL;
    const struct {
        const char *domain, *fragment, *args[3];
    } cases[] = {
        { missing, not_found, { "list" } },
        { missing, not_found, { "add", "webdav" } },
        { missing, not_found, { "remove", "ua-webdav0" } },
        { f->name, not_running, { "add", "--live", "webdav" } },
        { f->name, not_running, { "add", "--live", "vdagent" } },
        { f->name, not_running, { "add", "--persistent", "smartcard" } },
        { f->name, not_running, { "remove", "--live", "ua-webdav0" } },
        { f->name, not_running, { "restore" } },
        { "restore", not_found, { missing } },          /* as virsh orders it */
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Run) r = { NULL };
        const char *const *a = cases[i].args;

        cli(&r, f->uri, cases[i].domain, a[0], a[1], a[2]);
        assert_one_error(&r, cases[i].fragment);
    }
    after = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    g_assert_cmpstr(after, ==, before);
    meta_after = virsh_metadata(f, RESTORE_NS, TRUE);
    g_assert_cmpstr(meta_after, ==, meta_before);
    state = virsh_ok(f->uri, "domstate", f->name);
    g_assert_cmpstr(state, ==, "shut off\n\n");
}

/* @argv started with its stdout and stderr piped, for finished(). */
static GSubprocess *
started(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    GSubprocess *proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

    g_assert_no_error(error);
    return proc;
}

/* What started(@argv) wrote and how it ended, within RUN_TIMEOUT_S. */
static void
finished(GSubprocess *proc, const char *const *argv, Run *r)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(run_wait(proc, RUN_TIMEOUT_S));
    g_subprocess_communicate_utf8(proc, NULL, NULL, &r->out, &r->err, &error);
    g_assert_no_error(error);
    run_ended(r, proc, argv);
}

/* QEMU hung (stopped), then gone while a command waits on it: each time one line saying
 * why, never a hang (a program's deadline is RUN_TIMEOUT_S).  With QEMU stopped, libvirt's
 * reconnection in the command's own process holds the domain's job until its 30 s lock
 * timeout, which --timeout does not shorten over libvirt. */
static void
qemu_hung_then_gone(Fixture *f, const char *arg)
{
    const char *argv[] = { VIRT_SPICEVMC, "-c", f->uri, f->name, "remove", "--live", "ua-webdav0",
                           NULL };
    g_autoptr(GSubprocess) waiting = NULL;
    g_auto(Run) hung = { NULL };
    g_auto(Run) gone = { NULL };
    g_autofree char *fragment = NULL;
    int pid;

    g_free(cli_ok(f->uri, f->name, "add", "webdav"));
    pid = domain_qemu_pid(f);
    g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
    cli(&hung, f->uri, f->name, "remove", "ua-webdav0", "--timeout", "2");
    fragment = g_strdup_printf("libvirt has not finished reconnecting to the QEMU of domain "
                               "'%s': Timed out during operation: cannot acquire state change "
                               "lock", f->name);
    assert_one_error(&hung, fragment);

    /* The next command waits on QEMU as it goes. */
    waiting = started(argv);
    /* Not a count of the processes running the command: libvirt forks as it opens. */
    g_assert_true(run_is_running(waiting));
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    finished(waiting, argv, &gone);
    /* Depending on when QEMU went: the domain had stopped before it asked, or while it waited,
     * or libvirt still had it running without QEMU (then no channel runs either). */
    assert_one_error(&gone, "");
    g_assert_true(g_regex_match_simple("is not running\n$|has no such SPICE channel running\n$",
                                       gone.err, 0, 0));
}

/* A command on qemu:///embed leaves only once libvirt's reconnection to QEMU, which opening
 * the root started in the command's process ("init-DOMAIN", qemuProcessReconnect), is over:
 * one that left with a question to QEMU unanswered would have QEMU answer the next process's
 * driver, which kills QEMU for it (seen as "Unexpected JSON reply" and "domain is not
 * running" on a busy machine).  QEMU stopped holds the reconnection; `enable` on a domain
 * that uses the wrapper already reads only the definition, so it is the reconnection it
 * waits for.  A second after the reconnection started, then no wait at all, cannot fail the
 * command that waits on a slow machine; one that does not wait has long been done by then,
 * if it was not before its reconnection was seen. */
static void
leaves_after_reconnection(Fixture *f, const char *arg)
{
    const char *argv[] = { VIRT_SPICEVMC, "-c", f->uri, f->name, "enable", "--wrapper", WRAPPER,
                           NULL };
    g_autoptr(GSubprocess) enabling = NULL;
    g_auto(Run) r = { NULL };
    g_autofree char *state = virsh_ok(f->uri, "domstate", f->name);
    g_autofree char *state_after = NULL, *expected = NULL;
    int pid = domain_qemu_pid(f);

    g_free(cli_ok(f->uri, f->name, "enable", "--wrapper", WRAPPER));
    g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
    enabling = started(argv);
    if (run_wait_thread(enabling, "init-", RUN_TIMEOUT_S))
        g_usleep(G_USEC_PER_SEC);
    g_assert_true(run_is_running(enabling));
    g_assert_cmpint(kill(pid, SIGCONT), ==, 0);
    finished(enabling, argv, &r);
    assert_ok(&r);
    expected = g_strdup_printf("Domain '%s' already uses %s\n", f->name, WRAPPER);
    g_assert_cmpstr(r.out, ==, expected);
    state_after = virsh_ok(f->uri, "domstate", f->name);
    g_assert_cmpstr(state_after, ==, state);
    g_assert_cmpint(domain_qemu_pid(f), ==, pid);
}

/* The CLI reports libvirt's own reason, which virsh prints as its last "error: " line. */
static void
wrong_uri(Fixture *f, const char *uri)
{
    g_auto(Run) r = { NULL };
    g_auto(Run) v = { NULL };
    g_auto(GStrv) lines = NULL;
    const char *reason = NULL;
    g_autofree char *expected = NULL;

    virsh(&v, uri, "version");
    g_assert_cmpint(v.status, !=, 0);
    lines = g_strsplit(v.err, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "error: "))
            reason = lines[i] + strlen("error: ");
    }
    g_assert_nonnull(reason);
    cli(&r, uri, "svc-cli-any", "list");
    expected = g_strdup_printf("virt-spicevmc: error: cannot connect to libvirt at '%s': %s\n",
                               uri, reason);
    g_assert_cmpstr(r.err, ==, expected);
    assert_one_error(&r, "");
}

/* The root of qemu:///embed is read as libvirt reads it, percent-decoded: the CLI and libvirt
 * use the same directory, and the embedded driver's log is in ROOT/log/libvirt.log, as the
 * README says; where libvirt's log settings cannot name that file (a space, a colon), nothing
 * is logged, and nothing is made anywhere else. */
static void
embed_root_escaped(Fixture *f, const char *arg)
{
    const struct {
        const char *encoded, *decoded;
        gboolean logged;
    } roots[] = {
        { "a%2Cb", "a,b", TRUE },
        { "c%20d", "c d", FALSE },
        { "e%3Af", "e:f", FALSE },
    };
    const char *const stray[] = { "a%2Cb", "c%20d", "e%3Af", "c", "e" };
    g_autofree char *expected = g_strdup_printf(
        "virt-spicevmc: error: cannot open domain '%s': Domain not found: no domain with "
        "matching name '%s'\n", f->name, f->name);

    for (guint i = 0; i < G_N_ELEMENTS(roots); i++) {
        g_autofree char *uri = g_strdup_printf("qemu:///embed?root=%s/%s", f->dir,
                                               roots[i].encoded);
        g_autofree char *root = g_build_filename(f->dir, roots[i].decoded, NULL);
        g_autofree char *log = g_build_filename(root, "log", "libvirt.log", NULL);
        g_autofree char *text = NULL;
        g_auto(Run) r = { NULL };

        cli(&r, uri, f->name, "list");
        if (g_strcmp0(r.err, expected) != 0)
            run_explain(&r);
        g_assert_cmpstr(r.err, ==, expected);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_true(g_file_test(root, G_FILE_TEST_IS_DIR));
        g_assert_cmpint(g_file_get_contents(log, &text, NULL, NULL), ==, roots[i].logged);
        if (roots[i].logged)
            assert_contains(text, "no domain with matching name");
    }
    for (guint i = 0; i < G_N_ELEMENTS(stray); i++) {
        g_autofree char *path = g_build_filename(f->dir, stray[i], NULL);

        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
}

/* A libvirt that cannot initialize (here, LIBVIRT_LOG_OUTPUTS it cannot parse) is the error
 * the CLI reports, with libvirt's reason, as virsh does, on each way the CLI opens libvirt;
 * and it runs no further. */
static void
libvirt_init_fails(Fixture *f, const char *arg)
{
    const char *const commands[][7] = {
        { VIRT_SPICEVMC, "-c", f->uri, f->name, "list", NULL },
        { VIRT_SPICEVMC, "-c", f->uri, "sync", "--all", NULL },
        { VIRT_SPICEVMC, "-c", f->uri, "sync", "--follow", "--all", NULL },
    };
    const char *env[] = { "LIBVIRT_LOG_OUTPUTS=svc-bogus", "LIBVIRT_DEFAULT_URI", NULL };
    RunOptions o = { NULL, env };
    g_auto(Run) v = { NULL };
    const char *virsh_argv[] = { "virsh", "-c", f->uri, "version", NULL };

    run_argv(&v, virsh_argv, &o);
    g_assert_cmpint(v.status, !=, 0);
    assert_contains(v.err, "error: Failed to initialize libvirt");
    assert_contains(v.err, "'svc-bogus'");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_auto(Run) r = { NULL };

        run_argv(&r, commands[i], &o);
        run_assert_error_line(&r, "virt-spicevmc: error: cannot initialize libvirt: ",
                              "'svc-bogus'");
    }
}

static void
bad_ids(Fixture *f, const char *arg)
{
    g_autofree char *xml_before = NULL, *xml_after = NULL;
    g_autoptr(json_object) chardevs_before = NULL, chardevs_after = NULL, list = NULL;
    const struct {
        const char *args[4];
        const char *fragment;
    } cases[] = {
        { { "add", "stream", "--id", "foo" }, "'foo' must start with 'ua-'" },
        { { "add", "vdagent", "--id", "foo" }, "'foo' must start with 'ua-'" },
        { { "add", "usbredir,id=bar" }, "'bar' must start with 'ua-'" },
        { { "remove", "ua-nosuch0" }, "cannot remove 'ua-nosuch0'" },
        { { "remove", "foo" }, "cannot remove 'foo'" },
        /* One unknown id refuses the whole batch: ua-webdav0 stays. */
        { { "remove", "ua-webdav0", "ua-nosuch0" }, "cannot remove 'ua-nosuch0'" },
    };

    g_free(cli_ok(f->uri, f->name, "add", "webdav,id=ua-webdav0"));
    xml_before = virsh_ok(f->uri, "dumpxml", f->name);
    chardevs_before = qemu(f, QUERY_CHARDEV);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Run) r = { NULL };
        const char *const *a = cases[i].args;

        cli(&r, f->uri, f->name, a[0], a[1], a[2], a[3]);
        assert_one_error(&r, cases[i].fragment);
    }
    xml_after = virsh_ok(f->uri, "dumpxml", f->name);
    g_assert_cmpstr(xml_after, ==, xml_before);
    chardevs_after = qemu(f, QUERY_CHARDEV);
    g_assert_cmpstr(json_object_to_json_string(chardevs_after), ==,
                    json_object_to_json_string(chardevs_before));
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, 1);
    g_assert_cmpstr(member_str(find_entry(list, "kind", "webdav"), "state"), ==, "ok");
}

/* virsh attach-device of the CLI's XML next to a passthrough channel: libvirt, which does not
 * see that one, must not give its agent the same virtio-serial port. */
static void
attach_after_passthrough(Fixture *f, const char *arg)
{
    g_autofree char *xml = NULL, *pattern = NULL;
    g_autofree char *file = g_build_filename(f->dir, "vdagent.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_auto(Views) v = { 0 };
    json_object *pair[2];

    g_free(cli_ok(f->uri, f->name, "add", "webdav"));
    xml = cli_ok(NULL, "xml", "vdagent");
    g_assert_true(g_file_set_contents(file, xml, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "attach-device", f->name, file, "--live"));

    views_load(&v, f);
    g_assert_cmpuint(json_object_array_length(v.list), ==, 2);
    pair[0] = find_entry(v.list, "kind", "webdav");
    pair[1] = find_entry(v.list, "kind", "vdagent");
    views_assert_passthrough_channel(&v, pair[0]);
    views_assert_libvirt_channel(&v, pair[1], "channel");
    g_assert_cmpint(json_object_get_int(member(pair[0], "nr")), !=,
                    json_object_get_int(member(pair[1], "nr")));
    pattern = g_strdup_printf("<alias name='%s'/>\\s*<address type='virtio-serial' [^>]* "
                              "port='%d'/>", member_str(pair[1], "id"),
                              json_object_get_int(member(pair[1], "nr")));
    g_assert_true(g_regex_match_simple(pattern, v.xml, 0, 0));
    /* QEMU's pairs of port number and chardev, as the guest and spice-server see them. */
    for (guint i = 0; i < 2; i++) {
        const char *id = member_str(pair[i], "id");
        g_autofree char *nr_cmd = g_strdup_printf(QOM_GET, id, "nr");
        g_autofree char *chardev_cmd = g_strdup_printf(QOM_GET, id, "chardev");
        g_autoptr(json_object) nr = qemu(f, nr_cmd);
        g_autoptr(json_object) chardev = qemu(f, chardev_cmd);

        g_assert_cmpint(json_object_get_int(nr), ==, json_object_get_int(member(pair[i], "nr")));
        g_assert_cmpstr(json_object_get_string(chardev), ==, member_str(pair[i], "chardev"));
    }
    g_free(cli_ok(f->uri, f->name, "remove", "--all"));
    views_assert_clean(f);
}

/* Through libvirt's remote driver: the same channels, the same answers. */
static void
remote_uri(Fixture *f, const char *arg)
{
    g_autoptr(json_object) local = NULL, remote = NULL;
    g_auto(Views) v = { 0 };

    g_free(cli_ok(REMOTE_URI, f->name, "add", "webdav", "vdagent"));
    views_load(&v, f);
    g_assert_cmpuint(json_object_array_length(v.list), ==, 2);
    views_assert_passthrough_channel(&v, find_entry(v.list, "kind", "webdav"));
    views_assert_libvirt_channel(&v, find_entry(v.list, "kind", "vdagent"), "channel");
    local = list_json(f, SYSTEM_URI);
    remote = list_json(f, REMOTE_URI);
    g_assert_cmpstr(json_object_to_json_string(remote), ==, json_object_to_json_string(local));
    g_free(cli_ok(REMOTE_URI, f->name, "remove", "--all"));
    views_assert_clean(f);
}

static const struct {
    const char *kind;
    const char *element;      /* in the persistent definition */
} kept[] = {
    { "webdav", "channel" }, { "serial", "console" }, { "vdagent", "channel" },
    { "usbredir", "redirdev" },
};

/* libvirtd's hook must run this build's virt-spicevmc, so that the sanitizer and valgrind
 * passes check what it runs: .ci/run installs such a hook before it starts libvirtd. */
static const char *
hook_missing(void)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(HOOK_PATH, &text, NULL, NULL))
        return "no spicevmc hook at " HOOK_PATH " (.ci/run installs one before libvirtd starts)";
    if (!strstr(text, HOOK_RUNS_BUILD))
        return "the hook at " HOOK_PATH " does not run this build's virt-spicevmc (.ci/run "
               "installs one that does)";
    return NULL;
}

/* Everything --persistent added is back after virsh destroy + start: libvirt's part by
 * itself, the smartcard through libvirtd's hook ("hook") or by restore. */
static void
config_survives_restart(Fixture *f, const char *arg)
{
    g_autofree char *inactive = NULL, *restore = NULL, *card = NULL;
    g_auto(Views) v = { 0 };
    gboolean hook = g_strcmp0(arg, "hook") == 0;
    g_autoptr(GError) error = NULL;
    json_object *ch;

    g_free(cli_ok(f->uri, f->name, "add", "--persistent", "webdav", "serial", "vdagent",
                  "usbredir", "smartcard"));
    views_load(&v, f);
    g_assert_cmpuint(json_object_array_length(v.list), ==, 5);
    for (size_t i = 0; i < json_object_array_length(v.list); i++) {
        ch = json_object_array_get_idx(v.list, i);
        g_assert_cmpstr(member_str(ch, "state"), ==, "ok");
        g_assert_true(member_bool(ch, "persistent"));
    }
    card = g_strdup(member_str(find_entry(v.list, "kind", "smartcard"), "id"));
    inactive = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    for (guint i = 0; i < G_N_ELEMENTS(kept); i++)
        g_assert_true(has_alias_in(inactive, kept[i].element,
                                   member_str(find_entry(v.list, "kind", kept[i].kind), "id")));
    g_assert_false(has_alias_in(inactive, NULL, card));
    restore = virsh_metadata(f, RESTORE_NS, TRUE);
    g_assert_true(has_alias_in(restore, NULL, card));

    domain_destroy(f);
    if (hook) {
        /* The hook's restore rewrites the live metadata: that event says it is done.  virsh
         * event listens well before QEMU has started and libvirt has run the hook. */
        g_autoptr(GSubprocess) watch = g_subprocess_new(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "virsh", "-c", f->uri, "event", f->name,
            "--event", "metadata-change", "--timeout", EVENT_TIMEOUT_S, NULL);
        g_autofree char *events = NULL, *log = NULL, *needle = NULL;
        GStatBuf before = { 0 };
        gsize len;

        g_assert_no_error(error);
        g_stat(HOOK_LOG, &before);
        g_free(virsh_ok(f->uri, "start", "--paused", f->name));
        g_subprocess_communicate_utf8(watch, NULL, NULL, &events, NULL, &error);
        g_assert_no_error(error);
        assert_contains(events, "event 'metadata-change' for domain");
        /* What the restore wrote, once it has ended: its leak check comes last. */
        needle = g_strdup_printf(" %s restore", f->name);
        g_assert_cmpuint(run_wait_processes_gone(needle, RESTORE_TIMEOUT_S), ==, 0);
        g_assert_true(g_file_get_contents(HOOK_LOG, &log, &len, NULL));
        g_assert_cmpuint(len, >=, (gsize)before.st_size);
        assert_contains(log + before.st_size, "Channel 'ua-smartcard0' added");
        assert_no_report(log + before.st_size);
    } else {
        g_autofree char *line = g_strdup_printf("Channel '%s' added", card);
        g_autofree char *out = NULL;

        g_free(virsh_ok(f->uri, "start", "--paused", f->name));
        views_load(&v, f);
        ch = find_entry(v.list, "kind", "smartcard");
        g_assert_cmpstr(member_str(ch, "state"), ==, "config");
        g_assert_false(has_entry(v.devices, "name", card));
        out = cli_ok(f->uri, "restore", f->name);
        g_assert_true(g_str_has_prefix(out, line));
    }
    /* The record of passthrough channels lists what libvirt brought back until the next
     * change (README); restore is that change. */
    views_load(&v, f);
    g_assert_cmpuint(json_object_array_length(v.list), ==, 5);
    for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
        ch = find_entry(v.list, "kind", kept[i].kind);
        g_assert_true(member_bool(ch, "persistent"));
        views_assert_libvirt_channel(&v, ch, kept[i].element);
    }
    ch = find_entry(v.list, "kind", "smartcard");
    g_assert_cmpstr(member_str(ch, "id"), ==, card);
    g_assert_true(member_bool(ch, "persistent"));
    views_assert_passthrough_channel(&v, ch);
}

/* The hook as make builds it, with this build's virt-spicevmc in place of the installed one,
 * run as libvirtd runs it (DOMAIN OPERATION SUBOPERATION -, the domain's XML on stdin):
 * qemu:///embed runs no hook itself.  After a start, it restores what spicevmc keeps for the
 * domain, from a process of its own; after anything else, or for a domain without spicevmc's
 * record, it does nothing at all. */
static void
hook_script(Fixture *f, const char *arg)
{
    g_autofree char *built = NULL, *script = NULL, *xml = NULL, *log_text = NULL;
    g_autofree char *hook = g_build_filename(f->dir, "hook", NULL);
    g_autofree char *log = g_build_filename(f->dir, "hook.log", NULL);
    g_autofree char *uri = g_strconcat("SPICEVMC_HOOK_URI=", f->uri, NULL);
    g_autofree char *log_env = g_strconcat("SPICEVMC_HOOK_LOG=", log, NULL);
    g_autofree char *needle = g_strdup_printf(" %s restore", f->name);
    const char *env[] = { uri, log_env, "LIBVIRT_DEFAULT_URI", "LIBVIRT_LOG_OUTPUTS", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) list = NULL;
    g_auto(GStrv) parts = NULL;
    const struct {
        const char *operation, *sub;
        gboolean record;      /* the domain's XML on stdin; else one without the record */
        gboolean restores;
    } calls[] = {
        { "prepare", "begin", TRUE, FALSE },
        { "start", "begin", TRUE, FALSE },
        { "started", "begin", FALSE, FALSE },
        { "release", "end", TRUE, FALSE },
        { "started", "begin", TRUE, TRUE },
    };

    g_assert_true(g_file_get_contents(BUILT_HOOK, &built, NULL, &error));
    g_assert_no_error(error);
    parts = g_strsplit(built, HOOK_RUNS, -1);
    g_assert_cmpuint(g_strv_length(parts), ==, 2);
    script = g_strjoinv(HOOK_RUNS_BUILD, parts);
    g_assert_true(g_file_set_contents(hook, script, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(hook, 0755), ==, 0);

    g_free(cli_ok(f->uri, f->name, "add", "--persistent", "smartcard"));
    domain_restart(f);
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
        const char *argv[] = { hook, f->name, calls[i].operation, calls[i].sub, "-", NULL };
        RunOptions o = { calls[i].record ? xml : "<domain type='qemu'/>\n", env };
        g_auto(Run) r = { NULL };

        run_argv(&r, argv, &o);
        run_assert_ok(&r);
        g_assert_cmpstr(r.out, ==, "");
        g_assert_cmpuint(run_wait_processes_gone(needle, RESTORE_TIMEOUT_S), ==, 0);
        g_assert_cmpint(g_file_test(log, G_FILE_TEST_EXISTS), ==, calls[i].restores);
    }
    g_assert_true(g_file_get_contents(log, &log_text, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(log_text, "Channel 'ua-smartcard0' added: "));
    g_assert_cmpstr(strchr(log_text, '\n'), ==, "\n");
    list = list_json(f, f->uri);
    g_assert_cmpstr(member_str(find_entry(list, "kind", "smartcard"), "state"), ==, "ok");
}

static const Case cases[] = {
    { "/libvirt-cli/embed/every-kind", FALSE, DOMAIN_RUNNING, every_kind },
    { "/libvirt-cli/embed/errors/stopped-or-missing", FALSE, DOMAIN_DEFINED,
      stopped_or_missing },
    { "/libvirt-cli/embed/errors/bad-ids", FALSE, DOMAIN_RUNNING, bad_ids },
    { "/libvirt-cli/embed/errors/qemu-hung-then-gone", FALSE, DOMAIN_RUNNING,
      qemu_hung_then_gone },
    { "/libvirt-cli/embed/leaves-after-reconnection", FALSE, DOMAIN_RUNNING,
      leaves_after_reconnection },
    { "/libvirt-cli/embed/errors/wrong-uri/socket", FALSE, DOMAIN_NONE, wrong_uri,
      "qemu+unix:///system?socket=/nonexistent/svc-cli-sock" },
    { "/libvirt-cli/embed/errors/wrong-uri/test-driver", FALSE, DOMAIN_NONE, wrong_uri,
      "test:///nonexistent/svc-cli.xml" },
    { "/libvirt-cli/embed/errors/wrong-uri/embed-root", FALSE, DOMAIN_NONE, wrong_uri,
      "qemu:///embed?root=/dev/null/svc-cli" },
    { "/libvirt-cli/embed/errors/root-escaped", FALSE, DOMAIN_NONE, embed_root_escaped },
    { "/libvirt-cli/embed/errors/libvirt-init", FALSE, DOMAIN_NONE, libvirt_init_fails },
    { "/libvirt-cli/system/every-kind", TRUE, DOMAIN_TRANSIENT, every_kind },
    { "/libvirt-cli/system/attach-device-after-passthrough", TRUE, DOMAIN_TRANSIENT,
      attach_after_passthrough },
    { "/libvirt-cli/system/remote-uri", TRUE, DOMAIN_TRANSIENT, remote_uri },
    { "/libvirt-cli/embed/hook-script", FALSE, DOMAIN_RUNNING, hook_script },
    { "/libvirt-cli/embed/list-xml-detach", FALSE, DOMAIN_RUNNING, list_xml_detach },
    { "/libvirt-cli/embed/list-table", FALSE, DOMAIN_RUNNING, list_table },
    /* qemu:///embed runs no hook: restore by hand; libvirtd runs its own, which must be this
     * build's. */
    { "/libvirt-cli/embed/config-survives-restart", FALSE, DOMAIN_RUNNING,
      config_survives_restart },
    { "/libvirt-cli/system/config-survives-restart", TRUE, DOMAIN_RUNNING,
      config_survives_restart, "hook", .missing = hook_missing },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    return libvirt_cli_run();
}
