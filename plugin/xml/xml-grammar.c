/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/xml/xml-grammar.c — the RelaxNG grammar read as data: the forms an element may take (its
 * attributes and child elements) and what each value may be, for explaining errors. */
#include "config.h"

#include <string.h>

#include "svc-xml.h"

#define RNG_NS "http://relaxng.org/ns/structure/1.0"
#define ANNOTATION_NS "http://relaxng.org/ns/compatibility/annotations/1.0"

/* ---- the grammar ------------------------------------------------------ */

static gboolean
is_rng(xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns &&
           g_strcmp0((const char *)n->ns->href, RNG_NS) == 0 &&
           (!name || g_str_equal((const char *)n->name, name));
}

static char *
prop(xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static void
index_defines(SvcRng *g, xmlNode *grammar)
{
    for (xmlNode *n = grammar->children; n; n = n->next) {
        if (is_rng(n, "define"))
            g_hash_table_insert(g->defines, prop(n, "name"), n);
        else if (is_rng(n, "start"))
            g->start = n;
    }
}

static xmlNode *
deref(SvcRng *g, xmlNode *ref)
{
    g_autofree char *name = prop(ref, "name");

    return g_hash_table_lookup(g->defines, name);
}

/* The pattern a <define> or an <attribute> holds, past annotations. */
static xmlNode *
first_pattern(xmlNode *parent)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (is_rng(c, NULL))
            return c;
    }
    return NULL;
}

/* ---- models: what a form of an element allows -------------------------- */

static void
child_decl_free(SvcRngChild *c)
{
    g_ptr_array_unref(c->patterns);
    g_free(c);
}

void
svc_rng_model_free(SvcRngModel *m)
{
    if (!m)
        return;
    g_ptr_array_unref(m->attrs);
    g_ptr_array_unref(m->children);
    g_free(m);
}

static SvcRngModel *
model_new(void)
{
    SvcRngModel *m = g_new0(SvcRngModel, 1);

    m->attrs = g_ptr_array_new_with_free_func(g_free);
    m->children = g_ptr_array_new_with_free_func((GDestroyNotify)child_decl_free);
    return m;
}

static SvcRngModel *
model_copy(const SvcRngModel *m)
{
    SvcRngModel *copy = model_new();

    for (guint i = 0; i < m->attrs->len; i++)
        g_ptr_array_add(copy->attrs, g_memdup2(m->attrs->pdata[i], sizeof(SvcRngAttr)));
    for (guint i = 0; i < m->children->len; i++) {
        const SvcRngChild *c = m->children->pdata[i];
        SvcRngChild *d = g_memdup2(c, sizeof(*c));

        d->patterns = g_ptr_array_copy(c->patterns, NULL, NULL);
        g_ptr_array_add(copy->children, d);
    }
    copy->text = m->text;
    return copy;
}

SvcRngAttr *
svc_rng_find_attr(const SvcRngModel *m, const char *name)
{
    for (guint i = 0; i < m->attrs->len; i++) {
        SvcRngAttr *a = m->attrs->pdata[i];

        if (g_str_equal(a->name, name))
            return a;
    }
    return NULL;
}

SvcRngChild *
svc_rng_find_child(const SvcRngModel *m, const char *name)
{
    for (guint i = 0; i < m->children->len; i++) {
        SvcRngChild *c = m->children->pdata[i];

        if (g_str_equal(c->name, name))
            return c;
    }
    return NULL;
}

static const char *
element_name(xmlNode *element)
{
    xmlAttr *a = xmlHasProp(element, (const xmlChar *)"name");

    return a && a->children ? (const char *)a->children->content : "";
}

static void
add_child(SvcRngModel *m, xmlNode *element, gboolean required, gboolean repeated)
{
    const char *name = element_name(element);
    SvcRngChild *c = svc_rng_find_child(m, name);

    if (!c) {
        c = g_new0(SvcRngChild, 1);
        c->name = name;
        c->patterns = g_ptr_array_new();
        g_ptr_array_add(m->children, c);
    }
    c->min = MAX(c->min, required ? 1 : 0);
    c->max = repeated ? G_MAXUINT : MAX(c->max, 1);
    g_ptr_array_add(c->patterns, element);
}

