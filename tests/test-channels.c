/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc against a real QEMU: every kind added and removed, batches, list, capacity. */
#include "config.h"

#include <string.h>

#include "channels-common.h"

static void
setup(Fixture *f, gconstpointer data)
{
    fixture_start(f, GPOINTER_TO_UINT(data), NULL);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    fixture_stop(f);
}

static guint64
qom_get_uint(QmpClient *inspect, const char *id, const char *prop)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    g_autoptr(json_object) v = testvm_exec(inspect, qmp_cmd_qom_get(path, prop));

    return json_object_get_uint64(v);
}

static char *
qom_get_string(QmpClient *inspect, const char *id, const char *prop)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    g_autoptr(json_object) v = testvm_exec(inspect, qmp_cmd_qom_get(path, prop));

    return g_strdup(json_object_get_string(v));
}

/* What QEMU itself says about the channel must match what add reported. */
static void
assert_in_qemu(Fixture *f, const SvcChannel *ch)
{
    g_autofree char *type = device_type(f->inspect, ch->id);
    g_autofree char *chardev = qom_get_string(f->inspect, ch->id, "chardev");

    g_assert_cmpstr(type, ==, ch->driver);
    g_assert_cmpstr(chardev, ==, ch->chardev);
    g_assert_true(testvm_has_chardev(f->inspect, ch->chardev));
    if (ch->nr) {
        g_autofree char *name = qom_get_string(f->inspect, ch->id, "name");
        g_autofree char *bus = qom_get_string(f->inspect, ch->id, "parent_bus");

        g_assert_cmpuint(qom_get_uint(f->inspect, ch->id, "nr"), ==, ch->nr);
        g_assert_cmpstr(name, ==, ch->port_name);
        g_assert_true(g_str_has_suffix(bus, ch->bus));
    }
}

static void
test_kind(Fixture *f, gconstpointer data)
{
    const char *spec = g_test_get_path();
    const char *texts[] = { strrchr(spec, '/') + 1, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) listed = NULL;
    g_autoptr(GPtrArray) removed = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;
    const SvcChannel *ch, *seen;
    const char *ids[2];

    if (g_str_equal(texts[0], "port"))
        texts[0] = "port,fqdn=org.example.port.0";
    g_assert_true(add_specs(f->svc, texts, &added, &error));
    g_assert_no_error(error);
    ch = added->pdata[0];
    assert_in_qemu(f, ch);

    listed = svc_list(f->svc, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(listed->len, ==, 1);
    seen = listed->pdata[0];
    g_assert_true(seen->ours);
    g_assert_true(seen->kind == ch->kind);
    g_assert_cmpstr(seen->id, ==, ch->id);
    g_assert_cmpstr(seen->spice_name, ==, ch->spice_name);
    g_assert_cmpstr(seen->port_name, ==, ch->port_name);
    g_assert_cmpstr(seen->bus, ==, ch->bus);
    g_assert_cmpuint(seen->nr, ==, ch->nr);
    g_assert_cmpint(seen->state, ==, SVC_STATE_OK);

    ids[0] = ch->id;
    ids[1] = NULL;
    g_assert_true(svc_remove(f->svc, ids, &removed, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, 1);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
    g_assert_false(testvm_has_device(f->inspect, ch->id));
    /* A smartcard's usb-ccid goes with it; its marker object stays (see SVC_SMARTCARD_MARKER). */
    after = vm_snapshot(f->inspect);
    if (ch->kind->spice_class != SVC_CLASS_SMARTCARD)
        g_assert_cmpstr(after, ==, before);
    else
        g_assert_false(testvm_has_device(f->inspect, ch->controller));
}

static void
test_batch(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "webdav", "serial", "serial", "serial", "serial", "serial", "serial",
                            "serial", "serial", "usbredir", "port,fqdn=org.example.a", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GPtrArray) listed = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;

    g_assert_true(add_specs(f->svc, texts, &added, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(added->len, ==, 11);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 11);
    for (guint i = 0; i < added->len; i++)
        assert_in_qemu(f, added->pdata[i]);
    listed = svc_list(f->svc, &error);
    g_assert_cmpuint(listed->len, ==, 11);

    g_assert_true(svc_remove(f->svc, NULL, &removed, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, 11);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
}

static void
test_explicit_placement(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "port,fqdn=org.example.term,port-name=com.example.term,"
                            "id=term,bus=vs0.0,nr=9", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) listed = NULL;
    const SvcChannel *ch;

    g_assert_true(add_specs(f->svc, texts, &added, &error));
    g_assert_no_error(error);
    listed = svc_list(f->svc, &error);
    ch = listed->pdata[0];
    g_assert_cmpstr(ch->id, ==, "term");
    g_assert_cmpstr(ch->spice_name, ==, "org.example.term");
    g_assert_cmpstr(ch->port_name, ==, "com.example.term");
    g_assert_cmpuint(ch->nr, ==, 9);
    assert_in_qemu(f, ch);
}

/* Each refused add must leave QEMU exactly as it was. */
static void
assert_add_refused(Fixture *f, const char *const *texts, int code)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;

    g_assert_false(add_specs(f->svc, texts, NULL, &error));
    g_assert_error(error, SVC_ERROR, code);
    g_assert_true(g_str_has_prefix(error->message, "cannot add '"));
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
}

static void
add_ok(Fixture *f, const char *const *texts)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    g_assert_no_error(error);
}

