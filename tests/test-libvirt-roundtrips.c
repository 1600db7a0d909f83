/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-libvirt-roundtrips.c — the round trips a libvirt user makes: what virt-xml,
 * virt-manager and virsh dumpxml write goes into virt-spicevmc and out again, live and
 * --config, and virt-spicevmc's own XML goes into virsh; nothing reports success without
 * doing it. */
#include "config.h"

#include <string.h>

#include "libvirt-cli.h"
#include "libvirt-views.h"

#define XML_DIR SRCDIR "/tests/xml"
#define RESTORE_NS "urn:spicevmc:1"
#define QUERY_CHARDEV "{\"execute\":\"query-chardev\"}"

/* The domain's devices as virt-xml 4.1 writes them (tests/xml/virt-xml), in its definition. */
#define VIRT_XML_DEVICES                                                                        \
    "    <channel type=\"spicevmc\">\n"                                                         \
    "      <target type=\"virtio\" name=\"com.redhat.spice.0\"/>\n"                             \
    "    </channel>\n"                                                                          \
    "    <channel type=\"spiceport\">\n"                                                        \
    "      <source channel=\"org.spice-space.webdav.0\"/>\n"                                    \
    "      <target type=\"virtio\" name=\"org.spice-space.webdav.0\"/>\n"                       \
    "    </channel>\n"                                                                          \
    "    <console type=\"spiceport\">\n"                                                       \
    "      <source channel=\"org.qemu.console.serial.0\"/>\n"                                   \
    "      <target type=\"virtio\"/>\n"                                                          \
    "    </console>\n"                                                                          \
    "    <redirdev bus=\"usb\" type=\"spicevmc\"/>\n"                                           \
    "    <smartcard mode=\"passthrough\" type=\"spicevmc\"/>\n"

static char *
fixture(const char *name)
{
    return g_build_filename(XML_DIR, name, NULL);
}

static char *
write_in(Fixture *f, const char *name, const char *text)
{
    char *path = g_build_filename(f->dir, name, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, text, -1, &error));
    g_assert_no_error(error);
    return path;
}

static char *
inactive(Fixture *f)
{
    return virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
}

/* The SPICE devices of libvirt's domain XML, each as virsh wrote it, its indentation taken
 * off: the form a user copies from virsh dumpxml. */
