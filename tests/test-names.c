/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for name rules, chardev-id identity encoding and spec parsing (no QEMU). */
#include "config.h"

#include <string.h>

#include "svc-private.h"

static SvcChannel *
make_channel(const char *kind, const char *id, const char *bus, guint nr, const char *spice,
             const char *port, const char *controller)
{
    SvcChannel *ch = g_new0(SvcChannel, 1);

    ch->kind = svc_kind_lookup(kind);
    g_assert_nonnull(ch->kind);
    ch->id = g_strdup(id);
    ch->bus = g_strdup(bus);
    ch->nr = nr;
    ch->spice_name = g_strdup(spice);
    ch->port_name = g_strdup(port);
    ch->controller = g_strdup(controller);
    return ch;
}

static void
assert_round_trip(SvcChannel *ch)
{
    g_autofree char *label = svc_chardev_id_encode(ch);
    g_autoptr(SvcChannel) back = svc_chardev_id_decode(label);

    /* Whatever we encode must be a valid QEMU id, or -chardev/HMP users could not name it. */
    g_assert_true(svc_check_id("chardev id", label, NULL));
    g_assert_nonnull(back);
    g_assert_true(back->ours);
    g_assert_true(back->kind == ch->kind);
    g_assert_cmpstr(back->id, ==, ch->id);
    g_assert_cmpstr(back->bus, ==, ch->bus);
    g_assert_cmpuint(back->nr, ==, ch->nr);
    g_assert_cmpstr(back->spice_name, ==, ch->spice_name);
    g_assert_cmpstr(back->port_name, ==, ch->port_name);
    g_assert_cmpstr(back->controller, ==, ch->controller);
    g_assert_cmpstr(back->chardev, ==, label);
    g_assert_cmpstr(back->driver, ==, svc_frontend_driver(ch->kind->frontend));
}

static void
test_encode_round_trip(void)
{
    g_autoptr(SvcChannel) webdav = make_channel("webdav", "webdav0", "vs0.0", 1,
                                                "org.spice-space.webdav.0",
                                                "org.spice-space.webdav.0", NULL);
    g_autoptr(SvcChannel) serial = make_channel("serial", "term_1", "my_bus.0", 510,
                                                "org.qemu.console.serial.7",
                                                "org.qemu.console.serial.7", NULL);
    g_autoptr(SvcChannel) port = make_channel("port", "p", "vs1.0", 3, "org.example.a_b",
                                              "com.example.guest__x", NULL);
    g_autoptr(SvcChannel) agent = make_channel("vdagent", "vdagent0", "vs0.0", 2, "vdagent",
                                               "com.redhat.spice.0", NULL);
    g_autoptr(SvcChannel) usb = make_channel("usbredir", "u_", "xhci0.0", 0, "usbredir",
                                             NULL, NULL);
    g_autoptr(SvcChannel) card = make_channel("smartcard", "sc", "sc-ccid.0", 0, "smartcard",
                                              NULL, "sc-ccid");

    assert_round_trip(webdav);
    assert_round_trip(serial);
    assert_round_trip(port);
    assert_round_trip(agent);
    assert_round_trip(usb);
    assert_round_trip(card);
}

static void
test_encode_omits_defaults(void)
{
    g_autoptr(SvcChannel) webdav = make_channel("webdav", "webdav0", "vs0.0", 1,
                                                "org.spice-space.webdav.0",
                                                "org.spice-space.webdav.0", NULL);
    g_autofree char *label = svc_chardev_id_encode(webdav);

    g_assert_cmpstr(label, ==, "svc_webdav_webdav0_vs0.0_1");
}

static void
test_decode_rejects_foreign(void)
{
    const char *labels[] = {
        "charchannel0", "vdagent", "svc", "svc_", "svc_nokind_x_vs0.0_1",
        "svc_webdav_1bad_vs0.0_1", "svc_webdav_w_vs0.0",            /* virtio kind without nr */
        "svc_webdav_w_vs0.0_0", "svc_webdav_w_vs0.0_x",
        "svc_port_p_vs0.0_1",                                       /* port without fqdn */
        "svc_webdav_w_vs0.0_1_a_b_c_d", "svc_-webdav_w_vs0.0_1",
        "svc_usbredir_u", "svc_webdav_w,x_vs0.0_1",
        "svc__webdav__w__vs0.0__1",                                 /* empty fields */
    };

    for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
        g_autoptr(SvcChannel) ch = svc_chardev_id_decode(labels[i]);

        if (ch)
            g_error("'%s' decoded as ours", labels[i]);
    }
}

static void
assert_invalid(gboolean ok, GError *error, const char *fragment)
{
    g_assert_false(ok);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    if (!strstr(error->message, fragment))
        g_error("'%s' does not mention '%s'", error->message, fragment);
}

