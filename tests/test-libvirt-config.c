/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-libvirt-config.c — the persistent definition of a running domain: channels of
 * every kind added to it and removed from it, what a restart then brings back, and the undo
 * when libvirt refuses the definition's half of a change whose live half was done. */
#include "config.h"

#include <string.h>

#include "libvirt-views.h"

/* Every kind, as virt-spicevmc takes it. */
static const char *const every_kind[] = {
    "vdagent", "usbredir", "smartcard", "webdav", "serial", "stream",
    "port,fqdn=org.spicevmc.test.0",
};

/* virt-spicevmc DOMAIN COMMAND SCOPE with every kind, or with the ids of @list. */
static char *
cli_every(Fixture *f, const char *command, const char *scope, json_object *list)
{
    const char *ids[G_N_ELEMENTS(every_kind)];
    const char *const *args = every_kind;

    if (list) {
        g_assert_cmpuint(json_object_array_length(list), ==, G_N_ELEMENTS(every_kind));
        for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++)
            ids[i] = member_str(json_object_array_get_idx(list, i), "id");
        args = ids;
    }
    return cli_ok(f->uri, f->name, command, scope, args[0], args[1], args[2], args[3], args[4],
                  args[5], args[6]);
}

/* The <devices> of two domain XMLs are the same. */
static void
assert_same_devices(const char *xml, const char *other)
{
    const char *a = strstr(xml, "<devices>"), *b = strstr(other, "<devices>");

    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_cmpstr(a, ==, b);
}

/* Each of every kind listed once, in @state, persistent or not. */
static void
assert_listed(json_object *list, const char *state, gboolean persistent)
{
    g_assert_cmpuint(json_object_array_length(list), ==, G_N_ELEMENTS(every_kind));
    for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++) {
        g_autofree char *kind = g_strndup(every_kind[i], strcspn(every_kind[i], ","));
        json_object *ch = find_entry(list, "kind", kind);

        g_assert_cmpstr(member_str(ch, "state"), ==, state);
        g_assert_cmpint(member_bool(ch, "persistent"), ==, persistent);
    }
}

/* add --persistent, remove --persistent: the running domain and its definition are clean at
 * once, each removal says so (README), and nothing comes back at the next start. */
static void
remove_persistent(Fixture *f, const char *arg)
{
    g_auto(Views) v = { 0 };
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;

    g_free(cli_every(f, "add", "--persistent", NULL));
    views_load(&v, f);
    assert_listed(v.list, "ok", TRUE);
    out = cli_every(f, "remove", "--persistent", v.list);
    lines = g_strsplit(out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(every_kind) + 1);
    for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++) {
        const char *id = member_str(json_object_array_get_idx(v.list, i), "id");
        g_autofree char *line = g_strdup_printf("Channel '%s' removed, and from the persistent "
                                                "definition", id);

        g_assert_true(g_strv_contains((const char *const *)lines, line));
    }
    views_assert_clean(f);
    domain_restart(f);
    views_assert_clean(f);
}

/* The kinds that go into a running domain through passthrough, not libvirt. */
static const char *const passthrough_kinds[] = { "smartcard", "webdav", "serial", "stream",
                                                 "port" };

/* add --persistent, remove --config: what runs stays until the next start, which brings back
 * none of it; the channels that went through passthrough are listed as gone until the next
 * change, as after any restart of channels not in the definition (README). */
static void
remove_config(Fixture *f, const char *arg)
{
    g_auto(Views) v = { 0 };
    g_auto(Views) after = { 0 };
    g_auto(Views) restarted = { 0 };
    g_autoptr(json_object) list = NULL;

    g_free(cli_every(f, "add", "--persistent", NULL));
    views_load(&v, f);
    g_free(cli_every(f, "remove", "--config", v.list));
    views_load(&after, f);
    assert_listed(after.list, "ok", FALSE);
    g_assert_cmpstr(after.qemu, ==, v.qemu);
    g_assert_false(g_regex_match_simple("<alias name=['\"]ua-", after.inactive, 0, 0));
    g_assert_cmpstr(after.restore[1], ==, "");

    domain_restart(f);
    views_load(&restarted, f);
    g_assert_cmpuint(count_prefixed(restarted.chardevs, "label", "svc_"), ==, 0);
    g_assert_cmpuint(count_prefixed(restarted.chardevs, "label", "charua-"), ==, 0);
    g_assert_cmpuint(count_prefixed(restarted.devices, "name", "ua-"), ==, 0);
    g_assert_false(g_regex_match_simple("<alias name=['\"]ua-", restarted.xml, 0, 0));
    g_assert_false(g_regex_match_simple("<alias name=['\"]ua-", restarted.inactive, 0, 0));
    g_assert_cmpstr(restarted.restore[0], ==, "");
    g_assert_cmpstr(restarted.restore[1], ==, "");
    g_assert_cmpuint(json_object_array_length(restarted.list), ==, G_N_ELEMENTS(passthrough_kinds));
    for (guint i = 0; i < G_N_ELEMENTS(passthrough_kinds); i++) {
        json_object *ch = find_entry(restarted.list, "kind", passthrough_kinds[i]);

        g_assert_cmpstr(member_str(ch, "state"), ==, "gone");
        g_assert_false(member_bool(ch, "persistent"));
    }
    /* The next change forgets them. */
    g_free(cli_ok(f->uri, f->name, "add", "vdagent"));
    list = list_json(f, f->uri);
    g_assert_cmpuint(json_object_array_length(list), ==, 1);
    g_assert_cmpstr(member_str(find_entry(list, "kind", "vdagent"), "state"), ==, "ok");
}