static GPtrArray *
spice_elements(const char *xml)
{
    g_autoptr(GRegex) re = g_regex_new("\\n( +)<(channel|console|redirdev|smartcard) "
                                       "[^>]*type='(spicevmc|spiceport)'.*?\\n\\1</\\2>",
                                       G_REGEX_DOTALL, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_regex_match(re, xml, 0, &match);
    while (g_match_info_matches(match)) {
        g_autofree char *element = g_match_info_fetch(match, 0);
        g_autofree char *indent = g_match_info_fetch(match, 1);
        g_auto(GStrv) lines = g_strsplit(element + 1, "\n", -1);
        GString *text = g_string_new(NULL);

        for (guint i = 0; lines[i]; i++)
            g_string_append_printf(text, "%s\n", lines[i] + strlen(indent));
        g_ptr_array_add(out, g_string_free(text, FALSE));
        g_match_info_next(match, NULL);
    }
    return out;
}

static guint
count_spice(const char *xml)
{
    g_autoptr(GPtrArray) found = spice_elements(xml);

    return found->len;
}

static const char *
ids_of(json_object *list, GString *out)
{
    for (size_t i = 0; i < json_object_array_length(list); i++)
        g_string_append_printf(out, "%s%s", i ? " " : "",
                               member_str(json_object_array_get_idx(list, i), "id"));
    return out->str;
}

/* ---- the persistent definition ---------------------------------------------- */

/* What virt-manager and virsh attach-device --config put in a definition carries no alias:
 * listed under the alias libvirt will give it at start, it is detached by the same XML, or
 * removed by that id, or by --all; a request that matches nothing is an error. */
static void
config_alias_less(Fixture *f, const char *arg)
{
    const char *forms[] = { "agent", "webdav", "console", "redirdev" };
    g_autofree char *redirdev = fixture("virt-xml/redirdev.xml");
    g_autofree char *agent = fixture("virt-xml/agent.xml");
    g_autofree char *expect = NULL;
    g_autofree char *out = NULL, *xml = NULL;
    g_autoptr(json_object) list = NULL;
    g_autoptr(GString) ids = g_string_new(NULL);
    g_auto(Run) again = { NULL };

    for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
        g_autofree char *name = g_strdup_printf("virt-xml/%s.xml", forms[i]);
        g_autofree char *path = fixture(name);

        g_free(virsh_ok(f->uri, "attach-device", f->name, path, "--config"));
    }
    list = list_json(f, f->uri);
    g_assert_cmpstr(ids_of(list, ids), ==, "console0 channel0 channel1 redir0");

    out = cli_ok(f->uri, f->name, "detach", redirdev, "--config");
    g_assert_cmpstr(out, ==, "Channel 'redir0' removed from the persistent definition\n");
    xml = inactive(f);
    g_assert_null(strstr(xml, "<redirdev"));
    cli(&again, f->uri, f->name, "detach", redirdev, "--config");
    expect = g_strdup_printf("cannot remove the usbredir channel of %s:1: domain '%s' has no "
                             "such channel in its persistent definition", redirdev, f->name);
    assert_one_error(&again, expect);

    g_free(out);
    out = cli_ok(f->uri, f->name, "detach", agent, arg);
    g_assert_cmpstr(out, ==, "Channel 'channel0' removed from the persistent definition\n");
    g_free(out);
    out = cli_ok(f->uri, f->name, "remove", "console0", arg);
    g_assert_cmpstr(out, ==, "Channel 'console0' removed from the persistent definition\n");
    g_free(out);
    /* The webdav channel was the second <channel>: libvirt will call it channel1 (and the
     * definition says so until it changes). */
    out = cli_ok(f->uri, f->name, "remove", "--all", arg);
    g_assert_cmpstr(out, ==, "Channel 'channel0' removed from the persistent definition\n");
    g_free(xml);
    xml = inactive(f);
    g_assert_cmpuint(count_spice(xml), ==, 0);
    json_object_put(g_steal_pointer(&list));
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, 0);
}

/* remove --all on a running domain takes what runs, and leaves what is only in the
 * definition: it is another scope. */
static void
remove_all_live(Fixture *f, const char *arg)
{
    g_autofree char *out = NULL, *xml = NULL;
    g_autoptr(json_object) list = NULL, chardevs = NULL;
    json_object *webdav;

    g_free(cli_ok(f->uri, f->name, "add", "--config", "webdav"));
    g_free(cli_ok(f->uri, f->name, "add", "vdagent", "serial"));
    out = cli_ok(f->uri, f->name, "remove", "--all");
    g_assert_cmpstr(out, ==, "Channel 'ua-serial0' removed\nChannel 'ua-vdagent0' removed\n");
    chardevs = qemu(f, QUERY_CHARDEV);
    g_assert_cmpuint(count_prefixed(chardevs, "label", "svc_"), ==, 0);
    g_assert_cmpuint(count_prefixed(chardevs, "label", "charua-"), ==, 0);
    xml = inactive(f);
    g_assert_true(has_alias_in(xml, "channel", "ua-webdav0"));
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, 1);
    webdav = find_entry(list, "id", "ua-webdav0");
    g_assert_cmpstr(member_str(webdav, "state"), ==, "config");
}

/* libvirt's own serial console form goes in and out, live (through passthrough: libvirt does
 * not hot-plug it) and --config (libvirt keeps it). */
