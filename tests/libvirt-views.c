/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/libvirt-views.c — every view of a libvirt domain taken together (libvirt-views.h). */
#include "config.h"

#include <string.h>

#include "libvirt-views.h"

void
views_clear(Views *v)
{
    g_clear_pointer(&v->list, json_object_put);
    g_clear_pointer(&v->chardevs, json_object_put);
    g_clear_pointer(&v->devices, json_object_put);
    g_clear_pointer(&v->qemu, g_free);
    g_clear_pointer(&v->xml, g_free);
    g_clear_pointer(&v->inactive, g_free);
    for (guint i = 0; i < 2; i++) {
        g_clear_pointer(&v->added[i], g_free);
        g_clear_pointer(&v->restore[i], g_free);
    }
}

gboolean
domain_running(Fixture *f)
{
    g_autofree char *state = virsh_ok(f->uri, "domstate", f->name);

    return g_str_has_prefix(state, "running\n") || g_str_has_prefix(state, "paused\n");
}

static gboolean
domain_persistent(Fixture *f)
{
    g_autofree char *info = virsh_ok(f->uri, "dominfo", f->name);

    return g_regex_match_simple("^Persistent: +yes$", info, G_REGEX_MULTILINE, 0);
}

void
views_load(Views *v, Fixture *f)
{
    gboolean persistent = domain_persistent(f);

    views_clear(v);
    v->running = domain_running(f);
    v->list = list_json(f, f->uri);
    if (v->running) {
        g_autoptr(json_object) objects = qemu(f, QOM_LIST_OBJECTS);

        v->chardevs = qemu(f, QUERY_CHARDEV);
        v->devices = qemu(f, QOM_LIST_DEVICES);
        v->qemu = testvm_snapshot(v->chardevs, v->devices, objects);
        v->xml = virsh_ok(f->uri, "dumpxml", f->name);
        v->added[0] = virsh_metadata(f, ADDED_NS, FALSE);
        v->restore[0] = virsh_metadata(f, RESTORE_NS, FALSE);
    }
    if (persistent) {
        v->inactive = virsh_ok(f->uri, "dumpxml", "--inactive", f->name);
        v->added[1] = virsh_metadata(f, ADDED_NS, TRUE);
        v->restore[1] = virsh_metadata(f, RESTORE_NS, TRUE);
    }
}

static const char *
json_text(json_object *obj)
{
    return obj ? json_object_to_json_string(obj) : "(none)";
}

void
views_assert_same(const Views *before, const Views *after)
{
    g_assert_cmpint(after->running, ==, before->running);
    g_assert_cmpstr(json_text(after->list), ==, json_text(before->list));
    g_assert_cmpstr(after->qemu, ==, before->qemu);
    g_assert_cmpstr(after->xml, ==, before->xml);
    g_assert_cmpstr(after->inactive, ==, before->inactive);
    for (guint i = 0; i < 2; i++) {
        g_assert_cmpstr(after->added[i], ==, before->added[i]);
        g_assert_cmpstr(after->restore[i], ==, before->restore[i]);
    }
}

static void
assert_no_alias(const char *xml)
{
    if (xml && g_regex_match_simple("<alias name=['\"]ua-", xml, 0, 0))
        g_assert_cmpstr(xml, ==, "(no alias of spicevmc's)");
}

void
views_assert_clean(Fixture *f)
{
    g_auto(Views) v = { 0 };

    views_load(&v, f);
    g_assert_cmpstr(json_object_to_json_string(v.list), ==, "[ ]");
    if (v.running) {
        g_assert_cmpuint(count_prefixed(v.chardevs, "label", "svc_"), ==, 0);
        g_assert_cmpuint(count_prefixed(v.chardevs, "label", "charua-"), ==, 0);
        g_assert_cmpuint(count_prefixed(v.devices, "name", "ua-"), ==, 0);
    }
    assert_no_alias(v.xml);
    assert_no_alias(v.inactive);
    for (guint i = 0; i < 2; i++) {
        g_assert_cmpstr(v.added[i] ? v.added[i] : "", ==, "");
        g_assert_cmpstr(v.restore[i] ? v.restore[i] : "", ==, "");
    }
}

void
views_assert_libvirt_channel(const Views *v, json_object *ch, const char *element)
{
    const char *id = member_str(ch, "id");
    g_autofree char *label = g_strconcat("char", id, NULL);

    g_assert_cmpstr(member_str(ch, "state"), ==, "ok");
    g_assert_true(member_bool(ch, "libvirt"));
    g_assert_cmpstr(member_str(ch, "chardev"), ==, label);
    g_assert_true(has_entry(v->chardevs, "label", label));
    g_assert_true(has_entry(v->devices, "name", id));
    g_assert_true(has_alias_in(v->xml, element, id));
    g_assert_false(has_alias_in(v->added[0], NULL, id));
}

void
views_assert_passthrough_channel(const Views *v, json_object *ch)
{
    const char *id = member_str(ch, "id");
    const char *chardev = member_str(ch, "chardev");

    g_assert_cmpstr(member_str(ch, "state"), ==, "ok");
    g_assert_false(member_bool(ch, "libvirt"));
    g_assert_true(g_str_has_prefix(chardev, "svc_"));
    g_assert_true(has_entry(v->chardevs, "label", chardev));
    g_assert_true(has_entry(v->devices, "name", id));
    g_assert_false(has_alias_in(v->xml, NULL, id));
    g_assert_true(has_alias_in(v->added[0], NULL, id));
}
