/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virt-spicevmc command line: output, exit status, and one clear error line for bad input. */
#include "config.h"

#include <string.h>

#include "channels-common.h"

/* Run virt-spicevmc with @args (NULL-terminated), with --qmp @qmp first when not NULL, and
 * @input on its standard input. */
static void
run_cli_input(Run *r, const char *qmp, const char *const *args, const char *input)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    RunOptions o = { input };

    g_ptr_array_add(argv, (gpointer)testvm_cli_path());
    if (qmp) {
        g_ptr_array_add(argv, (gpointer)"--qmp");
        g_ptr_array_add(argv, (gpointer)qmp);
    }
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    run_argv(r, (const char *const *)argv->pdata, &o);
}

static void
run_cli(Run *r, const char *qmp, const char *const *args)
{
    run_cli_input(r, qmp, args, NULL);
}

/* Bad input: exit status 1, nothing on stdout, exactly one line on stderr saying why. */
static void
assert_fails(const char *qmp, const char *const *args, const char *fragment)
{
    g_auto(Run) r = { NULL };

    run_cli(&r, qmp, args);
    run_assert_error_line(&r, "virt-spicevmc: error: ", fragment);
}

static void
test_usage_errors(void)
{
    const struct {
        const char *args[6];
        const char *fragment;
    } cases[] = {
        { { NULL }, "a command is required" },
        { { "frobnicate", NULL }, "unknown command 'frobnicate'" },
        { { "--bogus", "list", NULL }, "--bogus" },
        { { "list", "--bogus", NULL }, "--bogus" },
        { { "list", NULL }, "--qmp PATH is required" },
        { { "add", "webdav", NULL }, "--qmp PATH is required" },
        { { "--timeout", "0", "list", NULL }, "invalid --timeout" },
        /* Below a millisecond every wait would end before it began (issue 12, item 12). */
        { { "--timeout", "0.0009", "list", NULL }, "invalid --timeout 0.0009: expected seconds, "
                                                   "from 0.001 (1 ms) to 86400 (a day)" },
        { { "--timeout", "1e-9", "list", NULL }, "invalid --timeout" },
        { { "--timeout", "nan", "list", NULL }, "invalid --timeout" },
        { { "--timeout", "-1", "list", NULL }, "invalid --timeout" },
        { { "--timeout", "86401", "list", NULL }, "invalid --timeout" },
        /* Names with control characters, escaped on the one line. */
        { { "frob\nnicate", NULL }, "unknown command 'frob\\nnicate'" },
        { { "kinds", "extra\nline", NULL }, "unexpected argument 'extra\\nline'" },
        { { "add", "bo\x1bgus", NULL }, "unknown channel kind 'bo\\x1bgus'" },
        { { "add", "serial,nr=1\r", NULL }, "invalid port number '1\\r'" },
        { { "--qmp", "/nonexistent/a\nb", "list", NULL },
          "cannot connect to QMP socket '/nonexistent/a\\nb': No such file or directory" },
        { { "attach", "/nonexistent/a\nb.xml", NULL }, "cannot read /nonexistent/a\\nb.xml" },
        { { "--timeout", "abc", "list", NULL }, "abc" },
        { { "add", NULL }, "at least one KIND" },
        { { "add", "bogus", NULL }, "unknown channel kind 'bogus'" },
        { { "add", "port", "--fqdn", "a,b", NULL }, "character ','" },
        { { "add", "port", "--fqdn", "a\"b", NULL }, "character '\"'" },
        { { "add", "port,fqdn=a\tb", NULL }, "byte 0x09" },
        { { "add", "serial", "serial", "--id", "x", NULL }, "--id applies to a single channel" },
        { { "add", "serial", "--nr", "0", NULL }, "invalid port number '0'" },
        { { "add", "usbredir", "--nr", "3", NULL }, "no virtio-serial port" },
        { { "add", "serial,bad", NULL }, "expected key=value" },
        { { "remove", NULL }, "channel ids or --all" },
        { { "remove", "x", "--all", NULL }, "not both" },
        { { "kinds", "extra", NULL }, "unexpected argument 'extra'" },
        { { "watch", NULL }, "--qmp PATH is required" },
        { { "watch", "extra\n", NULL }, "unexpected argument 'extra\\n'" },
        { { "--qmp", "x", "list", "--json", "--xml", NULL }, "--json or --xml, not both" },
        { { "xml", NULL }, "xml needs at least one KIND" },
        { { "xml", "port,fqdn=a.b,bogus=1", NULL }, "unknown option 'bogus'" },
        { { "help", "frobnicate", NULL }, "unknown command 'frobnicate'" },
        { { "help", "add", "list", NULL }, "unexpected argument 'list'" },
        { { "--qmp", "x", "kinds", NULL }, "kinds works on no VM: --qmp does not apply" },
        { { "vm1", "xml", "serial", NULL }, "xml works on no VM: drop the domain 'vm1'" },
        { { "add", "webdav", "--current", "--live", NULL }, "--current cannot go with --live" },
        { { "--qmp", "x", "add", "webdav", "--current", NULL }, "are for a libvirt domain" },
        { { "xml", "port", NULL }, "needs a SPICE port name" },
        { { "xml", "webdav", "--id", "dav", NULL }, "starting with 'ua-'" },
        { { "xml", "webdav", "--fqdn", "x.y", NULL }, "only a 'port' channel" },
        { { "attach", NULL }, "give one device XML file" },
        { { "attach", "a.xml", "b.xml", NULL }, "give one device XML file" },
        { { "attach", "/nonexistent.xml", NULL }, "cannot read /nonexistent.xml" },
        { { "detach", "/nonexistent.xml", NULL }, "cannot read /nonexistent.xml" },
        { { "enable", NULL }, "enable is for a libvirt domain: virt-spicevmc enable DOMAIN" },
        { { "--qmp", "x", "restore", NULL }, "restore is for a libvirt domain, not --qmp" },
        { { "--qmp", "x", "disable", "vm1", NULL }, "disable is for a libvirt domain, not --qmp" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        assert_fails(NULL, cases[i].args, cases[i].fragment);
}

static void
test_connect_error(void)
{
    const char *args[] = { "list", NULL };

    assert_fails("/nonexistent/qmp.sock", args, "cannot connect to QMP socket "
                                                "'/nonexistent/qmp.sock'");
}

/* An XML attribute value with a newline and a carriage return, quoted in libxml2's message, is shown
 * escaped on the one line (issue 12, item 12). */
static void
test_xml_message_one_line(void)
{
    const char *args[] = { "attach", "-", NULL };
    const char *xml = "<redirdev bus='usb' type='spicevmc' color='a&#10;b&#13;c'/>\n";
    g_auto(Run) r = { NULL };

    run_cli_input(&r, "/nonexistent/qmp.sock", args, xml);
    run_assert_error_line(&r, "virt-spicevmc: error: ", "color='a\\nb\\rc'");
}

static void
test_kinds(void)
{
    const char *args[] = { "kinds", NULL };
    const char *kinds[] = { "vdagent", "usbredir", "smartcard", "webdav", "serial", "stream",
                            "port" };
    g_auto(Run) r = { NULL };

    run_cli(&r, NULL, args);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.err, ==, "");
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autofree char *row = g_strdup_printf("\n %s ", kinds[i]);

        g_assert_nonnull(strstr(r.out, row));
    }
}

