/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI schemas: read QEMU's schema language into types and commands. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "qapi-private.h"

/* Deeper than any schema needs: a broken file, not a reason to exhaust the stack. */
#define MAX_DEPTH 16

static const Builtin builtins[] = {
    /* name     introspected json-type   check         bits */
    { "str",    "str",       "string",   CHECK_STR,     0 },
    { "int",    "int",       "int",      CHECK_INT,    64 },
    { "int8",   "int",       "int",      CHECK_INT,     8 },
    { "int16",  "int",       "int",      CHECK_INT,    16 },
    { "int32",  "int",       "int",      CHECK_INT,    32 },
    { "int64",  "int",       "int",      CHECK_INT,    64 },
    { "uint8",  "int",       "int",      CHECK_UINT,    8 },
    { "uint16", "int",       "int",      CHECK_UINT,   16 },
    { "uint32", "int",       "int",      CHECK_UINT,   32 },
    { "uint64", "int",       "int",      CHECK_UINT,   64 },
    { "size",   "int",       "int",      CHECK_UINT,   64 },
    { "bool",   "bool",      "boolean",  CHECK_BOOL,    0 },
    { "number", "number",    "number",   CHECK_NUMBER,  0 },
    { "any",    "any",       "value",    CHECK_ANY,     0 },
    { "null",   "null",      "null",     CHECK_NULL,    0 },
};


static void
member_free(Member *m)
{
    g_free(m->name);
    g_free(m->type);
    g_free(m);
}

static void
entity_free(Entity *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_strfreev(e->values);
    if (e->members)
        g_ptr_array_unref(e->members);
    g_free(e->arg_type);
    g_free(e->ret_type);
    g_free(e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entity, entity_free)

void
qapi_schema_free(QapiSchema *schema)
{
    if (!schema)
        return;
    g_hash_table_unref(schema->by_name);
    g_ptr_array_unref(schema->entities);
    g_free(schema->path);
    g_free(schema);
}

const Builtin *
qapi_find_builtin(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(builtins); i++) {
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    }
    return NULL;
}

const Entity *
qapi_find_entity(QapiSchema *schema, const char *name, Meta meta)
{
    const Entity *e = g_hash_table_lookup(schema->by_name, name);

    return e && e->meta == meta ? e : NULL;
}

static gboolean G_GNUC_PRINTF(4, 5)
fail(const char *path, int line, GError **error, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, QMP_ERROR, QMP_ERROR_SCHEMA, "%s:%d: %s", path, line, message);
    return FALSE;
}

/* ---- the schema language: QEMU's own, not JSON ----------------------------------------------
 * json-c's lenient tokener takes single quotes but silently keeps the last of two equal keys,
 * and a member defined twice must be an error; so a parser of the few forms QEMU accepts. */

typedef struct {
    const char *path;
    const char *pos;
    int line;
    const char *expr;           /* the name of the expression being read, once known */
} Lexer;

static gboolean G_GNUC_PRINTF(3, 4)
lex_fail(Lexer *lx, GError **error, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    if (lx->expr)
        return fail(lx->path, lx->line, error, "%s in '%s'", message, lx->expr);
    return fail(lx->path, lx->line, error, "%s", message);
}

/* Blanks and '#' comments, '##' doc blocks included: only the expressions matter here. */
static void
skip_blanks(Lexer *lx)
{
    for (;;) {
        if (*lx->pos == '#') {
            lx->pos += strcspn(lx->pos, "\n");
        } else if (*lx->pos && strchr(" \t\r\n", *lx->pos)) {
            lx->line += *lx->pos == '\n';
            lx->pos++;
        } else {
            return;
        }
    }
}

