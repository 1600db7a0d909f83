/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Planning: names, addresses and limits for a new channel, decided before QEMU is touched. */
#include "config.h"

#include "svc-private.h"

void
svc_planned_free(SvcPlanned *p)
{
    if (!p)
        return;
    svc_channel_free(p->channel);
    g_free(p->ccid_usb_bus);
    g_free(p);
}

static char *
list_buses(SvcInventory *inv)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; i < inv->serial_buses->len; i++) {
        SvcPortMap *map = inv->serial_buses->pdata[i];

        g_string_append_printf(out, "%s%s", i ? ", " : "", map->name);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
no_serial_bus(SvcInventory *inv, const char *bus, GError **error)
{
    g_autofree char *known = list_buses(inv);

    if (!inv->serial_buses->len) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NO_BUS,
                    "the VM has no virtio-serial bus (add a controller, e.g. "
                    "-device virtio-serial-pci)");
    } else {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NO_BUS,
                    "the VM has no virtio-serial bus '%s' (it has: %s)", bus, known);
    }
    return FALSE;
}

static gboolean
place_on_bus(SvcInventory *inv, SvcPortMap *map, guint nr, SvcChannel *ch, GError **error)
{
    if (nr && !svc_port_map_valid(map, nr)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "port number %u is out of range for bus '%s' (1 to %u)",
                    nr, map->name, map->max_ports - 1);
        return FALSE;
    }
    if (nr && !svc_port_map_is_free(map, nr)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "port %u on bus '%s' is already in use", nr, map->name);
        return FALSE;
    }
    if (!nr && !(nr = inv->from_top ? svc_port_map_last_free(map) : svc_port_map_first_free(map))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "virtio-serial bus '%s' has no free port (all %u in use)",
                    map->name, map->max_ports - 1);
        return FALSE;
    }
    ch->bus = g_strdup(map->name);
    ch->nr = nr;
    return TRUE;
}

static gboolean
place_virtio(SvcInventory *inv, const SvcSpec *spec, const char *bus, SvcChannel *ch,
             GError **error)
{
    if (bus) {
        SvcPortMap *map = svc_inventory_find_serial_bus(inv, bus);

        return map ? place_on_bus(inv, map, spec->nr, ch, error) : no_serial_bus(inv, bus, error);
    }
    for (guint i = 0; i < inv->serial_buses->len; i++) {
        SvcPortMap *map = inv->serial_buses->pdata[i];

        if (spec->nr ? svc_port_map_is_free(map, spec->nr) : svc_port_map_first_free(map) > 0)
            return place_on_bus(inv, map, spec->nr, ch, error);
    }
    if (!inv->serial_buses->len)
        return no_serial_bus(inv, NULL, error);
    if (spec->nr) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "port %u is in use or out of range on every virtio-serial bus", spec->nr);
    } else {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "every port of every virtio-serial bus is in use");
    }
    return FALSE;
}

static const char *
find_usb_bus(SvcInventory *inv, const char *bus, const char *driver, GError **error)
{
    for (guint i = 0; i < inv->usb_buses->len; i++) {
        if (!bus || g_strcmp0(bus, inv->usb_buses->pdata[i]) == 0)
            return inv->usb_buses->pdata[i];
    }
    if (bus) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NO_BUS, "the VM has no USB bus '%s'", bus);
    } else {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NO_BUS,
                    "the VM has no USB bus for %s (add a controller, e.g. -device qemu-xhci)",
                    driver);
    }
    return NULL;
}

/* A card goes on a usb-ccid that holds none yet; one is added when there is no such usb-ccid. */
static gboolean
place_card(SvcInventory *inv, const char *bus, SvcPlanned *p, GError **error)
{
    SvcChannel *ch = p->channel;
    SvcCcid *ccid = bus ? svc_inventory_find_ccid(inv, bus) : NULL;
    const char *usb_bus;

    if (ccid && ccid->has_card) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "ccid bus '%s' already holds a card (a usb-ccid takes one)", ccid->bus);
        return FALSE;
    }
    for (guint i = 0; !bus && !ccid && i < inv->ccids->len; i++) {
        SvcCcid *c = inv->ccids->pdata[i];

        if (!c->has_card)
            ccid = c;
    }
    if (ccid) {
        ch->bus = g_strdup(ccid->bus);
        return TRUE;
    }
    if (!(usb_bus = find_usb_bus(inv, bus, "usb-ccid", error)))
        return FALSE;
    ch->controller = g_strdup_printf("%s-ccid", ch->id);
    if (g_hash_table_contains(inv->taken_ids, ch->controller)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "device id '%s' (for the usb-ccid) is already in use", ch->controller);
        return FALSE;
    }
    ch->bus = g_strdup_printf("%s.0", ch->controller);
    p->new_ccid = TRUE;
    p->ccid_usb_bus = g_strdup(usb_bus);
    if (inv->from_top)
        p->ccid_usb_port = GPOINTER_TO_UINT(g_hash_table_lookup(inv->usb_ports, usb_bus));
    ccid = g_new0(SvcCcid, 1);
    ccid->id = g_strdup(ch->controller);
    ccid->bus = g_strdup(ch->bus);
    g_ptr_array_add(inv->ccids, ccid);
    g_hash_table_insert(inv->device_ids, g_strdup(ch->controller), g_strdup("usb-ccid"));
    g_hash_table_add(inv->taken_ids, g_strdup(ch->controller));
    return TRUE;
}