static json_object *
list_json(const char *qmp)
{
    const char *args[] = { "list", "--json", NULL };
    g_auto(Run) r = { NULL };
    json_object *list;

    run_cli(&r, qmp, args);
    g_assert_cmpint(r.status, ==, 0);
    list = json_tokener_parse(r.out);
    g_assert_true(json_object_is_type(list, json_type_array));
    return list;
}

static void
test_add_list_remove(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *add[] = { "add", "webdav", "serial", "port,fqdn=org.example.a,id=a", NULL };
    const char *one[] = { "add", "port", "--fqdn", "org.example.b", "--id", "b", "--nr", "9",
                          NULL };
    const char *list[] = { "list", NULL };
    const char *remove[] = { "remove", "--all", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_auto(Run) r4 = { NULL };
    g_autoptr(json_object) listed = NULL;
    g_autoptr(json_object) empty = NULL;
    json_object *b;

    run_cli(&r1, vm->qmp_path, add);
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_nonnull(strstr(r1.out, "Channel 'webdav0' added"));
    g_assert_nonnull(strstr(r1.out, "Channel 'serial0' added"));
    g_assert_nonnull(strstr(r1.out, "Channel 'a' added"));
    run_cli(&r2, vm->qmp_path, one);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 4);

    listed = list_json(vm->qmp_path);
    g_assert_cmpuint(json_object_array_length(listed), ==, 4);
    b = json_object_array_get_idx(listed, 1);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(b, "id")), ==, "b");
    g_assert_cmpstr(json_object_get_string(json_object_object_get(b, "kind")), ==, "port");
    g_assert_cmpstr(json_object_get_string(json_object_object_get(b, "spice-name")), ==,
                    "org.example.b");
    g_assert_cmpint(json_object_get_int(json_object_object_get(b, "nr")), ==, 9);
    g_assert_false(json_object_get_boolean(json_object_object_get(b, "inferred")));

    run_cli(&r3, vm->qmp_path, list);
    g_assert_cmpint(r3.status, ==, 0);
    g_assert_true(g_str_has_prefix(r3.out, " Id "));
    g_assert_nonnull(strstr(r3.out, "org.qemu.console.serial.0"));

    run_cli(&r4, vm->qmp_path, remove);
    g_assert_cmpint(r4.status, ==, 0);
    g_assert_nonnull(strstr(r4.out, "Channel 'b' removed"));
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
    empty = list_json(vm->qmp_path);
    g_assert_cmpuint(json_object_array_length(empty), ==, 0);
}