static void
test_check_id(void)
{
    const struct {
        const char *id;
        const char *fragment;
    } bad[] = {
        { "", "must not be empty" }, { "1abc", "start with a letter" },
        { "a,b", "character ','" }, { "a=b", "character '='" }, { "a'b", "character '''" },
        { "a\"b", "character '\"'" }, { "a b", "character ' '" }, { "a\nb", "byte 0x0a" },
        { "a\x7f", "byte 0x7f" },
    };

    g_assert_true(svc_check_id("device id", "term-1.x_y", NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = svc_check_id("device id", bad[i].id, &error);

        assert_invalid(ok, error, bad[i].fragment);
    }
}

static void
test_check_port_name(void)
{
    g_autofree char *longname = g_strnfill(200, 'a');
    const char *bad[] = { ".a", "a..b", "a.", "-a", "a,b", "a=b", "a\tb", longname };

    g_assert_true(svc_check_port_name("fqdn", "org.spice-space.webdav.0", NULL));
    g_assert_true(svc_check_port_name("fqdn", "0.x", NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(svc_check_port_name("fqdn", bad[i], &error));
        g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    }
}

static void
test_spec_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcSpec) spec = svc_spec_parse("port,fqdn=org.example.a,id=p1,port-name=x.y,"
                                             "bus=vs0.0,nr=7", &error);

    g_assert_no_error(error);
    g_assert_cmpstr(spec->kind->name, ==, "port");
    g_assert_cmpstr(spec->fqdn, ==, "org.example.a");
    g_assert_cmpstr(spec->id, ==, "p1");
    g_assert_cmpstr(spec->port_name, ==, "x.y");
    g_assert_cmpstr(spec->bus, ==, "vs0.0");
    g_assert_cmpuint(spec->nr, ==, 7);
}

static void
test_spec_parse_errors(void)
{
    const struct {
        const char *text;
        int code;
        const char *fragment;
    } bad[] = {
        { "bogus", SVC_ERROR_UNKNOWN_KIND, "unknown channel kind 'bogus'" },
        { "", SVC_ERROR_UNKNOWN_KIND, "unknown channel kind" },
        { "webdav,fqdn=x.y", SVC_ERROR_INVALID, "only a 'port' channel" },
        { "usbredir,nr=1", SVC_ERROR_INVALID, "no virtio-serial port" },
        { "smartcard,port-name=a.b", SVC_ERROR_INVALID, "no virtio-serial port" },
        { "serial,nr=0", SVC_ERROR_INVALID, "invalid port number '0'" },
        { "serial,nr=-1", SVC_ERROR_INVALID, "invalid port number" },
        { "serial,nr=1x", SVC_ERROR_INVALID, "invalid port number" },
        { "serial,color=red", SVC_ERROR_INVALID, "unknown option 'color'" },
        { "serial,id", SVC_ERROR_INVALID, "expected key=value" },
        { "serial,id=9", SVC_ERROR_INVALID, "start with a letter" },
        { "port,fqdn=a\"b", SVC_ERROR_INVALID, "character '\"'" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvcSpec) spec = svc_spec_parse(bad[i].text, &error);

        g_assert_null(spec);
        g_assert_error(error, SVC_ERROR, bad[i].code);
        if (!strstr(error->message, bad[i].fragment))
            g_error("'%s': '%s' does not mention '%s'", bad[i].text, error->message,
                    bad[i].fragment);
    }
}

static void
test_infer_kind(void)
{
    g_assert_cmpstr(svc_kind_infer("spicevmc", "virtserialport", "com.redhat.spice.0")->name,
                    ==, "vdagent");
    g_assert_cmpstr(svc_kind_infer("spicevmc", "usb-redir", NULL)->name, ==, "usbredir");
    g_assert_cmpstr(svc_kind_infer("spicevmc", "ccid-card-passthru", NULL)->name, ==,
                    "smartcard");
    g_assert_null(svc_kind_infer("spicevmc", NULL, NULL));
    g_assert_cmpstr(svc_kind_infer("spiceport", "virtserialport", "org.spice-space.webdav.0")->name,
                    ==, "webdav");
    g_assert_cmpstr(svc_kind_infer("spiceport", "virtserialport", "org.spice-space.stream.0")->name,
                    ==, "stream");
    g_assert_cmpstr(svc_kind_infer("spiceport", "virtconsole", "anything")->name, ==, "serial");
    g_assert_cmpstr(svc_kind_infer("spiceport", "virtserialport", "org.example.x")->name, ==,
                    "port");
    g_assert_null(svc_kind_infer("socket", "virtserialport", "org.qemu.guest_agent.0"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/names/encode/round-trip", test_encode_round_trip);
    g_test_add_func("/names/encode/omits-defaults", test_encode_omits_defaults);
    g_test_add_func("/names/decode/rejects-foreign", test_decode_rejects_foreign);
    g_test_add_func("/names/check/id", test_check_id);
    g_test_add_func("/names/check/port-name", test_check_port_name);
    g_test_add_func("/spec/parse", test_spec_parse);
    g_test_add_func("/spec/parse/errors", test_spec_parse_errors);
    g_test_add_func("/catalogue/infer", test_infer_kind);
    return g_test_run();
}
