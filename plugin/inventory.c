/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inventory: the SPICE channels, buses and names a VM has, asked of QEMU in two round trips
 * (the inventory itself and its lookups are in inventory-model.c). */
#include "config.h"

#include <string.h>

#include "svc-private.h"

/* A device QEMU lists under /machine/peripheral or /machine/peripheral-anon. */
typedef struct {
    char *path;
    char *id;                 /* NULL for an anonymous device */
    char *type;
    /* Read with qom-get for frontends spicevmc did not create. */
    char *chardev;
    char *bus;
    guint nr;
    char *port_name;
    gboolean has_nr;
    /* Read with qom-get for controllers. */
    guint max_ports;          /* virtio-serial */
    guint usb_ports;          /* USB 2 root ports of an xhci */
} Device;

static void
device_free(Device *d)
{
    g_free(d->path);
    g_free(d->id);
    g_free(d->type);
    g_free(d->chardev);
    g_free(d->bus);
    g_free(d->port_name);
    g_free(d);
}

/* Controllers whose bus spicevmc can put frontends on, and where QOM keeps that bus. */
static const struct {
    const char *type;
    const char *bus_parent;   /* child holding the bus, relative to the device */
    const char *bus_type;
} controllers[] = {
    { "virtio-serial-pci", "/virtio-backend", "child<virtio-serial-bus>" },
    { "virtio-serial-pci-transitional", "/virtio-backend", "child<virtio-serial-bus>" },
    { "virtio-serial-pci-non-transitional", "/virtio-backend", "child<virtio-serial-bus>" },
    { "virtio-serial-ccw", "/virtio-backend", "child<virtio-serial-bus>" },
    { "virtio-serial-device", "", "child<virtio-serial-bus>" },
    { "qemu-xhci", "", "child<usb-bus>" },
    { "nec-usb-xhci", "", "child<usb-bus>" },
    { "usb-ehci", "", "child<usb-bus>" },
    { "ich9-usb-ehci1", "", "child<usb-bus>" },
    { "ich9-usb-ehci2", "", "child<usb-bus>" },
    { "piix3-usb-uhci", "", "child<usb-bus>" },
    { "piix4-usb-uhci", "", "child<usb-bus>" },
    { "ich9-usb-uhci1", "", "child<usb-bus>" },
    { "pci-ohci", "", "child<usb-bus>" },
    { "usb-ccid", "", "child<ccid-bus>" },
};

static int
controller_index(const char *type)
{
    for (guint i = 0; i < G_N_ELEMENTS(controllers); i++) {
        if (g_strcmp0(controllers[i].type, type) == 0)
            return i;
    }
    return -1;
}

static gboolean
is_virtio_port(const char *type)
{
    return g_strcmp0(type, "virtserialport") == 0 || g_strcmp0(type, "virtconsole") == 0;
}

/* Frontends whose chardev, bus and port spicevmc must know about even when it did not
 * create them: they take port numbers, guest port names and smartcard slots. */
static gboolean
is_inspected_frontend(const char *type)
{
    return is_virtio_port(type) || g_strcmp0(type, "usb-redir") == 0 ||
           g_str_has_prefix(type, "ccid-card-");
}

static const char *
get_string(json_object *obj, const char *key)
{
    json_object *member;

    return json_object_object_get_ex(obj, key, &member) ? json_object_get_string(member) : NULL;
}

/* What the first round trip brought, and what the second must ask. */
typedef struct {
    json_object *chardevs;    /* query-chardev */
    GPtrArray *devices;       /* Device */
    GHashTable *ours;         /* device id -> SvcChannel decoded from a chardev id (borrowed) */
    GPtrArray *decoded;       /* SvcChannel, owned until moved into the inventory */
} Scan;

static void
scan_clear(Scan *s)
{
    g_clear_pointer(&s->chardevs, json_object_put);
    g_clear_pointer(&s->devices, g_ptr_array_unref);
    g_clear_pointer(&s->ours, g_hash_table_unref);
    g_clear_pointer(&s->decoded, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Scan, scan_clear)

static gboolean
reply_ok(SvcReply *reply, const char *what, GError **error)
{
    if (reply->error) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_QEMU, "cannot read %s: %s", what,
                    reply->error->message);
        return FALSE;
    }
    return TRUE;
}

