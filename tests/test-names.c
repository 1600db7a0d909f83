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
        /* Labels in our form that spicevmc never writes (issue 12, item 8). */
        "svc_smartcard_sc_sc-ccid.0__x",                            /* extra field */
        "svc_smartcard_sc_sc-ccid.0_1",                             /* a port number */
        "svc_smartcard_sc_sc-ccid.0____9bad",                       /* controller not an id */
        "svc_usbredir_u_xhci0.0___a.b",                             /* a guest port name */
        "svc_webdav_w_vs0.0_01", "svc_webdav_w_vs0.0_1.5",          /* port not a number */
        "svc_webdav_w_vs0.0_1_",                                    /* trailing empty field */
        "svc_webdav_w_vs0.0_1_org.spice-space.webdav.0",            /* default written out */
        "svc_webdav_w_vs0.0_1_org.evil",                            /* another SPICE name */
        "svc_webdav_w_vs0.0_1__org.spice-space.webdav.0",           /* default port name */
        "svc_serial_s_vs0.0_1_org.qemu.console.serial.x",           /* not numbered */
        "svc_serial_s_vs0.0_1_org.qemu.console.serial.01",
        "svc_serial_s_vs0.0_1_org.qemu.console.serial.4294967296",
        "svc_port_p_vs0.0_1_.a", "svc_port_p_vs0.0_1_a..b",         /* not a port name */
        "svc_webdav_w_9bus_1",                                      /* bus not an id */
        "svc_vdagent_a_vs0.0_1__x..y",                              /* guest port name */
    };

    for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
        g_autoptr(SvcChannel) ch = svc_chardev_id_decode(labels[i]);

        if (ch)
            g_error("'%s' decoded as ours", labels[i]);
    }
}

/* ---- property: decode(encode(x)) == x, and encode(decode(s)) == s ------------ */

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

/* Separators and escapes are what the codec gets wrong, so they come often. */
static char
random_char(const char *alphabet)
{
    return g_test_rand_bit() ? "_-_-."[g_test_rand_int_range(0, 5)]
                             : alphabet[g_test_rand_int_range(0, strlen(alphabet))];
}

/* A name as svc_check_id() takes it: a letter, then up to @max - 1 more. */
static char *
random_id(guint max)
{
    static const char *const edges[] = { "a", "a_", "a__", "a_-", "a-_", "a_-_-", "z_9", "Q-" };
    guint len = g_test_rand_int_range(1, max + 1);
    GString *out;

    if (g_test_rand_int_range(0, 8) == 0)
        return g_strdup(edges[g_test_rand_int_range(0, G_N_ELEMENTS(edges))]);
    out = g_string_new(NULL);
    g_string_append_c(out, "abcXYZ"[g_test_rand_int_range(0, 6)]);
    while (out->len < len)
        g_string_append_c(out, random_char(ID_CHARS));
    return g_string_free(out, FALSE);
}

/* A name as svc_check_port_name() takes it: dotted words starting with a letter or digit. */
static char *
random_port_name(void)
{
    GString *out = g_string_new(NULL);
    guint words = g_test_rand_int_range(1, 5);

    for (guint w = 0; w < words; w++) {
        g_string_append_printf(out, "%s%c", w ? "." : "", "a0Zq9"[g_test_rand_int_range(0, 5)]);
        for (guint n = g_test_rand_int_range(0, 8); n > 0; n--) {
            char c = random_char(ID_CHARS);

            g_string_append_c(out, c == '.' ? '_' : c);
        }
    }
    return g_string_free(out, FALSE);
}

static guint
random_number(void)
{
    static const guint edges[] = { 1, 2, 9, 10, 99, 100, 255, 256, 510, 511, 1000000,
                                    G_MAXUINT32 - 1, G_MAXUINT32 };

    return g_test_rand_bit() ? edges[g_test_rand_int_range(0, G_N_ELEMENTS(edges))]
                             : (guint)g_test_rand_int_range(1, G_MAXINT32);
}

/* A channel of @kind as spicevmc could have planned it, with odd but valid names. */
static SvcChannel *
random_channel(const SvcKind *kind)
{
    SvcChannel *ch = g_new0(SvcChannel, 1);
    gboolean virtio = svc_frontend_is_virtio_serial(kind->frontend);

    ch->kind = kind;
    ch->ours = TRUE;
    ch->id = random_id(g_test_rand_bit() ? 12 : 127);
    ch->bus = random_id(g_test_rand_bit() ? 8 : 127);
    ch->driver = g_strdup(svc_frontend_driver(kind->frontend));
    if (kind->numbered)
        ch->spice_name = g_strdup_printf("%s%u", kind->spice_name,
                                         g_test_rand_bit() ? random_number() - 1 : 0);
    else
        ch->spice_name = kind->spice_name ? g_strdup(kind->spice_name) : random_port_name();
    if (virtio) {
        ch->nr = random_number();
        ch->port_name = g_test_rand_bit() ? random_port_name()
                                          : g_strdup(svc_kind_default_port_name(kind,
                                                                                ch->spice_name));
    }
    if (kind->frontend == SVC_FRONT_CCID_CARD && g_test_rand_bit())
        ch->controller = random_id(20);
    return ch;
}