/* Errors the VM decides must come before any change, and say which channel. */
static void
test_refused_by_vm(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *first[] = { "add", "webdav", NULL };
    const char *again[] = { "add", "serial", "webdav", NULL };
    const char *name[] = { "add", "port", "--fqdn", "x.y", "--port-name",
                           "org.spice-space.webdav.0", NULL };
    const char *unknown[] = { "remove", "webdav0", "nope", NULL };
    const char *controller[] = { "remove", "vs0", NULL };
    const char *list[] = { "list", "webdav0", "nope", NULL };
    const char *list_xml[] = { "list", "--xml", "nope", NULL };
    g_auto(Run) r = { NULL };
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    run_cli(&r, vm->qmp_path, first);
    g_assert_cmpint(r.status, ==, 0);
    before = vm_snapshot(inspect);
    assert_fails(vm->qmp_path, again, "cannot add 'webdav': the VM already has 1 webdav channel");
    assert_fails(vm->qmp_path, name, "guest port name 'org.spice-space.webdav.0' is already "
                                     "used by device 'webdav0'");
    assert_fails(vm->qmp_path, unknown, "cannot remove 'nope'");
    assert_fails(vm->qmp_path, controller, "cannot remove 'vs0'");
    assert_fails(vm->qmp_path, list, "there is no SPICE channel 'nope'");
    assert_fails(vm->qmp_path, list_xml, "there is no SPICE channel 'nope'");
    after = vm_snapshot(inspect);
    g_assert_cmpstr(after, ==, before);
}

