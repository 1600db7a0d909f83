/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/xml/xml-explain.c — why device XML libxml2 found invalid is invalid, said in the user's
 * terms (which attribute or element, what is allowed there), read from the grammar itself. */
#include "config.h"

#include <string.h>

#include "svc-xml.h"

/* libxml2's RelaxNG validator decides what is valid; its messages describe the last
 * alternative it tried ("Extra element alias in interleave").  This walks the grammar's
 * patterns for the element at hand instead: the attributes and child elements each form of it
 * allows, and what each value may be.  Where a choice leaves several forms, the one the
 * element comes closest to (fewest problems) is the one explained. */

typedef struct {
    xmlNode *node;            /* the element described */
    long line;
    const char *attr;         /* a value problem: the attribute (of @node) */
    char *message;
} Problem;

static void
problem_free(Problem *p)
{
    if (!p)
        return;
    g_free(p->message);
    g_free(p);
}

static void
add_problem(GPtrArray *problems, xmlNode *node, xmlNode *at, const char *attr, char *message)
{
    Problem *p = g_new0(Problem, 1);

    p->node = node;
    p->line = xmlGetLineNo(at);
    p->attr = attr;
    p->message = message;
    g_ptr_array_add(problems, p);
}

/* "a, b or c" */
static char *
join_or(GPtrArray *items)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; i < items->len; i++)
        g_string_append_printf(out, "%s%s", i == 0 ? "" : i + 1 == items->len ? " or " : ", ",
                               (char *)items->pdata[i]);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static char *
value_message(SvcRng *g, const char *attr, const char *value, GPtrArray *patterns)
{
    g_autoptr(GPtrArray) allowed = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *expected = NULL;
    g_autofree char *shown = g_strescape(value, NULL);
    g_autofree char *stripped = g_strstrip(g_strdup(value));
    gboolean blanks = FALSE;

    for (guint i = 0; i < patterns->len; i++) {
        svc_rng_describe_values(g, patterns->pdata[i], allowed);
        blanks |= !g_str_equal(stripped, value) &&
                  svc_rng_value_ok(g, patterns->pdata[i], stripped);
    }
    expected = join_or(allowed);
    return g_strdup_printf("%s='%s' is not allowed: expected %s%s", attr, shown,
                           allowed->len ? expected : "another value",
                           blanks ? " (without the blanks)" : "");
}

/* ---- checking an element against the grammar ---------------------------- */

static char *
names_of(GPtrArray *decls, gboolean elements)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < decls->len; i++) {
        const char *name = elements ? ((SvcRngChild *)decls->pdata[i])->name
                                    : ((SvcRngAttr *)decls->pdata[i])->name;

        g_ptr_array_add(names, elements ? g_strdup_printf("<%s>", name) : g_strdup(name));
    }
    g_ptr_array_add(names, NULL);
    return names->len > 1 ? g_strjoinv(", ", (char **)names->pdata) : g_strdup("none");
}

static guint check_candidates(SvcRng *g, SvcRngChild *decl, xmlNode *node, GPtrArray *problems);

static guint
depth(xmlNode *node)
{
    guint n = 0;

    for (; node && node->type == XML_ELEMENT_NODE; node = node->parent)
        n++;
    return n;
}

/* Of two sets of problems, the one of the form the element comes closer to: fewer problems,
 * and between as many, the one whose first problem is found deeper (the form that matched
 * the element itself and only a child went wrong). */
static gboolean
closer(GPtrArray *found, GPtrArray *best)
{
    if (!best || found->len < best->len)
        return TRUE;
    if (found->len > best->len || !found->len)
        return FALSE;
    return depth(((Problem *)found->pdata[0])->node) > depth(((Problem *)best->pdata[0])->node);
}

static void
check_attributes(SvcRng *g, const SvcRngModel *m, xmlNode *node, GPtrArray *problems)
{
    for (xmlAttr *a = node->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        SvcRngAttr *decl = svc_rng_find_attr(m, name);
        g_autofree char *value = svc_xml_attr(node, name);

        if (!decl) {
            g_autofree char *allowed = names_of(m->attrs, FALSE);

            add_problem(problems, node, node, NULL,
                        g_strdup_printf("attribute '%s' is not allowed here (allowed: %s)", name,
                                        allowed));
        } else if (!svc_rng_value_ok(g, decl->value, value)) {
            g_autoptr(GPtrArray) one = g_ptr_array_new();

            g_ptr_array_add(one, decl->value);
            add_problem(problems, node, node, decl->name, value_message(g, name, value, one));
        }
    }
    for (guint i = 0; i < m->attrs->len; i++) {
        SvcRngAttr *decl = m->attrs->pdata[i];

        if (decl->required && !xmlHasProp(node, (const xmlChar *)decl->name))
            add_problem(problems, node, node, NULL,
                        g_strdup_printf("attribute '%s' is required", decl->name));
    }
}