static void
assert_same_channel(const SvcChannel *a, const SvcChannel *b)
{
    g_assert_true(a->kind == b->kind);
    g_assert_cmpstr(a->id, ==, b->id);
    g_assert_cmpstr(a->bus, ==, b->bus);
    g_assert_cmpuint(a->nr, ==, b->nr);
    g_assert_cmpstr(a->spice_name, ==, b->spice_name);
    g_assert_cmpstr(a->port_name, ==, b->port_name);
    g_assert_cmpstr(a->controller, ==, b->controller);
    g_assert_cmpstr(a->driver, ==, b->driver);
    g_assert_true(b->ours);
}

/* @label, if it decodes at all, decodes to a channel that encodes back to @label. */
static gboolean
check_decoded(const char *label)
{
    g_autoptr(SvcChannel) ch = svc_chardev_id_decode(label);
    g_autofree char *again = NULL;

    if (!ch)
        return FALSE;
    again = svc_chardev_id_encode(ch);
    if (g_strcmp0(again, label) != 0)
        g_error("'%s' decodes, but as a channel that encodes as '%s'", label, again);
    g_assert_cmpstr(ch->chardev, ==, label);
    return TRUE;
}

static void
test_codec_round_trip(void)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    for (guint i = 0; i < 5000; i++) {
        g_autoptr(SvcChannel) ch = random_channel(&kinds[i % n]);
        g_autofree char *label = svc_chardev_id_encode(ch);
        g_autoptr(SvcChannel) back = svc_chardev_id_decode(label);

        if (!back)
            g_error("'%s' (a %s channel) does not decode", label, ch->kind->name);
        /* QEMU's id_wellformed(), which has no length limit, unlike svc_check_id(). */
        g_assert_cmpuint(strspn(label, ID_CHARS), ==, strlen(label));
        assert_same_channel(ch, back);
        g_assert_cmpstr(back->chardev, ==, label);
        g_assert_true(check_decoded(label));
    }
}

/* One random edit of @label: a byte replaced, inserted or deleted, or a field doubled. */
static char *
mutate(const char *label)
{
    GString *out = g_string_new(label);
    guint at = g_test_rand_int_range(0, out->len + 1);
    char c = random_char(ID_CHARS "09");

    switch (g_test_rand_int_range(0, 4)) {
    case 0:
        if (at < out->len)
            out->str[at] = c;
        break;
    case 1:
        g_string_insert_c(out, at, c);
        break;
    case 2:
        if (at < out->len)
            g_string_erase(out, at, 1);
        break;
    default: {
        const char *sep = strchr(out->str + MIN(at, out->len), '_');

        if (sep)
            g_string_insert_len(out, sep - out->str, sep, strcspn(sep + 1, "_") + 1);
        break;
    }
    }
    return g_string_free(out, FALSE);
}

static void
test_codec_decodes_only_encodings(void)
{
    guint n, decoded = 0;
    const SvcKind *kinds = svc_kinds(&n);

    for (guint i = 0; i < 20000; i++) {
        g_autoptr(SvcChannel) ch = random_channel(&kinds[i % n]);
        g_autofree char *label = svc_chardev_id_encode(ch);
        g_autofree char *edited = NULL;

        /* Up to three edits: most break the label, some make another valid one. */
        for (guint e = g_test_rand_int_range(1, 4); e > 0; e--) {
            g_free(edited);
            edited = mutate(label);
            g_free(label);
            label = g_strdup(edited);
        }
        decoded += check_decoded(label);
    }
    /* Random bytes after the prefix, for what no edit of a valid label reaches. */
    for (guint i = 0; i < 20000; i++) {
        g_autoptr(GString) s = g_string_new("svc_");

        for (guint k = g_test_rand_int_range(0, 40); k > 0; k--)
            g_string_append_c(s, g_test_rand_int_range(1, 128));
        check_decoded(s->str);
    }
    g_test_message("%u edited labels decode", decoded);
    /* Without labels that decode, the property above would be tested on nothing. */
    g_assert_cmpuint(decoded, >, 0);
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

/* A long name is shown cut short by characters, never inside one (found by fuzz/fuzz-spec; its
 * input is fuzz/corpus/spec/long-name-cut-in-utf8). */
static void
test_check_long_name(void)
{
    g_autofree char *name = g_strconcat("a", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL);
    g_autoptr(GString) longer = g_string_new(name);
    g_autoptr(GError) error = NULL;
    g_autofree char *start = NULL;
    g_autofree char *expected = NULL;

    while (longer->len <= 127)
        g_string_append(longer, name);
    start = g_utf8_substring(longer->str, 0, 20);
    g_assert_cmpuint(strlen(start), ==, 38);
    expected = g_strdup_printf("device id '%s…' is longer than 127 characters", start);
    g_assert_false(svc_check_id("device id", longer->str, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
    /* "a" and ten "é", then "a" and eight: twenty characters, 38 bytes (cut at 20 bytes, the
     * tenth "é" would be split). */
    g_assert_cmpstr(error->message, ==, expected);
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
    g_test_add_func("/names/codec/round-trip", test_codec_round_trip);
    g_test_add_func("/names/codec/decodes-only-encodings", test_codec_decodes_only_encodings);
    g_test_add_func("/names/check/id", test_check_id);
    g_test_add_func("/names/check/long-name", test_check_long_name);
    g_test_add_func("/names/check/port-name", test_check_port_name);
    g_test_add_func("/spec/parse", test_spec_parse);
    g_test_add_func("/spec/parse/errors", test_spec_parse_errors);
    g_test_add_func("/catalogue/infer", test_infer_kind);
    return g_test_run();
}