/* 'text': printable ASCII on one line, where a backslash escapes only a backslash or a quote. */
static gboolean
parse_string(Lexer *lx, json_object **out, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (lx->pos++; *lx->pos != '\''; lx->pos++) {
        if (*lx->pos == '\\' && (lx->pos[1] == '\\' || lx->pos[1] == '\''))
            lx->pos++;
        else if (*lx->pos == '\\')
            return lex_fail(lx, error, "unknown escape in a string");
        else if (*lx->pos == '\n' || *lx->pos == '\0')
            return lex_fail(lx, error, "a string is not closed on its line");
        if ((guchar)*lx->pos < 0x20 || (guchar)*lx->pos > 0x7e)
            return lex_fail(lx, error, "a string has a character other than printable ASCII");
        g_string_append_c(s, *lx->pos);
    }
    lx->pos++;
    *out = json_object_new_string_len(s->str, s->len);
    return TRUE;
}

static gboolean parse_value(Lexer *lx, guint depth, json_object **out, GError **error);

/* One 'key': value of a dict, or one value of a list, added to @container. */
static gboolean
parse_item(Lexer *lx, guint depth, json_object *container, GError **error)
{
    gboolean dict = json_object_is_type(container, json_type_object);
    g_autoptr(json_object) key = NULL;
    json_object *value = NULL;

    if (dict) {
        if (*lx->pos != '\'')
            return lex_fail(lx, error, "expected a quoted key");
        if (!parse_string(lx, &key, error))
            return FALSE;
        if (json_object_object_get_ex(container, json_object_get_string(key), NULL))
            return lex_fail(lx, error, "duplicate key '%s'", json_object_get_string(key));
        skip_blanks(lx);
        if (*lx->pos != ':')
            return lex_fail(lx, error, "expected ':' after '%s'", json_object_get_string(key));
        lx->pos++;
    }
    if (!parse_value(lx, depth + 1, &value, error))
        return FALSE;
    /* An expression is named by its first member, e.g. 'struct': 'NAME'. */
    if (depth == 0 && dict && json_object_object_length(container) == 0)
        lx->expr = json_object_get_string(value);
    if (dict)
        json_object_object_add(container, json_object_get_string(key), value);
    else
        json_object_array_add(container, value);
    return TRUE;
}

/* { 'key': value, … } or [ value, … ], without a trailing comma. */
static gboolean
parse_container(Lexer *lx, guint depth, json_object **out, GError **error)
{
    char close = *lx->pos == '{' ? '}' : ']';
    g_autoptr(json_object) result = close == '}' ? json_object_new_object()
                                                 : json_object_new_array();

    if (depth >= MAX_DEPTH)
        return lex_fail(lx, error, "values nest deeper than %d levels", MAX_DEPTH);
    lx->pos++;
    skip_blanks(lx);
    if (*lx->pos == close) {
        lx->pos++;
        *out = g_steal_pointer(&result);
        return TRUE;
    }
    /* A comma is always followed by an item. */
    for (;;) {
        if (!parse_item(lx, depth, result, error))
            return FALSE;
        skip_blanks(lx);
        if (*lx->pos == close)
            break;
        if (!*lx->pos)
            return lex_fail(lx, error, "unexpected end of file");
        if (*lx->pos != ',')
            return lex_fail(lx, error, "expected ',' or '%c'", close);
        lx->pos++;
        skip_blanks(lx);
    }
    lx->pos++;
    *out = g_steal_pointer(&result);
    return TRUE;
}

static gboolean
parse_value(Lexer *lx, guint depth, json_object **out, GError **error)
{
    skip_blanks(lx);
    if (*lx->pos == '{' || *lx->pos == '[')
        return parse_container(lx, depth, out, error);
    if (*lx->pos == '\'')
        return parse_string(lx, out, error);
    if (g_str_has_prefix(lx->pos, "true") || g_str_has_prefix(lx->pos, "false")) {
        *out = json_object_new_boolean(*lx->pos == 't');
        lx->pos += *lx->pos == 't' ? 4 : 5;
        return TRUE;
    }
    return lex_fail(lx, error, *lx->pos ? "expected a value" : "unexpected end of file");
}

/* ---- expressions to entities ------------------------------------------------------------- */