static void
console_both_ways(Fixture *f, const char *arg)
{
    g_autofree char *console = fixture("virt-xml/console.xml");
    g_autofree char *out = NULL, *xml = NULL;
    g_autoptr(json_object) list = NULL, chardevs = NULL;
    json_object *ch;

    out = cli_ok(f->uri, f->name, "attach", console, "--config");
    g_assert_cmpstr(out, ==, "Channel 'ua-serial0' added to the persistent definition: serial "
                             "'org.qemu.console.serial.0'\n");
    xml = inactive(f);
    g_assert_true(g_regex_match_simple("<console type='spiceport'>\\s*<source channel='org.qemu."
                                       "console.serial.0'/>\\s*<target type='virtio' port='0'/>"
                                       "\\s*<alias name='ua-serial0'/>", xml, 0, 0));
    g_free(out);
    out = cli_ok(f->uri, f->name, "attach", console);
    g_assert_true(g_str_has_prefix(out, "Channel 'ua-serial1' added: serial "
                                        "'org.qemu.console.serial.0', virtconsole on "));
    list = list_json(f, f->uri);
    ch = find_entry(list, "id", "ua-serial1");
    g_assert_cmpstr(member_str(ch, "spice-name"), ==, "org.qemu.console.serial.0");
    g_assert_cmpstr(member_str(ch, "frontend"), ==, "virtconsole");
    chardevs = qemu(f, QUERY_CHARDEV);
    g_assert_true(has_entry(chardevs, "label", member_str(ch, "chardev")));

    g_free(out);
    out = cli_ok(f->uri, f->name, "detach", console);
    g_assert_cmpstr(out, ==, "Channel 'ua-serial1' removed\n");
    g_free(out);
    out = cli_ok(f->uri, f->name, "detach", console, "--config");
    g_assert_cmpstr(out, ==, "Channel 'ua-serial0' removed from the persistent definition\n");
    g_free(xml);
    xml = inactive(f);
    g_assert_cmpuint(count_spice(xml), ==, 0);
    json_object_put(g_steal_pointer(&chardevs));
    chardevs = qemu(f, QUERY_CHARDEV);
    g_assert_cmpuint(count_prefixed(chardevs, "label", "svc_"), ==, 0);
}

/* ---- what virsh dumpxml shows ------------------------------------------------ */

