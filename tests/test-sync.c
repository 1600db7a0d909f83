/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-sync.c — virt-spicevmc sync, once, on embedded-driver domains: what the definition
 * has goes live, what sync added leaves with it, what cannot go live is named and skipped; and
 * spicevmc-sync.service as systemd reads it. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "libvirt-cli.h"
#include "run.h"
#include "skip.h"
#include "testvm.h"

#define XML_DIR SRCDIR "/tests/xml/virt-xml"
#define SYNC_NS "urn:spicevmc:sync:1"
#define ADDED_NS "urn:spicevmc:added:1"
#define QUERY_CHARDEV "{\"execute\":\"query-chardev\"}"
#define PORT_XML "<channel type='spiceport'><source channel='%s'/>" \
                 "<target type='virtio' name='%s'/></channel>"

/* A device into the domain's persistent definition, as virsh attach-device --config puts it
 * there (without an event, as libvirt 9.0 does). */
static void
config_device(Fixture *f, const char *verb, const char *xml)
{
    static guint n;
    g_autofree char *name = g_strdup_printf("device-%u.xml", n++);
    g_autofree char *path = g_build_filename(f->dir, name, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, xml, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, verb, f->name, path, "--config"));
}

static char *
fixture_xml(const char *name)
{
    g_autofree char *path = g_build_filename(XML_DIR, name, NULL);
    g_autoptr(GError) error = NULL;
    char *xml = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    g_assert_no_error(error);
    return xml;
}

/* virt-xml's own forms, as virt-manager writes them. */
static void
config_fixture(Fixture *f, const char *verb, const char *name)
{
    g_autofree char *xml = fixture_xml(name);

    config_device(f, verb, xml);
}

static void
config_port(Fixture *f, const char *verb, const char *fqdn, const char *port_name)
{
    g_autofree char *xml = g_strdup_printf(PORT_XML, fqdn, port_name);

    config_device(f, verb, xml);
}

/* The chardevs QEMU has whose label names @spice_name (spicevmc's labels carry it). */
static guint
chardevs_named(Fixture *f, const char *spice_name)
{
    g_autoptr(json_object) chardevs = qemu(f, QUERY_CHARDEV);
    guint n = 0;

    for (size_t i = 0; i < json_object_array_length(chardevs); i++)
        n += strstr(member_str(json_object_array_get_idx(chardevs, i), "label"), spice_name) !=
             NULL;
    return n;
}

static gboolean
qemu_has_device(Fixture *f, const char *id)
{
    g_autoptr(json_object) devices = qemu(f, "{\"execute\":\"qom-list\","
                                             "\"arguments\":{\"path\":\"/machine/peripheral\"}}");

    return has_entry(devices, "name", id);
}

/* The one channel of @list of @kind that is in the definition only. */
static json_object *
config_entry(json_object *list, const char *kind)
{
    json_object *found = NULL;

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *ch = json_object_array_get_idx(list, i);

        if (g_str_equal(member_str(ch, "kind"), kind) &&
            g_str_equal(member_str(ch, "state"), "config")) {
            g_assert_null(found);
            found = ch;
        }
    }
    if (!found)
        g_assert_cmpstr(json_object_to_json_string(list), ==, kind);
    return found;
}

static guint
count_lines(const char *text, const char *fragment)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;

    for (guint i = 0; lines[i]; i++)
        n += strstr(lines[i], fragment) != NULL;
    return n;
}

/* ---- the cases --------------------------------------------------------- */

static const struct {
    const char *kind;
    const char *id;           /* what sync names it */
    gboolean libvirt;         /* libvirt hot-plugs it */
} every_kind[] = {
    { "webdav", "ua-webdav0", FALSE }, { "serial", "ua-serial0", FALSE },
    { "vdagent", "ua-vdagent0", TRUE }, { "usbredir", "ua-usbredir0", TRUE },
    { "port", "ua-port0", FALSE },
};

/* Every kind virt-manager or virsh --config puts in the definition goes live; a second sync
 * finds nothing to do. */
