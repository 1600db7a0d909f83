/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt device XML out: libvirt's stock forms where it has one, spicevmc's named channel
 * otherwise; what it writes, svc_xml_parse_specs() reads back. */
#include "config.h"

#include "svc-xml.h"

/* What the XML of one channel says. */
typedef struct {
    const SvcKind *kind;
    const char *spice_name;
    const char *port_name;    /* NULL or the default: not written */
    const char *alias;        /* NULL: not written */
    int controller;           /* -1: no address */
    guint nr;
} Device;

static xmlNode *
add_element(xmlNode *parent, const char *name)
{
    return xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

static void
set(xmlNode *node, const char *name, const char *value)
{
    xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

static void
set_uint(xmlNode *node, const char *name, guint value)
{
    g_autofree char *text = g_strdup_printf("%u", value);

    set(node, name, text);
}

static void
add_target(xmlNode *node, const char *port_name)
{
    xmlNode *target = add_element(node, "target");

    set(target, "type", "virtio");
    if (port_name)
        set(target, "name", port_name);
}

static void
add_address(xmlNode *node, const Device *d)
{
    xmlNode *address;

    if (d->controller < 0)
        return;
    address = add_element(node, "address");
    switch (d->kind->frontend) {
    case SVC_FRONT_SERIALPORT:
    case SVC_FRONT_CONSOLE:
        set(address, "type", "virtio-serial");
        set_uint(address, "controller", d->controller);
        set(address, "bus", "0");
        if (d->nr)
            set_uint(address, "port", d->nr);
        break;
    case SVC_FRONT_USB_REDIR:
        set(address, "type", "usb");
        set_uint(address, "bus", d->controller);
        break;
    case SVC_FRONT_CCID_CARD:
        set(address, "type", "ccid");
        set_uint(address, "controller", d->controller);
        set(address, "slot", "0");
        break;
    }
}

/* The stock forms: the agent channel, a spiceport channel, a serial console, a redirdev, a
 * smartcard. */
static xmlNode *
stock_node(xmlNode *parent, const Device *d)
{
    xmlNode *node;

    if (d->kind->frontend == SVC_FRONT_CONSOLE) {
        node = add_element(parent, "console");
        set(node, "type", "spiceport");
        set(add_element(node, "source"), "channel", d->spice_name);
        set(add_element(node, "target"), "type", "virtio");
    } else if (d->kind->frontend == SVC_FRONT_USB_REDIR) {
        node = add_element(parent, "redirdev");
        set(node, "bus", "usb");
        set(node, "type", "spicevmc");
    } else if (d->kind->frontend == SVC_FRONT_CCID_CARD) {
        node = add_element(parent, "smartcard");
        set(node, "mode", "passthrough");
        set(node, "type", "spicevmc");
    } else if (d->kind->backend == SVC_BACKEND_SPICEVMC) {
        node = add_element(parent, "channel");
        set(node, "type", "spicevmc");
        add_target(node, d->kind->port_name);
    } else {
        node = add_element(parent, "channel");
        set(node, "type", "spiceport");
        set(add_element(node, "source"), "channel", d->spice_name);
        add_target(node, d->port_name ? d->port_name : d->spice_name);
    }
    return node;
}

/* libvirt has no form for a console under a guest port name of its own, nor for an agent
 * under another name. */
static gboolean
needs_extension(const Device *d)
{
    return (d->kind->frontend == SVC_FRONT_CONSOLE || d->kind->backend == SVC_BACKEND_SPICEVMC) &&
           d->port_name;
}

static void
add_device(xmlNode *parent, const Device *d)
{
    xmlNode *node;

    if (needs_extension(d)) {
        node = add_element(parent, "channel");
        set(node, "type", "spicevmc");
        set(node, "name", d->kind->name);
        if (d->port_name)
            add_target(node, d->port_name);
    } else {
        node = stock_node(parent, d);
    }
    if (d->alias)
        set(add_element(node, "alias"), "name", d->alias);
    add_address(node, d);
}

static char *
to_text(xmlNode *node, gboolean formatted)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, "UTF-8",
                                          (formatted ? XML_SAVE_FORMAT : 0) | XML_SAVE_NO_DECL);

    xmlSaveTree(save, node);
    xmlSaveClose(save);
    return g_strdup((const char *)xmlBufferContent(buf));
}

static char *
to_string(xmlNode *node)
{
    return to_text(node, TRUE);
}

/* A new document (in @doc) whose root is the <devices> returned. */
static xmlNode *
new_devices(xmlDoc **doc)
{
    xmlNode *root;

    *doc = xmlNewDoc((const xmlChar *)"1.0");
    root = xmlNewDocNode(*doc, NULL, (const xmlChar *)"devices", NULL);
    xmlDocSetRootElement(*doc, root);
    return root;
}

/* libvirt takes only user aliases ("ua-…") in device XML. */
static const char *
user_alias(const char *id)
{
    return id && g_str_has_prefix(id, "ua-") ? id : NULL;
}