static void
add_devices(Scan *s, SvcInventory *inv, json_object *list, const char *container, gboolean named)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *prop = json_object_array_get_idx(list, i);
        const char *name = get_string(prop, "name");
        const char *type = get_string(prop, "type");
        Device *d;

        /* "child<TYPE>"; links and plain properties are not devices. */
        if (!g_str_has_prefix(type, "child<") || !g_str_has_suffix(type, ">") ||
            strlen(type) <= strlen("child<>"))
            continue;
        d = g_new0(Device, 1);
        d->path = g_strdup_printf("%s/%s", container, name);
        d->id = named ? g_strdup(name) : NULL;
        d->type = g_strndup(type + 6, strlen(type) - 7);
        if (named) {
            g_hash_table_insert(inv->device_ids, g_strdup(name), g_strdup(d->type));
            g_hash_table_add(inv->taken_ids, g_strdup(name));
        }
        g_ptr_array_add(s->devices, d);
    }
}

static void
find_marker(SvcInventory *inv, json_object *objects)
{
    for (size_t i = 0; i < json_object_array_length(objects); i++) {
        json_object *prop = json_object_array_get_idx(objects, i);

        if (g_strcmp0(get_string(prop, "name"), SVC_SMARTCARD_MARKER) == 0)
            inv->smartcard_used = TRUE;
    }
}

/* The replies of the first round, type-checked before anything reads them. */
static gboolean
check_first_round(SvcReply *r, gboolean need_buses, GError **error)
{
    if (!reply_ok(&r[0], "the chardev list", error) ||
        !reply_ok(&r[1], "the device list", error) ||
        !svc_reply_check_chardevs(r[0].ret, error) ||
        !svc_reply_check_properties(r[1].ret, "qom-list of /machine/peripheral", error))
        return FALSE;
    /* A machine with no anonymous device has no such container at all. */
    if (!r[2].error &&
        !svc_reply_check_properties(r[2].ret, "qom-list of /machine/peripheral-anon", error))
        return FALSE;
    return !need_buses || !r[3].ret ||
           svc_reply_check_properties(r[3].ret, "qom-list of /objects", error);
}

static gboolean
first_round(SvcVm *vm, SvcInventory *inv, Scan *s, gboolean need_buses, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    SvcReply *r = NULL;
    gboolean ok;

    g_ptr_array_add(cmds, qmp_cmd_query_chardev());
    g_ptr_array_add(cmds, qmp_cmd_qom_list("/machine/peripheral"));
    g_ptr_array_add(cmds, qmp_cmd_qom_list("/machine/peripheral-anon"));
    if (need_buses)
        g_ptr_array_add(cmds, qmp_cmd_qom_list("/objects"));
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    ok = check_first_round(r, need_buses, error);
    if (ok) {
        s->chardevs = g_steal_pointer(&r[0].ret);
        s->devices = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
        add_devices(s, inv, r[1].ret, "/machine/peripheral", TRUE);
        if (!r[2].error)
            add_devices(s, inv, r[2].ret, "/machine/peripheral-anon", FALSE);
        if (need_buses && r[3].ret)
            find_marker(inv, r[3].ret);
    }
    svc_replies_free(r, cmds->len);
    return ok;
}

/* Our chardev ids say which device each belongs to; that device needs no qom-get. */
static void
decode_ours(SvcInventory *inv, Scan *s)
{
    s->ours = g_hash_table_new(g_str_hash, g_str_equal);
    s->decoded = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    for (size_t i = 0; i < json_object_array_length(s->chardevs); i++) {
        json_object *info = json_object_array_get_idx(s->chardevs, i);
        const char *label = get_string(info, "label");
        SvcChannel *ch;

        g_hash_table_add(inv->chardev_ids, g_strdup(label));
        ch = svc_chardev_id_decode(label);
        if (!ch)
            continue;
        g_ptr_array_add(s->decoded, ch);
        g_hash_table_insert(s->ours, ch->id, ch);
    }
}

static gboolean
is_ours(Scan *s, const Device *d)
{
    SvcChannel *ch = d->id ? g_hash_table_lookup(s->ours, d->id) : NULL;

    return ch && g_strcmp0(ch->driver, d->type) == 0;
}

typedef enum {
    Q_MAX_PORTS, Q_USB_PORTS, Q_BUS_LIST, Q_CHARDEV, Q_PARENT_BUS, Q_NR, Q_NAME
} QueryKind;

/* The property each qom-get reads (Q_BUS_LIST is a qom-list). */
static const char *const query_property[] = {
    [Q_MAX_PORTS] = "max_ports", [Q_USB_PORTS] = "p2", [Q_CHARDEV] = "chardev",
    [Q_PARENT_BUS] = "parent_bus", [Q_NR] = "nr", [Q_NAME] = "name",
};

typedef struct {
    Device *device;
    QueryKind kind;
} Query;

static char *
bus_parent(const Device *d)
{
    return g_strconcat(d->path, controllers[controller_index(d->type)].bus_parent, NULL);
}

