/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/libvirt/domain-xml.c — a libvirt domain's SPICE devices as its XML (live, or the persistent
 * definition) describes them, and defining a domain again. */
#include "config.h"

#include "svc-domain.h"

static void
lv_device_free(LvDevice *lv)
{
    svc_channel_free(lv->ch);
    g_free(lv->xml);
    g_free(lv);
}

/* The channel an element of <devices> describes, or NULL when it is not SPICE's.  libvirt
 * writes this XML itself, in its canonical form. */
static SvcChannel *
device_channel(xmlNode *node)
{
    const char *element = (const char *)node->name;
    g_autofree char *type = svc_xml_attr(node, "type");
    g_autofree char *mode = svc_xml_attr(node, "mode");
    g_autofree char *source = svc_xml_attr(svc_xml_child(node, "source"), "channel");
    g_autofree char *target_type = svc_xml_attr(svc_xml_child(node, "target"), "type");
    g_autofree char *target = svc_xml_attr(svc_xml_child(node, "target"), "name");
    g_autoptr(SvcSpec) spec = NULL;
    const SvcKind *kind = NULL;

    if (g_str_equal(element, "channel") && g_strcmp0(type, "spicevmc") == 0)
        kind = svc_kind_lookup("vdagent");
    else if (g_str_equal(element, "channel") && g_strcmp0(type, "spiceport") == 0 && source)
        kind = svc_kind_for_spice_name(SVC_BACKEND_SPICEPORT, source);
    /* Another target type is a serial port (isa-serial), not a virtconsole. */
    else if (g_str_equal(element, "console") && g_strcmp0(type, "spiceport") == 0 && source &&
             g_strcmp0(target_type, "virtio") == 0)
        kind = svc_kind_lookup("serial");
    else if (g_str_equal(element, "redirdev") && g_strcmp0(type, "spicevmc") == 0)
        kind = svc_kind_lookup("usbredir");
    else if (g_str_equal(element, "smartcard") && g_strcmp0(type, "spicevmc") == 0 &&
             g_strcmp0(mode, "passthrough") == 0)
        kind = svc_kind_lookup("smartcard");
    if (!kind)
        return NULL;
    spec = svc_spec_new(kind->name, NULL);
    spec->id = svc_xml_attr(svc_xml_child(node, "alias"), "name");
    /* A console's SPICE name is numbered, a port's free: both are in the source. */
    if (kind->backend == SVC_BACKEND_SPICEPORT && (!kind->spice_name || kind->numbered))
        spec->fqdn = g_strdup(source);
    if (g_str_equal(element, "channel"))
        spec->port_name = g_strdup(target);
    return svc_channel_from_spec(spec);
}

/* libvirt's names for the aliases it gives devices at start, by element: the element's prefix
 * and its index among its like. */
static const struct {
    const char *element;
    const char *prefix;
} alias_prefixes[] = {
    { "channel", "channel" }, { "console", "console" }, { "redirdev", "redir" },
    { "smartcard", "smartcard" },
};

static char *
next_start_alias(xmlNode *node, GHashTable *counts)
{
    const char *element = (const char *)node->name;
    guint index = GPOINTER_TO_UINT(g_hash_table_lookup(counts, element));

    g_hash_table_insert(counts, (gpointer)element, GUINT_TO_POINTER(index + 1));
    for (guint i = 0; i < G_N_ELEMENTS(alias_prefixes); i++) {
        if (g_str_equal(alias_prefixes[i].element, element))
            return g_strdup_printf("%s%u", alias_prefixes[i].prefix, index);
    }
    return NULL;
}

static void
read_address(LvDevice *lv, xmlNode *node)
{
    xmlNode *address = svc_xml_child(node, "address");
    g_autofree char *type = svc_xml_attr(address, "type");
    g_autofree char *controller = svc_xml_attr(address, "controller");
    g_autofree char *bus = svc_xml_attr(address, "bus");
    g_autofree char *port = svc_xml_attr(address, "port");
    guint64 value;

    lv->controller = -1;
    if (g_strcmp0(type, "usb") == 0)
        controller = g_steal_pointer(&bus);
    if (controller && g_ascii_string_to_unsigned(controller, 10, 0, 99, &value, NULL))
        lv->controller = (int)value;
    if (g_strcmp0(type, "virtio-serial") == 0 && port &&
        g_ascii_string_to_unsigned(port, 10, 1, G_MAXUINT, &value, NULL))
        lv->port = (guint)value;
}

static char *dump(xmlDoc *doc, xmlNode *node);

GPtrArray *
svc_domain_devices_of_doc(xmlDoc *doc)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)lv_device_free);
    xmlNode *devices = svc_xml_child(xmlDocGetRootElement(doc), "devices");
    g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);

    for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        g_autofree char *alias = n->type == XML_ELEMENT_NODE ? next_start_alias(n, counts) : NULL;
        SvcChannel *ch = n->type == XML_ELEMENT_NODE ? device_channel(n) : NULL;
        LvDevice *lv;

        if (!ch)
            continue;
        ch->libvirt = TRUE;
        lv = g_new0(LvDevice, 1);
        lv->ch = ch;
        lv->xml = dump(doc, n);
        lv->aliased = ch->id != NULL;
        if (!ch->id)
            ch->id = g_steal_pointer(&alias);
        read_address(lv, n);
        g_ptr_array_add(found, lv);
    }
    return found;
}