/* Device XML through the command line: xml prints it, attach and detach take it from stdin. */
static void
test_xml(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *xml[] = { "xml", "port", "--fqdn", "org.example.a", "--id", "ua-a", NULL };
    const char *attach[] = { "attach", "-", NULL };
    const char *list[] = { "list", "ua-a", "--xml", NULL };
    const char *detach[] = { "detach", "-", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_auto(Run) r4 = { NULL };
    g_auto(Run) r5 = { NULL };
    g_auto(Run) r6 = { NULL };

    run_cli(&r1, NULL, xml);
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_nonnull(strstr(r1.out, "<source channel=\"org.example.a\"/>"));
    g_assert_nonnull(strstr(r1.out, "<alias name=\"ua-a\"/>"));
    run_cli_input(&r2, vm->qmp_path, attach, r1.out);
    g_assert_cmpstr(r2.err, ==, "");
    g_assert_cmpstr(r2.out, ==, "Channel 'ua-a' added: port 'org.example.a', virtserialport on "
                                "vs0.0 port 1\n");
    run_cli(&r3, vm->qmp_path, list);
    g_assert_cmpint(r3.status, ==, 0);
    /* One channel is its element alone, as virsh attach-device takes it. */
    g_assert_cmpstr(r3.out, ==, "<channel type=\"spiceport\">\n"
                                "  <source channel=\"org.example.a\"/>\n"
                                "  <target type=\"virtio\" name=\"org.example.a\"/>\n"
                                "  <alias name=\"ua-a\"/>\n"
                                "  <address type=\"virtio-serial\" controller=\"0\" bus=\"0\" "
                                "port=\"1\"/>\n"
                                "</channel>\n");
    run_cli_input(&r4, vm->qmp_path, detach, r3.out);
    g_assert_cmpint(r4.status, ==, 0);
    g_assert_cmpstr(r4.out, ==, "Channel 'ua-a' removed\n");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
    /* An element copied from virsh dumpxml: libvirt's alias names the device it was there;
     * attach gives the new one a name of its own, as virsh attach-device does. */
    run_cli_input(&r6, vm->qmp_path, attach, "<channel type='spiceport'>\n"
                  "  <source channel='org.example.d'/>\n"
                  "  <target type='virtio' name='org.example.d' state='disconnected'/>\n"
                  "  <alias name='channel1'/>\n"
                  "  <address type='virtio-serial' controller='0' bus='0' port='2'/>\n"
                  "</channel>\n");
    g_assert_cmpstr(r6.err, ==, "");
    g_assert_cmpstr(r6.out, ==, "Channel 'port0' added: port 'org.example.d', virtserialport on "
                                "vs0.0 port 2\n");
    g_assert_false(testvm_has_device(inspect, "channel1"));
    run_cli_input(&r5, vm->qmp_path, attach, "<channel type='spicevmc' name='serial'>\n"
                                             "  <bogus/>\n</channel>\n");
    g_assert_cmpint(r5.status, !=, 0);
    g_assert_cmpstr(r5.err, ==, "virt-spicevmc: error: stdin:2: <channel type='spicevmc' "
                            "name='serial'>: element <bogus> is not allowed here (allowed: "
                            "<target>, <alias>, <address>)\n");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 1);
}

/* help COMMAND is read from the command table, as COMMAND --help is; "help" is a command,
 * not a domain named "help". */
static void
test_help(void)
{
    const char *help_add[] = { "help", "add", NULL };
    const char *add_help[] = { "add", "--help", NULL };
    const char *help[] = { "help", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };

    run_cli(&r1, NULL, help_add);
    g_assert_cmpstr(r1.err, ==, "");
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_nonnull(strstr(r1.out, "add KIND[,key=value]…"));
    g_assert_nonnull(strstr(r1.out, "add channels, all or none"));
    g_assert_nonnull(strstr(r1.out, "--dry-run"));
    g_assert_nonnull(strstr(r1.out, "--current"));
    g_assert_null(strstr(r1.out, "--wrapper"));
    run_cli(&r2, NULL, add_help);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_cmpstr(r2.out, ==, r1.out);
    run_cli(&r3, NULL, help);
    g_assert_cmpint(r3.status, ==, 0);
    g_assert_nonnull(strstr(r3.out, "\n  detach   FILE.xml|-"));
    g_assert_nonnull(strstr(r3.out, "-q, --quiet"));
}

/* The cell of column @header in the row of @id, in a table as list prints it. */
static char *
cell(const char *table, const char *id, const char *header)
{
    g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
    g_autofree char *row_start = g_strdup_printf(" %s ", id);
    const char *at = strstr(lines[0], header);
    gsize col;

    g_assert_nonnull(at);
    col = at - lines[0];
    for (guint i = 2; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], row_start) && strlen(lines[i]) > col)
            return g_strndup(lines[i] + col, strcspn(lines[i] + col, " "));
    }
    g_assert_cmpstr(table, ==, id);
    return NULL;
}