static void
add_query(GPtrArray *cmds, GArray *queries, Device *d, QueryKind kind)
{
    g_autofree char *parent = kind == Q_BUS_LIST ? bus_parent(d) : NULL;
    Query q = { d, kind };

    g_ptr_array_add(cmds, parent ? qmp_cmd_qom_list(parent)
                                 : qmp_cmd_qom_get(d->path, query_property[kind]));
    g_array_append_val(queries, q);
}

static void
plan_second_round(SvcInventory *inv, Scan *s, gboolean need_buses, GPtrArray *cmds,
                  GArray *queries)
{
    for (guint i = 0; i < s->devices->len; i++) {
        Device *d = s->devices->pdata[i];
        int c = controller_index(d->type);

        if (c >= 0 && need_buses && d->id) {
            if (g_str_has_prefix(d->type, "virtio-serial"))
                add_query(cmds, queries, d, Q_MAX_PORTS);
            /* Only placement from the top picks a USB port itself (plan.c). */
            if (inv->from_top && g_str_has_suffix(d->type, "-xhci"))
                add_query(cmds, queries, d, Q_USB_PORTS);
            add_query(cmds, queries, d, Q_BUS_LIST);
        }
        if (!is_inspected_frontend(d->type) || is_ours(s, d))
            continue;
        add_query(cmds, queries, d, Q_CHARDEV);
        add_query(cmds, queries, d, Q_PARENT_BUS);
        if (is_virtio_port(d->type)) {
            add_query(cmds, queries, d, Q_NR);
            add_query(cmds, queries, d, Q_NAME);
        }
    }
}

static void
record_bus(SvcInventory *inv, Device *d, json_object *list)
{
    int c = controller_index(d->type);

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *prop = json_object_array_get_idx(list, i);
        const char *name = get_string(prop, "name");

        if (g_strcmp0(get_string(prop, "type"), controllers[c].bus_type) != 0)
            continue;
        if (g_str_has_prefix(d->type, "virtio-serial")) {
            g_ptr_array_add(inv->serial_buses, svc_port_map_new(name, d->max_ports));
        } else if (g_strcmp0(d->type, "usb-ccid") == 0) {
            SvcCcid *ccid = g_new0(SvcCcid, 1);

            ccid->id = g_strdup(d->id);
            ccid->bus = g_strdup(name);
            g_ptr_array_add(inv->ccids, ccid);
        } else {
            g_ptr_array_add(inv->usb_buses, g_strdup(name));
            if (d->usb_ports)
                g_hash_table_insert(inv->usb_ports, g_strdup(name), GUINT_TO_POINTER(d->usb_ports));
        }
    }
}

/* "qom-get of /machine/peripheral/vs0 max_ports", for messages. */
static char *
query_command(const Query *q)
{
    g_autofree char *parent = NULL;

    if (q->kind != Q_BUS_LIST)
        return g_strdup_printf("qom-get of %s %s", q->device->path, query_property[q->kind]);
    parent = bus_parent(q->device);
    return g_strdup_printf("qom-list of %s", parent);
}

static gboolean
apply_answer(SvcInventory *inv, const Query *q, json_object *ret, GError **error)
{
    Device *d = q->device;
    g_autofree char *command = query_command(q);
    const char *property = query_property[q->kind];

    switch (q->kind) {
    case Q_MAX_PORTS:
        return svc_reply_uint(ret, 1, SVC_MAX_PORTS, command, property, &d->max_ports, error);
    case Q_USB_PORTS:
        return svc_reply_uint(ret, 0, SVC_MAX_USB_PORTS, command, property, &d->usb_ports,
                              error);
    case Q_NR:
        if (!svc_reply_uint(ret, 0, G_MAXUINT32, command, property, &d->nr, error))
            return FALSE;
        d->has_nr = TRUE;
        return TRUE;
    case Q_BUS_LIST:
        if (!svc_reply_check_properties(ret, command, error))
            return FALSE;
        record_bus(inv, d, ret);
        return TRUE;
    case Q_CHARDEV:
    case Q_PARENT_BUS:
    case Q_NAME:
        break;
    }
    if (!svc_reply_expect(ret, json_type_string, command, property, error))
        return FALSE;
    if (q->kind == Q_CHARDEV)
        d->chardev = g_strdup(json_object_get_string(ret));
    else if (q->kind == Q_PARENT_BUS)
        /* A QOM path; QEMU's bus names are its last component. */
        d->bus = g_path_get_basename(json_object_get_string(ret));
    else
        d->port_name = *json_object_get_string(ret) ? g_strdup(json_object_get_string(ret)) : NULL;
    return TRUE;
}