static void
check_model(SvcRng *g, const SvcRngModel *m, xmlNode *node, GPtrArray *problems)
{
    g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);

    check_attributes(g, m, node, problems);
    for (xmlNode *c = node->children; c; c = c->next) {
        SvcRngChild *decl;
        guint n;

        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && !m->text &&
            !xmlIsBlankNode(c)) {
            add_problem(problems, node, c, NULL, g_strdup("text is not allowed here"));
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!(decl = svc_rng_find_child(m, (const char *)c->name))) {
            g_autofree char *allowed = names_of(m->children, TRUE);

            add_problem(problems, node, c, NULL,
                        g_strdup_printf("element <%s> is not allowed here (allowed: %s)",
                                        c->name, allowed));
            continue;
        }
        n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, decl->name)) + 1;
        g_hash_table_insert(counts, (gpointer)decl->name, GUINT_TO_POINTER(n));
        if (n > decl->max)
            add_problem(problems, node, c, NULL,
                        g_strdup_printf("only one <%s> is allowed here", c->name));
        else
            check_candidates(g, decl, c, problems);
    }
    for (guint i = 0; i < m->children->len; i++) {
        SvcRngChild *decl = m->children->pdata[i];

        if (decl->min && !g_hash_table_contains(counts, decl->name))
            add_problem(problems, node, node, NULL,
                        g_strdup_printf("element <%s> is required", decl->name));
    }
}

/* @node against the forms of @element; the problems of the closest form. */
static guint
check_element(SvcRng *g, xmlNode *element, xmlNode *node, GPtrArray *problems)
{
    g_autoptr(GPtrArray) models = svc_rng_models(g, element);
    g_autoptr(GPtrArray) best = NULL;

    for (guint i = 0; i < models->len; i++) {
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func((GDestroyNotify)problem_free);

        check_model(g, models->pdata[i], node, found);
        if (closer(found, best)) {
            g_clear_pointer(&best, g_ptr_array_unref);
            best = g_steal_pointer(&found);
        }
    }
    for (guint i = 0; i < best->len; i++)
        g_ptr_array_add(problems, g_steal_pointer(&best->pdata[i]));
    return best->len;
}

/* The attribute @name of each of @decl's patterns, wherever a form declares it. */
static void
attr_patterns(SvcRng *g, SvcRngChild *decl, const char *name, GPtrArray *out)
{
    for (guint i = 0; i < decl->patterns->len; i++) {
        g_autoptr(GPtrArray) models = svc_rng_models(g, decl->patterns->pdata[i]);

        for (guint m = 0; m < models->len; m++) {
            SvcRngAttr *a = svc_rng_find_attr(models->pdata[m], name);

            if (a && a->value && !g_ptr_array_find(out, a->value, NULL))
                g_ptr_array_add(out, a->value);
        }
    }
}

/* @node is one of the elements @decl allows: the problems of the closest.  A wrong value of
 * the attribute that tells the forms apart (a channel's type) lists what every form takes. */
static guint
check_candidates(SvcRng *g, SvcRngChild *decl, xmlNode *node, GPtrArray *problems)
{
    g_autoptr(GPtrArray) best = NULL;
    Problem *first;

    for (guint i = 0; i < decl->patterns->len; i++) {
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func((GDestroyNotify)problem_free);

        check_element(g, decl->patterns->pdata[i], node, found);
        if (closer(found, best)) {
            g_clear_pointer(&best, g_ptr_array_unref);
            best = g_steal_pointer(&found);
        }
    }
    first = best->len ? best->pdata[0] : NULL;
    if (first && first->node == node && first->attr && decl->patterns->len > 1) {
        g_autoptr(GPtrArray) all = g_ptr_array_new();
        g_autofree char *value = svc_xml_attr(node, first->attr);

        attr_patterns(g, decl, first->attr, all);
        g_free(first->message);
        first->message = value_message(g, first->attr, value, all);
    }
    for (guint i = 0; i < best->len; i++)
        g_ptr_array_add(problems, g_steal_pointer(&best->pdata[i]));
    return best->len;
}

char *
svc_xml_explain(const char *grammar_text, gsize len, xmlDoc *doc, xmlNode **node, long *line)
{
    g_autoptr(SvcRng) g = svc_rng_load(grammar_text, len);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func((GDestroyNotify)problem_free);
    g_autoptr(GPtrArray) models = NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    SvcRngChild *decl;
    Problem *first;

    if (!g || !g->start || !root)
        return NULL;
    models = svc_rng_models(g, g->start);
    decl = svc_rng_find_child(models->pdata[0], (const char *)root->name);
    if (!decl) {
        g_autofree char *allowed = names_of(((SvcRngModel *)models->pdata[0])->children, TRUE);

        add_problem(problems, root, root, NULL,
                    g_strdup_printf("not SPICE device XML: expected %s", allowed));
    } else {
        check_candidates(g, decl, root, problems);
    }
    if (!(first = problems->len ? problems->pdata[0] : NULL))
        return NULL;
    *node = first->node;
    *line = first->line;
    return g_steal_pointer(&first->message);
}
