/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt device XML: the schema, the fixtures, the real producers (virt-xml), and the round
 * trip list --xml → detach → attach against a real QEMU. */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "channels-common.h"
#include "skip.h"

#define XML_DIR SRCDIR "/tests/xml"
#define SCHEMA SRCDIR "/schemas/spicevmc-channel.rng"

/* ---- running programs ------------------------------------------------- */

/* Run @argv; its exit status, with stdout in @out when not NULL. */
static int
run(const char *const *argv, char **out)
{
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    if (out)
        *out = g_steal_pointer(&r.out);
    return r.status;
}

static gboolean
xmllint_accepts(const char *path)
{
    const char *argv[] = { "xmllint", "--noout", "--nonet", "--relaxng", SCHEMA, path, NULL };

    return run(argv, NULL) == 0;
}

static GPtrArray *
parse_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return svc_xml_parse_specs(data, len, path, error);
}

/* ---- fixtures ----------------------------------------------------------- */

/* What the real tools write, exactly as they wrote it: virt-xml 4.1 (virt-manager's own XML
 * builder, see producers[] below for the command lines) and virsh dumpxml of a running
 * qemu:///system domain with those devices (libvirt 9.0: its aliases, addresses and the
 * guest's state; test-libvirt-cli checks these files against a fresh dumpxml). */
static const struct {
    const char *file;
    const char *kinds;        /* the kinds of the specs, in order */
    const char *ids;          /* their ids ("-": none) */
} valid[] = {
    { "stock-agent.xml", "vdagent", "-" },
    { "stock-spiceport.xml", "webdav", "ua-webdav" },
    { "stock-redirdev.xml", "usbredir", "ua-usb1" },
    { "stock-smartcard.xml", "smartcard", "-" },
    { "named.xml", "serial serial stream port usbredir", "- ua-console1 - - -" },
    { "empty.xml", "", "" },
    { "virt-xml/agent.xml", "vdagent", "-" },
    { "virt-xml/webdav.xml", "webdav", "-" },
    { "virt-xml/console.xml", "serial", "-" },
    { "virt-xml/redirdev.xml", "usbredir", "-" },
    { "virt-xml/smartcard.xml", "smartcard", "-" },
    { "dumpxml/agent.xml", "vdagent", "channel0" },
    { "dumpxml/webdav.xml", "webdav", "channel1" },
    { "dumpxml/console.xml", "serial", "console0" },
    { "dumpxml/redirdev.xml", "usbredir", "redir0" },
    { "dumpxml/smartcard.xml", "smartcard", "smartcard0" },
};

static void
test_valid(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *path = g_build_filename(XML_DIR, valid[i].file, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = parse_file(path, &error);
    g_autoptr(GString) kinds = g_string_new(NULL);
    g_autoptr(GString) ids = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint j = 0; j < specs->len; j++) {
        SvcSpec *spec = specs->pdata[j];

        g_string_append_printf(kinds, "%s%s", j ? " " : "", spec->kind->name);
        g_string_append_printf(ids, "%s%s", j ? " " : "", spec->id ? spec->id : "-");
        g_assert_true(g_str_has_prefix(spec->origin, path));
    }
    g_assert_cmpstr(kinds->str, ==, valid[i].kinds);
    g_assert_cmpstr(ids->str, ==, valid[i].ids);
    g_assert_true(xmllint_accepts(path));
}

