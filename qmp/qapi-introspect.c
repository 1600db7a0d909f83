/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI introspection: the schema's commands in query-commands, its commands and events in
 * query-qmp-schema. */
#include "config.h"

#include <string.h>

#include "qapi-private.h"

json_object *
qapi_schema_commands(QapiSchema *schema)
{
    json_object *list = json_object_new_array();

    for (guint i = 0; i < schema->entities->len; i++) {
        const Entity *e = schema->entities->pdata[i];
        json_object *entry;

        if (e->meta != META_COMMAND)
            continue;
        entry = json_object_new_object();
        json_object_object_add(entry, "name", json_object_new_string(e->name));
        json_object_array_add(list, entry);
    }
    return list;
}

typedef struct {
    QapiSchema *schema;
    json_object *out;
    GHashTable *known;          /* names in @out (owned) */
    const char *empty;          /* the empty object type's name */
} Introspector;

/* Appended at once, so that a type's entry comes before those of the types it uses and a
 * struct that refers to itself is not emitted twice. */
static json_object *
add_entry(Introspector *in, const char *name, const char *meta)
{
    json_object *entry = json_object_new_object();

    json_object_object_add(entry, "name", json_object_new_string(name));
    json_object_object_add(entry, "meta-type", json_object_new_string(meta));
    json_object_array_add(in->out, entry);
    g_hash_table_add(in->known, g_strdup(name));
    return entry;
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

static char *introspect_type(Introspector *in, const char *type, gboolean array);

static void
introspect_enum(Introspector *in, const Entity *e)
{
    json_object *entry = add_entry(in, e->name, "enum");
    json_object *members = json_object_new_array();
    json_object *values = json_object_new_array();

    for (guint i = 0; e->values[i]; i++) {
        json_object *member = json_object_new_object();

        add_string(member, "name", e->values[i]);
        json_object_array_add(members, member);
        json_object_array_add(values, json_object_new_string(e->values[i]));
    }
    json_object_object_add(entry, "members", members);
    json_object_object_add(entry, "values", values);
}

static void
introspect_struct(Introspector *in, const Entity *e)
{
    json_object *entry = add_entry(in, e->name, "object");
    json_object *members = json_object_new_array();

    json_object_object_add(entry, "members", members);
    for (guint i = 0; i < e->members->len; i++) {
        const Member *m = e->members->pdata[i];
        g_autofree char *type = introspect_type(in, m->type, m->array);
        json_object *member = json_object_new_object();

        add_string(member, "name", m->name);
        add_string(member, "type", type);
        if (m->optional)
            json_object_object_add(member, "default", NULL);
        json_object_array_add(members, member);
    }
}

/* Add @type's entry and those of the types it uses, unless already known; return its name. */
static char *
introspect_type(Introspector *in, const char *type, gboolean array)
{
    const Builtin *b = qapi_find_builtin(type);
    const Entity *e = g_hash_table_lookup(in->schema->by_name, type);

    if (array) {
        g_autofree char *element = introspect_type(in, type, FALSE);
        char *name = g_strdup_printf("[%s]", element);

        if (!g_hash_table_contains(in->known, name))
            add_string(add_entry(in, name, "array"), "element-type", element);
        return name;
    }
    if (b) {
        if (!g_hash_table_contains(in->known, b->introspected))
            add_string(add_entry(in, b->introspected, "builtin"), "json-type", b->json_type);
        return g_strdup(b->introspected);
    }
    if (!g_hash_table_contains(in->known, e->name)) {
        if (e->meta == META_ENUM)
            introspect_enum(in, e);
        else
            introspect_struct(in, e);
    }
    return g_strdup(e->name);
}

/* QEMU gives a command without arguments or return value the empty object type. */
static char *
introspect_empty(Introspector *in)
{
    if (!g_hash_table_contains(in->known, in->empty)) {
        json_object *entry = add_entry(in, in->empty, "object");

        json_object_object_add(entry, "members", json_object_new_array());
    }
    return g_strdup(in->empty);
}

/* Commands, then events, each in the file's order, as QEMU lists them. */
static void
introspect_commands(Introspector *in)
{
    for (guint i = 0; i < in->schema->entities->len; i++) {
        const Entity *e = in->schema->entities->pdata[i];
        json_object *entry;
        g_autofree char *arg_type = NULL;
        g_autofree char *ret_type = NULL;

        if (e->meta != META_COMMAND)
            continue;
        entry = add_entry(in, e->name, "command");
        arg_type = e->arg_type ? introspect_type(in, e->arg_type, FALSE)
                               : introspect_empty(in);
        ret_type = e->ret_type ? introspect_type(in, e->ret_type, e->ret_array)
                               : introspect_empty(in);
        add_string(entry, "arg-type", arg_type);
        add_string(entry, "ret-type", ret_type);
        if (e->allow_oob)
            json_object_object_add(entry, "allow-oob", json_object_new_boolean(TRUE));
    }
    for (guint i = 0; i < in->schema->entities->len; i++) {
        const Entity *e = in->schema->entities->pdata[i];
        g_autofree char *arg_type = NULL;
        json_object *entry;

        if (e->meta != META_EVENT)
            continue;
        entry = add_entry(in, e->name, "event");
        arg_type = e->arg_type ? introspect_type(in, e->arg_type, FALSE)
                               : introspect_empty(in);
        add_string(entry, "arg-type", arg_type);
    }
}

static void
introspector_init(Introspector *in, QapiSchema *schema)
{
    in->schema = schema;
    in->out = json_object_new_array();
    in->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* Our own name for it, which cannot clash with QEMU's numbers ("0", "[12]"). */
    in->empty = "q_empty";
}

json_object *
qapi_schema_introspect(QapiSchema *schema)
{
    Introspector in;

    introspector_init(&in, schema);
    introspect_commands(&in);
    g_hash_table_unref(in.known);
    return in.out;
}

static gboolean
is_empty_object(json_object *entry)
{
    json_object *members = json_object_object_get(entry, "members");

    const char *meta = json_object_get_string(json_object_object_get(entry, "meta-type"));

    /* Name, meta-type and members only: no variants, no features. */
    return g_strcmp0(meta, "object") == 0 && json_object_object_length(entry) == 3 &&
           json_object_is_type(members, json_type_array) && json_object_array_length(members) == 0;
}

json_object *
qapi_schema_merge_introspection(QapiSchema *schema, json_object *qemu_reply)
{
    Introspector in;

    g_return_val_if_fail(json_object_is_type(qemu_reply, json_type_array), NULL);
    introspector_init(&in, schema);
    for (gsize i = 0; i < json_object_array_length(qemu_reply); i++) {
        json_object *entry = json_object_array_get_idx(qemu_reply, i);
        const char *name = json_object_get_string(json_object_object_get(entry, "name"));

        /* QEMU masks its type names into numbers ("12", "[12]"), so only one of its commands
         * or events can share a name with ours; ours wins, as the proxy answers for it. */
        if (name && g_hash_table_contains(schema->by_name, name))
            continue;
        json_object_array_add(in.out, json_object_get(entry));
        if (!name)
            continue;
        g_hash_table_add(in.known, g_strdup(name));
        if (strcmp(in.empty, "q_empty") == 0 && is_empty_object(entry))
            in.empty = name;
    }
    introspect_commands(&in);
    g_hash_table_unref(in.known);
    return in.out;
}