/* QEMU's frontend-open says whether the guest opened a virtserialport; a virtconsole's is set
 * when QEMU creates it: on a paused VM no guest opened anything.  JSON's guest-open is QEMU's
 * value for every frontend, and a channel added by hand is marked inferred: "*" after its
 * kind, explained under the table (README). */
static void
test_guest_column(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *add[] = { "add", "serial", "webdav", "usbredir", NULL };
    const char *list[] = { "list", NULL };
    const struct {
        const char *id, *kind, *guest;
        gboolean open;
    } expect[] = {
        { "serial0", "serial", "-", TRUE },
        { "webdav0", "webdav", "closed", FALSE },
        { "usbredir0", "usbredir", "-", TRUE },
        { "h0", "port*", "closed", FALSE },
    };
    g_autoptr(json_object) listed = NULL;
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };

    run_cli(&r1, vm->qmp_path, add);
    g_assert_cmpint(r1.status, ==, 0);
    testvm_add_port(inspect, "c-h0", "h0", "vs0.0", 9, "org.example.h");
    run_cli(&r2, vm->qmp_path, list);
    g_assert_cmpint(r2.status, ==, 0);
    listed = list_json(vm->qmp_path);
    g_assert_cmpuint(json_object_array_length(listed), ==, G_N_ELEMENTS(expect));
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_autofree char *kind = cell(r2.out, expect[i].id, "Kind ");
        g_autofree char *guest = cell(r2.out, expect[i].id, "Guest  ");
        json_object *ch = NULL;

        g_assert_cmpstr(kind, ==, expect[i].kind);
        g_assert_cmpstr(guest, ==, expect[i].guest);
        for (size_t j = 0; j < json_object_array_length(listed); j++) {
            json_object *e = json_object_array_get_idx(listed, j);

            if (g_strcmp0(json_object_get_string(json_object_object_get(e, "id")),
                          expect[i].id) == 0)
                ch = e;
        }
        g_assert_nonnull(ch);
        g_assert_cmpint(json_object_get_boolean(json_object_object_get(ch, "guest-open")), ==,
                        expect[i].open);
        g_assert_cmpint(json_object_get_boolean(json_object_object_get(ch, "inferred")), ==,
                        g_str_has_suffix(expect[i].kind, "*"));
    }
    g_assert_nonnull(strstr(r2.out, "\n* not added by spicevmc: kind and names inferred from "
                                    "what QEMU shows\n"));
}

/* -q: what was asked for and nothing else; the change still happens. */
static void
test_quiet(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *add[] = { "-q", "add", "webdav", "serial", NULL };
    const char *list[] = { "--quiet", "list", NULL };
    const char *remove[] = { "-q", "remove", "--all", NULL };
    g_auto(GStrv) lines = NULL;
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };

    run_cli(&r1, vm->qmp_path, add);
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_cmpstr(r1.out, ==, "");
    g_assert_cmpstr(r1.err, ==, "");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 2);
    run_cli(&r2, vm->qmp_path, list);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_true(g_str_has_prefix(r2.out, " webdav0 ") || g_str_has_prefix(r2.out, " serial0 "));
    lines = g_strsplit(r2.out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    run_cli(&r3, vm->qmp_path, remove);
    g_assert_cmpint(r3.status, ==, 0);
    g_assert_cmpstr(r3.out, ==, "");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
}

/* The entry of @arr with "id" @id, as text. */
static const char *
entry_text(json_object *arr, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *obj = json_object_array_get_idx(arr, i);

        if (g_strcmp0(json_object_get_string(json_object_object_get(obj, "id")), id) == 0)
            return json_object_to_json_string(obj);
    }
    g_assert_cmpstr(json_object_to_json_string(arr), ==, id);
    return NULL;
}

/* add --json and remove --json print the objects list --json prints; kinds --json the
 * catalogue. */