static SvcSpec *
parse_one(const char *file)
{
    g_autofree char *path = g_build_filename(XML_DIR, file, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = parse_file(path, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(specs->len, ==, 1);
    return g_ptr_array_steal_index(specs, 0);
}

static void
test_valid_details(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) port = parse_file(XML_DIR "/stock-spiceport.xml", &error);
    g_autoptr(GPtrArray) named = parse_file(XML_DIR "/named.xml", &error);
    g_autoptr(SvcSpec) console = parse_one("virt-xml/console.xml");
    g_autoptr(SvcSpec) dumped = parse_one("dumpxml/console.xml");
    g_autoptr(SvcSpec) agent = parse_one("dumpxml/agent.xml");
    g_autoptr(SvcSpec) redir = parse_one("dumpxml/redirdev.xml");
    SvcSpec *webdav = port->pdata[0];
    SvcSpec *extension = named->pdata[1];
    SvcSpec *term = named->pdata[3];

    g_assert_cmpstr(webdav->id, ==, "ua-webdav");
    g_assert_cmpint(webdav->controller, ==, 0);
    g_assert_cmpuint(webdav->nr, ==, 7);
    g_assert_cmpstr(webdav->origin, ==, XML_DIR "/stock-spiceport.xml:1");
    g_assert_cmpstr(extension->port_name, ==, "com.example.console.1");
    g_assert_cmpstr(extension->origin, ==, XML_DIR "/named.xml:4");
    g_assert_cmpstr(term->fqdn, ==, "org.example.term.0");
    g_assert_cmpuint(term->nr, ==, 12);
    /* A console's SPICE name is its source; libvirt's console index (port='0') is not a
     * virtio-serial port. */
    g_assert_cmpstr(console->fqdn, ==, "org.qemu.console.serial.0");
    g_assert_cmpstr(dumped->fqdn, ==, "org.qemu.console.serial.0");
    g_assert_cmpuint(dumped->nr, ==, 0);
    g_assert_cmpint(dumped->controller, ==, -1);
    g_assert_cmpuint(agent->nr, ==, 1);
    g_assert_cmpint(agent->controller, ==, 0);
    /* A USB address's port is where libvirt put the device, not a virtio-serial port. */
    g_assert_cmpint(redir->controller, ==, 0);
    g_assert_cmpuint(redir->nr, ==, 0);
}

/* Each refusal in the user's terms: which element, which attribute or child, what is allowed;
 * the whole message after the file name. */
static const struct {
    const char *file;
    const char *expect;
    gboolean schema_rejects;  /* xmllint --relaxng refuses it too */
} invalid[] = {
    { "wrong-type.xml", ":1: <channel type='pty'>: type='pty' is not allowed: expected "
                        "'spicevmc' or 'spiceport'", TRUE },
    { "missing-name.xml", ":2: <source>: attribute 'channel' is required", TRUE },
    { "bad-fqdn.xml", ":2: <source channel='org.example,a'>: channel='org.example,a' is not "
                      "allowed: expected a name such as 'org.example.term.0': dot-separated "
                      "words of letters, digits, '-' and '_', at most 127", TRUE },
    { "bad-name.xml", ":2: <channel type='spicevmc' name='has space'>: name='has space' is not "
                      "allowed: expected 'vdagent', 'usbredir', 'smartcard', 'webdav', "
                      "'serial', 'stream' or a name such as 'org.example.term.0': "
                      "dot-separated words of letters, digits, '-' and '_', at most 127", TRUE },
    { "bad-alias.xml", ":2: <alias name='usb 1'>: name='usb 1' is not allowed: expected an "
                       "alias such as 'ua-term0' or 'channel0': letters, digits, '_', '-' and "
                       "'.', at most 127", TRUE },
    { "unknown-attribute.xml", ":1: <redirdev bus='usb' type='spicevmc' color='red'>: "
                               "attribute 'color' is not allowed here (allowed: bus, type)",
      TRUE },
    { "unknown-element.xml", ":2: <smartcard mode='passthrough' type='spicevmc'>: element <foo> "
                             "is not allowed here (allowed: <alias>, <address>)", TRUE },
    { "agent-other-name.xml", ":2: <target type='virtio' name='com.example.other'>: "
                              "name='com.example.other' is not allowed: expected "
                              "'com.redhat.spice.0'", TRUE },
    { "port-zero.xml", ":2: <address type='virtio-serial' controller='0' port='0'>: port='0' "
                       "is not allowed: expected a port number from 1 to 999", TRUE },
    { "not-a-device.xml", ":1: <domain type='kvm'>: not SPICE device XML: expected <channel>, "
                          "<console>, <redirdev>, <smartcard>, <devices>", TRUE },
    { "console-without-target.xml", ":1: <console type='spiceport'>: element <target> is "
                                    "required", TRUE },
    { "not-well-formed.xml", ":2: Premature end of data in tag channel line 1", TRUE },
    /* Valid for the grammar; the core says why not. */
    { "target-on-usbredir.xml", ":1: option 'port-name' does not apply to a usbredir channel",
      FALSE },
    /* What a hostile file tries: nothing is fetched, nothing expanded. */
    { "xxe.xml", ":5: Attribute references external entity 'secret'", TRUE },
    { "billion-laughs.xml", ":14: Detected an entity reference loop", TRUE },
    { "external-dtd.xml", ":2: a DOCTYPE is not allowed in device XML", FALSE },
};

static void
test_invalid(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *path = g_build_filename(XML_DIR, "bad", invalid[i].file, NULL);
    g_autofree char *expect = g_strconcat(path, invalid[i].expect, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = parse_file(path, &error);

    g_assert_null(specs);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    if (!g_str_has_prefix(error->message, expect))
        g_error("'%s' does not start '%s'", error->message, expect);
    g_assert_null(strchr(error->message, '\n'));
    if (invalid[i].schema_rejects)
        g_assert_false(xmllint_accepts(path));
}

/* Every attribute the parser reads is compared as the grammar compares it: exactly.  Each
 * line is a valid device, and the attribute that, padded with blanks, must be refused. */
static const struct {
    const char *xml;
    const char *attr;
} strict[] = {
    { "<channel type='spiceport'><source channel='org.example.a'/><target type='virtio'/>"
      "</channel>", "type" },
    { "<channel type='spiceport'><source channel='org.example.a'/><target type='virtio'/>"
      "</channel>", "channel" },
    { "<channel type='spiceport'><source channel='org.example.a'/><target type='virtio' "
      "name='org.example.b'/></channel>", "name" },
    { "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>",
      "type" },
    { "<channel type='spicevmc' name='serial'/>", "name" },
    { "<channel type='spicevmc' name='org.example.a'/>", "name" },
    { "<console type='spiceport'><source channel='org.qemu.console.serial.1'/>"
      "<target type='virtio'/></console>", "channel" },
    { "<console type='spiceport'><source channel='org.qemu.console.serial.1'/>"
      "<target type='virtio'/></console>", "type" },
    { "<redirdev bus='usb' type='spicevmc'/>", "bus" },
    { "<redirdev bus='usb' type='spicevmc'/>", "type" },
    { "<smartcard mode='passthrough' type='spicevmc'/>", "mode" },
    { "<redirdev bus='usb' type='spicevmc'><alias name='ua-r'/></redirdev>", "name" },
    { "<channel type='spicevmc' name='serial'><address type='virtio-serial' controller='0' "
      "port='3'/></channel>", "controller" },
    { "<channel type='spicevmc' name='serial'><address type='virtio-serial' controller='0' "
      "port='3'/></channel>", "port" },
    { "<channel type='spicevmc' name='serial'><address type='virtio-serial' controller='0' "
      "port='3'/></channel>", "type" },
    { "<redirdev bus='usb' type='spicevmc'><address type='usb' bus='1'/></redirdev>", "bus" },
    { "<smartcard mode='passthrough' type='spicevmc'><address type='ccid' controller='0'/>"
      "</smartcard>", "controller" },
};

/* @xml with the first value of attribute @attr, in the element that has it last, padded. */
static char *
pad(const char *xml, const char *attr)
{
    g_autofree char *needle = g_strdup_printf(" %s='", attr);
    const char *at = g_strrstr(xml, needle);
    const char *value, *end;

    g_assert_nonnull(at);
    value = at + strlen(needle);
    end = strchr(value, '\'');
    return g_strdup_printf("%.*s %.*s %s", (int)(value - xml), xml, (int)(end - value), value,
                           end);
}

static void
test_strict(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *padded = pad(strict[i].xml, strict[i].attr);
    g_autofree char *expect = g_strdup_printf("%s='", strict[i].attr);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ok = svc_xml_parse_specs(strict[i].xml, strlen(strict[i].xml),
                                                  "t.xml", &error);
    g_autoptr(GPtrArray) refused = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(ok->len, ==, 1);
    refused = svc_xml_parse_specs(padded, strlen(padded), "t.xml", &error);
    g_assert_null(refused);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    if (!strstr(error->message, expect) || !g_str_has_suffix(error->message,
                                                              " (without the blanks)"))
        g_error("'%s' does not name %s and the blanks", error->message, strict[i].attr);
}

/* libxml2 stops at a NUL and would take what came before it for the whole file. */
static void
test_nul(void)
{
    static const char data[] = "<devices>\n<channel type='spicevmc' name='serial'/>\n\0"
                               "<channel type='spicevmc' name='webdav'/>\n</devices>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs(data, sizeof(data) - 1, "nul.xml", &error);

    g_assert_null(specs);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "nul.xml:3: a NUL byte (at byte 51): device XML is text");
}

/* The README's bound, as a number: a document of 1 MiB is read, one byte more is refused. */
static void
test_oversized(void)
{
    static const char head[] = "<devices><channel type='spicevmc' name='serial'/>";
    static const char tail[] = "</devices>";
    const gsize mib = 1024 * 1024;
    g_autoptr(GString) doc = g_string_new(head);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = NULL;
    g_autoptr(GPtrArray) refused = NULL;

    while (doc->len < mib - strlen(tail))
        g_string_append_c(doc, '\n');
    g_string_append(doc, tail);
    g_assert_cmpuint(doc->len, ==, mib);
    specs = svc_xml_parse_specs(doc->str, doc->len, "big.xml", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(specs->len, ==, 1);

    g_string_insert_c(doc, strlen(head), '\n');
    refused = svc_xml_parse_specs(doc->str, doc->len, "big.xml", &error);
    g_assert_null(refused);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "big.xml: larger than 1024 KiB, too large for device XML");
}

/* ---- against QEMU ----------------------------------------------------- */

static void
setup(Fixture *f, gconstpointer data)
{
    fixture_start(f, 0, NULL);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    fixture_stop(f);
}

static gboolean
attach_text(SvcVm *svc, const char *xml, GPtrArray **added, GError **error)
{
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs(xml, strlen(xml), "test.xml", error);

    return specs && svc_add(svc, (SvcSpec *const *)specs->pdata, specs->len, added, error);
}

static char *
virt_xml(const char *option, const char *value)
{
    const char *argv[] = { "virt-xml", "--connect", "test:///default", "--build-xml", option,
                           value, NULL };
    char *out = NULL;

    g_assert_cmpint(run(argv, &out), ==, 0);
    return out;
}

static char *
read_fixture(const char *file)
{
    g_autofree char *path = g_build_filename(XML_DIR, file, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* The SPICE devices virt-manager's own tool writes (the command line that made each fixture),
 * and what each becomes in QEMU. */
static const struct {
    const char *file, *kind, *option, *value, *driver;
} producers[] = {
    { "virt-xml/agent.xml", "vdagent", "--channel", "spicevmc", "virtserialport" },
    { "virt-xml/webdav.xml", "webdav", "--channel",
      "spiceport,source.channel=org.spice-space.webdav.0,target.name=org.spice-space.webdav.0",
      "virtserialport" },
    { "virt-xml/console.xml", "serial", "--console",
      "spiceport,source.channel=org.qemu.console.serial.0,target.type=virtio", "virtconsole" },
    { "virt-xml/redirdev.xml", "usbredir", "--redirdev", "usb,type=spicevmc", "usb-redir" },
    { "virt-xml/smartcard.xml", "smartcard", "--smartcard", "passthrough,type=spicevmc",
      "ccid-card-passthru" },
};

/* The fixtures are what virt-xml writes today, when it is installed. */
static void
test_virt_xml_fixtures(void)
{
    g_autofree char *path = g_find_program_in_path("virt-xml");

    if (!path) {
        skip_missing("no virt-xml (package virtinst)");
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(producers); i++) {
        g_autofree char *theirs = virt_xml(producers[i].option, producers[i].value);
        g_autofree char *fixture = read_fixture(producers[i].file);

        g_assert_cmpstr(theirs, ==, fixture);
    }
}

/* What virt-xml writes for each SPICE device goes straight in, and is our stock form for the
 * same kind (xml KIND prints it). */
static void
test_virt_xml(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) batch = g_string_new("<devices>\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(producers); i++) {
        g_autofree char *theirs = read_fixture(producers[i].file);
        g_autoptr(SvcSpec) spec = svc_spec_new(producers[i].kind, &error);
        g_autofree char *ours = svc_xml_for_spec(spec, &error);

        g_assert_no_error(error);
        g_string_append(batch, theirs);
        g_assert_cmpstr(g_strstrip(ours), ==, g_strstrip(theirs));
    }
    g_string_append(batch, "</devices>\n");
    g_assert_true(attach_text(f->svc, batch->str, &added, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(added->len, ==, G_N_ELEMENTS(producers));
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, G_N_ELEMENTS(producers));
    for (guint i = 0; i < added->len; i++) {
        const SvcChannel *ch = added->pdata[i];
        g_autofree char *type = device_type(f->inspect, ch->id);

        g_assert_cmpstr(ch->kind->name, ==, producers[i].kind);
        g_assert_cmpstr(type, ==, producers[i].driver);
        g_assert_true(testvm_has_chardev(f->inspect, ch->chardev));
    }
    g_assert_cmpstr(((SvcChannel *)added->pdata[1])->spice_name, ==, "org.spice-space.webdav.0");
    g_assert_cmpstr(((SvcChannel *)added->pdata[2])->spice_name, ==, "org.qemu.console.serial.0");
}

/* A console names its SPICE port: that one is added (not the lowest free), is refused when
 * taken, and detaching the form removes that console only. */
static void
test_console(Fixture *f, gconstpointer data)
{
    const char *first = "<console type='spiceport'><source channel='org.qemu.console.serial.3'/>"
                        "<target type='virtio'/></console>";
    const char *texts[] = { "serial", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) other = NULL;
    g_autoptr(GPtrArray) specs = NULL;
    g_autoptr(GPtrArray) removed = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *type = NULL;
    const SvcChannel *ch;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    g_assert_true(attach_text(f->svc, first, &added, &error));
    g_assert_no_error(error);
    ch = added->pdata[0];
    g_assert_cmpstr(ch->spice_name, ==, "org.qemu.console.serial.3");
    type = device_type(f->inspect, ch->id);
    g_assert_cmpstr(type, ==, "virtconsole");
    before = vm_snapshot(f->inspect);
    g_assert_false(attach_text(f->svc, first, &other, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE);
    g_clear_error(&error);
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
    specs = svc_xml_parse_specs(first, strlen(first), "test.xml", &error);
    g_assert_true(svc_remove_specs(f->svc, (SvcSpec *const *)specs->pdata, specs->len, &removed,
                                   &error));
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, 1);
    g_assert_cmpstr(removed->pdata[0], ==, "serial1");
    g_assert_true(testvm_has_device(f->inspect, "serial0"));
}

/* <channel type=' spiceport '> passed a grammar that compared tokens, and the parser then saw
 * no spiceport: attach added an agent, detach took the VM's agent away.  Refused now, and the
 * VM is left as it was. */
static void
test_padded_type(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "vdagent", "webdav", NULL };
    const char *xml = "<channel type=' spiceport '><source channel='org.spice-space.webdav.0'/>"
                      "<target type='virtio' name='org.spice-space.webdav.0'/></channel>";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    before = vm_snapshot(f->inspect);
    specs = svc_xml_parse_specs(xml, strlen(xml), "test.xml", &error);
    g_assert_null(specs);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "test.xml:1: <channel type=' spiceport '>: type=' "
                                        "spiceport ' is not allowed: expected 'spicevmc' or "
                                        "'spiceport' (without the blanks)");
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
    g_assert_true(testvm_has_device(f->inspect, "vdagent0"));
}

/* What list says, as comparable text. */
static char *
listing(SvcVm *svc)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) channels = svc_list(svc, &error);
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];

        g_string_append_printf(out, "%s %s %s %s %s %u\n", ch->id, ch->kind->name,
                               ch->spice_name, ch->port_name, ch->bus, ch->nr);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
