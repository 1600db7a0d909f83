/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inventory of a VM as data: its channels, buses, names and ids, and the lookups and claims
 * planning makes on it (inventory.c reads it from QEMU). */
#include "config.h"

#include "svc-private.h"

void
svc_inventory_free(SvcInventory *inv)
{
    if (!inv)
        return;
    g_ptr_array_unref(inv->channels);
    g_ptr_array_unref(inv->serial_buses);
    g_ptr_array_unref(inv->usb_buses);
    g_ptr_array_unref(inv->ccids);
    g_hash_table_unref(inv->device_ids);
    g_hash_table_unref(inv->taken_ids);
    g_hash_table_unref(inv->chardev_ids);
    g_hash_table_unref(inv->port_names);
    g_hash_table_unref(inv->spice_names);
    g_hash_table_unref(inv->usb_ports);
    g_free(inv->id_prefix);
    g_free(inv);
}

static void
ccid_free(SvcCcid *c)
{
    g_free(c->id);
    g_free(c->bus);
    g_free(c);
}

SvcInventory *
svc_inventory_new(void)
{
    SvcInventory *inv = g_new0(SvcInventory, 1);

    inv->channels = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    inv->serial_buses = g_ptr_array_new_with_free_func((GDestroyNotify)svc_port_map_free);
    inv->usb_buses = g_ptr_array_new_with_free_func(g_free);
    inv->ccids = g_ptr_array_new_with_free_func((GDestroyNotify)ccid_free);
    inv->device_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    inv->taken_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    inv->chardev_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    inv->port_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    inv->spice_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    inv->usb_ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return inv;
}

SvcPortMap *
svc_inventory_find_serial_bus(SvcInventory *inv, const char *name)
{
    for (guint i = 0; i < inv->serial_buses->len; i++) {
        SvcPortMap *map = inv->serial_buses->pdata[i];

        if (g_strcmp0(map->name, name) == 0)
            return map;
    }
    return NULL;
}

SvcCcid *
svc_inventory_find_ccid(SvcInventory *inv, const char *bus)
{
    for (guint i = 0; i < inv->ccids->len; i++) {
        SvcCcid *ccid = inv->ccids->pdata[i];

        if (g_strcmp0(ccid->bus, bus) == 0)
            return ccid;
    }
    return NULL;
}

SvcChannel *
svc_inventory_find_channel(SvcInventory *inv, const char *id)
{
    return svc_channels_find(inv->channels, id);
}

/* The buses frontends of this kind can go on. */
static GPtrArray *
bus_names(SvcInventory *inv, SvcFrontend frontend)
{
    GPtrArray *names = g_ptr_array_new();

    switch (frontend) {
    case SVC_FRONT_SERIALPORT:
    case SVC_FRONT_CONSOLE:
        for (guint i = 0; i < inv->serial_buses->len; i++)
            g_ptr_array_add(names, ((SvcPortMap *)inv->serial_buses->pdata[i])->name);
        break;
    case SVC_FRONT_USB_REDIR:
        g_ptr_array_extend(names, inv->usb_buses, NULL, NULL);
        break;
    case SVC_FRONT_CCID_CARD:
        for (guint i = 0; i < inv->ccids->len; i++)
            g_ptr_array_add(names, ((SvcCcid *)inv->ccids->pdata[i])->bus);
        break;
    }
    return names;
}

/* libvirt names a controller's bus after the controller's alias: "virtio-serial0.0", "usb.0"
 * for the first USB controller and "usb1.0" after it, "ccid0.0".  A VM libvirt does not run
 * has names of its own; there, index 0 stands for its only bus of the type. */
static char *
libvirt_bus_name(SvcFrontend frontend, int index)
{
    const char *type = svc_frontend_controller_type(frontend);

    if (frontend == SVC_FRONT_USB_REDIR && index == 0)
        return g_strdup("usb.0");
    return g_strdup_printf("%s%d.0", type, index);
}

const char *
svc_inventory_bus_of_controller(SvcInventory *inv, SvcFrontend frontend, int index)
{
    g_autoptr(GPtrArray) names = bus_names(inv, frontend);
    g_autofree char *libvirt = libvirt_bus_name(frontend, index);

    for (guint i = 0; i < names->len; i++) {
        if (g_str_equal(names->pdata[i], libvirt))
            return names->pdata[i];
    }
    return index == 0 && names->len == 1 ? names->pdata[0] : NULL;
}

int
svc_inventory_controller_of_bus(SvcInventory *inv, SvcFrontend frontend, const char *bus)
{
    /* The index space is libvirt's: two digits. */
    for (int index = 0; bus && index < 100; index++) {
        if (g_strcmp0(svc_inventory_bus_of_controller(inv, frontend, index), bus) == 0)
            return index;
    }
    return -1;
}

void
svc_inventory_claim(SvcInventory *inv, const SvcChannel *ch)
{
    SvcPortMap *map = ch->bus ? svc_inventory_find_serial_bus(inv, ch->bus) : NULL;
    SvcCcid *ccid = ch->bus ? svc_inventory_find_ccid(inv, ch->bus) : NULL;

    if (map && ch->nr)
        svc_port_map_take(map, ch->nr);
    if (ch->port_name)
        g_hash_table_insert(inv->port_names, g_strdup(ch->port_name), g_strdup(ch->id));
    if (ccid)
        ccid->has_card = TRUE;
}
