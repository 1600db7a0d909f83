/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qemu as a libvirt domain's <emulator>: spicevmc's QMP commands through virsh
 * qemu-monitor-command, while libvirt's own start, hot-plug, events and destroy keep working;
 * and virt-spicevmc enable/disable.  Every virsh on qemu:///embed is a new libvirt that
 * reconnects to the running QEMU's monitor, as libvirtd does after a restart. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "libvirt-cli.h"

#define AGENT_XML "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>" \
                  "</channel>\n"
#define EMULATOR_NS "urn:spicevmc:emulator:1"
/* How long libvirt and the kernel may take to let processes go after destroy. */
#define GONE_TIMEOUT_S 30

/* spicevmc-qemu as the domains' <emulator> (emulator_script()), and where what valgrind
 * says of it goes. */
static char *emulator;
static char *emulator_dir;

/* A script that runs spicevmc-qemu with the test's sanitizer options, and under valgrind in
 * the valgrind pass ($SPICEVMC_TEST_VALGRIND): libvirt gives an emulator none of the test's
 * environment.  It execs, so libvirt's QEMU is still the process libvirt started. */
static char *
emulator_script(const char *dir)
{
    const char *keep[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS" };
    const char *valgrind = g_getenv("SPICEVMC_TEST_VALGRIND");
    g_autoptr(GString) text = g_string_new("#!/bin/sh\n");
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(dir, "spicevmc-qemu", NULL);

    for (guint i = 0; i < G_N_ELEMENTS(keep); i++) {
        g_autofree char *value = g_getenv(keep[i]) ? g_shell_quote(g_getenv(keep[i])) : NULL;

        if (value)
            g_string_append_printf(text, "export %s=%s\n", keep[i], value);
    }
    g_string_append(text, "exec ");
    if (valgrind)
        g_string_append_printf(text, "%s --log-file=%s/valgrind-%%p.log ", valgrind, dir);
    g_string_append(text, WRAPPER " \"$@\"\n");
    g_assert_true(g_file_set_contents(path, text->str, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return path;
}

/* What the proxy in spicevmc-qemu said in the domain's log, and valgrind in its own: no
 * sanitizer or valgrind report.  (The proxy leaves with _exit(), which runs no leak check of
 * LeakSanitizer's; valgrind's runs.) */
static void
assert_no_reports(Fixture *f)
{
    g_autofree char *log_path = domain_log_path(f);
    g_autofree char *log = NULL;
    g_autoptr(GDir) dir = g_dir_open(emulator_dir, 0, NULL);
    const char *name;

    g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
    assert_no_report(log);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(emulator_dir, name, NULL);
        g_autofree char *text = NULL;

        if (g_str_has_prefix(name, "valgrind-") && g_file_get_contents(path, &text, NULL, NULL))
            assert_no_report(text);
    }
}

/* The processes whose command line names the domain: QEMU, and the proxy beside it. */
static char *
processes_of(Fixture *f)
{
    return g_strdup_printf("guest=%s,", f->name);
}

static void
assert_destroy_leaves_nothing(Fixture *f)
{
    g_autofree char *needle = processes_of(f);

    g_assert_cmpuint(run_count_processes(needle), ==, 2);
    domain_destroy(f);
    g_assert_cmpuint(run_wait_processes_gone(needle, GONE_TIMEOUT_S), ==, 0);
    assert_no_reports(f);
}

static void
monitor_commands(Fixture *f, const char *arg)
{
    g_autofree char *agent = g_build_filename(f->dir, "agent.xml", NULL);
    g_autofree char *xml = NULL, *state = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) added = NULL, list = NULL, commands = NULL, status = NULL;
    g_autoptr(json_object) removed = NULL, after = NULL;
    g_auto(Run) bad = { NULL };
    json_object *webdav, *vdagent;

    added = qemu(f, "{\"execute\":\"spicevmc-add\",\"arguments\":{\"kind\":\"webdav\"}}");
    g_assert_cmpstr(member_str(json_object_array_get_idx(added, 0), "id"), ==, "ua-webdav0");
    g_assert_true(g_file_set_contents(agent, AGENT_XML, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "attach-device", f->name, agent, "--live"));

    /* Both in QEMU, on different ports: ours from the top, libvirt's from the bottom. */
    list = qemu(f, "{\"execute\":\"query-spicevmc\"}");
    g_assert_cmpuint(json_object_array_length(list), ==, 2);
    webdav = find_entry(list, "id", "ua-webdav0");
    vdagent = find_entry(list, "id", "channel0");
    g_assert_cmpstr(member_str(vdagent, "kind"), ==, "vdagent");
    g_assert_true(json_object_get_boolean(member(vdagent, "inferred")));
    g_assert_cmpint(json_object_get_int(member(webdav, "nr")), !=,
                    json_object_get_int(member(vdagent, "nr")));

    commands = qemu(f, "{\"execute\":\"query-commands\"}");
    g_assert_true(has_entry(commands, "name", "spicevmc-add"));
    g_assert_true(has_entry(commands, "name", "device_add"));
    status = qemu(f, "{\"execute\":\"query-status\"}");
    g_assert_cmpstr(member_str(status, "status"), ==, "prelaunch");

    virsh(&bad, f->uri, "qemu-monitor-command", f->name,
          "{\"execute\":\"spicevmc-add\",\"arguments\":{\"kind\":\"bogus\"}}");
    /* virsh prints QEMU's error reply as it prints any reply. */
    assert_ok(&bad);
    assert_contains(bad.out, "{\"class\":\"GenericError\",\"desc\":\"Parameter 'kind' does "
                             "not accept value 'bogus'\"}");

    /* libvirt waits for DEVICE_DELETED before it drops the device from its XML: the event
     * came through the proxy. */
    g_free(virsh_ok(f->uri, "detach-device", f->name, agent, "--live"));
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    g_assert_null(strstr(xml, "com.redhat.spice.0"));
    g_free(virsh_ok(f->uri, "resume", f->name));
    state = virsh_ok(f->uri, "domstate", f->name);
    g_assert_cmpstr(state, ==, "running\n\n");
    removed = qemu(f, "{\"execute\":\"spicevmc-remove\",\"arguments\":{\"id\":\"ua-webdav0\"}}");
    g_assert_cmpstr(json_object_to_json_string(removed), ==, "[ \"ua-webdav0\" ]");
    after = qemu(f, "{\"execute\":\"query-spicevmc\"}");
    g_assert_cmpuint(json_object_array_length(after), ==, 0);
    assert_destroy_leaves_nothing(f);
}

static char *
inactive(Fixture *f)
{
    return virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
}

/* @xml with its <emulator> @from made @to. */
static char *
with_emulator(const char *xml, const char *from, const char *to)
{
    g_autofree char *old = g_strdup_printf("<emulator>%s</emulator>", from);
    g_autofree char *new = g_strdup_printf("<emulator>%s</emulator>", to);
    g_auto(GStrv) parts = g_strsplit(xml, old, -1);

    g_assert_cmpuint(g_strv_length(parts), ==, 2);
    return g_strjoinv(new, parts);
}

/* @xml without its <metadata> element. */
static char *
without_metadata(const char *xml)
{
    g_autoptr(GRegex) re = g_regex_new("\\n  <metadata>.*</metadata>", G_REGEX_DOTALL, 0, NULL);

    return g_regex_replace_literal(re, xml, -1, 0, "", 0, NULL);
}

/* virt-spicevmc DOMAIN enable|disable --wrapper @wrapper prints @line with the domain's name
 * and @wrapper in it (DOMAIN, WRAPPER). */
static void
assert_says(Fixture *f, const char *command, const char *wrapper, const char *line)
{
    g_autofree char *out = cli_ok(f->uri, f->name, command, "--wrapper", wrapper);
    g_autofree char *named = g_strdup_printf("Domain '%s'", f->name);
    g_auto(GStrv) a = g_strsplit(line, "DOMAIN", -1);
    g_autofree char *b = g_strjoinv(named, a);
    g_auto(GStrv) c = g_strsplit(b, "WRAPPER", -1);
    g_autofree char *expected = g_strjoinv(wrapper, c);

    g_assert_cmpstr(out, ==, expected);
}

/* Every branch of enable and disable on a persistent domain, stopped and running: what each
 * says, and that the definition changes in its <emulator> and spicevmc's record of the one
 * it replaced, nothing else, and back exactly as it was. */
static void
enable_disable(Fixture *f, const char *arg)
{
    g_autofree char *before = inactive(f);
    g_autofree char *enabled = NULL, *expected = NULL, *record = NULL, *after = NULL;
    g_autoptr(json_object) list = NULL;
    g_auto(Run) live = { NULL };
    g_auto(Run) missing = { NULL };

    assert_says(f, "enable", emulator, "DOMAIN uses WRAPPER\n");
    enabled = inactive(f);
    expected = with_emulator(before, QEMU_BINARY, emulator);
    after = without_metadata(enabled);
    g_assert_cmpstr(after, ==, expected);
    record = virsh_metadata(f, EMULATOR_NS, TRUE);
    g_assert_cmpstr(record, ==, "<emulator path=\"" QEMU_BINARY "\"/>\n\n");
    g_free(cli_ok(f->uri, "enable", f->name, "--wrapper", emulator));   /* as virsh orders it */
    assert_says(f, "enable", emulator, "DOMAIN already uses WRAPPER\n");
    g_clear_pointer(&after, g_free);
    after = inactive(f);
    g_assert_cmpstr(after, ==, enabled);

    assert_says(f, "disable", emulator, "DOMAIN no longer uses WRAPPER\n");
    g_clear_pointer(&after, g_free);
    after = inactive(f);
    g_assert_cmpstr(after, ==, before);
    assert_says(f, "disable", emulator, "DOMAIN does not use WRAPPER\n");

    /* Running: the definition changes, for the next start. */
    assert_says(f, "enable", emulator, "DOMAIN uses WRAPPER\n");
    g_free(virsh_ok(f->uri, "start", "--paused", f->name));
    list = qemu(f, "{\"execute\":\"query-spicevmc\"}");
    g_assert_cmpuint(json_object_array_length(list), ==, 0);
    cli(&live, f->uri, f->name, "disable", "--live", "--wrapper", emulator);
    assert_one_error(&live, "a running domain keeps its emulator");
    cli(&missing, f->uri, f->name, "enable", "--wrapper", "/nonexistent/spicevmc-qemu");
    assert_one_error(&missing, "'/nonexistent/spicevmc-qemu' is not an executable");
    assert_says(f, "disable", emulator, "DOMAIN will stop using WRAPPER from its next start\n");
    g_clear_pointer(&after, g_free);
    after = inactive(f);
    g_assert_cmpstr(after, ==, before);
    assert_says(f, "enable", emulator, "DOMAIN will use WRAPPER from its next start\n");
    assert_says(f, "disable", emulator, "DOMAIN will stop using WRAPPER from its next start\n");
    assert_destroy_leaves_nothing(f);
}

/* A domain whose emulator is neither QEMU nor the wrapper is refused, and left as it was. */
static void
other_emulator(Fixture *f, const char *arg)
{
    g_autofree char *qemu_script = g_build_filename(f->dir, "other-qemu", NULL);
    g_autofree char *path = g_build_filename(f->dir, "other.xml", NULL);
    g_autofree char *original = inactive(f);
    g_autofree char *other = with_emulator(original, QEMU_BINARY, qemu_script);
    g_autofree char *refusal = g_strdup_printf("domain '%s' runs '%s', but spicevmc-qemu runs "
                                               "'%s'", f->name, qemu_script, QEMU_BINARY);
    g_autofree char *before = NULL, *after = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(Run) r = { NULL };

    g_assert_true(g_file_set_contents(qemu_script, "#!/bin/sh\nexec " QEMU_BINARY " \"$@\"\n",
                                      -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(qemu_script, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, other, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "define", path));
    before = inactive(f);
    cli(&r, f->uri, f->name, "enable", "--wrapper", emulator);
    assert_one_error(&r, refusal);
    assert_says(f, "disable", emulator, "DOMAIN does not use WRAPPER\n");
    after = inactive(f);
    g_assert_cmpstr(after, ==, before);
}

/* A transient domain has no definition to change. */
static void
transient(Fixture *f, const char *arg)
{
    g_autofree char *refusal = g_strdup_printf("domain '%s' is transient: its emulator is set "
                                               "when it is created", f->name);
    const char *commands[] = { "enable", "disable" };

    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_auto(Run) r = { NULL };

        cli(&r, f->uri, f->name, commands[i], "--wrapper", emulator);
        assert_one_error(&r, refusal);
    }
}

static char *
run_wrapper(const char *arg1, const char *arg2)
{
    const char *argv[] = { WRAPPER, arg1, arg2, NULL };
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    run_assert_ok(&r);
    return g_steal_pointer(&r.out);
}

/* Anything but a domain's start is QEMU's, untouched; --version says what runs what. */
static void
test_not_libvirt(void)
{
    g_autofree char *machines = run_wrapper("-machine", "help");
    g_autofree char *version = run_wrapper("--version", NULL);
    g_autofree char *first = g_strdup_printf("spicevmc-qemu (spicevmc) %s, running %s:\n",
                                             PACKAGE_VERSION, QEMU_BINARY);

    g_assert_true(g_str_has_prefix(machines, "Supported machines are:"));
    g_assert_true(g_str_has_prefix(version, first));
    g_assert_true(g_str_has_prefix(version + strlen(first), "QEMU emulator version "));
}

/* Their emulator is the script emulator_script() makes, set in main(). */
static Case cases[] = {
    { "/wrapper/embed/monitor-commands", FALSE, DOMAIN_RUNNING, monitor_commands },
    { "/wrapper/embed/enable-disable", FALSE, DOMAIN_DEFINED, enable_disable },
    { "/wrapper/embed/enable-other-emulator", FALSE, DOMAIN_DEFINED, other_emulator },
    { "/wrapper/system/monitor-commands", TRUE, DOMAIN_TRANSIENT, monitor_commands },
    { "/wrapper/system/enable-transient", TRUE, DOMAIN_TRANSIENT, transient },
};

int
main(int argc, char **argv)
{
    int ret;

    /* One script for the parent and its cases' children, made before any thread. */
    if (!(emulator_dir = g_strdup(g_getenv("SVC_TEST_EMULATOR_DIR")))) {
        g_autoptr(GError) error = NULL;

        emulator_dir = g_dir_make_tmp("svc-wrapper-XXXXXX", &error);
        g_assert_no_error(error);
        g_free(emulator_script(emulator_dir));
        g_setenv("SVC_TEST_EMULATOR_DIR", emulator_dir, TRUE);
    }
    emulator = g_build_filename(emulator_dir, "spicevmc-qemu", NULL);
    cases[0].emulator = cases[3].emulator = emulator;
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    g_test_add_func("/wrapper/not-libvirt", test_not_libvirt);
    ret = libvirt_cli_run();
    if (!g_test_subprocess() && ret == 0)
        testvm_remove_tree(emulator_dir);
    else if (!g_test_subprocess())
        g_printerr("# spicevmc-qemu's script and valgrind's logs: %s\n", emulator_dir);
    g_free(emulator);
    g_free(emulator_dir);
    return ret;
}