test_round_trip(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "vdagent", "webdav", "serial", "serial,port-name=com.example.c1",
                            "stream", "port,fqdn=org.example.a,id=ua-term,nr=20", "usbredir",
                            "usbredir", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *after = NULL;
    g_autofree char *path = NULL;
    g_autoptr(GPtrArray) specs = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    before = listing(f->svc);
    xml = svc_xml_list(f->svc, NULL, &error);
    g_assert_no_error(error);
    path = g_build_filename(f->vm->dir, "list.xml", NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    g_assert_true(xmllint_accepts(path));

    specs = svc_xml_parse_specs(xml, strlen(xml), "list.xml", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(specs->len, ==, 8);
    svc_remove_specs(f->svc, (SvcSpec *const *)specs->pdata, specs->len, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);

    svc_add(f->svc, (SvcSpec *const *)specs->pdata, specs->len, NULL, &error);
    g_assert_no_error(error);
    after = listing(f->svc);
    g_assert_cmpstr(after, ==, before);
}

static void
test_detach_refused(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "serial", "webdav", NULL };
    const struct {
        const char *xml;
        int code;
        const char *expect;
    } cases[] = {
        { "<channel type='spicevmc' name='stream'/>", SVC_ERROR_NOT_FOUND,
          "cannot remove the stream channel of test.xml:1: the VM has no stream channel" },
        { "<devices>\n<channel type='spicevmc' name='serial'/>\n"
          "<channel type='spicevmc' name='serial'/>\n</devices>", SVC_ERROR_NOT_FOUND,
          "cannot remove the serial channel of test.xml:3: the VM has no other serial channel" },
        { "<devices>\n<channel type='spicevmc' name='webdav'/>\n"
          "<redirdev bus='usb' type='spicevmc'/>\n</devices>", SVC_ERROR_NOT_FOUND,
          "test.xml:3" },
        { "<channel type='spicevmc' name='org.example.x'/>", SVC_ERROR_NOT_FOUND,
          "no port channel" },
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    before = vm_snapshot(f->inspect);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) specs = svc_xml_parse_specs(cases[i].xml, strlen(cases[i].xml),
                                                         "test.xml", &error);
        g_autofree char *after = NULL;

        g_assert_no_error(error);
        g_assert_false(svc_remove_specs(f->svc, (SvcSpec *const *)specs->pdata, specs->len,
                                        NULL, &error));
        g_assert_error(error, SVC_ERROR, cases[i].code);
        if (!strstr(error->message, cases[i].expect))
            g_error("'%s' does not say '%s'", error->message, cases[i].expect);
        g_clear_error(&error);
        after = vm_snapshot(f->inspect);
        g_assert_cmpstr(after, ==, before);
    }
}