static char *
alias_of(const char *element)
{
    g_autoptr(GRegex) re = g_regex_new("<alias name='([^']+)'/>", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;

    g_assert_true(g_regex_match(re, element, 0, &match));
    return g_match_info_fetch(match, 1);
}

static const char *const dumped[] = { "smartcard", "console", "agent", "webdav", "redirdev" };

/* A domain defined with the virt-xml forms: virsh dumpxml shows them as the fixtures say, with
 * libvirt's aliases and addresses; each element copied from it detaches the device of its
 * alias (the smartcard from the definition only: libvirt cannot detach one live), and a serial
 * console added next to libvirt's takes the next SPICE name. */
static void
dumpxml_forms(Fixture *f, const char *arg)
{
    g_autofree char *live = virsh_ok(f->uri, "dumpxml", f->name);
    g_autoptr(GPtrArray) elements = spice_elements(live);
    g_autoptr(json_object) list = NULL;
    g_autofree char *out = NULL, *xml = NULL, *card = NULL;
    g_auto(Run) refused = { NULL };
    g_auto(Run) refused_batch = { NULL };
    g_autofree char *batch = NULL, *batch_path = NULL;
    g_auto(Views) before = { 0 };
    g_auto(Views) after = { 0 };
    json_object *serial;

    g_assert_cmpuint(elements->len, ==, G_N_ELEMENTS(dumped));
    for (guint i = 0; i < elements->len; i++) {
        g_autofree char *name = g_strdup_printf("dumpxml/%s.xml", dumped[i]);
        g_autofree char *path = fixture(name);
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(elements->pdata[i], ==, text);
    }

    /* The smartcard in a batch with another device: refused before anything changes. */
    batch = g_strdup_printf("<devices>\n%s%s</devices>\n", (char *)elements->pdata[1],
                            (char *)elements->pdata[0]);
    batch_path = write_in(f, "batch.xml", batch);
    views_load(&before, f);
    cli(&refused_batch, f->uri, f->name, "detach", batch_path);
    assert_one_error(&refused_batch, "cannot remove 'smartcard0' from the running domain: "
                                     "libvirt cannot detach a smartcard live");
    views_load(&after, f);
    views_assert_same(&before, &after);

    out = cli_ok(f->uri, f->name, "add", "serial");
    g_assert_true(g_str_has_prefix(out, "Channel 'ua-serial0' added: serial "
                                        "'org.qemu.console.serial.1', "));
    list = list_json(f, f->uri);
    serial = find_entry(list, "id", "ua-serial0");
    g_assert_cmpstr(member_str(serial, "spice-name"), ==, "org.qemu.console.serial.1");
    g_free(cli_ok(f->uri, f->name, "remove", "ua-serial0"));

    /* webdav (channel1) before the agent (channel0): the alias, not the order, picks. */
    for (guint i = G_N_ELEMENTS(dumped); i-- > 1;) {
        g_autofree char *name = g_strdup_printf("%s.xml", dumped[i]);
        g_autofree char *path = write_in(f, name, elements->pdata[i]);
        g_autofree char *alias = alias_of(elements->pdata[i]);
        g_autofree char *line = g_strdup_printf("Channel '%s' removed\n", alias);
        g_autofree char *label = g_strconcat("char", alias, NULL);
        g_autoptr(json_object) now = NULL;

        g_free(out);
        out = cli_ok(f->uri, f->name, "detach", path);
        g_assert_cmpstr(out, ==, line);
        now = qemu(f, QUERY_CHARDEV);
        g_assert_false(has_entry(now, "label", label));
        if (g_str_equal(alias, "channel1"))
            g_assert_true(has_entry(now, "label", "charchannel0"));
    }
    card = write_in(f, "smartcard.xml", elements->pdata[0]);
    cli(&refused, f->uri, f->name, "detach", card);
    assert_one_error(&refused, "cannot remove 'smartcard0' from the running domain: libvirt "
                               "cannot detach a smartcard live");
    g_free(out);
    out = cli_ok(f->uri, f->name, "detach", card, "--config");
    g_assert_cmpstr(out, ==, "Channel 'smartcard0' removed from the persistent definition\n");
    /* Detached live, the others stay in the definition. */
    xml = inactive(f);
    g_assert_cmpuint(count_spice(xml), ==, G_N_ELEMENTS(dumped) - 1);
    g_assert_null(strstr(xml, "<smartcard"));
    g_free(live);
    live = virsh_ok(f->uri, "dumpxml", f->name);
    g_assert_cmpuint(count_spice(live), ==, 1);
}

/* ---- virt-spicevmc's XML into virsh ------------------------------------------ */

/* xml KIND prints what virsh attach-device --config takes, for every kind libvirt keeps;
 * list ID --xml of a running domain gives one channel the same way. */
static void
xml_into_virsh(Fixture *f, const char *arg)
{
    const char *kinds[] = { "vdagent", "webdav", "serial", "usbredir", "stream",
                            "port,fqdn=org.example.p" };
    g_autofree char *xml = NULL, *one = NULL, *path = NULL;
    g_autoptr(json_object) list = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autofree char *text = cli_ok(NULL, "xml", kinds[i]);
        g_autofree char *name = g_strdup_printf("kind%u.xml", i);
        g_autofree char *file = write_in(f, name, text);

        g_free(virsh_ok(f->uri, "attach-device", f->name, file, "--config"));
    }
    xml = inactive(f);
    g_assert_cmpuint(count_spice(xml), ==, G_N_ELEMENTS(kinds));
    g_assert_true(g_regex_match_simple("<console type='spiceport'>\\s*<source channel='org.qemu."
                                       "console.serial.0'/>\\s*<target type='virtio'", xml, 0, 0));

    /* Passthrough channels of a running domain, into its definition through virsh. */
    g_free(virsh_ok(f->uri, "start", "--paused", f->name));
    g_free(cli_ok(f->uri, f->name, "add", "port,fqdn=org.example.q"));
    one = list_xml(f, "ua-port0", TRUE);
    g_assert_true(g_str_has_prefix(one, "<channel type=\"spiceport\">"));
    path = write_in(f, "one.xml", one);
    g_free(virsh_ok(f->uri, "attach-device", f->name, path, "--config"));
    list = list_json(f, f->uri);
    g_assert_true(json_object_get_boolean(member(find_entry(list, "id", "ua-port0"),
                                                 "persistent")));
}

/* ---- naming the domain, and the driver ---------------------------------------- */

