/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI arguments checked as QEMU's qobject input visitor does, message for message. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "qapi-private.h"

/* QEMU's QDict has this many hash buckets (include/qapi/qmp/qdict.h). */
#define QDICT_BUCKETS 512

typedef struct {
    QapiSchema *schema;
    GString *path;              /* QEMU's full name of the value at hand: "channels[0].kind" */
} Checker;

static gboolean check_value(Checker *c, const char *type, gboolean array, const char *name,
                            json_object *value, GError **error);

static gboolean G_GNUC_PRINTF(2, 3)
refuse(GError **error, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    g_propagate_error(error, g_error_new_valist(QMP_ERROR, QMP_ERROR_ARGUMENT, format, args));
    va_end(args);
    return FALSE;
}

static gboolean
invalid_type(Checker *c, const char *expected, GError **error)
{
    return refuse(error, "Invalid parameter type for '%s', expected: %s", c->path->str, expected);
}

/* QEMU checks the range of a narrow integer after visiting it, naming the bare member. */
static gboolean
check_integer(Checker *c, const Builtin *b, const char *name, json_object *value, GError **error)
{
    gboolean is_int = json_object_is_type(value, json_type_int);
    /* json-c keeps an integer above INT64_MAX as a uint64, as QEMU does. */
    gboolean big = is_int && json_object_get_uint64(value) > G_MAXINT64;
    gboolean in_range;

    if (!is_int || (b->check == CHECK_INT && big)) {
        return b->check == CHECK_INT ? invalid_type(c, "integer", error)
                                     : refuse(error, "Parameter '%s' expects uint64", c->path->str);
    }
    if (b->check == CHECK_INT) {
        gint64 i = json_object_get_int64(value);
        gint64 limit = G_GINT64_CONSTANT(1) << (b->bits - 1);

        in_range = b->bits == 64 || (i >= -limit && i < limit);
    } else {
        /* QEMU takes a negative number for an unsigned type as its two's complement. */
        guint64 u = big ? json_object_get_uint64(value) : (guint64)json_object_get_int64(value);

        in_range = b->bits == 64 || u < (G_GUINT64_CONSTANT(1) << b->bits);
    }
    return in_range || refuse(error, "Parameter '%s' expects %s_t", name ? name : "null", b->name);
}

static gboolean
check_builtin(Checker *c, const Builtin *b, const char *name, json_object *value, GError **error)
{
    switch (b->check) {
    case CHECK_STR:
        return json_object_is_type(value, json_type_string) || invalid_type(c, "string", error);
    case CHECK_BOOL:
        return json_object_is_type(value, json_type_boolean) || invalid_type(c, "boolean", error);
    case CHECK_NULL:
        return json_object_is_type(value, json_type_null) || invalid_type(c, "null", error);
    case CHECK_NUMBER:
        return json_object_is_type(value, json_type_int) ||
               json_object_is_type(value, json_type_double) || invalid_type(c, "number", error);
    case CHECK_INT:
    case CHECK_UINT:
        return check_integer(c, b, name, value, error);
    case CHECK_ANY:
        break;
    }
    return TRUE;
}

static gboolean
check_enum(Checker *c, const Entity *e, const char *name, json_object *value, GError **error)
{
    const char *s = json_object_get_string(value);

    if (!json_object_is_type(value, json_type_string))
        return invalid_type(c, "string", error);
    return g_strv_contains((const char *const *)e->values, s) ||
           refuse(error, "Parameter '%s' does not accept value '%s'", name ? name : "null", s);
}

/* QEMU's bucket for @key in a QDict (qobject/qdict.c), which orders the walk over its keys. */
static guint
qdict_bucket(const char *key)
{
    guint value = 0x238F13AF * strlen(key);

    for (guint i = 0; key[i]; i++)
        value += (guint)(guchar)key[i] << (i * 5 % 24);
    return (1103515243 * value + 12345) % QDICT_BUCKETS;
}

typedef struct {
    const char *key;
    guint bucket;
    guint index;
} QdictKey;

static gint
qdict_order(gconstpointer a, gconstpointer b)
{
    const QdictKey *x = a, *y = b;

    /* By bucket; within one, the last inserted first. */
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return x->index > y->index ? -1 : 1;
}

/* Of several unexpected keys QEMU names the first left in a GHashTable it filled in QDict order
 * and emptied of the members it visited; doing the same with the same GLib names the same one. */