static void
detach_one(Fixture *f, const char *xml, const char *expect)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = svc_xml_parse_specs(xml, strlen(xml), "test.xml", &error);
    g_autoptr(GPtrArray) removed = NULL;

    svc_remove_specs(f->svc, (SvcSpec *const *)specs->pdata, specs->len, &removed, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, 1);
    g_assert_cmpstr(removed->pdata[0], ==, expect);
    g_assert_false(testvm_has_device(f->inspect, expect));
}

/* An address or a name picks the channel; without them, the first that matches goes, as with
 * virsh detach-device. */
static void
test_detach_picks(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "serial", "serial", "serial,port-name=com.example.c", NULL };
    g_autoptr(GError) error = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    detach_one(f, "<channel type='spicevmc' name='serial'>"
                  "<address type='virtio-serial' controller='0' port='2'/></channel>", "serial1");
    detach_one(f, "<channel type='spicevmc' name='serial'>"
                  "<target type='virtio' name='com.example.c'/></channel>", "serial2");
    detach_one(f, "<channel type='spicevmc' name='serial'/>", "serial0");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(valid); i++) {
        g_autofree char *path = g_strdup_printf("/xml/valid/%s", valid[i].file);

        g_test_add_data_func(path, GUINT_TO_POINTER(i), test_valid);
    }
    g_test_add_func("/xml/valid/details", test_valid_details);
    for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
        g_autofree char *path = g_strdup_printf("/xml/invalid/%s", invalid[i].file);

        g_test_add_data_func(path, GUINT_TO_POINTER(i), test_invalid);
    }
    g_test_add_func("/xml/invalid/oversized", test_oversized);
    g_test_add_func("/xml/invalid/nul", test_nul);
    for (guint i = 0; i < G_N_ELEMENTS(strict); i++) {
        g_autofree char *path = g_strdup_printf("/xml/invalid/padded/%u-%s", i, strict[i].attr);

        g_test_add_data_func(path, GUINT_TO_POINTER(i), test_strict);
    }
    g_test_add_func("/xml/virt-xml/fixtures", test_virt_xml_fixtures);
    g_test_add("/xml/attach/virt-xml", Fixture, NULL, setup, test_virt_xml, teardown);
    g_test_add("/xml/attach/console", Fixture, NULL, setup, test_console, teardown);
    g_test_add("/xml/attach/padded-type", Fixture, NULL, setup, test_padded_type, teardown);
    g_test_add("/xml/round-trip", Fixture, NULL, setup, test_round_trip, teardown);
    g_test_add("/xml/detach/refused", Fixture, NULL, setup, test_detach_refused, teardown);
    g_test_add("/xml/detach/picks", Fixture, NULL, setup, test_detach_picks, teardown);
    return g_test_run();
}
