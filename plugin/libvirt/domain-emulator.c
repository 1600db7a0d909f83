/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A domain's <emulator> switched to spicevmc-qemu, which puts spicevmc's QMP proxy on the
 * monitor, and back: in the persistent definition, since libvirt starts QEMU only once. */
#include "config.h"

#include <glib/gstdio.h>

#include "svc-domain.h"

/* The emulator the domain had, so that disable gives back that very path (a symlink such as
 * /usr/bin/kvm included). */
#define EMULATOR_URI "urn:spicevmc:emulator:1"
#define EMULATOR_KEY "spicevmc"

static gboolean
same_file(const char *a, const char *b)
{
    GStatBuf sa, sb;

    return g_stat(a, &sa) == 0 && g_stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static xmlNode *
emulator_node(xmlDoc *doc, GError **error)
{
    xmlNode *devices = svc_xml_child(xmlDocGetRootElement(doc), "devices");
    xmlNode *node = devices ? svc_xml_child(devices, "emulator") : NULL;

    if (!node)
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                            "libvirt gave domain XML without an <emulator>");
    return node;
}

/* spicevmc's record in <metadata>, or NULL. */
static xmlNode *
record_node(xmlDoc *doc)
{
    xmlNode *metadata = svc_xml_child(xmlDocGetRootElement(doc), "metadata");

    for (xmlNode *n = metadata ? metadata->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && n->ns &&
            g_strcmp0((const char *)n->ns->href, EMULATOR_URI) == 0)
            return n;
    }
    return NULL;
}

static void
write_record(xmlDoc *doc, const char *emulator)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *metadata = svc_xml_child(root, "metadata");
    xmlNode *record;

    if (!metadata)
        metadata = xmlNewChild(root, NULL, BAD_CAST "metadata", NULL);
    record = xmlNewChild(metadata, NULL, BAD_CAST "emulator", NULL);
    xmlSetNs(record, xmlNewNs(record, BAD_CAST EMULATOR_URI, BAD_CAST EMULATOR_KEY));
    xmlNewProp(record, BAD_CAST "path", BAD_CAST emulator);
}

static void
drop_node(xmlNode *node)
{
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

/* The persistent definition, secrets included, since it is defined again whole. */
static xmlDoc *
definition(SvcDomain *d, GError **error)
{
    if (virDomainIsPersistent(d->dom) != 1) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                    "domain '%s' is transient: its emulator is set when it is created",
                    d->name);
        return NULL;
    }
    return svc_domain_doc(d, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE, error);
}

gboolean
svc_domain_enable_wrapper(SvcDomain *d, const char *wrapper, const char *qemu, gboolean *changed,
                          GError **error)
{
    g_autoptr(xmlDoc) doc = definition(d, error);
    xmlNode *node = doc ? emulator_node(doc, error) : NULL;
    g_autofree char *emulator = node ? (char *)xmlNodeGetContent(node) : NULL;
    xmlNode *old;

    *changed = FALSE;
    if (!emulator)
        return FALSE;
    if (!g_file_test(wrapper, G_FILE_TEST_IS_EXECUTABLE)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "'%s' is not an executable", wrapper);
        return FALSE;
    }
    if (same_file(emulator, wrapper))
        return TRUE;
    if (!same_file(emulator, qemu)) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "domain '%s' runs '%s', but spicevmc-qemu runs '%s'", d->name, emulator,
                    qemu);
        return FALSE;
    }
    if ((old = record_node(doc)))
        drop_node(old);
    write_record(doc, emulator);
    xmlNodeSetContent(node, BAD_CAST wrapper);
    return (*changed = svc_domain_define(d, doc, error));
}

gboolean
svc_domain_disable_wrapper(SvcDomain *d, const char *wrapper, const char *qemu,
                           gboolean *changed, GError **error)
{
    g_autoptr(xmlDoc) doc = definition(d, error);
    xmlNode *node = doc ? emulator_node(doc, error) : NULL;
    g_autofree char *emulator = node ? (char *)xmlNodeGetContent(node) : NULL;
    xmlNode *record;
    g_autofree char *was = NULL;

    *changed = FALSE;
    if (!emulator)
        return FALSE;
    if (!same_file(emulator, wrapper) && g_strcmp0(emulator, wrapper) != 0)
        return TRUE;
    record = record_node(doc);
    was = record ? svc_xml_attr(record, "path") : NULL;
    if (record) {
        xmlNode *metadata = record->parent;

        drop_node(record);
        if (!xmlFirstElementChild(metadata))
            drop_node(metadata);
    }
    xmlNodeSetContent(node, BAD_CAST(was ? was : qemu));
    return (*changed = svc_domain_define(d, doc, error));
}

gboolean
svc_domain_runs_wrapper(SvcDomain *d, const char *wrapper)
{
    g_autoptr(xmlDoc) doc = svc_domain_is_running(d) ? svc_domain_doc(d, 0, NULL) : NULL;
    xmlNode *node = doc ? emulator_node(doc, NULL) : NULL;
    g_autofree char *emulator = node ? (char *)xmlNodeGetContent(node) : NULL;

    return emulator && same_file(emulator, wrapper);
}