static const char *
first_unexpected(json_object *obj, const GPtrArray *members)
{
    g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(QdictKey));
    g_autoptr(GHashTable) left = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter iter;
    gpointer key = NULL;

    json_object_object_foreach(obj, k, v) {
        QdictKey qk = { k, qdict_bucket(k), keys->len };

        g_array_append_val(keys, qk);
    }
    g_array_sort(keys, qdict_order);
    for (guint i = 0; i < keys->len; i++)
        g_hash_table_add(left, (gpointer)g_array_index(keys, QdictKey, i).key);
    for (guint i = 0; i < members->len; i++)
        g_hash_table_remove(left, ((const Member *)members->pdata[i])->name);
    g_hash_table_iter_init(&iter, left);
    return g_hash_table_iter_next(&iter, &key, NULL) ? key : NULL;
}

static void
push_member(GString *path, const char *name)
{
    if (path->len > 0)
        g_string_append_c(path, '.');
    g_string_append(path, name);
}

static gboolean
check_struct(Checker *c, const GPtrArray *members, json_object *value, GError **error)
{
    gsize len = c->path->len;
    guint known = 0;
    const char *unexpected;

    if (!json_object_is_type(value, json_type_object))
        return invalid_type(c, "object", error);
    for (guint i = 0; i < members->len; i++) {
        const Member *m = members->pdata[i];
        json_object *member = NULL;
        gboolean present = json_object_object_get_ex(value, m->name, &member);
        gboolean ok;

        if (!present && m->optional)
            continue;
        known++;
        push_member(c->path, m->name);
        ok = present ? check_value(c, m->type, m->array, m->name, member, error)
                     : refuse(error, "Parameter '%s' is missing", c->path->str);
        g_string_truncate(c->path, len);
        if (!ok)
            return FALSE;
    }
    /* Member names are unique, and so are JSON keys: when every key is a member, none is left
     * to name, and the walk in QEMU's order is spared. */
    if (known == (guint)json_object_object_length(value) ||
        !(unexpected = first_unexpected(value, members)))
        return TRUE;
    push_member(c->path, unexpected);
    return refuse(error, "Parameter '%s' is unexpected", c->path->str);
}

static gboolean
check_array(Checker *c, const char *type, json_object *value, GError **error)
{
    if (!json_object_is_type(value, json_type_array))
        return invalid_type(c, "array", error);
    for (gsize i = 0; i < json_object_array_length(value); i++) {
        gsize len = c->path->len;
        gboolean ok;

        g_string_append_printf(c->path, "[%" G_GSIZE_FORMAT "]", i);
        /* An element has no member name of its own. */
        ok = check_value(c, type, FALSE, NULL, json_object_array_get_idx(value, i), error);
        g_string_truncate(c->path, len);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* @name is the bare member name QEMU uses in some messages, NULL for an array's element. */
static gboolean
check_value(Checker *c, const char *type, gboolean array, const char *name, json_object *value,
            GError **error)
{
    const Builtin *b = qapi_find_builtin(type);
    const Entity *e = g_hash_table_lookup(c->schema->by_name, type);

    if (array)
        return check_array(c, type, value, error);
    if (b)
        return check_builtin(c, b, name, value, error);
    return e->meta == META_ENUM ? check_enum(c, e, name, value, error)
                                : check_struct(c, e->members, value, error);
}

/* The arguments of a command or the data of an event (@args NULL: none), against its type. */
static gboolean
check_data(QapiSchema *schema, const Entity *owner, json_object *args, GError **error)
{
    g_autoptr(json_object) empty = json_object_new_object();
    g_autoptr(GString) path = g_string_new(NULL);
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    Checker c = { schema, path };
    const Entity *type;

    if (args && !json_object_is_type(args, json_type_object))
        return refuse(error, "QMP input member 'arguments' must be an object");
    type = owner->arg_type ? qapi_find_entity(schema, owner->arg_type, META_STRUCT) : NULL;
    /* Without arguments, QEMU still visits an empty struct: any member is unexpected. */
    return check_struct(&c, type ? type->members : none, args ? args : empty, error);
}

gboolean
qapi_schema_check_arguments(QapiSchema *schema, const char *command, json_object *args,
                            GError **error)
{
    const Entity *cmd = qapi_find_entity(schema, command, META_COMMAND);

    g_return_val_if_fail(cmd != NULL, FALSE);
    return check_data(schema, cmd, args, error);
}

gboolean
qapi_schema_check_event(QapiSchema *schema, const char *event, json_object *data,
                        GError **error)
{
    const Entity *e = qapi_find_entity(schema, event, META_EVENT);

    g_return_val_if_fail(e != NULL, FALSE);
    return check_data(schema, e, data, error);
}
