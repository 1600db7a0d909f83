/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI schemas: schemas/spicevmc.json read, its errors worded as a real QEMU words them, its
 * events' data checked, and broken schema files refused clearly; introspection is in
 * test-qapi-introspect.c. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "qapi-fixture.h"
#include "service/qmp-service.h"

/* ---- building JSON -------------------------------------------------------------------- */

/* {key: value, …} up to a NULL key; takes the values (a NULL value is JSON null). */
static json_object *
obj(const char *key, ...)
{
    json_object *o = json_object_new_object();
    va_list args;

    va_start(args, key);
    for (; key; key = va_arg(args, const char *))
        json_object_object_add(o, key, va_arg(args, json_object *));
    va_end(args);
    return o;
}

/* [value, …] of @n values; takes them. */
static json_object *
arr(guint n, ...)
{
    json_object *a = json_object_new_array();
    va_list args;

    va_start(args, n);
    for (guint i = 0; i < n; i++)
        json_object_array_add(a, va_arg(args, json_object *));
    va_end(args);
    return a;
}

static json_object *str(const char *s) { return json_object_new_string(s); }
static json_object *num(gint64 i) { return json_object_new_int64(i); }
static json_object *dbl(double d) { return json_object_new_double(d); }
static json_object *yes(void) { return json_object_new_boolean(TRUE); }

static json_object *
command(const char *name, json_object *args)
{
    return obj("execute", str(name), "arguments", args, NULL);
}

/* An object with @n made-up members named "k0".."kN" and a few common ones, plus @extra. */
static json_object *
many_members(guint n, json_object *extra)
{
    json_object *o = extra ? extra : json_object_new_object();

    json_object_object_add(o, "capabilities", num(1));
    json_object_object_add(o, "kind", num(1));
    json_object_object_add(o, "x", num(1));
    for (guint i = 0; i < n; i++) {
        g_autofree char *key = g_strdup_printf("k%u", i);

        json_object_object_add(o, key, num(i));
    }
    return o;
}

/* ---- loading -------------------------------------------------------------------------- */

static void
test_load(QapiFixture *f, gconstpointer data)
{
    g_assert_true(qapi_schema_has_command(f->schema, "spicevmc-add"));
    g_assert_true(qapi_schema_has_command(f->schema, "spicevmc-remove"));
    g_assert_true(qapi_schema_has_command(f->schema, "query-spicevmc"));
    /* Types and implicit argument types are not commands. */
    g_assert_false(qapi_schema_has_command(f->schema, "SpicevmcChannel"));
    g_assert_false(qapi_schema_has_command(f->schema, "q_obj_spicevmc-add-arg"));
    g_assert_false(qapi_schema_has_command(f->schema, "query-status"));
}

/* ---- arguments: every wording as QEMU's own ------------------------------------------- */

typedef struct {
    const char *wording;        /* QEMU's message, '@' for the name; NULL: the same as QEMU's */
    const char *qemu_command;
    json_object *qemu_args;
    const char *qemu_name;
    const char *our_command;
    json_object *our_args;
    const char *our_name;
} WordingCase;

static void
add_case(GArray *cases, const char *wording, const char *qemu_command, json_object *qemu_args,
         const char *qemu_name, const char *our_command, json_object *our_args,
         const char *our_name)
{
    WordingCase c = { wording, qemu_command, qemu_args, qemu_name,
                      our_command, our_args, our_name };

    g_array_append_val(cases, c);
}

/* QEMU's commands with members like ours: list of structs, enum, bool, uint32, strings. */
static json_object *
migrate_caps(json_object *cap)
{
    return obj("capabilities", arr(1, cap), NULL);
}

static json_object *
add_channel(json_object *channel)
{
    return obj("channels", arr(1, channel), NULL);
}

/* A uint32 of migrate-set-parameters. */
static json_object *
checkpoint_delay(json_object *value)
{
    return obj("x-checkpoint-delay", value, NULL);
}

/* blockdev-reopen's options[0] is an nbd node, whose reconnect-delay is a uint32. */
static json_object *
nbd_reopen(json_object *delay)
{
    return obj("options", arr(1, obj("driver", str("nbd"), "node-name", str("x"),
                                     "server", obj("type", str("unix"), "path", str("/x"), NULL),
                                     "reconnect-delay", delay, NULL)), NULL);
}