static void
definition_goes_live(Fixture *f, const char *arg)
{
    g_autoptr(json_object) list = NULL;
    g_autofree char *xml = NULL, *record = NULL, *added = NULL, *expected = NULL;
    g_autofree char *missing = g_strconcat(f->name, "-missing", NULL);
    g_autofree char *not_found = g_strdup_printf("cannot open domain '%s'", missing);
    g_auto(Run) bad = { NULL };
    g_auto(Run) r = { NULL };
    g_auto(Run) again = { NULL };

    config_fixture(f, "attach-device", "webdav.xml");
    config_fixture(f, "attach-device", "console.xml");
    config_fixture(f, "attach-device", "agent.xml");
    config_fixture(f, "attach-device", "redirdev.xml");
    config_port(f, "attach-device", "org.example.sync.0", "org.example.sync.0");
    g_assert_cmpuint(chardevs_named(f, "org.example.sync.0"), ==, 0);

    /* A name that is no domain, after this one: all are checked before any changes (README),
     * so this one is not synced either. */
    cli(&bad, f->uri, "sync", f->name, missing);
    assert_one_error(&bad, not_found);
    g_assert_cmpuint(chardevs_named(f, "org.example.sync.0"), ==, 0);

    cli(&r, f->uri, "sync", f->name);
    assert_ok(&r);
    g_assert_cmpuint(count_lines(r.out, "added live"), ==, G_N_ELEMENTS(every_kind));
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, G_N_ELEMENTS(every_kind));
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    record = virsh_metadata(f, SYNC_NS, FALSE);
    added = virsh_metadata(f, ADDED_NS, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++) {
        json_object *ch = find_entry(list, "kind", every_kind[i].kind);
        g_autofree char *line = g_strdup_printf("domain '%s': '%s' (", f->name,
                                                every_kind[i].id);

        assert_contains(r.out, line);
        g_assert_cmpstr(member_str(ch, "id"), ==, every_kind[i].id);
        g_assert_cmpstr(member_str(ch, "state"), ==, "ok");
        /* It stands for its device of the definition, which comes back at the next start. */
        g_assert_true(json_object_get_boolean(member(ch, "persistent")));
        g_assert_true(qemu_has_device(f, every_kind[i].id));
        g_assert_true(has_alias_in(xml, NULL, every_kind[i].id) == every_kind[i].libvirt);
        g_autofree char *entry = g_strdup_printf("<added id=\"%s\"/>", every_kind[i].id);

        assert_contains(record, entry);
        /* Not recorded as lost at the next start: libvirt brings its device back. */
        g_assert_null(strstr(added, every_kind[i].id));
    }
    g_assert_cmpuint(chardevs_named(f, "org.example.sync.0"), ==, 1);

    cli(&again, f->uri, "sync", f->name);
    assert_ok(&again);
    expected = g_strdup_printf("Domain '%s' matches its definition: %u SPICE channels live, "
                               "nothing to do\n", f->name, (guint)G_N_ELEMENTS(every_kind));
    g_assert_cmpstr(again.out, ==, expected);
}

#define LIVE_PORT "org.example.live.0"
#define DEF_PORT "org.example.def.0"

/* What sync added leaves the running domain with its device; what libvirt started with the
 * domain and what was added live by other means stay. */
static void
leaves_with_the_definition(Fixture *f, const char *arg)
{
    g_autoptr(json_object) list = NULL;
    g_autofree char *xml = NULL, *record = NULL;
    g_auto(Run) r = { NULL };

    g_free(cli_ok(f->uri, f->name, "add", "port,fqdn=" LIVE_PORT));
    config_port(f, "attach-device", DEF_PORT, DEF_PORT);
    config_fixture(f, "attach-device", "redirdev.xml");
    g_free(cli_ok(f->uri, "sync", f->name));
    g_assert_cmpuint(chardevs_named(f, DEF_PORT), ==, 1);
    g_assert_true(qemu_has_device(f, "ua-usbredir0"));

    config_port(f, "detach-device", DEF_PORT, DEF_PORT);
    config_fixture(f, "detach-device", "redirdev.xml");
    /* The agent libvirt started the domain with (from the definition, as channel0). */
    config_fixture(f, "detach-device", "agent.xml");
    cli(&r, f->uri, "sync", f->name);
    assert_ok(&r);
    g_assert_cmpuint(count_lines(r.out, "removed: it left the definition"), ==, 2);
    assert_contains(r.out, "'ua-port1' (port " DEF_PORT ") removed");
    assert_contains(r.out, "'ua-usbredir0' (usbredir) removed");

    g_assert_cmpuint(chardevs_named(f, DEF_PORT), ==, 0);
    g_assert_false(qemu_has_device(f, "ua-usbredir0"));
    g_assert_cmpuint(chardevs_named(f, LIVE_PORT), ==, 1);
    g_assert_true(qemu_has_device(f, "ua-port0"));
    g_assert_true(qemu_has_device(f, "channel0"));
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    g_assert_true(has_alias_in(xml, "channel", "channel0"));
    record = virsh_metadata(f, SYNC_NS, FALSE);
    g_assert_cmpstr(record, ==, "");
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, 2);
    g_assert_false(json_object_get_boolean(member(find_entry(list, "id", "channel0"),
                                                  "persistent")));
    g_assert_false(json_object_get_boolean(member(find_entry(list, "id", "ua-port0"),
                                                  "persistent")));
}

