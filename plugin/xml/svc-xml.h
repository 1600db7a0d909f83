/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libvirt XML files of libspicevmc share: libxml2 cleanups and limits. */
#pragma once

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "svc-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* Attribute @name of @node (NULL safe), to free; and the first child element named @name. */
char *svc_xml_attr(xmlNode *node, const char *name);
xmlNode *svc_xml_child(xmlNode *node, const char *name);

/* @data parsed as device XML is (no network, no DTD, no entities, size and NUL checked) and
 * validated against the grammar schemas/@grammar: the document, or NULL and the first problem,
 * named with @filename and its line. */
xmlDoc *svc_xml_read(const char *data, gsize len, const char *filename, const char *grammar,
                     GError **error);

/* Device XML for libvirt (xml-write.c). */
char *svc_xml_for_libvirt(const SvcChannel *ch, GError **error);

/* ---- the grammar read as data (xml-grammar.c), to explain errors ----- */

typedef struct {
    xmlDoc *doc;
    GHashTable *defines;      /* name -> <define> */
    xmlNode *start;
} SvcRng;

/* One form an element may take, flattened: its attributes and its child elements. */
typedef struct {
    const char *name;
    gboolean required;
    xmlNode *value;           /* pattern of the value; NULL: any text */
} SvcRngAttr;

typedef struct {
    const char *name;
    guint min, max;
    GPtrArray *patterns;      /* <element> patterns of that name (borrowed) */
} SvcRngChild;

typedef struct {
    GPtrArray *attrs;         /* SvcRngAttr */
    GPtrArray *children;      /* SvcRngChild */
    gboolean text;
} SvcRngModel;

SvcRng *svc_rng_load(const char *text, gsize len);
void svc_rng_free(SvcRng *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcRng, svc_rng_free)
void svc_rng_model_free(SvcRngModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcRngModel, svc_rng_model_free)
/* The forms of <element> pattern @element (or of <start>), SvcRngModel each. */
GPtrArray *svc_rng_models(SvcRng *g, xmlNode *element);
SvcRngAttr *svc_rng_find_attr(const SvcRngModel *m, const char *name);
SvcRngChild *svc_rng_find_child(const SvcRngModel *m, const char *name);
/* Whether @value matches value pattern @p (NULL: any), as RelaxNG compares it. */
gboolean svc_rng_value_ok(SvcRng *g, xmlNode *p, const char *value);
/* What a value of pattern @p may be, in words, into @out (no duplicates). */
void svc_rng_describe_values(SvcRng *g, xmlNode *p, GPtrArray *out);

/* Why @doc, which libxml2 found invalid against the grammar @grammar_text, is invalid: the
 * first problem in the user's terms ("type='pty' is not allowed: expected 'spicevmc' or
 * 'spiceport'"), the element it is about (@node) and its @line; NULL when it finds none. */
char *svc_xml_explain(const char *grammar_text, gsize len, xmlDoc *doc, xmlNode **node,
                      long *line);