#define MISSING "Parameter '@' is missing"
#define UNEXPECTED "Parameter '@' is unexpected"
#define STRING "Invalid parameter type for '@', expected: string"
#define BAD_ENUM "Parameter '@' does not accept value 'bogus'"
#define UINT64 "Parameter '@' expects uint64"
#define UINT32 "Parameter '@' expects uint32_t"

static void
add_member_cases(GArray *c)
{
    add_case(c, MISSING, "migrate-set-capabilities", migrate_caps(obj("state", yes(), NULL)),
             "capabilities[0].capability",
             "spicevmc-add", add_channel(obj("id", str("a"), NULL)), "channels[0].kind");
    add_case(c, MISSING, "migrate-set-capabilities",
             obj("capabilities", arr(2, obj("capability", str("xbzrle"), "state", yes(), NULL),
                                     obj("state", yes(), NULL)), NULL),
             "capabilities[1].capability",
             "spicevmc-add", obj("channels", arr(2, obj("kind", str("webdav"), NULL),
                                                 obj("id", str("a"), NULL)), NULL),
             "channels[1].kind");
    /* A missing member is reported before an unexpected one. */
    add_case(c, MISSING, "migrate-set-capabilities",
             migrate_caps(obj("x", num(1), "state", yes(), NULL)), "capabilities[0].capability",
             "spicevmc-add", add_channel(obj("x", num(1), NULL)), "channels[0].kind");
    add_case(c, UNEXPECTED, "device_del", obj("id", str("x"), "bogus", num(1), NULL), "bogus",
             "spicevmc-remove", obj("id", str("x"), "bogus", num(1), NULL), "bogus");
    add_case(c, UNEXPECTED, "migrate-set-capabilities",
             migrate_caps(obj("capability", str("xbzrle"), "state", yes(), "x", num(1), NULL)),
             "capabilities[0].x",
             "spicevmc-add", add_channel(obj("kind", str("webdav"), "x", num(1), NULL)),
             "channels[0].x");
    add_case(c, UNEXPECTED, "query-status", obj("x", num(1), NULL), "x",
             "query-spicevmc", obj("x", num(1), NULL), "x");
    add_case(c, "QMP input member 'arguments' must be an object",
             "device_del", arr(0), NULL, "spicevmc-remove", arr(0), NULL);
    /* Several unexpected members: QEMU names one by the order of its hash tables. */
    add_case(c, NULL, "query-status", many_members(6, NULL), NULL,
             "query-spicevmc", many_members(6, NULL), NULL);
    add_case(c, NULL, "query-status", many_members(40, NULL), NULL,
             "query-spicevmc", many_members(40, NULL), NULL);
    add_case(c, NULL, "device_del", many_members(3, obj("id", str("x"), NULL)), NULL,
             "spicevmc-remove", many_members(3, obj("id", str("x"), NULL)), NULL);
    add_case(c, NULL, "device_del", many_members(25, obj("id", str("x"), NULL)), NULL,
             "spicevmc-remove", many_members(25, obj("id", str("x"), NULL)), NULL);
}

static void
add_type_cases(GArray *c)
{
    add_case(c, STRING, "device_del", obj("id", num(1), NULL), "id",
             "spicevmc-remove", obj("id", num(1), NULL), "id");
    /* null is no absent member, even an optional one. */
    add_case(c, STRING, "device_del", obj("id", NULL, NULL), "id",
             "spicevmc-remove", obj("id", NULL, NULL), "id");
    add_case(c, STRING, "migrate-set-capabilities",
             migrate_caps(obj("capability", num(1), "state", yes(), NULL)),
             "capabilities[0].capability",
             "spicevmc-add", add_channel(obj("kind", num(1), NULL)), "channels[0].kind");
    add_case(c, STRING, "qmp_capabilities", obj("enable", arr(1, num(1)), NULL), "enable[0]",
             "spicevmc-remove", obj("ids", arr(2, str("a"), num(1)), NULL), "ids[1]");
    add_case(c, "Invalid parameter type for '@', expected: boolean",
             "set_link", obj("name", str("x"), "up", str("true"), NULL), "up",
             "spicevmc-remove", obj("all", str("true"), NULL), "all");
    add_case(c, "Invalid parameter type for '@', expected: array",
             "migrate-set-capabilities", obj("capabilities", obj(NULL), NULL), "capabilities",
             "spicevmc-add", obj("channels", obj(NULL), NULL), "channels");
    add_case(c, "Invalid parameter type for '@', expected: object",
             "migrate-set-capabilities", obj("capabilities", arr(1, num(1)), NULL),
             "capabilities[0]",
             "spicevmc-add", obj("channels", arr(1, num(1)), NULL), "channels[0]");
    add_case(c, BAD_ENUM, "query-cpu-model-expansion",
             obj("type", str("bogus"), "model", obj("name", str("qemu64"), NULL), NULL), "type",
             "spicevmc-add", obj("kind", str("bogus"), NULL), "kind");
    /* The bare member name, not its path. */
    add_case(c, BAD_ENUM, "migrate-set-capabilities",
             migrate_caps(obj("capability", str("bogus"), "state", yes(), NULL)), "capability",
             "spicevmc-add", add_channel(obj("kind", str("bogus"), NULL)), "kind");
}