#define TAKEN "org.example.taken"

/* A device that cannot go live is named on one line and skipped; the rest goes live; list
 * shows the reason until a later sync makes it live. */
static void
skips_what_cannot_go_live(Fixture *f, const char *arg)
{
    g_autoptr(json_object) list = NULL;
    g_autoptr(json_object) after = NULL;
    g_auto(Run) table = { NULL };
    g_auto(Run) r = { NULL };
    g_auto(Run) again = { NULL };
    g_auto(GStrv) errors = NULL;
    json_object *port, *agent;

    g_free(cli_ok(f->uri, f->name, "add", "port,fqdn=org.example.a,port-name=" TAKEN));
    g_free(cli_ok(f->uri, f->name, "add", "vdagent"));
    config_port(f, "attach-device", "org.example.b", TAKEN);
    config_fixture(f, "attach-device", "webdav.xml");
    config_fixture(f, "attach-device", "agent.xml");

    cli(&r, f->uri, "sync", f->name);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpuint(count_lines(r.out, "added live"), ==, 1);
    assert_contains(r.out, "'ua-webdav0' (webdav org.spice-space.webdav.0) added live\n");
    errors = g_strsplit(r.err, "\n", -1);
    g_assert_cmpuint(g_strv_length(errors), ==, 3);
    g_assert_cmpstr(errors[2], ==, "");
    for (guint i = 0; i < 2; i++) {
        g_autofree char *prefix = g_strdup_printf("virt-spicevmc: error: domain '%s': cannot "
                                                  "make '", f->name);

        g_assert_true(g_str_has_prefix(errors[i], prefix));
    }
    assert_contains(r.err, "(port org.example.b) of the definition live: ");
    assert_contains(r.err, TAKEN);
    assert_contains(r.err, "(vdagent) of the definition live: ");
    /* The rest went live all the same. */
    g_assert_true(qemu_has_device(f, "ua-webdav0"));
    g_assert_cmpuint(chardevs_named(f, "org.example.b"), ==, 0);

    list = list_json(f, f->uri);
    port = find_entry(list, "spice-name", "org.example.b");
    g_assert_cmpstr(member_str(port, "state"), ==, "config");
    assert_contains(member_str(port, "reason"), TAKEN);
    agent = config_entry(list, "vdagent");
    g_assert_cmpstr(member_str(agent, "state"), ==, "config");
    assert_contains(member_str(agent, "reason"), "vdagent");
    cli(&table, f->uri, f->name, "list");
    g_assert_cmpint(table.status, ==, 0);
    assert_contains(table.out, ": in the definition but not live: ");

    /* The name freed, the next sync makes it live, and the reason goes. */
    g_free(cli_ok(f->uri, f->name, "remove", "ua-port0"));
    cli(&again, f->uri, "sync", f->name);
    g_assert_cmpint(again.status, ==, 1);
    assert_contains(again.out, "(port org.example.b) added live");
    g_assert_cmpuint(count_lines(again.err, "cannot make"), ==, 1);
    g_assert_cmpuint(chardevs_named(f, "org.example.b"), ==, 1);
    after = list_json(f, f->uri);
    port = find_entry(after, "spice-name", "org.example.b");
    g_assert_cmpstr(member_str(port, "state"), ==, "ok");
    g_assert_null(json_object_object_get(port, "reason"));
}

/* --all: every running domain with a definition. */
static void
all_domains(Fixture *f, const char *arg)
{
    g_autofree char *line = g_strdup_printf("domain '%s': 'ua-webdav0' (webdav "
                                            "org.spice-space.webdav.0) added live\n", f->name);
    g_autofree char *out = NULL;

    config_fixture(f, "attach-device", "webdav.xml");
    out = cli_ok(f->uri, "sync", "--all");
    g_assert_cmpstr(out, ==, line);
    g_assert_true(qemu_has_device(f, "ua-webdav0"));
}