/* The bus the spec names, directly or by controller index. */
static gboolean
resolve_bus(SvcInventory *inv, const SvcSpec *spec, const char **bus, GError **error)
{
    *bus = spec->bus;
    if (spec->bus || spec->controller < 0)
        return TRUE;
    /* libvirt adds ccid controller 0 with the first card; so does spicevmc. */
    if (spec->kind->frontend == SVC_FRONT_CCID_CARD && spec->controller == 0 &&
        inv->ccids->len == 0)
        return TRUE;
    if (!(*bus = svc_inventory_bus_of_controller(inv, spec->kind->frontend, spec->controller))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NO_BUS, "the VM has no %s controller %d",
                    svc_frontend_controller_type(spec->kind->frontend), spec->controller);
        return FALSE;
    }
    return TRUE;
}

static gboolean
place(SvcInventory *inv, const SvcSpec *spec, SvcPlanned *p, GError **error)
{
    SvcChannel *ch = p->channel;
    const char *bus, *usb_bus;

    if (!resolve_bus(inv, spec, &bus, error))
        return FALSE;
    switch (spec->kind->frontend) {
    case SVC_FRONT_SERIALPORT:
    case SVC_FRONT_CONSOLE:
        return place_virtio(inv, spec, bus, ch, error);
    case SVC_FRONT_USB_REDIR:
        if (!(usb_bus = find_usb_bus(inv, bus, "usb-redir", error)))
            return FALSE;
        ch->bus = g_strdup(usb_bus);
        return TRUE;
    case SVC_FRONT_CCID_CARD:
        return place_card(inv, bus, p, error);
    }
    g_assert_not_reached();
}

static gboolean
check_limits(SvcInventory *inv, const SvcKind *kind, GError **error)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);
    guint have = inv->kind_count[kind - kinds];
    guint class_have = inv->class_count[kind->spice_class];
    guint class_limit = svc_class_limit(kind->spice_class);

    if (kind->max && have >= kind->max) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "the VM already has %u %s channel%s, the most spice-server serves",
                    have, kind->name, have == 1 ? "" : "s");
        return FALSE;
    }
    if (class_have >= class_limit) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                    "the VM already has %u SPICE %s channel%s, the most spice-server serves",
                    class_have, svc_class_name(kind->spice_class), class_have == 1 ? "" : "s");
        return FALSE;
    }
    if (kind->spice_class == SVC_CLASS_SMARTCARD && inv->smartcard_used) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_CAPACITY,
                            "this QEMU process has already had a smartcard, and spice-server "
                            "aborts QEMU on a second one; restart the VM to add another");
        return FALSE;
    }
    return TRUE;
}

static gboolean
choose_spice_name(SvcInventory *inv, const SvcSpec *spec, SvcChannel *ch, GError **error)
{
    const SvcKind *kind = spec->kind;
    const char *owner;

    /* A numbered name libvirt's XML gave (a console's source) is kept; else the lowest free. */
    if (kind->numbered && !spec->fqdn)
        ch->spice_name = svc_first_free_name(inv->spice_names, kind->spice_name, 0);
    else
        ch->spice_name = g_strdup(kind->spice_name && !kind->numbered ? kind->spice_name
                                                                      : spec->fqdn);
    if (!ch->spice_name) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "a %s channel needs a SPICE port name (fqdn=NAME)", kind->name);
        return FALSE;
    }
    if (kind->backend == SVC_BACKEND_SPICEPORT &&
        (owner = g_hash_table_lookup(inv->spice_names, ch->spice_name))) {
        g_autofree char *shown = qmp_escape(owner);   /* a QEMU device's id or path */

        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "SPICE port name '%s' is already used by '%s'", ch->spice_name, shown);
        return FALSE;
    }
    return TRUE;
}

