/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qemu as a libvirt domain's <emulator>: spicevmc's QMP commands through virsh
 * qemu-monitor-command, while libvirt's own start, hot-plug, events and destroy keep working;
 * and virt-spicevmc enable/disable.  Every virsh on qemu:///embed is a new libvirt that
 * reconnects to the running QEMU's monitor, as libvirtd does after a restart. */
#include "config.h"

#include <string.h>

#include "libvirt-cli.h"

#define AGENT_XML "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>" \
                  "</channel>\n"
#define EMULATOR_NS "urn:spicevmc:emulator:1"
/* How long libvirt and the kernel may take to let processes go after destroy. */
#define GONE_TIMEOUT_S 30

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

static void
assert_emulator(Fixture *f, const char *path)
{
    g_autofree char *xml = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    g_autofree char *element = g_strdup_printf("<emulator>%s</emulator>", path);

    assert_contains(xml, element);
}

static void
enable_disable(Fixture *f, const char *arg)
{
    g_autofree char *enabled = g_strdup_printf("Domain '%s' uses %s\n", f->name, WRAPPER);
    g_autofree char *again = g_strdup_printf("Domain '%s' already uses %s\n", f->name, WRAPPER);
    g_autofree char *later = g_strdup_printf("Domain '%s' will stop using %s from its next "
                                             "start\n", f->name, WRAPPER);
    g_autofree char *record = NULL, *out = NULL;
    g_autoptr(json_object) list = NULL;
    g_auto(Run) live = { NULL };
    g_auto(Run) missing = { NULL };

    out = cli_ok(f->uri, f->name, "enable", "--wrapper", WRAPPER);
    g_assert_cmpstr(out, ==, enabled);
    g_clear_pointer(&out, g_free);
    out = cli_ok(f->uri, "enable", f->name, "--wrapper", WRAPPER);   /* as virsh orders it */
    g_assert_cmpstr(out, ==, again);
    assert_emulator(f, WRAPPER);
    record = virsh_metadata(f, EMULATOR_NS, TRUE);
    assert_contains(record, "path=\"" QEMU_BINARY "\"");

    g_free(virsh_ok(f->uri, "start", "--paused", f->name));
    list = qemu(f, "{\"execute\":\"query-spicevmc\"}");
    g_assert_cmpuint(json_object_array_length(list), ==, 0);

    cli(&live, f->uri, f->name, "disable", "--live", "--wrapper", WRAPPER);
    assert_one_error(&live, "a running domain keeps its emulator");
    cli(&missing, f->uri, f->name, "enable", "--wrapper", "/nonexistent/spicevmc-qemu");
    assert_one_error(&missing, "'/nonexistent/spicevmc-qemu' is not an executable");
    g_clear_pointer(&out, g_free);
    out = cli_ok(f->uri, f->name, "disable", "--wrapper", WRAPPER);
    g_assert_cmpstr(out, ==, later);
    assert_emulator(f, QEMU_BINARY);
    g_clear_pointer(&record, g_free);
    record = virsh_metadata(f, EMULATOR_NS, TRUE);
    g_assert_cmpstr(record, ==, "");
    assert_destroy_leaves_nothing(f);
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

static const Case cases[] = {
    { "/wrapper/embed/monitor-commands", FALSE, DOMAIN_RUNNING, monitor_commands, NULL,
      WRAPPER },
    { "/wrapper/embed/enable-disable", FALSE, DOMAIN_DEFINED, enable_disable },
    { "/wrapper/system/monitor-commands", TRUE, DOMAIN_TRANSIENT, monitor_commands, NULL,
      WRAPPER },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    g_test_add_func("/wrapper/not-libvirt", test_not_libvirt);
    return libvirt_cli_run();
}