/* As virsh: an id, a UUID or a name. */
static void
domain_by_id_or_uuid(Fixture *f, const char *arg)
{
    g_autofree char *id = virsh_ok(f->uri, "domid", f->name);
    g_autofree char *uuid = virsh_ok(f->uri, "domuuid", f->name);
    g_auto(Run) by_name = { NULL };
    g_auto(Run) by_id = { NULL };
    g_auto(Run) by_uuid = { NULL };
    g_autofree char *out = NULL;

    g_strstrip(id);
    g_strstrip(uuid);
    out = cli_ok(f->uri, id, "add", "webdav");
    g_assert_true(g_str_has_prefix(out, "Channel 'ua-webdav0' added"));
    /* The passthrough warning goes to stderr, even with -q. */
    cli(&by_name, f->uri, "-q", f->name, "list", "ua-webdav0");
    cli(&by_id, f->uri, "-q", id, "list", "ua-webdav0");
    cli(&by_uuid, f->uri, "-q", uuid, "list", "ua-webdav0");
    g_assert_true(g_str_has_prefix(by_name.out, " ua-webdav0 "));
    assert_contains(by_name.err, "warning: channels managed by spicevmc go through QMP");
    g_assert_null(strstr(by_name.out, "passthrough"));
    g_assert_cmpstr(by_id.out, ==, by_name.out);
    g_assert_cmpstr(by_uuid.out, ==, by_name.out);
    g_free(out);
    out = cli_ok(f->uri, uuid, "remove", "ua-webdav0");
    g_assert_cmpstr(out, ==, "Channel 'ua-webdav0' removed\n");
}

/* A driver without QEMU passthrough is refused with a sentence that says so, not libvirt's
 * "no error". */
static void
other_driver(Fixture *f, const char *arg)
{
    g_auto(Run) r = { NULL };

    cli(&r, "test:///default", "test", "list");
    assert_one_error(&r, "libvirt's TEST driver at 'test:///default' cannot pass QMP commands "
                         "to QEMU: spicevmc needs a domain of the QEMU driver");
}

/* ---- what else a change touches ----------------------------------------------- */

/* The record of what to restore follows every change, in the running domain's copy too, and
 * sits in dumpxml indented like the rest. */
static void
metadata_follows(Fixture *f, const char *arg)
{
    g_autofree char *live = NULL, *config = NULL, *xml = NULL;

    g_free(cli_ok(f->uri, f->name, "add", "--persistent", "smartcard", "webdav"));
    live = virsh_metadata(f, RESTORE_NS, FALSE);
    config = virsh_metadata(f, RESTORE_NS, TRUE);
    g_assert_true(has_alias_in(live, "smartcard", "ua-smartcard0"));
    g_assert_cmpstr(live, ==, config);
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    /* In whichever order they were written. */
    assert_contains(xml, "\n  <metadata>\n    <spicevmc");
    assert_contains(xml, "\n    <spicevmc-added:devices "
                         "xmlns:spicevmc-added=\"urn:spicevmc:added:1\">\n      <spicevmc-added:");
    assert_contains(xml, "\n    <spicevmc:devices xmlns:spicevmc=\"urn:spicevmc:1\">\n"
                         "      <spicevmc:smartcard mode=\"passthrough\" type=\"spicevmc\">\n"
                         "        <spicevmc:alias name=\"ua-smartcard0\"/>\n");
    g_free(cli_ok(f->uri, f->name, "remove", "--all", "--persistent"));
    g_free(live);
    g_free(config);
    live = virsh_metadata(f, RESTORE_NS, FALSE);
    config = virsh_metadata(f, RESTORE_NS, TRUE);
    g_assert_cmpstr(live, ==, "");
    g_assert_cmpstr(config, ==, "");
}

/* --current is live when running, else the definition; --dry-run changes nothing and says
 * what libvirt and QMP would be asked. */