static gboolean
choose_port_name(SvcInventory *inv, const SvcSpec *spec, SvcChannel *ch, GError **error)
{
    const char *owner;

    if (!svc_frontend_is_virtio_serial(spec->kind->frontend))
        return TRUE;
    ch->port_name = g_strdup(spec->port_name ? spec->port_name
                                             : svc_kind_default_port_name(spec->kind, ch->spice_name));
    if ((owner = g_hash_table_lookup(inv->port_names, ch->port_name))) {
        g_autofree char *shown = qmp_escape(owner);   /* a QEMU device's id or path */

        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "guest port name '%s' is already used by device '%s'", ch->port_name, shown);
        return FALSE;
    }
    return TRUE;
}

static gboolean
choose_id(SvcInventory *inv, const SvcSpec *spec, SvcChannel *ch, GError **error)
{
    if (!spec->id) {
        g_autofree char *prefix = g_strconcat(inv->id_prefix ? inv->id_prefix : "",
                                              spec->kind->name, NULL);

        ch->id = svc_first_free_name(inv->taken_ids, prefix, 0);
        return TRUE;
    }
    if (g_hash_table_contains(inv->taken_ids, spec->id)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "device id '%s' is already in use", spec->id);
        return FALSE;
    }
    ch->id = g_strdup(spec->id);
    return TRUE;
}

/* Everything the new channel takes becomes taken in @inv, so the next spec of a batch cannot
 * get it too. */
static void
claim(SvcInventory *inv, SvcPlanned *p)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);
    SvcChannel *ch = p->channel;

    g_hash_table_insert(inv->device_ids, g_strdup(ch->id), g_strdup(ch->driver));
    g_hash_table_add(inv->taken_ids, g_strdup(ch->id));
    g_hash_table_add(inv->chardev_ids, g_strdup(ch->chardev));
    if (ch->kind->backend == SVC_BACKEND_SPICEPORT)
        g_hash_table_insert(inv->spice_names, g_strdup(ch->spice_name), g_strdup(ch->id));
    inv->kind_count[ch->kind - kinds]++;
    inv->class_count[ch->kind->spice_class]++;
    svc_inventory_claim(inv, ch);
    if (ch->kind->spice_class == SVC_CLASS_SMARTCARD)
        p->mark_smartcard = !inv->smartcard_used;
    inv->smartcard_used |= ch->kind->spice_class == SVC_CLASS_SMARTCARD;
}

SvcPlanned *
svc_plan_add(SvcInventory *inv, const SvcSpec *spec, GError **error)
{
    g_autoptr(SvcPlanned) p = g_new0(SvcPlanned, 1);
    SvcChannel *ch;

    p->spec = spec;
    p->channel = ch = g_new0(SvcChannel, 1);
    ch->kind = spec->kind;
    ch->ours = TRUE;
    ch->driver = g_strdup(svc_frontend_driver(spec->kind->frontend));

    if (!check_limits(inv, spec->kind, error) ||
        !choose_id(inv, spec, ch, error) ||
        !choose_spice_name(inv, spec, ch, error) ||
        !place(inv, spec, p, error) ||
        !choose_port_name(inv, spec, ch, error))
        return NULL;
    ch->chardev = svc_chardev_id_encode(ch);
    if (g_hash_table_contains(inv->chardev_ids, ch->chardev)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE,
                    "chardev id '%s' is already in use", ch->chardev);
        return NULL;
    }
    claim(inv, p);
    return g_steal_pointer(&p);
}

json_object *
svc_cmd_chardev_add(const SvcChannel *ch)
{
    if (ch->kind->backend == SVC_BACKEND_SPICEVMC)
        return qmp_cmd_chardev_add_spicevmc(ch->chardev, ch->spice_name);
    return qmp_cmd_chardev_add_spiceport(ch->chardev, ch->spice_name);
}

json_object *
svc_cmd_frontend_add(const SvcChannel *ch)
{
    if (svc_frontend_is_virtio_serial(ch->kind->frontend))
        return qmp_cmd_device_add_virtio_port(ch->driver, ch->id, ch->bus, ch->nr, ch->chardev,
                                              ch->port_name);
    return qmp_cmd_device_add_chardev(ch->driver, ch->id, ch->bus, ch->chardev);
}
