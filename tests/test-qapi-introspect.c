/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI introspection: spicevmc's commands and types as SchemaInfo entries, merged into a real
 * QEMU's query-qmp-schema, and listed by query-commands. */
#include "config.h"

#include <string.h>

#include "qapi-fixture.h"

/* ---- introspection ------------------------------------------------------------------- */

/* name → entry, asserting every entry has a name no other one has. */
static GHashTable *
index_entries(json_object *list)
{
    GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);

    for (gsize i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        const char *name = member_str(entry, "name");

        if (!g_hash_table_insert(by_name, (gpointer)name, entry))
            g_error("'%s' is listed twice", name);
    }
    return by_name;
}

static void
assert_defined(GHashTable *by_name, json_object *entry, const char *key)
{
    json_object *named = member_opt(entry, key);
    const char *type = named ? json_object_get_string(named) : NULL;

    if (type && !g_hash_table_contains(by_name, type))
        g_error("'%s' refers to '%s', which is not listed", member_str(entry, "name"), type);
}

/* Every type any entry names is listed, once. */
static GHashTable *
assert_self_contained(json_object *list)
{
    GHashTable *by_name = index_entries(list);

    for (gsize i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        json_object *members = member_opt(entry, "members");
        json_object *variants = member_opt(entry, "variants");

        member_str(entry, "meta-type");
        assert_defined(by_name, entry, "arg-type");
        assert_defined(by_name, entry, "ret-type");
        assert_defined(by_name, entry, "element-type");
        for (gsize j = 0; members && j < json_object_array_length(members); j++)
            assert_defined(by_name, json_object_array_get_idx(members, j), "type");
        for (gsize j = 0; variants && j < json_object_array_length(variants); j++)
            assert_defined(by_name, json_object_array_get_idx(variants, j), "type");
    }
    return by_name;
}