static void
add_uint32_cases(GArray *c)
{
    add_case(c, UINT64, "migrate-set-parameters", checkpoint_delay(str("a")), "x-checkpoint-delay",
             "spicevmc-add", obj("nr", str("a"), NULL), "nr");
    add_case(c, UINT64, "migrate-set-parameters", checkpoint_delay(dbl(1.0)), "x-checkpoint-delay",
             "spicevmc-add", obj("nr", dbl(1.0), NULL), "nr");
    add_case(c, UINT64, "blockdev-reopen", nbd_reopen(str("a")), "options[0].reconnect-delay",
             "spicevmc-add", add_channel(obj("kind", str("serial"), "nr", str("a"), NULL)),
             "channels[0].nr");
    /* Out of range: the bare member name; a negative number counts as a huge one. */
    add_case(c, UINT32, "blockdev-reopen", nbd_reopen(num(G_MAXUINT32 + G_GINT64_CONSTANT(1))),
             "reconnect-delay",
             "spicevmc-add", add_channel(obj("kind", str("serial"),
                                             "nr", num(G_MAXUINT32 + G_GINT64_CONSTANT(1)), NULL)),
             "nr");
    add_case(c, UINT32, "migrate-set-parameters", checkpoint_delay(num(-1)), "x-checkpoint-delay",
             "spicevmc-add", obj("nr", num(-1), NULL), "nr");
    add_case(c, UINT32, "migrate-set-parameters",
             checkpoint_delay(json_object_new_uint64(G_MAXUINT64)), "x-checkpoint-delay",
             "spicevmc-add", obj("nr", json_object_new_uint64(G_MAXUINT64), NULL), "nr");
}

static char *
expand(const char *wording, const char *name)
{
    g_auto(GStrv) parts = g_strsplit(wording, "@", -1);

    return g_strjoinv(name ? name : "", parts);
}

static char *
qemu_desc(QapiFixture *f, const char *name, json_object *args)
{
    g_autoptr(json_object) cmd = command(name, json_object_get(args));
    g_autoptr(json_object) ret = qmp_client_execute(f->qmp, cmd, &f->error);
    char *desc;

    g_assert_null(ret);
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_COMMAND);
    desc = g_strdup(f->error->message);
    g_clear_error(&f->error);
    return desc;
}

static void
test_wording(QapiFixture *f, gconstpointer data)
{
    g_autoptr(GArray) cases = g_array_new(FALSE, FALSE, sizeof(WordingCase));

    add_member_cases(cases);
    add_type_cases(cases);
    add_uint32_cases(cases);

    for (guint i = 0; i < cases->len; i++) {
        WordingCase *c = &g_array_index(cases, WordingCase, i);
        g_autofree char *qemu = qemu_desc(f, c->qemu_command, c->qemu_args);

        g_test_message("%s: QEMU says \"%s\"", c->qemu_command, qemu);
        if (c->wording) {
            g_autofree char *expected_qemu = expand(c->wording, c->qemu_name);
            g_autofree char *expected_ours = expand(c->wording, c->our_name);

            g_assert_cmpstr(qemu, ==, expected_qemu);
            g_assert_false(qapi_schema_check_arguments(f->schema, c->our_command, c->our_args,
                                                       &f->error));
            g_assert_error(f->error, QMP_ERROR, QMP_ERROR_ARGUMENT);
            g_assert_cmpstr(f->error->message, ==, expected_ours);
        } else {
            g_assert_false(qapi_schema_check_arguments(f->schema, c->our_command, c->our_args,
                                                       &f->error));
            g_assert_error(f->error, QMP_ERROR, QMP_ERROR_ARGUMENT);
            g_assert_cmpstr(f->error->message, ==, qemu);
        }
        g_clear_error(&f->error);
        json_object_put(c->qemu_args);
        json_object_put(c->our_args);
    }
}