/* Letters, digits, '-' and '_', from a letter; 'q_' is QEMU's prefix for implicit types. */
static gboolean
valid_name(const char *name, gboolean enum_value)
{
    if (!(enum_value ? g_ascii_isalnum(name[0]) : g_ascii_isalpha(name[0])))
        return FALSE;
    if (!enum_value && g_str_has_prefix(name, "q_"))
        return FALSE;
    return name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")]
           == '\0';
}

/* 'T' or [ 'T' ]. */
static gboolean
type_ref(json_object *value, char **type, gboolean *array)
{
    *array = json_object_is_type(value, json_type_array);
    if (*array && json_object_array_length(value) == 1)
        value = json_object_array_get_idx(value, 0);
    if (!json_object_is_type(value, json_type_string) ||
        !valid_name(json_object_get_string(value), FALSE))
        return FALSE;
    *type = g_strdup(json_object_get_string(value));
    return TRUE;
}

static gboolean
add_entity(QapiSchema *schema, Entity *entity, GError **error)
{
    g_autoptr(Entity) e = entity;
    const Entity *other = g_hash_table_lookup(schema->by_name, e->name);

    if (!valid_name(e->name, FALSE) && !e->implicit)
        return fail(schema->path, e->line, error, "'%s' is not a valid name", e->name);
    if (qapi_find_builtin(e->name))
        return fail(schema->path, e->line, error, "'%s' is the name of a built-in type", e->name);
    if (other)
        return fail(schema->path, e->line, error, "'%s' is already defined at line %d",
                    e->name, other->line);
    g_hash_table_insert(schema->by_name, e->name, e);
    g_ptr_array_add(schema->entities, g_steal_pointer(&e));
    return TRUE;
}

static Entity *
entity_new(Meta meta, const char *name, int line)
{
    Entity *e = g_new0(Entity, 1);

    e->meta = meta;
    e->name = g_strdup(name);
    e->line = line;
    return e;
}

static gboolean
define_enum(QapiSchema *schema, Entity *e, json_object *expr, GError **error)
{
    json_object *data = json_object_object_get(expr, "data");
    g_autoptr(GStrvBuilder) values = g_strv_builder_new();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    if (!json_object_is_type(data, json_type_array))
        return fail(schema->path, e->line, error, "enum '%s' needs 'data', a list of its values",
                    e->name);
    for (gsize i = 0; i < json_object_array_length(data); i++) {
        json_object *value = json_object_array_get_idx(data, i);
        const char *s = json_object_get_string(value);

        if (!json_object_is_type(value, json_type_string) || !valid_name(s, TRUE))
            return fail(schema->path, e->line, error, "enum '%s' has a value that is not a name",
                        e->name);
        if (!g_hash_table_add(seen, (gpointer)s))
            return fail(schema->path, e->line, error, "enum '%s' has the value '%s' twice",
                        e->name, s);
        g_strv_builder_add(values, s);
    }
    e->values = g_strv_builder_end(values);
    return TRUE;
}

static gboolean
parse_members(QapiSchema *schema, Entity *e, const char *owner, json_object *data, GError **error)
{
    e->members = g_ptr_array_new_with_free_func((GDestroyNotify)member_free);
    json_object_object_foreach(data, key, value) {
        Member *m = g_new0(Member, 1);

        g_ptr_array_add(e->members, m);
        m->optional = key[0] == '*';
        m->name = g_strdup(key + m->optional);
        if (!valid_name(m->name, FALSE))
            return fail(schema->path, e->line, error,
                        "'%s' has a member named '%s', which is not a valid name", owner, m->name);
        for (guint i = 0; i + 1 < e->members->len; i++) {
            if (strcmp(((Member *)e->members->pdata[i])->name, m->name) == 0)
                return fail(schema->path, e->line, error, "'%s' has two members named '%s'",
                            owner, m->name);
        }
        if (!type_ref(value, &m->type, &m->array))
            return fail(schema->path, e->line, error, "member '%s' of '%s' has a type that is "
                        "neither a name nor a list of one name", m->name, owner);
    }
    return TRUE;
}