/* The <element>s a choice offers, when it offers nothing else. */
static gboolean
collect_elements(SvcRng *g, xmlNode *p, GPtrArray *out)
{
    if (is_rng(p, "element")) {
        g_ptr_array_add(out, p);
        return TRUE;
    }
    if (is_rng(p, "ref"))
        p = deref(g, p);
    else if (!is_rng(p, "choice"))
        return FALSE;
    for (xmlNode *c = p ? p->children : NULL; c; c = c->next) {
        if (is_rng(c, NULL) && !collect_elements(g, c, out))
            return FALSE;
    }
    return p != NULL;
}

static GPtrArray *add_patterns(SvcRng *g, GPtrArray *models, xmlNode *first, gboolean required,
                               gboolean repeated);

/* Add pattern @p to each of @models (consumed); a choice between attributes multiplies them. */
static GPtrArray *
add_pattern(SvcRng *g, GPtrArray *models, xmlNode *p, gboolean required, gboolean repeated)
{
    const char *what = (const char *)p->name;
    g_autoptr(GPtrArray) elements = NULL;
    GPtrArray *out;

    if (is_rng(p, "attribute")) {
        for (guint i = 0; i < models->len; i++) {
            SvcRngAttr *a = g_new0(SvcRngAttr, 1);

            a->name = element_name(p);
            a->required = required;
            a->value = first_pattern(p);
            g_ptr_array_add(((SvcRngModel *)models->pdata[i])->attrs, a);
        }
        return models;
    }
    if (is_rng(p, "element")) {
        for (guint i = 0; i < models->len; i++)
            add_child(models->pdata[i], p, required, repeated);
        return models;
    }
    if (is_rng(p, "text")) {
        for (guint i = 0; i < models->len; i++)
            ((SvcRngModel *)models->pdata[i])->text = TRUE;
        return models;
    }
    if (is_rng(p, "ref"))
        return add_patterns(g, models, deref(g, p)->children, required, repeated);
    if (g_str_equal(what, "optional") || g_str_equal(what, "zeroOrMore") ||
        g_str_equal(what, "oneOrMore") || g_str_equal(what, "group") ||
        g_str_equal(what, "interleave"))
        return add_patterns(g, models, p->children,
                            required && !g_str_equal(what, "optional") &&
                                !g_str_equal(what, "zeroOrMore"),
                            repeated || g_str_has_suffix(what, "OrMore"));
    if (!g_str_equal(what, "choice"))
        return models;
    /* A choice of elements: each may come. */
    elements = g_ptr_array_new();
    if (collect_elements(g, p, elements)) {
        for (guint i = 0; i < models->len; i++) {
            for (guint e = 0; e < elements->len; e++)
                add_child(models->pdata[i], elements->pdata[e], FALSE, repeated);
        }
        return models;
    }
    /* Anything else: one set of models per alternative. */
    out = g_ptr_array_new_with_free_func((GDestroyNotify)svc_rng_model_free);
    for (xmlNode *alt = p->children; alt; alt = alt->next) {
        GPtrArray *copies;

        if (!is_rng(alt, NULL))
            continue;
        copies = g_ptr_array_new_with_free_func((GDestroyNotify)svc_rng_model_free);
        for (guint i = 0; i < models->len; i++)
            g_ptr_array_add(copies, model_copy(models->pdata[i]));
        copies = add_pattern(g, copies, alt, required, repeated);
        for (guint i = 0; i < copies->len; i++)
            g_ptr_array_add(out, g_steal_pointer(&copies->pdata[i]));
        g_ptr_array_unref(copies);
    }
    g_ptr_array_unref(models);
    return out;
}

static GPtrArray *
add_patterns(SvcRng *g, GPtrArray *models, xmlNode *first, gboolean required, gboolean repeated)
{
    for (xmlNode *p = first; p; p = p->next) {
        if (is_rng(p, NULL))
            models = add_pattern(g, models, p, required, repeated);
    }
    return models;
}

/* The forms of <element> pattern @element, or of <start>. */
GPtrArray *
svc_rng_models(SvcRng *g, xmlNode *element)
{
    GPtrArray *models = g_ptr_array_new_with_free_func((GDestroyNotify)svc_rng_model_free);

    g_ptr_array_add(models, model_new());
    return add_patterns(g, models, element->children, TRUE, FALSE);
}

/* ---- values ----------------------------------------------------------- */

