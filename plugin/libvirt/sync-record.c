/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/libvirt/sync-record.c — what sync did to a running domain, in its live metadata
 * (schemas/spicevmc-sync.rng): the channels it added for the definition, the devices it could
 * not make live and why. */
#include "config.h"

#include <string.h>

#include "svc-domain.h"

#define SYNC_GRAMMAR "spicevmc-sync.rng"
#define SYNC_KEY "spicevmc-sync"
/* What the grammar allows of a reason. */
#define REASON_MAX 1024

static void
skipped_free(LvSkipped *s)
{
    g_free(s->device);
    g_free(s->reason);
    g_free(s);
}

LvSyncRecord *
svc_sync_record_new(void)
{
    LvSyncRecord *r = g_new0(LvSyncRecord, 1);

    r->added = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r->skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)skipped_free);
    return r;
}

void
svc_sync_record_free(LvSyncRecord *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->added);
    g_hash_table_unref(r->skipped);
    g_free(r);
}

/* The element as libvirt writes it in the definition names the device: a reason recorded for
 * it does not apply once the device changed. */
static char *
checksum(const LvDevice *lv)
{
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, lv->xml, -1);
}

/* One line, as the grammar wants it: QEMU's and libvirt's messages may hold anything. */
static char *
one_line(const char *text)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (const char *p = text; *p && out->len < REASON_MAX; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar)-1 || c == (gunichar)-2)
            break;
        if (g_unichar_iscntrl(c))
            c = ' ';
        if (out->len + g_unichar_to_utf8(c, NULL) > REASON_MAX)
            break;
        g_string_append_unichar(out, c);
    }
    if (!out->len)
        g_string_append(out, "unknown");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

void
svc_sync_record_skip(LvSyncRecord *r, const LvDevice *lv, const char *reason)
{
    LvSkipped *s = g_new0(LvSkipped, 1);

    s->device = g_strdup(lv->ch->id);
    s->reason = one_line(reason);
    g_hash_table_insert(r->skipped, checksum(lv), s);
}

const char *
svc_sync_record_reason(LvSyncRecord *r, const LvDevice *lv)
{
    g_autofree char *sum = checksum(lv);
    LvSkipped *s = g_hash_table_lookup(r->skipped, sum);

    return s ? s->reason : NULL;
}

static gboolean
same_ids(GHashTable *a, GHashTable *b)
{
    GHashTableIter iter;
    gpointer key;

    if (g_hash_table_size(a) != g_hash_table_size(b))
        return FALSE;
    g_hash_table_iter_init(&iter, a);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        if (!g_hash_table_contains(b, key))
            return FALSE;
    }
    return TRUE;
}

gboolean
svc_sync_record_equal(LvSyncRecord *a, LvSyncRecord *b)
{
    GHashTableIter iter;
    gpointer key, value;

    if (!same_ids(a->added, b->added) || !same_ids(a->skipped, b->skipped))
        return FALSE;
    g_hash_table_iter_init(&iter, a->skipped);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        LvSkipped *other = g_hash_table_lookup(b->skipped, key);

        if (g_strcmp0(((LvSkipped *)value)->reason, other->reason) != 0)
            return FALSE;
    }
    return TRUE;
}

LvSyncRecord *
svc_sync_record_read(SvcDomain *d, GError **error)
{
    g_autofree char *text = virDomainGetMetadata(d->dom, VIR_DOMAIN_METADATA_ELEMENT,
                                                 SVC_DOMAIN_SYNC_URI, VIR_DOMAIN_AFFECT_LIVE);
    g_autoptr(LvSyncRecord) r = svc_sync_record_new();
    g_autoptr(xmlDoc) doc = NULL;

    if (!text) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN_METADATA)
            return g_steal_pointer(&r);
        svc_libvirt_error(error, "cannot read spicevmc's sync record");
        return NULL;
    }
    /* The grammar has checked every attribute this reads. */
    if (!(doc = svc_xml_read(text, strlen(text), "sync record " SVC_DOMAIN_SYNC_URI,
                             SYNC_GRAMMAR, error)))
        return NULL;
    for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (g_str_equal((const char *)n->name, "added")) {
            g_hash_table_add(r->added, svc_xml_attr(n, "id"));
        } else {
            LvSkipped *s = g_new0(LvSkipped, 1);

            s->device = svc_xml_attr(n, "device");
            s->reason = svc_xml_attr(n, "reason");
            g_hash_table_insert(r->skipped, svc_xml_attr(n, "checksum"), s);
        }
    }
    return g_steal_pointer(&r);
}

/* Sorted, so that the same record is written the same. */
static GList *
sorted_keys(GHashTable *table)
{
    return g_list_sort(g_hash_table_get_keys(table), (GCompareFunc)strcmp);
}

static char *
record_xml(LvSyncRecord *r)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"sync");
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    GList *keys = sorted_keys(r->added);

    xmlDocSetRootElement(doc, root);
    for (GList *k = keys; k; k = k->next)
        xmlNewProp(xmlNewChild(root, NULL, (const xmlChar *)"added", NULL),
                   (const xmlChar *)"id", k->data);
    g_list_free(keys);
    keys = sorted_keys(r->skipped);
    for (GList *k = keys; k; k = k->next) {
        LvSkipped *s = g_hash_table_lookup(r->skipped, k->data);
        xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"skipped", NULL);

        xmlNewProp(n, (const xmlChar *)"device", (const xmlChar *)s->device);
        xmlNewProp(n, (const xmlChar *)"checksum", k->data);
        xmlNewProp(n, (const xmlChar *)"reason", (const xmlChar *)s->reason);
    }
    g_list_free(keys);
    xmlNodeDump(buf, doc, root, 0, 0);
    return g_strdup((const char *)xmlBufferContent(buf));
}

/* Live only: libvirt resets the live metadata from the persistent one at start, when libvirt
 * brings the definition's devices itself. */
gboolean
svc_sync_record_write(SvcDomain *d, LvSyncRecord *r, GError **error)
{
    g_autofree char *text = g_hash_table_size(r->added) || g_hash_table_size(r->skipped)
                                ? record_xml(r) : NULL;

    if (virDomainSetMetadata(d->dom, VIR_DOMAIN_METADATA_ELEMENT, text, SYNC_KEY,
                             SVC_DOMAIN_SYNC_URI, VIR_DOMAIN_AFFECT_LIVE) < 0)
        return svc_libvirt_error(error, "cannot write spicevmc's sync record");
    return TRUE;
}