static void
test_json(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    const char *add[] = { "add", "webdav", "port,fqdn=org.example.j,id=pj", "--json", NULL };
    const char *remove[] = { "remove", "pj", "--json", NULL };
    const char *kinds[] = { "kinds", "--json", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_autoptr(json_object) added = NULL, listed = NULL, removed = NULL, catalogue = NULL;
    g_autofree char *pj = NULL;

    run_cli(&r1, vm->qmp_path, add);
    g_assert_cmpstr(r1.err, ==, "");
    added = json_tokener_parse(r1.out);
    g_assert_cmpuint(json_object_array_length(added), ==, 2);
    listed = list_json(vm->qmp_path);
    g_assert_cmpstr(entry_text(added, "pj"), ==, entry_text(listed, "pj"));
    g_assert_cmpstr(entry_text(added, "webdav0"), ==, entry_text(listed, "webdav0"));
    pj = g_strdup(entry_text(listed, "pj"));
    run_cli(&r2, vm->qmp_path, remove);
    g_assert_cmpstr(r2.err, ==, "");
    removed = json_tokener_parse(r2.out);
    g_assert_cmpuint(json_object_array_length(removed), ==, 1);
    g_assert_cmpstr(entry_text(removed, "pj"), ==, pj);
    run_cli(&r3, NULL, kinds);
    catalogue = json_tokener_parse(r3.out);
    g_assert_cmpuint(json_object_array_length(catalogue), ==, 7);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(
                        json_object_array_get_idx(catalogue, 4), "spice-name")), ==,
                    "org.qemu.console.serial.");
}

/* --dry-run (--print-xml) says what would change, with the same checks, and changes nothing:
 * add, remove, detach and attach alike. */
