/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt device XML in: parsed without network or entities, validated against
 * schemas/spicevmc-channel.rng, and turned into specs. */
#include "config.h"

#include <string.h>

#include "svc-xml.h"

#define CHANNEL_SCHEMA "spicevmc-channel.rng"

/* The first problem libxml2 reports (later ones are consequences or alternatives), and the
 * first element it names: RelaxNG's first complaint sometimes comes without one. */
typedef struct {
    char *message;
    int line;
    xmlNode *node;
} FirstError;

static void
first_error_clear(FirstError *f)
{
    g_free(f->message);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FirstError, first_error_clear)

static void
on_error(void *data, xmlErrorPtr err)
{
    FirstError *f = data;
    xmlNode *node = err->node;

    if (!f->message && err->message) {
        f->message = g_strstrip(g_strdup(err->message));
        f->line = err->line;
    }
    if (!f->node && node && node->type == XML_ELEMENT_NODE)
        f->node = node;
}

/* A parser context's structured errors come with the context as their data. */
static void
on_parse_error(void *data, xmlErrorPtr err)
{
    xmlParserCtxt *ctxt = data;

    on_error(ctxt->_private, err);
}

/* RelaxNG errors name an element ("Element channel failed to validate attributes") that may
 * be an ancestor of the node they are reported on; show that element as it was written. */
static char *
describe_node(xmlNode *node, const char *message)
{
    g_autoptr(GString) out = g_string_new("<");
    const char *named = message ? strstr(message, "Element ") : NULL;

    if (named) {
        g_autofree char *name = g_strndup(named + 8, strcspn(named + 8, " :"));

        for (xmlNode *n = node; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
            if (g_str_equal((const char *)n->name, name)) {
                node = n;
                break;
            }
        }
    }
    g_string_append(out, (const char *)node->name);
    for (xmlAttr *a = node->properties; a; a = a->next) {
        g_autofree char *value = (char *)xmlGetProp(node, a->name);
        g_autofree char *shown = g_strescape(value, NULL);

        g_string_append_printf(out, " %s='%s'", a->name, shown);
    }
    g_string_append_c(out, '>');
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
invalid(GError **error, const char *filename, FirstError *f)
{
    xmlNode *node = f->node;
    g_autofree char *where = node ? describe_node(node, f->message) : NULL;
    int line = node ? (int)xmlGetLineNo(node) : f->line;
    g_autofree char *message = g_strescape(f->message ? f->message : "not well-formed XML",
                                           NULL);

    if (where)
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "%s:%d: %s: %s", filename, line, where,
                    message);
    else
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "%s:%d: %s", filename, line, message);
    return FALSE;
}

/* libxml2 keeps no line for a DTD or a NUL; the text does.  @needle NULL: the first NUL. */
static guint
line_of(const char *data, gsize len, const char *needle)
{
    const char *at = needle ? g_strstr_len(data, len, needle) : memchr(data, '\0', len);
    guint line = 1;

    for (const char *p = data; at && p < at; p++)
        line += *p == '\n';
    return line;
}

/* No network, no DTD loading, no entity substitution; a DOCTYPE is refused outright, so no
 * entity can be declared either. */
static xmlDoc *
parse(const char *data, gsize len, const char *filename, GError **error)
{
    g_auto(FirstError) f = { NULL };
    g_autoptr(xmlParserCtxt) ctxt = NULL;
    xmlDoc *doc;

    if (len > SVC_XML_MAX_SIZE) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s: larger than %d KiB, too large for device XML", filename,
                    SVC_XML_MAX_SIZE / 1024);
        return NULL;
    }
    /* libxml2 would stop reading at the NUL and take what came before for the whole file. */
    if (memchr(data, '\0', len)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s:%u: a NUL byte (at byte %" G_GSIZE_FORMAT "): device XML is text",
                    filename, line_of(data, len, NULL),
                    (gsize)((const char *)memchr(data, '\0', len) - data));
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    /* This parse's errors come to this context's handler, not to the process-wide one the
     * application may have set. */
    ctxt->_private = &f;
    ctxt->sax->serror = on_parse_error;
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, filename, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        invalid(error, filename, &f);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s:%u: a DOCTYPE is not allowed in device XML", filename,
                    line_of(data, len, "<!DOCTYPE"));
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static xmlRelaxNG *
load_schema(GBytes *text, const char *name, GError **error)
{
    g_autoptr(xmlRelaxNGParserCtxt) pctxt = NULL;
    g_auto(FirstError) f = { NULL };
    xmlRelaxNG *schema;
    gsize len;
    const char *data = g_bytes_get_data(text, &len);

    pctxt = xmlRelaxNGNewMemParserCtxt(data, len);
    xmlRelaxNGSetParserStructuredErrors(pctxt, on_error, &f);
    schema = xmlRelaxNGParse(pctxt);
    if (!schema)
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "cannot load the schema %s: %s",
                    name, f.message ? f.message : "unknown error");
    return schema;
}

/* libxml2 decides; the grammar, read again, says why in the user's terms, where it can. */
static gboolean
validate(xmlDoc *doc, const char *filename, const char *grammar, GError **error)
{
    g_autoptr(GBytes) text = svc_schema_lookup(grammar, error);
    g_autoptr(xmlRelaxNG) schema = text ? load_schema(text, grammar, error) : NULL;
    g_autoptr(xmlRelaxNGValidCtxt) vctxt = NULL;
    g_auto(FirstError) f = { NULL };
    g_autofree char *why = NULL;
    g_autofree char *where = NULL;
    xmlNode *node = NULL;
    long line = 0;
    gsize len;
    const char *data;

    if (!schema)
        return FALSE;
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, on_error, &f);
    if (xmlRelaxNGValidateDoc(vctxt, doc) == 0)
        return TRUE;
    data = g_bytes_get_data(text, &len);
    if (!(why = svc_xml_explain(data, len, doc, &node, &line)))
        return invalid(error, filename, &f);
    where = describe_node(node, NULL);
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "%s:%ld: %s: %s", filename, line, where, why);
    return FALSE;
}