/* vs0 with room for two channels (port 0 is a console's), and a second bus, vs1. */
static void
setup_two_buses(Fixture *f, gconstpointer data)
{
    const char *const extra[] = { "-device", "virtio-serial-pci,id=vs1", NULL };

    fixture_start(f, 3, extra);
}

/* Two virtio-serial buses: a new channel takes the first one with room, and port numbers and
 * guest port names are checked across both, a port added by hand included (README). */
static void
test_two_buses(Fixture *f, gconstpointer data)
{
    const char *port_name[] = { "port,fqdn=org.example.b,port-name=org.example.hand", NULL };
    const char *nr[] = { "serial,bus=vs1.0,nr=1", NULL };
    const char *two[] = { "serial", "webdav", NULL };
    const char *third[] = { "stream", NULL };
    g_autoptr(GPtrArray) first = NULL;
    g_autoptr(GPtrArray) next = NULL;
    g_autoptr(GError) error = NULL;
    const SvcChannel *ch;

    testvm_add_port(f->inspect, "c-hand", "hand", "vs1.0", 1, "org.example.hand");
    assert_add_refused(f, port_name, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, nr, SVC_ERROR_NAME_IN_USE);

    g_assert_true(add_specs(f->svc, two, &first, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < first->len; i++) {
        ch = first->pdata[i];
        g_assert_cmpstr(ch->bus, ==, "vs0.0");
        g_assert_cmpuint(ch->nr, ==, i + 1);
    }
    g_assert_true(add_specs(f->svc, third, &next, &error));
    g_assert_no_error(error);
    ch = next->pdata[0];
    g_assert_cmpstr(ch->bus, ==, "vs1.0");
    g_assert_cmpuint(ch->nr, ==, 2);
    assert_in_qemu(f, ch);
}

static void
test_capacity_singletons(Fixture *f, gconstpointer data)
{
    const char *first[] = { "vdagent", "webdav", "stream", NULL };
    const char *agent[] = { "vdagent", NULL };
    const char *webdav[] = { "serial", "webdav", NULL };
    const char *stream[] = { "stream", NULL };

    add_ok(f, first);
    assert_add_refused(f, agent, SVC_ERROR_CAPACITY);
    assert_add_refused(f, webdav, SVC_ERROR_CAPACITY);
    assert_add_refused(f, stream, SVC_ERROR_CAPACITY);
}

static void
test_capacity_bus_full(Fixture *f, gconstpointer data)
{
    const char *three[] = { "serial", "serial", "serial", NULL };
    const char *one[] = { "serial", NULL };

    add_ok(f, three);
    assert_add_refused(f, one, SVC_ERROR_CAPACITY);
}

static void
test_capacity_port_channels(Fixture *f, gconstpointer data)
{
    g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
    const char *one_more[] = { "port,fqdn=org.example.extra", NULL };
    const char *webdav[] = { "webdav", NULL };

    for (guint i = 0; i < 256; i++)
        g_ptr_array_add(texts, g_strdup_printf("port,fqdn=org.example.p%u", i));
    g_ptr_array_add(texts, NULL);
    add_ok(f, (const char *const *)texts->pdata);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 256);
    assert_add_refused(f, one_more, SVC_ERROR_CAPACITY);
    /* webdav is a channel type of its own in spice-server, so it still fits. */
    add_ok(f, webdav);
}