/* "name:type" or "name:type?" for an optional member, joined with spaces. */
static char *
describe_members(GHashTable *by_name, const char *type)
{
    json_object *members = member(g_hash_table_lookup(by_name, type), "members");
    g_autoptr(GString) s = g_string_new(NULL);

    g_assert_nonnull(members);
    for (gsize i = 0; i < json_object_array_length(members); i++) {
        json_object *m = json_object_array_get_idx(members, i);
        json_object *dflt = NULL;
        gboolean optional = json_object_object_get_ex(m, "default", &dflt);

        g_assert_null(dflt);    /* QEMU gives optional members "default": null */
        g_string_append_printf(s, "%s%s:%s%s", i ? " " : "", member_str(m, "name"),
                               member_str(m, "type"), optional ? "?" : "");
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
assert_members(GHashTable *by_name, const char *type, const char *expected)
{
    g_autofree char *members = describe_members(by_name, type);

    g_assert_cmpstr(members, ==, expected);
}

static json_object *
lookup(GHashTable *by_name, const char *name)
{
    json_object *entry = g_hash_table_lookup(by_name, name);

    if (!entry)
        g_error("'%s' is not listed", name);
    return entry;
}

static void
assert_our_entries(GHashTable *by_name)
{
    json_object *add = lookup(by_name, "spicevmc-add");
    json_object *remove = lookup(by_name, "spicevmc-remove");
    json_object *query = lookup(by_name, "query-spicevmc");
    json_object *kind = lookup(by_name, "SpicevmcKind");
    json_object *added = lookup(by_name, "SPICEVMC_CHANNEL_ADDED");
    json_object *deleted = lookup(by_name, "SPICEVMC_CHANNEL_DELETED");

    g_assert_cmpstr(member_str(add, "meta-type"), ==, "command");
    g_assert_cmpstr(member_str(add, "arg-type"), ==, "q_obj_spicevmc-add-arg");
    assert_members(by_name, "q_obj_spicevmc-add-arg",
                   "kind:SpicevmcKind? id:str? fqdn:str? port-name:str? bus:str? nr:int? "
                   "channels:[SpicevmcChannelSpec]?");
    g_assert_cmpstr(member_str(lookup(by_name, "[SpicevmcChannelSpec]"), "element-type"), ==,
                    "SpicevmcChannelSpec");
    assert_members(by_name, "SpicevmcChannelSpec",
                   "kind:SpicevmcKind id:str? fqdn:str? port-name:str? bus:str? nr:int?");
    g_assert_cmpstr(member_str(add, "ret-type"), ==, "[SpicevmcChannel]");
    assert_members(by_name, "SpicevmcChannel",
                   "id:str kind:SpicevmcKind? spice-name:str? chardev:str? frontend:str? bus:str? "
                   "nr:int? port-name:str? controller:str? guest-open:bool inferred:bool "
                   "libvirt:bool persistent:bool state:str");
    g_assert_cmpstr(json_object_to_json_string(member(kind, "values")), ==,
                    "[ \"vdagent\", \"usbredir\", \"smartcard\", \"webdav\", \"serial\", "
                    "\"stream\", \"port\" ]");
    g_assert_cmpint(json_object_array_length(member(kind, "members")), ==, 7);
    g_assert_cmpstr(member_str(json_object_array_get_idx(member(kind, "members"), 0), "name"), ==,
                    "vdagent");

    assert_members(by_name, member_str(remove, "arg-type"), "id:str? ids:[str]? all:bool?");
    g_assert_cmpstr(member_str(remove, "ret-type"), ==, "[str]");
    g_assert_cmpstr(member_str(lookup(by_name, "[str]"), "element-type"), ==, "str");

    /* No arguments, nothing but a return value: the empty object for arguments. */
    assert_members(by_name, member_str(query, "arg-type"), "");
    g_assert_cmpstr(member_str(query, "ret-type"), ==, "[SpicevmcChannel]");
    g_assert_null(member_opt(query, "allow-oob"));

    /* Events, as QEMU lists its own: a name, "event" and the type of their data. */
    g_assert_cmpstr(member_str(added, "meta-type"), ==, "event");
    g_assert_cmpstr(member_str(added, "arg-type"), ==, "SpicevmcChannel");
    g_assert_cmpint(json_object_object_length(added), ==, 3);
    g_assert_cmpstr(member_str(deleted, "meta-type"), ==, "event");
    g_assert_cmpstr(member_str(deleted, "arg-type"), ==, "q_obj_SPICEVMC_CHANNEL_DELETED-arg");
    assert_members(by_name, member_str(deleted, "arg-type"), "id:str");
}

static void
test_introspect_merged(QapiFixture *f, gconstpointer data)
{
    g_autoptr(json_object) qemu = testvm_exec(f->qmp, qmp_cmd_query_qmp_schema());
    g_autoptr(json_object) merged = qapi_schema_merge_introspection(f->schema, qemu);
    g_autoptr(GHashTable) qemu_names = index_entries(qemu);
    g_autoptr(GHashTable) by_name = assert_self_contained(merged);
    g_autoptr(GPtrArray) added = g_ptr_array_new();
    g_autofree char *added_names = NULL;

    /* QEMU's entries all kept, as they were. */
    for (gsize i = 0; i < json_object_array_length(qemu); i++) {
        json_object *entry = json_object_array_get_idx(qemu, i);

        g_assert_true(g_hash_table_lookup(by_name, member_str(entry, "name")) == entry);
    }
    /* Only what QEMU lacks: its str, int, bool, [str] and empty object are used. */
    for (gsize i = 0; i < json_object_array_length(merged); i++) {
        const char *name = member_str(json_object_array_get_idx(merged, i), "name");

        if (!g_hash_table_contains(qemu_names, name))
            g_ptr_array_add(added, (gpointer)name);
    }
    g_ptr_array_add(added, NULL);
    added_names = g_strjoinv(" ", (char **)added->pdata);
    g_assert_cmpstr(added_names, ==,
                    "spicevmc-add q_obj_spicevmc-add-arg SpicevmcKind SpicevmcChannelSpec "
                    "[SpicevmcChannelSpec] SpicevmcChannel [SpicevmcChannel] spicevmc-remove "
                    "q_obj_spicevmc-remove-arg query-spicevmc SPICEVMC_CHANNEL_ADDED "
                    "SPICEVMC_CHANNEL_DELETED q_obj_SPICEVMC_CHANNEL_DELETED-arg");
    assert_our_entries(by_name);
    /* QEMU's own name for the empty object, not one of ours. */
    g_assert_true(g_hash_table_contains(qemu_names,
                                        member_str(lookup(by_name, "query-spicevmc"), "arg-type")));
}

static void
test_introspect_alone(QapiFixture *f, gconstpointer data)
{
    g_autoptr(json_object) list = qapi_schema_introspect(f->schema);
    g_autoptr(GHashTable) by_name = assert_self_contained(list);

    assert_our_entries(by_name);
    g_assert_cmpstr(member_str(lookup(by_name, "str"), "json-type"), ==, "string");
    g_assert_cmpstr(member_str(lookup(by_name, "int"), "json-type"), ==, "int");
    g_assert_cmpstr(member_str(lookup(by_name, "bool"), "json-type"), ==, "boolean");
    g_assert_cmpstr(member_str(lookup(by_name, "str"), "meta-type"), ==, "builtin");
    g_assert_false(g_hash_table_contains(by_name, "uint32"));
}

static void
test_introspect_builtins(QapiFixture *f, gconstpointer data)
{
    g_autoptr(QapiSchema) schema = qapi_fixture_write_schema(f,
        "{ 'command': 'x-all', 'allow-oob': true,\n"
        "  'data': { 'a': 'int8', 'b': 'uint64', 'c': 'size', '*d': 'number', 'e': 'any',\n"
        "            'f': 'null', 'g': [ 'uint32' ], 'h': 'int' } }\n"
        "{ 'event': 'X_NOTHING' }\n"
        "{ 'event': 'X_SOME', 'data': { 'n': 'uint8', '*s': 'str' } }\n", NULL);
    g_autoptr(json_object) list = NULL;
    g_autoptr(GHashTable) by_name = NULL;
    json_object *cmd;

    g_assert_no_error(f->error);
    list = qapi_schema_introspect(schema);
    by_name = assert_self_contained(list);
    cmd = lookup(by_name, "x-all");
    /* QEMU folds every integer type into "int". */
    assert_members(by_name, member_str(cmd, "arg-type"),
                   "a:int b:int c:int d:number? e:any f:null g:[int] h:int");
    g_assert_true(member_bool(cmd, "allow-oob"));
    /* An event without data has the empty object as QEMU gives it. */
    g_assert_cmpstr(member_str(lookup(by_name, "X_NOTHING"), "meta-type"), ==, "event");
    assert_members(by_name, member_str(lookup(by_name, "X_NOTHING"), "arg-type"), "");
    assert_members(by_name, member_str(lookup(by_name, "X_SOME"), "arg-type"), "n:int s:str?");
    g_assert_cmpstr(member_str(lookup(by_name, "any"), "json-type"), ==, "value");
    g_assert_cmpstr(member_str(lookup(by_name, "number"), "json-type"), ==, "number");
    g_assert_cmpstr(member_str(lookup(by_name, "null"), "json-type"), ==, "null");
    assert_members(by_name, member_str(cmd, "ret-type"), "");
}

static void
test_commands(QapiFixture *f, gconstpointer data)
{
    g_autoptr(json_object) qemu = testvm_exec(f->qmp, qmp_cmd_query_commands());
    g_autoptr(json_object) ours = qapi_schema_commands(f->schema);
    g_autoptr(GHashTable) qemu_names = index_entries(qemu);

    g_assert_cmpuint(json_object_array_length(ours), ==, 3);
    g_assert_cmpstr(json_object_to_json_string(ours), ==,
                    "[ { \"name\": \"spicevmc-add\" }, { \"name\": \"spicevmc-remove\" }, "
                    "{ \"name\": \"query-spicevmc\" } ]");
    for (gsize i = 0; i < json_object_array_length(ours); i++) {
        const char *name = member_str(json_object_array_get_idx(ours, i), "name");

        g_assert_false(g_hash_table_contains(qemu_names, name));
    }
    /* Entries shaped like QEMU's. */
    g_assert_cmpint(json_object_object_length(json_object_array_get_idx(qemu, 0)), ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_QAPI_QEMU("/qapi/introspect/merged", test_introspect_merged);
    ADD_QAPI("/qapi/introspect/alone", test_introspect_alone);
    ADD_QAPI("/qapi/introspect/builtins", test_introspect_builtins);
    ADD_QAPI_QEMU("/qapi/commands", test_commands);
    return g_test_run();
}
