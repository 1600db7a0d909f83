/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for address allocation and planning against hand-built inventories (no QEMU). */
#include "config.h"

#include <string.h>

#include "svc-private.h"

static void
test_port_map(void)
{
    g_autoptr(SvcPortMap) map = svc_port_map_new("vs0.0", 4);

    g_assert_false(svc_port_map_valid(map, 0));
    g_assert_false(svc_port_map_valid(map, 4));
    g_assert_true(svc_port_map_valid(map, 3));
    g_assert_cmpuint(svc_port_map_first_free(map), ==, 1);
    svc_port_map_take(map, 1);
    svc_port_map_take(map, 3);
    g_assert_cmpuint(svc_port_map_first_free(map), ==, 2);
    g_assert_false(svc_port_map_is_free(map, 3));
    svc_port_map_take(map, 2);
    g_assert_cmpuint(svc_port_map_first_free(map), ==, 0);
    g_assert_cmpuint(svc_port_map_last_free(map), ==, 0);
    g_assert_cmpuint(svc_port_map_count_used(map), ==, 3);
    /* A foreign port beyond max_ports must not write out of bounds. */
    svc_port_map_take(map, 4000);
}

static void
test_first_free_name(void)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    a = svc_first_free_name(taken, "serial", 0);
    g_assert_cmpstr(a, ==, "serial0");
    g_hash_table_add(taken, (gpointer)"serial0");
    g_hash_table_add(taken, (gpointer)"serial2");
    b = svc_first_free_name(taken, "serial", 0);
    g_assert_cmpstr(b, ==, "serial1");
}

/* A VM with one virtio-serial bus of @max_ports, a USB bus, and nothing else. */
static SvcInventory *
make_inventory(guint max_ports)
{
    SvcInventory *inv = svc_inventory_new();

    g_ptr_array_add(inv->serial_buses, svc_port_map_new("vs0.0", max_ports));
    g_ptr_array_add(inv->usb_buses, g_strdup("xhci0.0"));
    g_hash_table_insert(inv->device_ids, g_strdup("vs0"), g_strdup("virtio-serial-pci"));
    g_hash_table_insert(inv->device_ids, g_strdup("xhci0"), g_strdup("qemu-xhci"));
    g_hash_table_add(inv->taken_ids, g_strdup("vs0"));
    g_hash_table_add(inv->taken_ids, g_strdup("xhci0"));
    return inv;
}

static SvcPlanned *
plan(SvcInventory *inv, const char *text, GError **error)
{
    g_autoptr(SvcSpec) spec = svc_spec_parse(text, error);

    g_assert_nonnull(spec);
    return svc_plan_add(inv, spec, error);
}

static void
test_plan_batch_claims(void)
{
    g_autoptr(SvcInventory) inv = make_inventory(31);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) a = NULL;
    g_autoptr(SvcPlanned) b = NULL;

    /* Someone else's port at 1 (a guest agent socket, say). */
    svc_port_map_take(inv->serial_buses->pdata[0], 1);
    g_hash_table_insert(inv->port_names, g_strdup("org.qemu.guest_agent.0"), g_strdup("qga"));

    a = plan(inv, "serial", &error);
    g_assert_no_error(error);
    b = plan(inv, "serial", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a->channel->id, ==, "serial0");
    g_assert_cmpstr(b->channel->id, ==, "serial1");
    g_assert_cmpuint(a->channel->nr, ==, 2);
    g_assert_cmpuint(b->channel->nr, ==, 3);
    g_assert_cmpstr(a->channel->spice_name, ==, "org.qemu.console.serial.0");
    g_assert_cmpstr(b->channel->spice_name, ==, "org.qemu.console.serial.1");
    g_assert_cmpstr(b->channel->port_name, ==, "org.qemu.console.serial.1");
    g_assert_cmpstr(b->channel->driver, ==, "virtconsole");
}