/* The device of @spec under @parent. */
static gboolean
add_spec(xmlNode *parent, const SvcSpec *spec, GError **error)
{
    g_autofree char *first = NULL;
    Device d = { spec->kind, spec->kind->spice_name, NULL, user_alias(spec->id),
                 spec->controller, spec->nr };

    if (spec->id && !d.alias) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "libvirt takes only aliases starting with 'ua-' in device XML, not '%s'",
                    spec->id);
        return FALSE;
    }
    if (spec->kind->backend == SVC_BACKEND_SPICEPORT && !spec->kind->spice_name && !spec->fqdn) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "a %s channel needs a SPICE port name (--fqdn NAME)", spec->kind->name);
        return FALSE;
    }
    /* A console needs a name of its own: the first, unless the spec says. */
    if (spec->fqdn)
        d.spice_name = spec->fqdn;
    else if (spec->kind->numbered)
        d.spice_name = first = g_strconcat(spec->kind->spice_name, "0", NULL);
    d.port_name = svc_kind_explicit_port_name(spec->kind, d.spice_name, spec->port_name);
    add_device(parent, &d);
    return TRUE;
}

char *
svc_xml_for_spec(const SvcSpec *spec, GError **error)
{
    return svc_xml_for_specs((SvcSpec *const *)&spec, 1, error);
}

char *
svc_xml_for_specs(SvcSpec *const *specs, guint n, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *holder = new_devices(&doc);

    for (guint i = 0; i < n; i++) {
        if (!add_spec(holder, specs[i], error))
            return NULL;
    }
    return to_string(n == 1 ? holder->children : holder);
}

/* @ch under @alias, without an address. */
static Device
device_of_channel(const SvcChannel *ch, const char *alias)
{
    Device d = { ch->kind, ch->spice_name,
                 svc_kind_explicit_port_name(ch->kind, ch->spice_name, ch->port_name), alias,
                 -1, 0 };

    return d;
}

static Device
channel_device(SvcInventory *inv, const SvcChannel *ch)
{
    Device d = device_of_channel(ch, user_alias(ch->id));

    d.nr = ch->nr;
    /* A card on a usb-ccid of its own gets a new one when added back: no address. */
    if (!ch->controller)
        d.controller = svc_inventory_controller_of_bus(inv, ch->kind->frontend, ch->bus);
    return d;
}

/* One element alone, else the batch. */
static char *
batch_text(xmlNode *root, SvcXmlFlags flags)
{
    xmlNode *only = xmlFirstElementChild(root);

    if (!(flags & SVC_XML_BATCH) && only && !xmlNextElementSibling(only))
        return to_text(only, flags & SVC_XML_FORMATTED);
    return to_text(root, flags & SVC_XML_FORMATTED);
}

/* The channel @id names among those @pick takes, for "list ID --xml". */
SvcChannel *
svc_channels_pick(GPtrArray *channels, const char *id, gboolean (*pick)(const SvcChannel *ch),
                  GError **error)
{
    SvcChannel *ch = svc_channels_find(channels, id);

    if (!ch)
        g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND, "there is no SPICE channel '%s'", id);
    else if (!pick(ch))
        g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS,
                    "'%s' was not added by spicevmc%s: it has no device XML here", id,
                    ch->libvirt ? "" : " or libvirt");
    return ch && pick(ch) ? ch : NULL;
}

static gboolean
ours_present(const SvcChannel *ch)
{
    return ch->ours && ch->state == SVC_STATE_OK;
}

char *
svc_xml_list(SvcVm *vm, const char *const *ids, GError **error)
{
    g_autoptr(SvcInventory) inv = svc_inventory_load(vm, TRUE, error);
    g_autoptr(GPtrArray) chosen = g_ptr_array_new();
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root;

    if (!inv)
        return NULL;
    /* Others' channels are not spicevmc's to describe for detach. */
    for (guint i = 0; !ids && i < inv->channels->len; i++) {
        if (ours_present(inv->channels->pdata[i]))
            g_ptr_array_add(chosen, inv->channels->pdata[i]);
    }
    for (guint i = 0; ids && ids[i]; i++) {
        SvcChannel *ch = svc_channels_pick(inv->channels, ids[i], ours_present, error);

        if (!ch)
            return NULL;
        g_ptr_array_add(chosen, ch);
    }
    root = new_devices(&doc);
    for (guint i = 0; i < chosen->len; i++) {
        Device d = channel_device(inv, chosen->pdata[i]);

        add_device(root, &d);
    }
    return batch_text(root, SVC_XML_FORMATTED);
}

/* Channels as device XML, names and user aliases without addresses: for list --xml of a
 * domain, dry runs, and (a batch, unformatted) the domain's metadata. */
char *
svc_xml_for_channels(GPtrArray *channels, SvcXmlFlags flags)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root = new_devices(&doc);

    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];
        Device d = device_of_channel(ch, user_alias(ch->id));

        add_device(root, &d);
    }
    return batch_text(root, flags);
}

/* What libvirt itself takes for @ch, with its id as the alias: the stock forms. */
char *
svc_xml_for_libvirt(const SvcChannel *ch, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root, *node;
    Device d = device_of_channel(ch, ch->id);

    if (needs_extension(&d)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                    "libvirt has no form for a %s channel with guest port name '%s'",
                    ch->kind->name, ch->port_name);
        return NULL;
    }
    root = new_devices(&doc);
    node = stock_node(root, &d);
    set(add_element(node, "alias"), "name", ch->id);
    return to_string(node);
}