static gboolean
define_struct(QapiSchema *schema, Entity *e, json_object *expr, GError **error)
{
    json_object *data = json_object_object_get(expr, "data");

    if (!json_object_is_type(data, json_type_object))
        return fail(schema->path, e->line, error, "struct '%s' needs 'data', a dict of its members",
                    e->name);
    return parse_members(schema, e, e->name, data, error);
}

/* A command's arguments or an event's data: none, a struct's name, or a dict of members
 * (an implicit struct, named as QEMU names it). */
static gboolean
define_data(QapiSchema *schema, Entity *e, json_object *expr, GError **error)
{
    json_object *data = NULL;

    if (!json_object_object_get_ex(expr, "data", &data) ||
        (json_object_is_type(data, json_type_object) && json_object_object_length(data) == 0))
        return TRUE;
    if (json_object_is_type(data, json_type_string)) {
        e->arg_type = g_strdup(json_object_get_string(data));
        return TRUE;
    }
    if (json_object_is_type(data, json_type_object)) {
        g_autoptr(Entity) args = entity_new(META_STRUCT, NULL, e->line);

        args->name = g_strdup_printf("q_obj_%s-arg", e->name);
        args->implicit = TRUE;
        e->arg_type = g_strdup(args->name);
        return parse_members(schema, args, e->name, data, error) &&
               add_entity(schema, g_steal_pointer(&args), error);
    }
    return fail(schema->path, e->line, error, "'data' of '%s' is neither a dict of members nor "
                "the name of a struct", e->name);
}

static gboolean
define_command(QapiSchema *schema, Entity *e, json_object *expr, GError **error)
{
    json_object *returns = NULL, *oob = NULL;

    if (json_object_object_get_ex(expr, "allow-oob", &oob) &&
        !json_object_is_type(oob, json_type_boolean))
        return fail(schema->path, e->line, error, "'allow-oob' of '%s' is not true or false",
                    e->name);
    e->allow_oob = json_object_get_boolean(oob);
    if (json_object_object_get_ex(expr, "returns", &returns) &&
        !type_ref(returns, &e->ret_type, &e->ret_array))
        return fail(schema->path, e->line, error, "'returns' of '%s' is neither a name nor a list "
                    "of one name", e->name);
    return define_data(schema, e, expr, error);
}

typedef gboolean (*DefineFunc)(QapiSchema *schema, Entity *e, json_object *expr, GError **error);

static const struct {
    const char *kind;
    Meta meta;
    const char *keys[4];        /* the keys it may have besides its kind */
    DefineFunc define;
} kinds[] = {
    { "enum",    META_ENUM,    { "data" },                        define_enum },
    { "struct",  META_STRUCT,  { "data" },                        define_struct },
    { "command", META_COMMAND, { "data", "returns", "allow-oob" }, define_command },
    { "event",   META_EVENT,   { "data" },                        define_data },
};

/* An expression's kind is its first key, as QEMU's schemas write it. */
static gboolean
define(QapiSchema *schema, json_object *expr, int line, GError **error)
{
    struct json_object_iterator it = json_object_iter_begin(expr);
    struct json_object_iterator end = json_object_iter_end(expr);
    const char *kind, *name;
    Entity *e;
    guint k;

    if (json_object_iter_equal(&it, &end))
        return fail(schema->path, line, error, "an expression is empty");
    kind = json_object_iter_peek_name(&it);
    if (!json_object_is_type(json_object_iter_peek_value(&it), json_type_string))
        return fail(schema->path, line, error, "the name of a '%s' is not a string", kind);
    name = json_object_get_string(json_object_iter_peek_value(&it));
    for (k = 0; k < G_N_ELEMENTS(kinds) && strcmp(kinds[k].kind, kind) != 0; k++)
        ;
    if (k == G_N_ELEMENTS(kinds))
        return fail(schema->path, line, error, "'%s' is a '%s', which is not a kind of expression "
                    "known here (enum, struct, command, event)", name, kind);
    for (json_object_iter_next(&it); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);

        if (!g_strv_contains(kinds[k].keys, key))
            return fail(schema->path, line, error, "%s '%s' has an unknown key '%s'",
                        kind, name, key);
    }
    /* Added before a command's implicit argument type, so that a name defined twice is
     * reported as such; the schema owns it from here. */
    e = entity_new(kinds[k].meta, name, line);
    return add_entity(schema, e, error) && kinds[k].define(schema, e, expr, error);
}