static void
current_and_dry_run(Fixture *f, const char *arg)
{
    g_autofree char *before = NULL, *before_live = NULL, *after = NULL, *after_live = NULL;
    g_autofree char *plan = NULL, *out = NULL;
    g_autoptr(json_object) chardevs = NULL, chardevs_after = NULL;
    g_autoptr(json_object) added = NULL, listed = NULL, removed = NULL;

    before = inactive(f);
    before_live = virsh_ok(f->uri, "dumpxml", f->name);
    chardevs = qemu(f, QUERY_CHARDEV);
    plan = cli_ok(f->uri, f->name, "add", "--persistent", "--dry-run", "webdav", "vdagent",
                  "smartcard");
    assert_contains(plan, "\n# QMP through libvirt (virsh qemu-monitor-command): ua-webdav0, "
                          "ua-smartcard0\n-> { \"execute\": ");
    assert_contains(plan, "\n# libvirt attach-device --live: ua-vdagent0\n");
    assert_contains(plan, "\n# libvirt attach-device --config: ua-webdav0, ua-vdagent0\n");
    assert_contains(plan, "\n# spicevmc metadata urn:spicevmc:1 --config: ua-smartcard0\n");
    after = inactive(f);
    after_live = virsh_ok(f->uri, "dumpxml", f->name);
    chardevs_after = qemu(f, QUERY_CHARDEV);
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpstr(after_live, ==, before_live);
    g_assert_cmpstr(json_object_to_json_string(chardevs_after), ==,
                    json_object_to_json_string(chardevs));

    /* add --json and remove --json print the objects list --json prints. */
    out = cli_ok(f->uri, f->name, "add", "--current", "webdav", "--json");
    added = parse_json(out);
    listed = list_json(f, f->uri);
    g_assert_cmpstr(json_object_to_json_string(added), ==, json_object_to_json_string(listed));
    g_free(out);
    out = cli_ok(f->uri, f->name, "remove", "--current", "--all", "--json");
    removed = parse_json(out);
    g_assert_cmpstr(json_object_to_json_string(removed), ==, json_object_to_json_string(listed));
    g_free(virsh_ok(f->uri, "destroy", f->name));
    g_free(out);
    out = cli_ok(f->uri, f->name, "add", "--current", "webdav");
    g_assert_cmpstr(out, ==, "Channel 'ua-webdav0' added to the persistent definition: webdav "
                             "'org.spice-space.webdav.0'\n");
}

static const Case cases[] = {
    { "/libvirt-roundtrips/embed/config-alias-less", FALSE, DOMAIN_DEFINED, config_alias_less,
      "--config" },
    { "/libvirt-roundtrips/embed/remove-all-live", FALSE, DOMAIN_RUNNING, remove_all_live },
    { "/libvirt-roundtrips/embed/console-both-ways", FALSE, DOMAIN_RUNNING, console_both_ways },
    { "/libvirt-roundtrips/embed/dumpxml-forms", FALSE, DOMAIN_RUNNING, dumpxml_forms, NULL,
      NULL, VIRT_XML_DEVICES },
    { "/libvirt-roundtrips/embed/other-driver", FALSE, DOMAIN_NONE, other_driver },
    { "/libvirt-roundtrips/system/config-alias-less", TRUE, DOMAIN_RUNNING, config_alias_less,
      "--persistent" },
    { "/libvirt-roundtrips/system/remove-all-live", TRUE, DOMAIN_RUNNING, remove_all_live },
    { "/libvirt-roundtrips/system/console-both-ways", TRUE, DOMAIN_RUNNING, console_both_ways },
    { "/libvirt-roundtrips/system/dumpxml-forms", TRUE, DOMAIN_RUNNING, dumpxml_forms, NULL,
      NULL, VIRT_XML_DEVICES },
    { "/libvirt-roundtrips/system/xml-into-virsh", TRUE, DOMAIN_DEFINED, xml_into_virsh },
    { "/libvirt-roundtrips/system/domain-by-id-or-uuid", TRUE, DOMAIN_RUNNING,
      domain_by_id_or_uuid },
    { "/libvirt-roundtrips/system/metadata-follows", TRUE, DOMAIN_RUNNING, metadata_follows },
    { "/libvirt-roundtrips/system/current-and-dry-run", TRUE, DOMAIN_RUNNING,
      current_and_dry_run },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    return libvirt_cli_run();
}