static gboolean
second_round(SvcVm *vm, SvcInventory *inv, Scan *s, gboolean need_buses, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GArray) queries = g_array_new(FALSE, FALSE, sizeof(Query));
    SvcReply *r = NULL;
    gboolean ok = TRUE;

    plan_second_round(inv, s, need_buses, cmds, queries);
    if (cmds->len == 0)
        return TRUE;
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    for (guint i = 0; ok && i < queries->len; i++) {
        const Query *q = &g_array_index(queries, Query, i);

        /* A device unplugged between the two rounds simply drops out. */
        if (r[i].ret)
            ok = apply_answer(inv, q, r[i].ret, error);
    }
    svc_replies_free(r, cmds->len);
    return ok;
}

static SvcChannel *
foreign_channel(const char *label, const char *backend, GHashTable *by_label)
{
    Device *d = g_hash_table_lookup(by_label, label);
    SvcChannel *ch = g_new0(SvcChannel, 1);

    ch->chardev = g_strdup(label);
    if (d) {
        ch->id = g_strdup(d->id ? d->id : d->path);
        ch->driver = g_strdup(d->type);
        ch->bus = g_strdup(d->bus);
        ch->nr = d->nr;
        ch->port_name = g_strdup(d->port_name);
    } else {
        ch->id = g_strdup(label);
        ch->state = SVC_STATE_NO_DEVICE;
    }
    ch->kind = svc_kind_infer(backend, ch->driver, ch->port_name);
    if (ch->kind && ch->kind->backend == SVC_BACKEND_SPICEVMC)
        ch->spice_name = g_strdup(ch->kind->spice_name);
    else if (ch->kind && ch->kind->spice_name && !ch->kind->numbered)
        ch->spice_name = g_strdup(ch->kind->spice_name);
    else
        ch->spice_name = g_strdup(ch->port_name);
    return ch;
}

static void
count_channel(SvcInventory *inv, const SvcChannel *ch, gboolean registered)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    if (!ch->kind || !registered)
        return;
    inv->kind_count[ch->kind - kinds]++;
    inv->class_count[ch->kind->spice_class]++;
}

static void
build_channels(SvcInventory *inv, Scan *s)
{
    g_autoptr(GHashTable) by_label = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < s->devices->len; i++) {
        Device *d = s->devices->pdata[i];

        if (d->chardev)
            g_hash_table_insert(by_label, d->chardev, d);
    }
    for (size_t i = 0; i < json_object_array_length(s->chardevs); i++) {
        json_object *info = json_object_array_get_idx(s->chardevs, i);
        const char *label = get_string(info, "label");
        const char *backend = get_string(info, "filename");
        SvcChannel *ch = NULL;

        if (g_strcmp0(backend, "spicevmc") != 0 && g_strcmp0(backend, "spiceport") != 0)
            continue;
        for (guint j = 0; j < s->decoded->len; j++) {
            SvcChannel *c = s->decoded->pdata[j];

            if (strcmp(c->chardev, label) == 0) {
                ch = g_ptr_array_steal_index_fast(s->decoded, j);
                break;
            }
        }
        if (ch) {
            const char *type = g_hash_table_lookup(inv->device_ids, ch->id);

            if (g_strcmp0(type, ch->driver) != 0)
                ch->state = SVC_STATE_NO_DEVICE;
        } else {
            ch = foreign_channel(label, backend, by_label);
        }
        ch->guest_open = json_object_get_boolean(json_object_object_get(info, "frontend-open"));
        /* spiceport registers with spice-server at creation, spicevmc when its frontend
         * opens it. */
        count_channel(inv, ch, g_str_equal(backend, "spiceport") || ch->state == SVC_STATE_OK);
        g_ptr_array_add(inv->channels, ch);
    }
}

/* Port numbers, guest port names, SPICE names and smartcard slots in use. */
static void
claim_all(SvcInventory *inv, Scan *s)
{
    for (guint i = 0; i < inv->channels->len; i++) {
        SvcChannel *ch = inv->channels->pdata[i];

        /* A channel whose device is gone still holds its id: its chardev id carries it, and
         * remove finds it by it. */
        g_hash_table_add(inv->taken_ids, g_strdup(ch->id));
        if (ch->spice_name && ch->kind && ch->kind->backend == SVC_BACKEND_SPICEPORT)
            g_hash_table_insert(inv->spice_names, g_strdup(ch->spice_name), g_strdup(ch->id));
        if (ch->state == SVC_STATE_OK)
            svc_inventory_claim(inv, ch);
    }
    /* Frontends spicevmc did not create take addresses too, whatever their chardev (a guest
     * agent socket, a console, an emulated smartcard). */
    for (guint i = 0; i < s->devices->len; i++) {
        Device *d = s->devices->pdata[i];
        SvcPortMap *map = d->bus ? svc_inventory_find_serial_bus(inv, d->bus) : NULL;
        SvcCcid *ccid = d->bus ? svc_inventory_find_ccid(inv, d->bus) : NULL;

        if (map && d->has_nr)
            svc_port_map_take(map, d->nr);
        if (d->port_name && !g_hash_table_contains(inv->port_names, d->port_name))
            g_hash_table_insert(inv->port_names, g_strdup(d->port_name),
                                g_strdup(d->id ? d->id : d->path));
        if (ccid)
            ccid->has_card = TRUE;
    }
}