char *
svc_xml_attr(xmlNode *node, const char *name)
{
    return node ? (char *)xmlGetProp(node, (const xmlChar *)name) : NULL;
}

xmlNode *
svc_xml_child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, name))
            return c;
    }
    return NULL;
}

/* Set @key from attribute @attr of @node, when present. */
static gboolean
set_from(SvcSpec *spec, const char *key, xmlNode *node, const char *attr, GError **error)
{
    g_autofree char *value = svc_xml_attr(node, attr);

    return !value || svc_spec_set(spec, key, value, error);
}

/* A virtio-serial or ccid address names the controller and the port; a USB address the
 * controller as its bus, and its port is where libvirt put the device (not used). */
static gboolean
apply_address(SvcSpec *spec, xmlNode *address, GError **error)
{
    g_autofree char *type = NULL;
    g_autofree char *controller = NULL;

    if (!address)
        return TRUE;
    type = svc_xml_attr(address, "type");
    controller = svc_xml_attr(address, g_str_equal(type, "usb") ? "bus" : "controller");
    /* The schema allows two digits. */
    spec->controller = atoi(controller);
    return !g_str_equal(type, "virtio-serial") || set_from(spec, "nr", address, "port", error);
}

/* The kind a stock spiceport channel is, from its SPICE name. */
static SvcSpec *
spiceport_spec(const char *fqdn, GError **error)
{
    const SvcKind *kind = svc_kind_for_spice_name(SVC_BACKEND_SPICEPORT, fqdn);
    g_autoptr(SvcSpec) spec = svc_spec_new(kind->name, error);

    if (!kind->spice_name && !svc_spec_set(spec, "fqdn", fqdn, error))
        return NULL;
    return g_steal_pointer(&spec);
}

static SvcSpec *
channel_spec(xmlNode *node, GError **error)
{
    g_autofree char *type = svc_xml_attr(node, "type");
    g_autofree char *name = svc_xml_attr(node, "name");
    g_autofree char *fqdn = NULL;
    g_autoptr(SvcSpec) spec = NULL;
    xmlNode *target = svc_xml_child(node, "target");

    if (g_str_equal(type, "spiceport")) {
        fqdn = svc_xml_attr(svc_xml_child(node, "source"), "channel");
        spec = spiceport_spec(fqdn, error);
    } else if (!name) {
        spec = svc_spec_new("vdagent", error);
    } else if (svc_kind_lookup(name)) {
        spec = svc_spec_new(name, error);
    } else {
        spec = svc_spec_new("port", error);
        if (spec && !svc_spec_set(spec, "fqdn", name, error))
            return NULL;
    }
    if (!spec || !set_from(spec, "port-name", target, "name", error))
        return NULL;
    return g_steal_pointer(&spec);
}

/* A serial console: its SPICE name is in the source (the grammar allows only the serial
 * names). */
static SvcSpec *
console_spec(xmlNode *node, GError **error)
{
    g_autoptr(SvcSpec) spec = svc_spec_new("serial", error);

    if (spec)
        spec->fqdn = svc_xml_attr(svc_xml_child(node, "source"), "channel");
    return g_steal_pointer(&spec);
}

static SvcSpec *
device_spec(xmlNode *node, const char *filename, GError **error)
{
    const char *element = (const char *)node->name;
    g_autoptr(SvcSpec) spec = NULL;

    if (g_str_equal(element, "channel"))
        spec = channel_spec(node, error);
    else if (g_str_equal(element, "console"))
        spec = console_spec(node, error);
    else if (g_str_equal(element, "redirdev"))
        spec = svc_spec_new("usbredir", error);
    else
        spec = svc_spec_new("smartcard", error);
    if (!spec || !set_from(spec, "id", svc_xml_child(node, "alias"), "name", error) ||
        !apply_address(spec, svc_xml_child(node, "address"), error)) {
        g_prefix_error(error, "%s:%ld: ", filename, xmlGetLineNo(node));
        return NULL;
    }
    spec->origin = g_strdup_printf("%s:%ld", filename, xmlGetLineNo(node));
    return g_steal_pointer(&spec);
}

xmlDoc *
svc_xml_read(const char *data, gsize len, const char *filename, const char *grammar,
             GError **error)
{
    g_autoptr(xmlDoc) doc = parse(data, len, filename, error);

    if (!doc || !validate(doc, filename, grammar, error))
        return NULL;
    return g_steal_pointer(&doc);
}

GPtrArray *
svc_xml_parse_specs(const char *data, gsize len, const char *filename, GError **error)
{
    g_autoptr(xmlDoc) doc = svc_xml_read(data, len, filename, CHANNEL_SCHEMA, error);
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    xmlNode *root;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!g_str_equal((const char *)root->name, "devices"))
        root = (xmlNode *)doc;
    for (xmlNode *n = root->children; n; n = n->next) {
        SvcSpec *spec;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!(spec = device_spec(n, filename, error)))
            return NULL;
        g_ptr_array_add(specs, spec);
    }
    return g_steal_pointer(&specs);
}

void
svc_xml_specs_for_attach(GPtrArray *specs)
{
    for (guint i = 0; i < specs->len; i++) {
        SvcSpec *spec = specs->pdata[i];

        if (spec->id && !g_str_has_prefix(spec->id, "ua-"))
            g_clear_pointer(&spec->id, g_free);
    }
}