static void
test_plan_port_name_in_use(void)
{
    g_autoptr(SvcInventory) inv = make_inventory(31);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) p = NULL;

    g_hash_table_insert(inv->port_names, g_strdup("org.spice-space.webdav.0"),
                        g_strdup("channel3"));
    p = plan(inv, "webdav", &error);
    g_assert_null(p);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE);
    g_assert_cmpstr(error->message, ==, "guest port name 'org.spice-space.webdav.0' is already "
                                        "used by device 'channel3'");
}

static void
test_plan_errors(void)
{
    const struct {
        const char *first;    /* planned first, must succeed; may be NULL */
        const char *text;
        int code;
    } cases[] = {
        { "vdagent", "vdagent", SVC_ERROR_CAPACITY },
        { "webdav", "webdav", SVC_ERROR_CAPACITY },
        { "stream", "stream", SVC_ERROR_CAPACITY },
        { "smartcard", "smartcard", SVC_ERROR_CAPACITY },
        { "serial,id=x", "usbredir,id=x", SVC_ERROR_NAME_IN_USE },
        { "serial,nr=5", "port,fqdn=a.b,nr=5", SVC_ERROR_NAME_IN_USE },
        { "port,fqdn=a.b", "port,fqdn=a.b", SVC_ERROR_NAME_IN_USE },
        { "port,fqdn=a.b", "port,fqdn=c.d,port-name=a.b", SVC_ERROR_NAME_IN_USE },
        { NULL, "port,fqdn=a.b,nr=31", SVC_ERROR_NAME_IN_USE },
        { NULL, "port,fqdn=a.b,bus=vs0.0,nr=31", SVC_ERROR_INVALID },
        { NULL, "port,fqdn=a.b,bus=vs9.0", SVC_ERROR_NO_BUS },
        { NULL, "usbredir,bus=vs0.0", SVC_ERROR_NO_BUS },
        { NULL, "port", SVC_ERROR_INVALID },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(SvcInventory) inv = make_inventory(31);
        g_autoptr(GError) error = NULL;
        g_autoptr(SvcPlanned) first = cases[i].first ? plan(inv, cases[i].first, &error) : NULL;
        g_autoptr(SvcPlanned) second = NULL;

        g_assert_no_error(error);
        second = plan(inv, cases[i].text, &error);
        if (second || !g_error_matches(error, SVC_ERROR, cases[i].code))
            g_error("'%s' after '%s': expected code %d, got %s", cases[i].text,
                    cases[i].first, cases[i].code, error ? error->message : "success");
    }
}

static void
test_plan_bus_full(void)
{
    g_autoptr(SvcInventory) inv = make_inventory(3);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) a = plan(inv, "serial", &error);
    g_autoptr(SvcPlanned) b = plan(inv, "serial", &error);
    g_autoptr(SvcPlanned) c = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    c = plan(inv, "serial", &error);
    g_assert_null(c);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
}

/* The README's limits per VM, as numbers: below one a channel is planned, at it refused. */
typedef struct {
    const char *kind;
    SvcClass spice_class;
    guint limit;
    const char *refusal;
} ClassLimit;

static const ClassLimit class_limits[] = {
    { "serial", SVC_CLASS_PORT, 256,
      "the VM already has 256 SPICE port channels, the most spice-server serves" },
    { "usbredir", SVC_CLASS_USBREDIR, 256,
      "the VM already has 256 SPICE usbredir channels, the most spice-server serves" },
};

static void
test_plan_class_limit(gconstpointer data)
{
    const ClassLimit *l = data;
    g_autoptr(SvcInventory) inv = make_inventory(511);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) below = NULL;
    g_autoptr(SvcPlanned) at = NULL;

    inv->class_count[l->spice_class] = l->limit - 1;
    below = plan(inv, l->kind, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(inv->class_count[l->spice_class], ==, l->limit);
    at = plan(inv, l->kind, &error);
    g_assert_null(at);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
    g_assert_cmpstr(error->message, ==, l->refusal);
}