/* --config alone on a running domain: QEMU and the live XML's devices untouched, everything
 * back at the next start (the smartcard by restore, which the hook runs under libvirtd). */
static void
config_alone(Fixture *f, const char *arg)
{
    g_auto(Views) before = { 0 };
    g_auto(Views) v = { 0 };
    g_autofree char *restored = NULL;

    views_load(&before, f);
    g_free(cli_every(f, "add", "--config", NULL));
    views_load(&v, f);
    assert_listed(v.list, "config", TRUE);
    g_assert_cmpstr(v.qemu, ==, before.qemu);
    /* Only the records changed in the live XML (they follow in both, README). */
    assert_same_devices(v.xml, before.xml);

    domain_restart(f);
    restored = cli_ok(f->uri, f->name, "restore");
    g_assert_true(g_str_has_prefix(restored, "Channel 'ua-smartcard0' added"));
    views_load(&v, f);
    assert_listed(v.list, "ok", TRUE);
    g_free(cli_every(f, "remove", "--persistent", v.list));
    views_assert_clean(f);
    domain_restart(f);
    views_assert_clean(f);
}

/* The definition without a USB controller, the running domain with one: libvirt hot-plugs
 * the usbredir channel, then refuses it in the definition ("USB is disabled for this
 * domain"), after the other channels went into QEMU, the live XML and the definition.  The
 * undo takes every one of them back. */
static void
undo(Fixture *f, const char *arg)
{
    g_autofree char *inactive = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
    g_autoptr(GRegex) usb = g_regex_new("<controller type='usb'.*?</controller>", G_REGEX_DOTALL,
                                        0, NULL);
    g_autofree char *no_usb = g_regex_replace_literal(
        usb, inactive, -1, 0, "<controller type='usb' index='0' model='none'/>", 0, NULL);
    g_autofree char *path = g_build_filename(f->dir, "no-usb.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_auto(Views) before = { 0 };
    g_auto(Views) after = { 0 };
    g_auto(Run) r = { NULL };

    g_assert_cmpstr(no_usb, !=, inactive);
    g_assert_true(g_file_set_contents(path, no_usb, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "define", path));
    views_load(&before, f);
    /* usbredir last: the others are in the definition when libvirt refuses it. */
    cli(&r, f->uri, f->name, "add", "--persistent", "webdav", "serial", "vdagent", "usbredir");
    assert_one_error(&r, "libvirt cannot keep the usbredir channel in the persistent "
                         "definition: unsupported configuration: cannot add redirected USB "
                         "device: USB is disabled for this domain");
    views_load(&after, f);
    views_assert_same(&before, &after);
}

/* A transient domain has no definition: every change to one is refused in one line, and
 * nothing changes; --current is the running domain. */
static void
transient(Fixture *f, const char *arg)
{
    g_autofree char *refusal = g_strdup_printf("domain '%s' is transient: it has no persistent "
                                               "definition", f->name);
    const struct {
        const char *args[3];
        const char *fragment;
    } refused[] = {
        { { "add", "--config", "webdav" }, refusal },
        { { "add", "--persistent", "vdagent" }, refusal },
        { { "add", "--config", "smartcard" }, refusal },
        { { "remove", "--config", "ua-webdav0" }, refusal },
        { { "remove", "--persistent", "--all" }, refusal },
        { { "restore" }, "transient" },
    };
    g_auto(Views) before = { 0 };
    g_auto(Views) after = { 0 };
    g_autofree char *out = NULL;

    views_load(&before, f);
    g_assert_null(before.inactive);
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_auto(Run) r = { NULL };
        const char *const *a = refused[i].args;

        cli(&r, f->uri, f->name, a[0], a[1], a[2]);
        assert_one_error(&r, refused[i].fragment);
    }
    views_load(&after, f);
    views_assert_same(&before, &after);
    out = cli_ok(f->uri, f->name, "add", "--current", "webdav");
    g_assert_cmpstr(out, ==, "Channel 'ua-webdav0' added: webdav 'org.spice-space.webdav.0', "
                             "virtserialport on virtio-serial0.0 port 30\n");
}

static const Case cases[] = {
    { "/libvirt-config/embed/remove-persistent", FALSE, DOMAIN_RUNNING, remove_persistent },
    { "/libvirt-config/embed/remove-config", FALSE, DOMAIN_RUNNING, remove_config },
    { "/libvirt-config/embed/config-alone", FALSE, DOMAIN_RUNNING, config_alone },
    { "/libvirt-config/embed/undo", FALSE, DOMAIN_RUNNING, undo },
    { "/libvirt-config/system/transient", TRUE, DOMAIN_TRANSIENT, transient },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    return libvirt_cli_run();
}
