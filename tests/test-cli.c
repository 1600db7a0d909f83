/* The virt-spicevmc command line: output, exit status, and one clear error line for bad input. */
#include "config.h"

#include <string.h>

#include "channels-common.h"

typedef struct {
    char *out;
    char *err;
    int status;
} Run;

static void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Run, run_clear)

/* Run virt-spicevmc with @args (NULL-terminated), with --qmp @qmp first when not NULL, and
 * @input on its standard input. */
static void
run_cli_input(Run *r, const char *qmp, const char *const *args, const char *input)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) proc = NULL;

    g_ptr_array_add(argv, (gpointer)testvm_cli_path());
    if (qmp) {
        g_ptr_array_add(argv, (gpointer)"--qmp");
        g_ptr_array_add(argv, (gpointer)qmp);
    }
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    proc = g_subprocess_newv((const char *const *)argv->pdata,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(proc, input ? input : "", NULL, &r->out, &r->err, &error);
    g_assert_no_error(error);
    r->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

static void
run_cli(Run *r, const char *qmp, const char *const *args)
{
    run_cli_input(r, qmp, args, NULL);
}

/* One line: the only newline is the last character, and no other control character. */
static void
assert_one_line(const char *err)
{
    gsize len = strlen(err);

    g_assert_cmpuint(len, >, 0);
    g_assert_cmpint(err[len - 1], ==, '\n');
    for (gsize i = 0; i + 1 < len; i++) {
        if ((guchar)err[i] < 0x20 || err[i] == 0x7f)
            g_error("control character 0x%02x in '%s'", (guchar)err[i], err);
    }
}

/* Bad input: a non-zero exit, nothing on stdout, exactly one line on stderr saying why. */
static void
assert_fails(const char *qmp, const char *const *args, const char *fragment)
{
    g_auto(Run) r = { NULL };

    run_cli(&r, qmp, args);
    g_assert_cmpint(r.status, !=, 0);
    g_assert_cmpstr(r.out, ==, "");
    g_assert_true(g_str_has_prefix(r.err, "virt-spicevmc: error: "));
    assert_one_line(r.err);
    if (!strstr(r.err, fragment))
        g_error("'%s' does not mention '%s'", r.err, fragment);
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
        { { "list", "extra\nline", NULL }, "unexpected argument 'extra\\nline'" },
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
        { { "list", "extra", NULL }, "unexpected argument 'extra'" },
        { { "--qmp", "x", "list", "--json", "--xml", NULL }, "--json or --xml, not both" },
        { { "xml", NULL }, "exactly one KIND" },
        { { "xml", "port", NULL }, "needs a SPICE port name" },
        { { "xml", "webdav", "--id", "dav", NULL }, "starting with 'ua-'" },
        { { "xml", "webdav", "--fqdn", "x.y", NULL }, "only a 'port' channel" },
        { { "attach", NULL }, "give one device XML file" },
        { { "attach", "a.xml", "b.xml", NULL }, "give one device XML file" },
        { { "attach", "/nonexistent.xml", NULL }, "cannot read /nonexistent.xml" },
        { { "detach", "/nonexistent.xml", NULL }, "cannot read /nonexistent.xml" },
        { { "enable", NULL }, "enable is for a libvirt domain: virt-spicevmc enable DOMAIN" },
        { { "--qmp", "x", "restore", NULL }, "restore is for a libvirt domain" },
        { { "--qmp", "x", "disable", "vm1", NULL }, "disable is for a libvirt domain" },
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
    g_test_message("stderr: %s", r.err);
    g_assert_cmpint(r.status, !=, 0);
    assert_one_line(r.err);
    g_assert_nonnull(strstr(r.err, "color='a\\nb\\rc'"));
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
    const char *list[] = { "list", "--xml", NULL };
    const char *detach[] = { "detach", "-", NULL };
    g_auto(Run) r1 = { NULL };
    g_auto(Run) r2 = { NULL };
    g_auto(Run) r3 = { NULL };
    g_auto(Run) r4 = { NULL };
    g_auto(Run) r5 = { NULL };

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
    g_assert_true(g_str_has_prefix(r3.out, "<devices>"));
    run_cli_input(&r4, vm->qmp_path, detach, r3.out);
    g_assert_cmpint(r4.status, ==, 0);
    g_assert_cmpstr(r4.out, ==, "Channel 'ua-a' removed\n");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
    run_cli_input(&r5, vm->qmp_path, attach, "<channel type='spicevmc' name='serial'>\n"
                                             "  <bogus/>\n</channel>\n");
    g_assert_cmpint(r5.status, !=, 0);
    g_assert_cmpstr(r5.err, ==, "virt-spicevmc: error: stdin:2: <channel type='spicevmc' "
                            "name='serial'>: Element channel has extra content: bogus\n");
    g_assert_cmpuint(testvm_count_spice_chardevs(inspect), ==, 0);
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
    return g_test_run();
}