static void
test_dry_run(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    const char *first[] = { "add", "webdav", NULL };
    const char *add[] = { "add", "serial", "--dry-run", NULL };
    const char *again[] = { "add", "webdav", "--print-xml", NULL };
    const char *remove[] = { "remove", "webdav0", "--dry-run", NULL };
    const char *detach[] = { "detach", "-", "--print-xml", "--json", NULL };
    const char *attach[] = { "attach", "-", "--dry-run", NULL };
    g_auto(Run) r0 = { NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_auto(Run) r4 = { NULL };
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autoptr(json_object) plan = NULL;
    json_object *steps;

    run_cli(&r0, vm->qmp_path, first);
    g_assert_cmpint(r0.status, ==, 0);
    before = vm_snapshot(inspect);
    run_cli(&r1, vm->qmp_path, add);
    g_assert_cmpstr(r1.err, ==, "");
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_true(g_str_has_prefix(r1.out, "<devices>\n  <console type=\"spiceport\">\n"
                                           "    <source channel=\"org.qemu.console.serial.0\"/>"));
    g_assert_nonnull(strstr(r1.out, "\n# QMP: serial0\n-> { \"execute\": \"chardev-add\""));
    g_assert_nonnull(strstr(r1.out, "\n-> { \"execute\": \"device_add\", \"arguments\": { "
                                    "\"driver\": \"virtconsole\""));
    assert_fails(vm->qmp_path, again, "the VM already has 1 webdav channel");
    run_cli(&r2, vm->qmp_path, remove);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_nonnull(strstr(r2.out, "-> { \"execute\": \"device_del\", \"arguments\": { \"id\": "
                                    "\"webdav0\" } }\n-> { \"execute\": \"chardev-remove\""));
    run_cli_input(&r3, vm->qmp_path, detach, "<channel type='spicevmc' name='webdav'/>");
    g_assert_cmpint(r3.status, ==, 0);
    plan = json_tokener_parse(r3.out);
    g_assert_cmpuint(json_object_array_length(json_object_object_get(plan, "channels")), ==, 1);
    steps = json_object_object_get(plan, "steps");
    g_assert_cmpuint(json_object_array_length(json_object_object_get(
                         json_object_array_get_idx(steps, 0), "commands")), ==, 2);
    run_cli_input(&r4, vm->qmp_path, attach, "<redirdev bus='usb' type='spicevmc'/>");
    g_assert_cmpstr(r4.err, ==, "");
    g_assert_cmpint(r4.status, ==, 0);
    g_assert_nonnull(strstr(r4.out, "\n-> { \"execute\": \"device_add\", \"arguments\": { "
                                    "\"driver\": \"usb-redir\""));
    after = vm_snapshot(inspect);
    g_assert_cmpstr(after, ==, before);
}

/* xml takes what add takes, and prints libvirt's own form where libvirt has one. */
static void
test_xml_kinds(void)
{
    const char *port[] = { "xml", "port,fqdn=org.example.x,id=ua-foo", NULL };
    const char *serial[] = { "xml", "serial", NULL };
    const char *both[] = { "xml", "serial", "webdav", NULL };
    const char *named[] = { "xml", "serial,port-name=com.example.c", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_auto(Run) r4 = { NULL };

    run_cli(&r1, NULL, port);
    g_assert_cmpstr(r1.err, ==, "");
    g_assert_cmpstr(r1.out, ==, "<channel type=\"spiceport\">\n"
                                "  <source channel=\"org.example.x\"/>\n"
                                "  <target type=\"virtio\" name=\"org.example.x\"/>\n"
                                "  <alias name=\"ua-foo\"/>\n"
                                "</channel>\n");
    run_cli(&r2, NULL, serial);
    g_assert_cmpstr(r2.out, ==, "<console type=\"spiceport\">\n"
                                "  <source channel=\"org.qemu.console.serial.0\"/>\n"
                                "  <target type=\"virtio\"/>\n"
                                "</console>\n");
    run_cli(&r3, NULL, both);
    g_assert_true(g_str_has_prefix(r3.out, "<devices>\n  <console "));
    g_assert_nonnull(strstr(r3.out, "<source channel=\"org.spice-space.webdav.0\"/>"));
    /* libvirt has no guest port name for a console: spicevmc's extension says it. */
    run_cli(&r4, NULL, named);
    g_assert_cmpstr(r4.out, ==, "<channel type=\"spicevmc\" name=\"serial\">\n"
                                "  <target type=\"virtio\" name=\"com.example.c\"/>\n"
                                "</channel>\n");
}

/* A NUL byte: one line naming where, and nothing attached. */
static void
test_nul_file(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    g_autoptr(QmpClient) inspect = testvm_qmp(vm);
    g_autofree char *path = g_build_filename(vm->dir, "nul.xml", NULL);
    static const char data[] = "<channel type='spicevmc' name='serial'/>\0garbage";
    const char *attach[] = { "attach", path, NULL };
    g_autofree char *expect = g_strdup_printf("%s:1: a NUL byte (at byte 40)", path);

    g_assert_true(g_file_set_contents(path, data, sizeof(data) - 1, NULL));
    assert_fails(vm->qmp_path, attach, expect);
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
}

/* Each program says its own version, before or after a command. */
static void
test_version(void)
{
    const char *before[] = { "--version", NULL };
    const char *after[] = { "list", "--version", NULL };
    g_autofree char *want = g_strdup_printf("virt-spicevmc (spicevmc) %s\n", PACKAGE_VERSION);
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };

    run_cli(&r1, NULL, before);
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_cmpstr(r1.out, ==, want);
    run_cli(&r2, NULL, after);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_cmpstr(r2.out, ==, want);
}

/* virt-spicevmc complete: the words bash completion offers, from the command table. */
static void
test_complete(void)
{
    const struct {
        const char *args[8];
        const char *want;
    } cases[] = {
        { { "complete", "--", "re", NULL }, "remove\nrestore\n@domains\n" },
        { { "complete", "--", "--qmp", "x", "re", NULL }, "remove\n" },
        { { "complete", "--", "--qmp", "x", "add", "s", NULL }, "smartcard\nserial\nstream\n" },
        { { "complete", "--", "--qmp", "x", "add", "--d", NULL }, "--dry-run\n" },
        { { "complete", "--", "--qmp", "x", "remove", "", NULL }, "@ids\t--qmp\tx\n" },
        { { "complete", "--", "-c", "test:///default", "vm", "list", "u", NULL },
          "@ids\t-c\ttest:///default\tvm\n" },
        { { "complete", "--", "-c", "test:///default", "restore", "", NULL },
          "@domains\t-c\ttest:///default\n" },
        { { "complete", "--", "attach", "", NULL }, "@files\n" },
        { { "complete", "--", "--qmp", "", NULL }, "@files\n" },
        { { "complete", "--", "help", "dis", NULL }, "disable\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Run) r = { NULL };

        run_cli(&r, NULL, cases[i].args);
        g_assert_cmpstr(r.err, ==, "");
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.out, ==, cases[i].want);
    }
}

/* The completion script in bash, as bash-completion runs it: channel ids from the VM. */
static void
test_bash_completion(void)
{
    g_autoptr(TestVm) vm = testvm_start(0, NULL);
    const char *add[] = { "add", "webdav", "serial", NULL };
    g_autofree char *dir = g_path_get_dirname(testvm_cli_path());
    g_autofree char *script = g_strdup_printf(
        "PATH=%s:$PATH; source %s/tools/virt-spicevmc.bash; "
        "COMP_WORDS=(virt-spicevmc --qmp %s remove ''); COMP_CWORD=4; _virt_spicevmc; "
        "printf '%%s\\n' \"${COMPREPLY[@]}\"; "
        "COMP_WORDS=(virt-spicevmc --qmp %s remove w); _virt_spicevmc; "
        "printf '%%s\\n' \"${COMPREPLY[@]}\"", dir, SRCDIR, vm->qmp_path, vm->qmp_path);
    const char *argv[] = { "bash", "-c", script, NULL };
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(Run) r = { NULL };
    int status;

    run_cli(&r, vm->qmp_path, add);
    g_assert_cmpint(r.status, ==, 0);
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                 &error);
    g_assert_no_error(error);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_cmpstr(out, ==, "serial0\nwebdav0\nwebdav0\n");
}

