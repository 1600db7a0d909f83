/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt device XML: the schema, the fixtures, the real producers (virt-xml), and the round
 * trip list --xml → detach → attach against a real QEMU. */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "channels-common.h"

#define XML_DIR SRCDIR "/tests/xml"
#define SCHEMA SRCDIR "/schemas/spicevmc-channel.rng"

/* ---- running programs ------------------------------------------------- */

/* Run @argv; its exit status, with stdout in @out when not NULL. */
static int
run(const char *const *argv, char **out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    int status;

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err, &status,
                 &error);
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

/* ---- fixtures --------------------------------------------------------- */

static const struct {
    const char *file;
    const char *kinds;        /* the kinds of the specs, in order */
} valid[] = {
    { "stock-agent.xml", "vdagent" },
    { "stock-spiceport.xml", "webdav" },
    { "stock-redirdev.xml", "usbredir" },
    { "stock-smartcard.xml", "smartcard" },
    { "named.xml", "serial serial stream port usbredir" },
    { "empty.xml", "" },
};

static void
test_valid(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *path = g_build_filename(XML_DIR, valid[i].file, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = parse_file(path, &error);
    g_autoptr(GString) kinds = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint j = 0; j < specs->len; j++) {
        SvcSpec *spec = specs->pdata[j];

        g_string_append_printf(kinds, "%s%s", j ? " " : "", spec->kind->name);
        g_assert_true(g_str_has_prefix(spec->origin, path));
    }
    g_assert_cmpstr(kinds->str, ==, valid[i].kinds);
    g_assert_true(xmllint_accepts(path));
}

static void
test_valid_details(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) port = parse_file(XML_DIR "/stock-spiceport.xml", &error);
    g_autoptr(GPtrArray) named = parse_file(XML_DIR "/named.xml", &error);
    SvcSpec *webdav = port->pdata[0];
    SvcSpec *console = named->pdata[1];
    SvcSpec *term = named->pdata[3];

    g_assert_cmpstr(webdav->id, ==, "ua-webdav");
    g_assert_cmpint(webdav->controller, ==, 0);
    g_assert_cmpuint(webdav->nr, ==, 7);
    g_assert_cmpstr(webdav->origin, ==, XML_DIR "/stock-spiceport.xml:1");
    g_assert_cmpstr(console->port_name, ==, "com.example.console.1");
    g_assert_cmpstr(console->origin, ==, XML_DIR "/named.xml:4");
    g_assert_cmpstr(term->fqdn, ==, "org.example.term.0");
    g_assert_cmpuint(term->nr, ==, 12);
}

static const struct {
    const char *file;
    const char *expect;       /* in the one-line error: file, line and reason */
    gboolean schema_rejects;  /* xmllint --relaxng refuses it too */
} invalid[] = {
    { "wrong-type.xml", "wrong-type.xml:1: <channel type='pty'>", TRUE },
    { "missing-name.xml", "missing-name.xml:1: <channel type='spiceport'>", TRUE },
    { "bad-fqdn.xml", "bad-fqdn.xml:1: <channel type='spiceport'>", TRUE },
    { "bad-name.xml", "bad-name.xml:2: <channel type='spicevmc' name='has space'>", TRUE },
    { "alias-without-ua.xml", "alias-without-ua.xml:2: <alias name='usb1'>", TRUE },
    { "unknown-attribute.xml", "Invalid attribute color for element redirdev", TRUE },
    { "unknown-element.xml", "unknown-element.xml:2: <smartcard mode='passthrough' "
                             "type='spicevmc'>: Element smartcard has extra content: foo", TRUE },
    { "agent-other-name.xml", "agent-other-name.xml:2: <target type='virtio' "
                              "name='com.example.other'>", TRUE },
    { "port-zero.xml", "port-zero.xml:2: <address type='virtio-serial'", TRUE },
    { "not-a-device.xml", "not-a-device.xml:1: <domain type='kvm'>", TRUE },
    { "not-well-formed.xml", "not-well-formed.xml:2: Premature end of data", TRUE },
    /* Valid for the grammar; the core says why not. */
    { "target-on-usbredir.xml", "target-on-usbredir.xml:1: option 'port-name' does not apply "
                                "to a usbredir channel", FALSE },
    /* What a hostile file tries: nothing is fetched, nothing expanded. */
    { "xxe.xml", "xxe.xml:5: Attribute references external entity 'secret'", TRUE },
    { "billion-laughs.xml", "billion-laughs.xml:14:", TRUE },
    { "external-dtd.xml", "external-dtd.xml:2: a DOCTYPE is not allowed", FALSE },
};

static void
test_invalid(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *path = g_build_filename(XML_DIR, "bad", invalid[i].file, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = parse_file(path, &error);

    g_assert_null(specs);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    if (!strstr(error->message, invalid[i].expect))
        g_error("'%s' does not say '%s'", error->message, invalid[i].expect);
    g_assert_null(strchr(error->message, '\n'));
    if (invalid[i].schema_rejects)
        g_assert_false(xmllint_accepts(path));
}

static void
test_oversized(void)
{
    g_autoptr(GString) big = g_string_new("<devices>");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) specs = NULL;

    while (big->len <= SVC_XML_MAX_SIZE)
        g_string_append(big, "<channel type='spicevmc' name='serial'/>\n");
    g_string_append(big, "</devices>");
    specs = svc_xml_parse_specs(big->str, big->len, "big.xml", &error);
    g_assert_null(specs);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "too large"));
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

static gboolean
have_virt_xml(void)
{
    g_autofree char *path = g_find_program_in_path("virt-xml");

    if (!path)
        g_test_skip("virt-xml (Debian's virtinst) is not installed");
    return path != NULL;
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

/* The SPICE devices virt-manager's own tool writes, and what each becomes in QEMU. */
static const struct {
    const char *kind, *option, *value, *driver;
} producers[] = {
    { "vdagent", "--channel", "spicevmc", "virtserialport" },
    { "webdav", "--channel", "spiceport,source.channel=org.spice-space.webdav.0,"
                             "target.name=org.spice-space.webdav.0", "virtserialport" },
    { "usbredir", "--redirdev", "usb,type=spicevmc", "usb-redir" },
    { "smartcard", "--smartcard", "passthrough,type=spicevmc", "ccid-card-passthru" },
};

/* What virt-xml writes for each SPICE device goes straight in, and is our stock form for the
 * same kind. */
static void
test_virt_xml(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) batch = g_string_new("<devices>\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;

    if (!have_virt_xml())
        return;
    for (guint i = 0; i < G_N_ELEMENTS(producers); i++) {
        g_autofree char *theirs = virt_xml(producers[i].option, producers[i].value);
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
    xml = svc_xml_list(f->svc, &error);
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
    g_test_add("/xml/attach/virt-xml", Fixture, NULL, setup, test_virt_xml, teardown);
    g_test_add("/xml/round-trip", Fixture, NULL, setup, test_round_trip, teardown);
    g_test_add("/xml/detach/refused", Fixture, NULL, setup, test_detach_refused, teardown);
    g_test_add("/xml/detach/picks", Fixture, NULL, setup, test_detach_picks, teardown);
    return g_test_run();
}