/* What sync refuses, each in one line, changing nothing. */
static void
errors(Fixture *f, const char *arg)
{
    g_autofree char *missing = g_strconcat(f->name, "-missing", NULL);
    g_autofree char *not_running = g_strdup_printf("domain '%s' is not running", f->name);
    g_autofree char *not_found = g_strdup_printf("cannot open domain '%s'", missing);
    g_autofree char *before = NULL, *after = NULL;
    const struct {
        const char *args[3];
        const char *fragment;
    } cases[] = {
        { { "sync" }, "sync needs domains or --all" },
        { { "sync", "--all", f->name }, "give either domains or --all, not both" },
        { { "sync", f->name }, not_running },
        { { f->name, "sync" }, not_running },
        { { "sync", missing }, not_found },
        /* One bad name: the others are not synced either. */
        { { "sync", f->name, missing }, not_running },
        { { "sync", "--all" }, "no running domain with a persistent definition" },
    };

    config_fixture(f, "attach-device", "webdav.xml");
    before = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Run) r = { NULL };
        const char *const *a = cases[i].args;

        cli(&r, f->uri, a[0], a[1], a[2]);
        assert_one_error(&r, cases[i].fragment);
    }
    after = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    g_assert_cmpstr(after, ==, before);
}

static void
transient(Fixture *f, const char *arg)
{
    g_auto(Run) r = { NULL };

    cli(&r, f->uri, "sync", f->name);
    assert_one_error(&r, "is transient: it has no persistent definition to follow");
}

static const Case cases[] = {
    { "/sync/embed/definition-goes-live", FALSE, DOMAIN_RUNNING, definition_goes_live },
    { "/sync/embed/leaves-with-the-definition", FALSE, DOMAIN_RUNNING,
      leaves_with_the_definition, NULL, NULL,
      "    <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>"
      "</channel>\n" },
    { "/sync/embed/skips-what-cannot-go-live", FALSE, DOMAIN_RUNNING,
      skips_what_cannot_go_live },
    { "/sync/embed/all", FALSE, DOMAIN_RUNNING, all_domains },
    { "/sync/embed/errors", FALSE, DOMAIN_DEFINED, errors },
    /* An embedded driver keeps no transient domain past the process that made it. */
    { "/sync/system/errors/transient", TRUE, DOMAIN_TRANSIENT, transient },
};

/* ---- the unit ----------------------------------------------------------- */

/* systemd's own checker accepts the unit as built, its ExecStart pointed at the build tree. */
static void
test_unit_verify(void)
{
    g_autofree char *analyze = g_find_program_in_path("systemd-analyze");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL, *edited = NULL, *dir = NULL, *unit = NULL;
    g_autoptr(GRegex) exec = g_regex_new("^ExecStart=\\S+", G_REGEX_MULTILINE, 0, NULL);
    g_auto(Run) r = { NULL };

    if (!analyze) {
        skip_missing("no systemd-analyze (package systemd)");
        return;
    }
    g_assert_true(g_file_get_contents(UNITS_DIR "/spicevmc-sync.service", &text, NULL, &error));
    g_assert_no_error(error);
    /* What the README says of it: sync.conf's URI (default qemu:///system) and DOMAINS
     * (default --all), after libvirtd, restarted on failure. */
    assert_contains(text, "\nEnvironment=URI=qemu:///system\n");
    assert_contains(text, "\nEnvironment=DOMAINS=--all\n");
    assert_contains(text, "\nEnvironmentFile=-" SYSCONFDIR "/spicevmc/sync.conf\n");
    assert_contains(text, "/virt-spicevmc -c ${URI} sync --follow $DOMAINS\n");
    assert_contains(text, "\nAfter=libvirtd.service ");
    assert_contains(text, "\nRestart=on-failure\n");
    edited = g_regex_replace_literal(exec, text, -1, 0, "ExecStart=" VIRT_SPICEVMC, 0, &error);
    g_assert_no_error(error);
    dir = g_dir_make_tmp("spicevmc-units-XXXXXX", &error);
    g_assert_no_error(error);
    unit = g_build_filename(dir, "spicevmc-sync.service", NULL);
    g_assert_true(g_file_set_contents(unit, edited, -1, &error));
    g_assert_no_error(error);
    run_argv(&r, (const char *const[]){ analyze, "verify", "--man=no", unit, NULL }, NULL);
    testvm_remove_tree(dir);
    run_assert_ok(&r);
}

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    g_test_add_func("/sync/unit/verify", test_unit_verify);
    return libvirt_cli_run();
}