static char *
annotation(xmlNode *p)
{
    for (xmlNode *c = p->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns &&
            g_strcmp0((const char *)c->ns->href, ANNOTATION_NS) == 0 &&
            g_str_equal((const char *)c->name, "documentation"))
            return (char *)xmlNodeGetContent(c);
    }
    return NULL;
}

static gboolean
data_ok(xmlNode *data, const char *value)
{
    for (xmlNode *param = data->children; param; param = param->next) {
        g_autofree char *name = is_rng(param, "param") ? prop(param, "name") : NULL;
        g_autofree char *content = name ? (char *)xmlNodeGetContent(param) : NULL;

        /* XML Schema patterns match the whole value. */
        if (g_strcmp0(name, "pattern") == 0) {
            g_autofree char *anchored = g_strdup_printf("^(?:%s)$", content);

            if (!g_regex_match_simple(anchored, value, 0, 0))
                return FALSE;
        } else if (g_strcmp0(name, "maxLength") == 0 &&
                   g_utf8_strlen(value, -1) > g_ascii_strtoll(content, NULL, 10)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* A token's value as RelaxNG compares it: blanks collapsed and trimmed. */
static char *
token(const char *value)
{
    g_auto(GStrv) words = g_strsplit_set(value, " \t\n\r", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();

    for (guint i = 0; words[i]; i++) {
        if (*words[i])
            g_ptr_array_add(kept, words[i]);
    }
    g_ptr_array_add(kept, NULL);
    return g_strjoinv(" ", (char **)kept->pdata);
}

gboolean
svc_rng_value_ok(SvcRng *g, xmlNode *p, const char *value)
{
    if (!p || is_rng(p, "text"))
        return TRUE;
    if (is_rng(p, "ref"))
        return svc_rng_value_ok(g, first_pattern(deref(g, p)), value);
    if (is_rng(p, "data"))
        return data_ok(p, value);
    if (is_rng(p, "value")) {
        g_autofree char *type = prop(p, "type");
        g_autofree char *content = (char *)xmlNodeGetContent(p);

        if (!type || g_str_equal(type, "token")) {
            g_autofree char *a = token(content);
            g_autofree char *b = token(value);

            return g_str_equal(a, b);
        }
        return g_str_equal(content, value);
    }
    if (is_rng(p, "choice")) {
        for (xmlNode *alt = p->children; alt; alt = alt->next) {
            if (is_rng(alt, NULL) && svc_rng_value_ok(g, alt, value))
                return TRUE;
        }
        return FALSE;
    }
    return TRUE;
}

/* What the value of pattern @p may be, each as words, into @out (no duplicates). */
void
svc_rng_describe_values(SvcRng *g, xmlNode *p, GPtrArray *out)
{
    g_autofree char *text = NULL;

    if (is_rng(p, "ref")) {
        xmlNode *def = deref(g, p);

        for (xmlNode *c = def->children; c; c = c->next) {
            if (is_rng(c, NULL))
                svc_rng_describe_values(g, c, out);
        }
        return;
    }
    if (is_rng(p, "choice")) {
        for (xmlNode *alt = p->children; alt; alt = alt->next) {
            if (is_rng(alt, NULL))
                svc_rng_describe_values(g, alt, out);
        }
        return;
    }
    if (is_rng(p, "value")) {
        g_autofree char *content = (char *)xmlNodeGetContent(p);

        text = g_strdup_printf("'%s'", content);
    } else if (is_rng(p, "data")) {
        text = annotation(p);
    }
    if (text && !g_ptr_array_find_with_equal_func(out, text, g_str_equal, NULL))
        g_ptr_array_add(out, g_steal_pointer(&text));
}

SvcRng *
svc_rng_load(const char *text, gsize len)
{
    xmlDoc *doc = xmlReadMemory(text, (int)len, "grammar.rng", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    SvcRng *g;

    if (!doc)
        return NULL;
    g = g_new0(SvcRng, 1);
    g->doc = doc;
    g->defines = g_hash_table_new_full(g_str_hash, g_str_equal, xmlFree, NULL);
    index_defines(g, xmlDocGetRootElement(doc));
    return g;
}

void
svc_rng_free(SvcRng *g)
{
    if (!g)
        return;
    g_hash_table_unref(g->defines);
    xmlFreeDoc(g->doc);
    g_free(g);
}