static void
test_plan_no_bus(void)
{
    g_autoptr(SvcInventory) inv = svc_inventory_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) a = plan(inv, "webdav", &error);
    g_autoptr(SvcPlanned) b = NULL;

    g_assert_null(a);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NO_BUS);
    g_clear_error(&error);
    b = plan(inv, "usbredir", &error);
    g_assert_null(b);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NO_BUS);
}

/* Beside a manager that allocates from the bottom without seeing us, take from the top. */
static void
test_plan_from_top(void)
{
    g_autoptr(SvcInventory) inv = make_inventory(31);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) a = NULL;
    g_autoptr(SvcPlanned) b = NULL;
    g_autoptr(SvcPlanned) card = NULL;

    inv->id_prefix = g_strdup("ua-");
    inv->from_top = TRUE;
    g_hash_table_insert(inv->usb_ports, g_strdup("xhci0.0"), GUINT_TO_POINTER(4));
    a = plan(inv, "webdav", &error);
    b = plan(inv, "serial", &error);
    card = plan(inv, "smartcard", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a->channel->id, ==, "ua-webdav0");
    g_assert_cmpuint(a->channel->nr, ==, 30);
    g_assert_cmpuint(b->channel->nr, ==, 29);
    g_assert_cmpstr(card->channel->controller, ==, "ua-smartcard0-ccid");
    g_assert_cmpuint(card->ccid_usb_port, ==, 4);
}

static void
test_plan_smartcard(void)
{
    g_autoptr(SvcInventory) inv = make_inventory(31);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcPlanned) card = plan(inv, "smartcard", &error);
    SvcCcid *spare = g_new0(SvcCcid, 1);
    g_autoptr(SvcInventory) with_ccid = make_inventory(31);
    g_autoptr(SvcPlanned) reuse = NULL;
    g_autoptr(SvcInventory) used = make_inventory(31);
    g_autoptr(SvcPlanned) again = NULL;

    g_assert_no_error(error);
    g_assert_true(card->new_ccid);
    g_assert_true(card->mark_smartcard);
    g_assert_cmpstr(card->channel->controller, ==, "smartcard0-ccid");
    g_assert_cmpstr(card->channel->bus, ==, "smartcard0-ccid.0");
    g_assert_cmpstr(card->ccid_usb_bus, ==, "xhci0.0");

    /* An empty usb-ccid already there is used rather than a new one added. */
    spare->id = g_strdup("ccid0");
    spare->bus = g_strdup("ccid0.0");
    g_ptr_array_add(with_ccid->ccids, spare);
    reuse = plan(with_ccid, "smartcard", &error);
    g_assert_no_error(error);
    g_assert_false(reuse->new_ccid);
    g_assert_null(reuse->channel->controller);
    g_assert_cmpstr(reuse->channel->bus, ==, "ccid0.0");

    /* spice-server would abort QEMU on a second reader in the same process. */
    used->smartcard_used = TRUE;
    again = plan(used, "smartcard", &error);
    g_assert_null(again);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/alloc/port-map", test_port_map);
    g_test_add_func("/alloc/first-free-name", test_first_free_name);
    g_test_add_func("/plan/add/batch-claims", test_plan_batch_claims);
    g_test_add_func("/plan/add/port-name-in-use", test_plan_port_name_in_use);
    g_test_add_func("/plan/add/errors", test_plan_errors);
    g_test_add_func("/plan/add/bus-full", test_plan_bus_full);
    for (guint i = 0; i < G_N_ELEMENTS(class_limits); i++) {
        g_autofree char *path = g_strdup_printf("/plan/add/class-limit/%s",
                                                class_limits[i].kind);

        g_test_add_data_func(path, &class_limits[i], test_plan_class_limit);
    }
    g_test_add_func("/plan/add/no-bus", test_plan_no_bus);
    g_test_add_func("/plan/add/smartcard", test_plan_smartcard);
    g_test_add_func("/plan/add/from-top", test_plan_from_top);
    return g_test_run();
}