static void
test_capacity_smartcard(Fixture *f, gconstpointer data)
{
    const char *card[] = { "smartcard", NULL };
    const char *two[] = { "smartcard", "smartcard", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *after = NULL;

    assert_add_refused(f, two, SVC_ERROR_CAPACITY);
    add_ok(f, card);
    assert_add_refused(f, card, SVC_ERROR_CAPACITY);
    g_assert_true(svc_remove(f->svc, NULL, NULL, &error));
    g_assert_no_error(error);
    /* spice-server would abort QEMU on this one. */
    assert_add_refused(f, card, SVC_ERROR_CAPACITY);
    after = vm_snapshot(f->inspect);
    /* Under the name the README gives it: a QEMU marked by an older spicevmc stays marked. */
    g_assert_nonnull(strstr(after, "spicevmc-smartcard-used"));
}

static void
test_names_in_use(Fixture *f, gconstpointer data)
{
    const char *first[] = { "port,fqdn=org.example.a,id=taken,nr=4", NULL };
    const char *id[] = { "serial,id=taken", NULL };
    const char *id_of_controller[] = { "serial,id=vs0", NULL };
    const char *fqdn[] = { "port,fqdn=org.example.a", NULL };
    const char *port_name[] = { "port,fqdn=org.example.b,port-name=org.example.a", NULL };
    const char *nr[] = { "serial,nr=4", NULL };
    const char *in_batch[] = { "port,fqdn=org.example.c", "port,fqdn=org.example.c", NULL };
    const char *no_bus[] = { "serial,bus=vs1.0", NULL };
    const char *nr_range[] = { "serial,bus=vs0.0,nr=31", NULL };

    add_ok(f, first);
    assert_add_refused(f, id, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, id_of_controller, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, fqdn, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, port_name, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, nr, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, in_batch, SVC_ERROR_NAME_IN_USE);
    assert_add_refused(f, no_bus, SVC_ERROR_NO_BUS);
    assert_add_refused(f, nr_range, SVC_ERROR_INVALID);
}

static void
test_remove_refused(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "serial", NULL };
    const char *unknown[] = { "serial0", "nope", NULL };
    const char *controller[] = { "vs0", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    add_ok(f, texts);
    before = vm_snapshot(f->inspect);
    g_assert_false(svc_remove(f->svc, unknown, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_false(svc_remove(f->svc, controller, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND);
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
}

static void
test_no_controllers(void)
{
    g_autoptr(TestVm) vm = testvm_start_bare(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcVm) svc = svc_vm_connect_qmp(vm->qmp_path, 10000, &error);
    const char *serial[] = { "serial", NULL };
    const char *usb[] = { "usbredir", NULL };
    const char *card[] = { "smartcard", NULL };

    g_assert_no_error(error);
    g_assert_false(add_specs(svc, serial, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NO_BUS);
    g_clear_error(&error);
    g_assert_false(add_specs(svc, usb, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NO_BUS);
    g_clear_error(&error);
    g_assert_false(add_specs(svc, card, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NO_BUS);
}

int
main(int argc, char **argv)
{
    static const char *const kinds[] = { "vdagent", "usbredir", "smartcard", "webdav", "serial",
                                         "stream", "port" };

    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autofree char *path = g_strdup_printf("/channels/add-remove/%s", kinds[i]);

        g_test_add(path, Fixture, NULL, setup, test_kind, teardown);
    }
    g_test_add("/channels/batch", Fixture, NULL, setup, test_batch, teardown);
    g_test_add("/channels/explicit-placement", Fixture, NULL, setup, test_explicit_placement,
               teardown);
    g_test_add("/channels/capacity/singletons", Fixture, NULL, setup, test_capacity_singletons,
               teardown);
    g_test_add("/channels/capacity/bus-full", Fixture, GUINT_TO_POINTER(4), setup,
               test_capacity_bus_full, teardown);
    g_test_add("/channels/capacity/256-port-channels", Fixture, GUINT_TO_POINTER(511), setup,
               test_capacity_port_channels, teardown);
    g_test_add("/channels/capacity/smartcard", Fixture, NULL, setup, test_capacity_smartcard,
               teardown);
    g_test_add("/channels/names-in-use", Fixture, NULL, setup, test_names_in_use, teardown);
    g_test_add("/channels/two-buses", Fixture, NULL, setup_two_buses, test_two_buses, teardown);
    g_test_add("/channels/remove/refused", Fixture, NULL, setup, test_remove_refused, teardown);
    g_test_add_func("/channels/no-controllers", test_no_controllers);
    return g_test_run();
}