/* ---- references: a second pass, since a type may be used before its definition ---------- */

static gboolean
check_type(QapiSchema *schema, int line, const char *what, const char *type, GError **error)
{
    const Entity *e = g_hash_table_lookup(schema->by_name, type);

    if (qapi_find_builtin(type) || (e && e->meta != META_COMMAND && e->meta != META_EVENT))
        return TRUE;
    if (e)
        return fail(schema->path, line, error, "%s has type '%s', which is %s", what, type,
                    e->meta == META_COMMAND ? "a command" : "an event");
    return fail(schema->path, line, error, "%s has unknown type '%s'", what, type);
}

static gboolean
check_members(QapiSchema *schema, const Entity *e, const char *owner, GError **error)
{
    for (guint i = 0; i < e->members->len; i++) {
        const Member *m = e->members->pdata[i];
        g_autofree char *what = g_strdup_printf("member '%s' of '%s'", m->name, owner);

        if (!check_type(schema, e->line, what, m->type, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_references(QapiSchema *schema, const Entity *e, GError **error)
{
    const Entity *args;

    if (e->meta == META_STRUCT && !e->implicit)
        return check_members(schema, e, e->name, error);
    if (e->meta != META_COMMAND && e->meta != META_EVENT)
        return TRUE;
    if (e->ret_type) {
        g_autofree char *what = g_strdup_printf("'returns' of '%s'", e->name);

        if (!check_type(schema, e->line, what, e->ret_type, error))
            return FALSE;
    }
    if (!e->arg_type)
        return TRUE;
    if (!(args = qapi_find_entity(schema, e->arg_type, META_STRUCT)))
        return fail(schema->path, e->line, error, "'data' of '%s' names '%s', which is not a "
                    "struct", e->name, e->arg_type);
    /* Inline arguments are named for their command. */
    return !args->implicit || check_members(schema, args, e->name, error);
}

QapiSchema *
qapi_schema_parse(const char *name, const char *text, gsize len, GError **error)
{
    g_autoptr(QapiSchema) schema = g_new0(QapiSchema, 1);
    Lexer lx = { name, NULL, 1, NULL };

    schema->path = g_strdup(name);
    schema->entities = g_ptr_array_new_with_free_func((GDestroyNotify)entity_free);
    schema->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    if (memchr(text, '\0', len) || text[len] != '\0') {
        fail(name, 1, error, "the file has a NUL byte");
        return NULL;
    }
    for (lx.pos = text, skip_blanks(&lx); *lx.pos; skip_blanks(&lx)) {
        g_autoptr(json_object) expr = NULL;
        int line = lx.line;

        lx.expr = NULL;
        if (*lx.pos != '{') {
            lex_fail(&lx, error, "expected '{' to begin an expression");
            return NULL;
        }
        if (!parse_value(&lx, 0, &expr, error) || !define(schema, expr, line, error))
            return NULL;
    }
    for (guint i = 0; i < schema->entities->len; i++) {
        if (!check_references(schema, schema->entities->pdata[i], error))
            return NULL;
    }
    return g_steal_pointer(&schema);
}

QapiSchema *
qapi_schema_load(const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_SCHEMA, "cannot read the QAPI schema '%s': %s",
                    path, local->message);
        return NULL;
    }
    return qapi_schema_parse(path, text, len, error);
}

gboolean
qapi_schema_has_command(QapiSchema *schema, const char *name)
{
    return qapi_find_entity(schema, name, META_COMMAND) != NULL;
}

gboolean
qapi_schema_has_event(QapiSchema *schema, const char *name)
{
    return qapi_find_entity(schema, name, META_EVENT) != NULL;
}