xmlDoc *
svc_domain_doc(SvcDomain *d, unsigned int flags, GError **error)
{
    g_autofree char *text = virDomainGetXMLDesc(d->dom, flags);
    xmlDoc *doc;

    if (!text) {
        svc_libvirt_error(error, "cannot read the domain XML");
        return NULL;
    }
    if (!(doc = xmlReadMemory(text, strlen(text), "domain.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)))
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                            "libvirt gave domain XML that is not well-formed");
    return doc;
}

gboolean
svc_domain_define(SvcDomain *d, xmlDoc *doc, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    xmlChar *text = NULL;
    int len;

    xmlDocDumpMemory(doc, &text, &len);
    dom = virDomainDefineXML(d->conn, (const char *)text);
    xmlFree(text);
    if (!dom)
        return svc_libvirt_error(error, "cannot change the domain's definition");
    return TRUE;
}

static char *
dump(xmlDoc *doc, xmlNode *node)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();

    xmlNodeDump(buf, doc, node, 0, 0);
    return g_strdup((const char *)xmlBufferContent(buf));
}

gboolean
svc_domain_define_without(SvcDomain *d, GPtrArray *elements, GError **error)
{
    g_autoptr(xmlDoc) doc = svc_domain_doc(d, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE,
                                           error);
    xmlNode *devices = doc ? svc_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
    guint found = 0;

    if (!doc)
        return FALSE;
    for (xmlNode *n = devices ? devices->children : NULL, *next; n; n = next) {
        g_autofree char *text = NULL;

        next = n->next;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        text = dump(doc, n);
        if (g_ptr_array_find_with_equal_func(elements, text, g_str_equal, NULL)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
            found++;
        }
    }
    if (found != elements->len) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                    "the definition of domain '%s' changed while it was being read", d->name);
        return FALSE;
    }
    return svc_domain_define(d, doc, error);
}

GPtrArray *
svc_domain_devices(SvcDomain *d, gboolean inactive, GError **error)
{
    g_autoptr(xmlDoc) doc = svc_domain_doc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0, error);

    return doc ? svc_domain_devices_of_doc(doc) : NULL;
}

LvDevice *
svc_domain_find_device(GPtrArray *devices, const char *id)
{
    for (guint i = 0; i < devices->len; i++) {
        LvDevice *lv = devices->pdata[i];

        if (g_strcmp0(lv->ch->id, id) == 0)
            return lv;
    }
    return NULL;
}

static gboolean
same_device(const LvDevice *lv, const SvcChannel *ch)
{
    return lv->ch->kind == ch->kind && g_strcmp0(lv->ch->spice_name, ch->spice_name) == 0 &&
           g_strcmp0(lv->ch->port_name, ch->port_name) == 0;
}

LvDevice *
svc_domain_config_device(GPtrArray *config_devices, const SvcChannel *ch, GHashTable *synced)
{
    gboolean user_alias = ch->id && g_str_has_prefix(ch->id, SVC_DOMAIN_ID_PREFIX);

    /* A user alias is kept in both; libvirt's own aliases only in the live XML. */
    for (guint i = 0; user_alias && i < config_devices->len; i++) {
        LvDevice *lv = config_devices->pdata[i];

        if (!lv->taken && lv->aliased && g_str_equal(lv->ch->id, ch->id))
            return lv;
    }
    if (user_alias && !(synced && g_hash_table_contains(synced, ch->id)))
        return NULL;
    for (guint i = 0; i < config_devices->len; i++) {
        LvDevice *lv = config_devices->pdata[i];

        if (!lv->taken && !lv->aliased && same_device(lv, ch))
            return lv;
    }
    return NULL;
}

GArray *
svc_domain_match_live(GPtrArray *live, GPtrArray *live_devices, GPtrArray *config_devices,
                      GHashTable *synced)
{
    GArray *matched = g_array_sized_new(FALSE, FALSE, sizeof(int), live->len);

    for (guint i = 0; i < live->len; i++) {
        const SvcChannel *ch = live->pdata[i];
        LvDevice *lv = live_devices ? svc_domain_find_device(live_devices, ch->id) : NULL;
        /* libvirt's live XML has the names QEMU does not show. */
        LvDevice *config = svc_domain_config_device(config_devices, lv ? lv->ch : ch, synced);
        guint index = 0;
        int found = -1;

        if (config && g_ptr_array_find(config_devices, config, &index)) {
            config->taken = TRUE;
            found = (int)index;
        }
        g_array_append_val(matched, found);
    }
    return matched;
}

gboolean
svc_domain_channel_is_live(const SvcChannel *ch)
{
    return ch->ours && ch->id && (ch->state == SVC_STATE_OK || ch->state == SVC_STATE_NO_DEVICE);
}