/* virt-spicevmc(1) documents every command and option the program takes, and is valid man. */
static void
test_manual(void)
{
    const char *argv[] = { "groff", "-man", "-ww", "-z", MANPAGE, NULL };
    g_autofree char *page = NULL, *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    const char *help[] = { "help", NULL };
    g_auto(Run) r = { NULL };
    int status;

    g_assert_true(g_file_get_contents(MANPAGE, &page, NULL, &error));
    g_assert_no_error(error);
    run_cli(&r, NULL, help);
    g_assert_cmpint(r.status, ==, 0);
    /* Every command of the overview has its section, every option its entry. */
    for (const char *line = strstr(r.out, "Commands"); line; line = strchr(line + 1, '\n')) {
        g_autofree char *name = NULL;
        g_autofree char *section = NULL;

        if (!g_str_has_prefix(line, "\n  ") || line[3] == ' ' || line[3] == '-')
            continue;
        name = g_strndup(line + 3, strcspn(line + 3, " \n"));
        section = g_strdup_printf("\n.SS %s", name);
        if (!strstr(page, section))
            g_error("virt-spicevmc(1) has no section for '%s'", name);
    }
    for (const char *o = strstr(r.out, "--"); o; o = strstr(o + 2, "--")) {
        g_autofree char *name = g_strndup(o + 2, strcspn(o + 2, " =\n,|]"));
        g_autofree char *entry = g_strdup_printf("\\-\\-%s", name);

        if (name[0] && !strstr(page, entry))
            g_error("virt-spicevmc(1) does not document --%s", name);
    }
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                 &error);
    g_assert_no_error(error);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/usage-errors", test_usage_errors);
    g_test_add_func("/cli/connect-error", test_connect_error);
    g_test_add_func("/cli/xml-message-one-line", test_xml_message_one_line);
    g_test_add_func("/cli/kinds", test_kinds);
    g_test_add_func("/cli/add-list-remove", test_add_list_remove);
    g_test_add_func("/cli/refused-by-vm", test_refused_by_vm);
    g_test_add_func("/cli/xml", test_xml);
    g_test_add_func("/cli/help", test_help);
    g_test_add_func("/cli/guest-column", test_guest_column);
    g_test_add_func("/cli/quiet", test_quiet);
    g_test_add_func("/cli/json", test_json);
    g_test_add_func("/cli/dry-run", test_dry_run);
    g_test_add_func("/cli/xml-kinds", test_xml_kinds);
    g_test_add_func("/cli/nul-file", test_nul_file);
    g_test_add_func("/cli/version", test_version);
    g_test_add_func("/cli/complete", test_complete);
    g_test_add_func("/cli/bash-completion", test_bash_completion);
    g_test_add_func("/cli/manual", test_manual);
    return g_test_run();
}