/* Built-in types our schema does not use, against a copy of QEMU's own commands. */
static const char mirror_schema[] =
    "{ 'command': 'balloon', 'data': { 'value': 'int' } }\n"
    "{ 'command': 'netdev_add', 'data': { 'type': 'str', 'id': 'str', 'hubid': 'int32',\n"
    "                                     '*netdev': 'str' } }\n"
    "{ 'command': 'qom-set', 'data': { 'path': 'str', 'property': 'str', 'value': 'any' } }\n"
    "{ 'command': 'block-latency-histogram-set',\n"
    "  'data': { 'id': 'str', '*boundaries': [ 'uint64' ] } }\n"
    "{ 'enum': 'QMPCapability', 'data': [ 'oob' ] }\n"
    "{ 'command': 'qmp_capabilities', 'data': { '*enable': [ 'QMPCapability' ] } }\n";

static void
assert_same_as_qemu(QapiFixture *f, QapiSchema *schema, const char *name, json_object *args)
{
    g_autofree char *qemu = qemu_desc(f, name, args);

    g_test_message("%s: QEMU says \"%s\"", name, qemu);
    g_assert_false(qapi_schema_check_arguments(schema, name, args, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_ARGUMENT);
    g_assert_cmpstr(f->error->message, ==, qemu);
    g_clear_error(&f->error);
    json_object_put(args);
}

/* netdev_add of a hubport, whose hubid is an int32. */
static json_object *
hubport(json_object *hubid)
{
    return obj("type", str("hubport"), "id", str("h"), "hubid", hubid, NULL);
}

static void
test_wording_builtins(QapiFixture *f, gconstpointer data)
{
    g_autoptr(QapiSchema) mirror = qapi_fixture_write_schema(f, mirror_schema, NULL);

    g_assert_no_error(f->error);
    assert_same_as_qemu(f, mirror, "balloon", obj("value", str("x"), NULL));
    assert_same_as_qemu(f, mirror, "balloon", obj("value", dbl(1.5), NULL));
    assert_same_as_qemu(f, mirror, "balloon",
                        obj("value", json_object_new_uint64(G_MAXUINT64), NULL));
    assert_same_as_qemu(f, mirror, "balloon", obj(NULL));
    assert_same_as_qemu(f, mirror, "netdev_add", hubport(num(G_MAXINT32 + G_GINT64_CONSTANT(1))));
    assert_same_as_qemu(f, mirror, "netdev_add", hubport(num(G_MININT32 - G_GINT64_CONSTANT(1))));
    assert_same_as_qemu(f, mirror, "netdev_add", hubport(str("x")));
    assert_same_as_qemu(f, mirror, "qom-set", obj("path", str("/"), "property", str("x"), NULL));
    assert_same_as_qemu(f, mirror, "block-latency-histogram-set",
                        obj("id", str("x"), "boundaries", arr(2, num(1), str("a")), NULL));
    assert_same_as_qemu(f, mirror, "qmp_capabilities", obj("enable", NULL, NULL));
    /* An enum in a list has no member name: QEMU says 'null'. */
    assert_same_as_qemu(f, mirror, "qmp_capabilities", obj("enable", arr(1, str("bogus")), NULL));
}

static void
assert_accepted(QapiFixture *f, const char *name, json_object *args)
{
    g_assert_true(qapi_schema_check_arguments(f->schema, name, args, &f->error));
    g_assert_no_error(f->error);
    json_object_put(args);
}

static void
test_accepted(QapiFixture *f, gconstpointer data)
{
    assert_accepted(f, "spicevmc-add", obj("kind", str("webdav"), NULL));
    assert_accepted(f, "spicevmc-add", NULL);
    assert_accepted(f, "spicevmc-add", obj("kind", str("serial"), "nr", num(G_MAXUINT32),
                                           "port-name", str("p"), "bus", str("vs0.0"), NULL));
    assert_accepted(f, "spicevmc-add",
                    obj("channels",
                        arr(2, obj("kind", str("port"), "fqdn", str("org.x"), "nr", num(0), NULL),
                            obj("kind", str("usbredir"), "id", str("u"), NULL)), NULL));
    assert_accepted(f, "spicevmc-add", obj("channels", arr(0), NULL));
    assert_accepted(f, "spicevmc-remove",
                    obj("ids", arr(2, str("a"), str("b")), "all", yes(), NULL));
    assert_accepted(f, "query-spicevmc", NULL);
    assert_accepted(f, "query-spicevmc", obj(NULL));
}

/* The proxy's events are checked as a client reading them with the schema would: with the
 * words QEMU gives a command's arguments. */
static void
test_events(QapiFixture *f, gconstpointer data)
{
    g_autoptr(json_object) channel = obj("id", str("webdav0"), "kind", str("webdav"),
                                         "guest-open", json_object_new_boolean(FALSE),
                                         "inferred", json_object_new_boolean(FALSE),
                                         "libvirt", json_object_new_boolean(FALSE),
                                         "persistent", json_object_new_boolean(FALSE),
                                         "state", str("ok"), "nr", num(1), NULL);
    g_autoptr(json_object) deleted = obj("id", str("webdav0"), NULL);
    g_autoptr(json_object) wrong_kind = obj("id", str("x"), "kind", str("floppy"), NULL);
    g_autoptr(json_object) extra = obj("id", str("x"), "why", str("because"), NULL);

    g_assert_true(qapi_schema_has_event(f->schema, "SPICEVMC_CHANNEL_ADDED"));
    g_assert_true(qapi_schema_has_event(f->schema, "SPICEVMC_CHANNEL_DELETED"));
    g_assert_false(qapi_schema_has_event(f->schema, "spicevmc-add"));
    g_assert_false(qapi_schema_has_command(f->schema, "SPICEVMC_CHANNEL_ADDED"));
    g_assert_true(qapi_schema_check_event(f->schema, "SPICEVMC_CHANNEL_ADDED", channel,
                                          &f->error));
    g_assert_no_error(f->error);
    g_assert_true(qapi_schema_check_event(f->schema, "SPICEVMC_CHANNEL_DELETED", deleted,
                                          &f->error));
    g_assert_no_error(f->error);
    g_assert_false(qapi_schema_check_event(f->schema, "SPICEVMC_CHANNEL_DELETED", NULL,
                                           &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_ARGUMENT);
    g_assert_cmpstr(f->error->message, ==, "Parameter 'id' is missing");
    g_clear_error(&f->error);
    g_assert_false(qapi_schema_check_event(f->schema, "SPICEVMC_CHANNEL_ADDED", wrong_kind,
                                           &f->error));
    g_assert_cmpstr(f->error->message, ==, "Parameter 'kind' does not accept value 'floppy'");
    g_clear_error(&f->error);
    g_assert_false(qapi_schema_check_event(f->schema, "SPICEVMC_CHANNEL_DELETED", extra,
                                           &f->error));
    g_assert_cmpstr(f->error->message, ==, "Parameter 'why' is unexpected");
    g_clear_error(&f->error);
}

/* ---- broken schema files ------------------------------------------------------------- */

static const struct {
    const char *text;
    const char *error;          /* after "PATH:" */
} bad_schemas[] = {
    { "{ 'struct': 'A',\n  'data': { 'b': 'Nope' } }",
      "1: member 'b' of 'A' has unknown type 'Nope'" },
    { "\n{ 'command': 'c', 'data': { '*x': [ 'Nope' ] } }",
      "2: member 'x' of 'c' has unknown type 'Nope'" },
    { "{ 'command': 'c', 'returns': 'Nope' }", "1: 'returns' of 'c' has unknown type 'Nope'" },
    { "{ 'command': 'c' }\n{ 'struct': 'A', 'data': { 'b': 'c' } }",
      "2: member 'b' of 'A' has type 'c', which is a command" },
    { "{ 'enum': 'E', 'data': [ 'a' ] }\n{ 'command': 'c', 'data': 'E' }",
      "2: 'data' of 'c' names 'E', which is not a struct" },
    { "{ 'enum': 'A', 'data': [ 'x' ] }\n# A again:\n{ 'struct': 'A', 'data': {} }",
      "3: 'A' is already defined at line 1" },
    { "{ 'command': 'c', 'data': { 'a': 'str' } }\n{ 'command': 'c', 'data': { 'a': 'str' } }",
      "2: 'c' is already defined at line 1" },
    { "{ 'struct': 'str', 'data': {} }", "1: 'str' is the name of a built-in type" },
    { "{ 'struct': 'A', 'data': { 'b': 'str',\n                          'b': 'int' } }",
      "2: duplicate key 'b' in 'A'" },
    { "{ 'struct': 'A', 'data': { 'b': 'str', '*b': 'int' } }",
      "1: 'A' has two members named 'b'" },
    { "{ 'enum': 'E', 'data': [ 'a', 'b', 'a' ] }", "1: enum 'E' has the value 'a' twice" },
    { "{ 'union': 'U', 'base': { 'type': 'E' }, 'data': {} }",
      "1: 'U' is a 'union', which is not a kind of expression known here (enum, struct, command, "
      "event)" },
    { "{ 'event': 'E', 'returns': 'str' }", "1: event 'E' has an unknown key 'returns'" },
    { "{ 'event': 'E', 'data': { 'a': 'Nope' } }", "1: member 'a' of 'E' has unknown type 'Nope'" },
    { "{ 'enum': 'K', 'data': [ 'a' ] }\n{ 'event': 'E', 'data': 'K' }",
      "2: 'data' of 'E' names 'K', which is not a struct" },
    { "{ 'event': 'E' }\n{ 'struct': 'A', 'data': { 'b': 'E' } }",
      "2: member 'b' of 'A' has type 'E', which is an event" },
    { "{ 'event': 'E', 'data': [ 'str' ] }",
      "1: 'data' of 'E' is neither a dict of members nor the name of a struct" },
    { "{ 'struct': 'A', 'base': 'B', 'data': {} }", "1: struct 'A' has an unknown key 'base'" },
    { "{ 'struct': 'A'\n  'data': {} }", "2: expected ',' or '}' in 'A'" },
    { "{ 'struct': 'A', 'data': { 'b': 'str } }\n",
      "1: a string is not closed on its line in 'A'" },
    { "{ \"struct\": \"A\", \"data\": {} }", "1: expected a quoted key" },
    { "{ 'enum': 'E', 'data': [ 'a', ] }", "1: expected a value in 'E'" },
    { "{ 'enum': 'E', 'data': [ 'a' ]", "1: unexpected end of file in 'E'" },
    { "[ 'a' ]", "1: expected '{' to begin an expression" },
    { "{ 'struct': 'A b', 'data': {} }", "1: 'A b' is not a valid name" },
    { "{ 'struct': 'q_obj_c-arg', 'data': {} }", "1: 'q_obj_c-arg' is not a valid name" },
    { "{ 'struct': 'A', 'data': { 'b': [ 'str', 'int' ] } }",
      "1: member 'b' of 'A' has a type that is neither a name nor a list of one name" },
    { "{ 'struct': 'A', 'data': [ 'b' ] }", "1: struct 'A' needs 'data', a dict of its members" },
};

static void
test_bad_schemas(QapiFixture *f, gconstpointer data)
{
    for (guint i = 0; i < G_N_ELEMENTS(bad_schemas); i++) {
        g_autofree char *path = NULL;
        g_autoptr(QapiSchema) schema = qapi_fixture_write_schema(f, bad_schemas[i].text, &path);
        g_autofree char *expected = g_strdup_printf("%s:%s", path, bad_schemas[i].error);

        if (schema)
            g_error("accepted: %s", bad_schemas[i].text);
        g_assert_error(f->error, QMP_ERROR, QMP_ERROR_SCHEMA);
        g_assert_cmpstr(f->error->message, ==, expected);
        g_clear_error(&f->error);
    }
}

static void
test_missing_file(QapiFixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->dir, "none.json", NULL);

    g_assert_null(qapi_schema_load(path, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_SCHEMA);
    g_assert_nonnull(strstr(f->error->message, path));
}

/* The library's built-in copy is the source file, not an older one. */
static void
test_built_in(QapiFixture *f, gconstpointer data)
{
    g_autoptr(QapiSchema) built_in = svc_qmp_schema(&f->error);
    g_autoptr(json_object) ours = NULL;
    g_autoptr(json_object) theirs = NULL;

    g_assert_no_error(f->error);
    ours = qapi_schema_introspect(built_in);
    theirs = qapi_schema_introspect(f->schema);
    g_assert_cmpstr(json_object_to_json_string(ours), ==, json_object_to_json_string(theirs));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_QAPI("/qapi/load", test_load);
    ADD_QAPI("/qapi/arguments/accepted", test_accepted);
    ADD_QAPI("/qapi/events", test_events);
    ADD_QAPI_QEMU("/qapi/arguments/qemu-wording", test_wording);
    ADD_QAPI_QEMU("/qapi/arguments/qemu-wording-builtins", test_wording_builtins);
    ADD_QAPI("/qapi/schema/bad", test_bad_schemas);
    ADD_QAPI("/qapi/schema/missing-file", test_missing_file);
    ADD_QAPI("/qapi/schema/built-in", test_built_in);
    return g_test_run();
}