typedef struct {
    char *key;
    SvcChannel *ch;
} Keyed;

static void
keyed_clear(Keyed *k)
{
    g_free(k->key);
}

static int
compare_keyed(gconstpointer a, gconstpointer b)
{
    return strcmp(((const Keyed *)a)->key, ((const Keyed *)b)->key);
}

/* "serial2" before "serial10", as file managers sort; each key computed once. */
static void
sort_channels(GPtrArray *channels)
{
    g_autoptr(GArray) keyed = g_array_sized_new(FALSE, FALSE, sizeof(Keyed), channels->len);

    g_array_set_clear_func(keyed, (GDestroyNotify)keyed_clear);
    for (guint i = 0; i < channels->len; i++) {
        SvcChannel *ch = channels->pdata[i];
        Keyed k = { g_utf8_collate_key_for_filename(ch->id, -1), ch };

        g_array_append_val(keyed, k);
    }
    g_array_sort(keyed, compare_keyed);
    for (guint i = 0; i < keyed->len; i++)
        channels->pdata[i] = g_array_index(keyed, Keyed, i).ch;
}

/* The SPICE chardevs and every device, each a line, sorted: QEMU lists both from hash
 * tables, in no order to rely on. */
static char *
signature(Scan *s)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) out = g_string_new(NULL);

    for (size_t i = 0; i < json_object_array_length(s->chardevs); i++) {
        json_object *info = json_object_array_get_idx(s->chardevs, i);
        const char *backend = get_string(info, "filename");

        if (g_strcmp0(backend, "spicevmc") == 0 || g_strcmp0(backend, "spiceport") == 0)
            g_ptr_array_add(lines, g_strdup_printf("chardev %s %s", backend,
                                                   get_string(info, "label")));
    }
    for (guint i = 0; i < s->devices->len; i++) {
        Device *d = s->devices->pdata[i];

        g_ptr_array_add(lines, g_strdup_printf("device %s %s", d->type, d->path));
    }
    g_ptr_array_sort(lines, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(out, "%s\n", (char *)lines->pdata[i]);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The inventory from the first round's answers on. */
static SvcInventory *
load_rest(SvcVm *vm, SvcInventory *inv, Scan *s, gboolean need_buses, GError **error)
{
    decode_ours(inv, s);
    if (!second_round(vm, inv, s, need_buses, error))
        return NULL;
    build_channels(inv, s);
    claim_all(inv, s);
    sort_channels(inv->channels);
    return inv;
}

gboolean
svc_inventory_load_changed(SvcVm *vm, char **sig, SvcInventory **out, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_new();
    g_auto(Scan) s = { NULL };
    g_autofree char *now = NULL;

    *out = NULL;
    inv->id_prefix = g_strdup(svc_vm_get_id_prefix(vm));
    inv->from_top = svc_vm_get_from_top(vm);
    if (!first_round(vm, inv, &s, FALSE, error))
        return FALSE;
    now = signature(&s);
    if (g_strcmp0(now, *sig) == 0)
        return TRUE;
    if (!load_rest(vm, inv, &s, FALSE, error))
        return FALSE;
    g_free(*sig);
    *sig = g_steal_pointer(&now);
    *out = g_steal_pointer(&inv);
    return TRUE;
}

SvcInventory *
svc_inventory_load(SvcVm *vm, gboolean need_buses, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_new();
    g_auto(Scan) s = { NULL };

    inv->id_prefix = g_strdup(svc_vm_get_id_prefix(vm));
    inv->from_top = svc_vm_get_from_top(vm);
    if (!first_round(vm, inv, &s, need_buses, error) ||
        !load_rest(vm, inv, &s, need_buses, error))
        return NULL;
    return g_steal_pointer(&inv);
}

GPtrArray *
svc_list(SvcVm *vm, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, FALSE, error);

    return inv ? g_ptr_array_ref(inv->channels) : NULL;
}
