/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-proxy-events.c — the proxy's own events, SPICEVMC_CHANNEL_ADDED and
 * SPICEVMC_CHANNEL_DELETED: to every client, before the reply, shaped as query-qmp-schema
 * says, and bounded as QEMU's events are for a client that does not read them. */
#include "config.h"

#include <string.h>

#include "proxy-common.h"
#include "qapi.h"

#define SCHEMA_FILE SRCDIR "/schemas/spicevmc.json"

static json_object *
get(json_object *obj, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(obj, key, &value))
        g_error("no '%s' in %s", key, json_object_to_json_string(obj));
    return value;
}

static const char *
get_str(json_object *obj, const char *key)
{
    return json_object_get_string(get(obj, key));
}

static guint
count(GPtrArray *names, const char *name)
{
    guint n = 0;

    for (guint i = 0; i < names->len; i++)
        n += g_str_equal(names->pdata[i], name);
    return n;
}

/* The next event named @name that @r reads; the names of all it reads on the way are
 * appended to @seen. */
static json_object *
read_event(Raw *r, const char *name, GPtrArray *seen)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *line = g_data_input_stream_read_line_utf8(r->in, NULL, NULL, &error);
        json_object *msg;

        g_assert_no_error(error);
        g_assert_nonnull(line);
        msg = json_tokener_parse(line);
        g_assert_nonnull(msg);
        if (json_object_object_get(msg, "event")) {
            g_ptr_array_add(seen, g_strdup(get_str(msg, "event")));
            if (g_str_equal(get_str(msg, "event"), name))
                return msg;
        }
        json_object_put(msg);
    }
}

/* Stamped as QEMU stamps its events. */
static void
assert_timestamp(json_object *event)
{
    json_object *stamp = get(event, "timestamp");

    g_assert_true(json_object_is_type(get(stamp, "seconds"), json_type_int));
    g_assert_cmpint(json_object_get_int64(get(stamp, "seconds")), >, 0);
    g_assert_cmpint(json_object_get_int64(get(stamp, "microseconds")), >=, 0);
    g_assert_cmpint(json_object_get_int64(get(stamp, "microseconds")), <, G_USEC_PER_SEC);
}

static void
assert_schema(QapiSchema *schema, json_object *event)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(qapi_schema_check_event(schema, get_str(event, "event"), get(event, "data"),
                                          &error));
    g_assert_no_error(error);
}

/* One client adds and removes; another, that only listens, hears of each channel. */
static void
test_added_deleted(Proxied *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QapiSchema) schema = qapi_schema_load(SCHEMA_FILE, &error);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) removed = NULL;
    g_auto(Raw) asker = { NULL };
    g_auto(Raw) listener = { NULL };
    json_object *channels;

    g_assert_no_error(error);
    raw_open(&asker, f->path, TRUE);
    raw_open(&listener, f->path, TRUE);
    added = raw_exchange(&asker, "{\"execute\": \"spicevmc-add\", \"arguments\": {\"channels\": "
                                 "[{\"kind\": \"webdav\"}, {\"kind\": \"port\", \"fqdn\": "
                                 "\"org.example.events.0\"}]}}", -1);
    channels = get(added, "return");
    g_assert_cmpuint(json_object_array_length(channels), ==, 2);
    /* The one who asked heard of them before the reply. */
    g_assert_cmpuint(count(asker.events, "SPICEVMC_CHANNEL_ADDED"), ==, 2);
    for (guint i = 0; i < 2; i++) {
        g_autoptr(json_object) event = read_event(&listener, "SPICEVMC_CHANNEL_ADDED", seen);
        json_object *channel = json_object_array_get_idx(channels, i);

        assert_timestamp(event);
        assert_schema(schema, event);
        /* The channel as the reply has it. */
        g_assert_cmpstr(json_object_to_json_string(get(event, "data")), ==,
                        json_object_to_json_string(channel));
    }

    removed = raw_exchange(&asker, "{\"execute\": \"spicevmc-remove\", \"arguments\": "
                                   "{\"ids\": [\"webdav0\", \"port0\"]}}", -1);
    g_assert_cmpuint(json_object_array_length(get(removed, "return")), ==, 2);
    g_assert_cmpuint(count(asker.events, "SPICEVMC_CHANNEL_DELETED"), ==, 2);
    for (guint i = 0; i < 2; i++) {
        g_autoptr(json_object) event = read_event(&listener, "SPICEVMC_CHANNEL_DELETED", seen);

        assert_timestamp(event);
        assert_schema(schema, event);
        g_assert_cmpstr(get_str(get(event, "data"), "id"), ==, i ? "port0" : "webdav0");
    }
    /* Once QEMU confirmed the devices deleted. */
    g_assert_cmpuint(count(seen, "DEVICE_DELETED"), ==, 2);
    g_assert_cmpstr(seen->pdata[seen->len - 3], ==, "DEVICE_DELETED");
}

static json_object *
find(json_object *schema, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(schema); i++) {
        json_object *entry = json_object_array_get_idx(schema, i);

        if (g_strcmp0(get_str(entry, "name"), name) == 0)
            return entry;
    }
    g_error("query-qmp-schema does not list '%s'", name);
}

/* Listed by query-qmp-schema with QEMU's own, as management software looks them up. */
static void
test_schema(Proxied *f, gconstpointer data)
{
    g_auto(Raw) r = { NULL };
    g_autoptr(json_object) reply = NULL;
    json_object *schema, *added, *deleted, *members;

    raw_open(&r, f->path, TRUE);
    reply = raw_exchange(&r, "{\"execute\": \"query-qmp-schema\"}", -1);
    schema = get(reply, "return");
    g_assert_cmpstr(get_str(find(schema, "DEVICE_DELETED"), "meta-type"), ==, "event");
    added = find(schema, "SPICEVMC_CHANNEL_ADDED");
    g_assert_cmpstr(get_str(added, "meta-type"), ==, "event");
    g_assert_cmpstr(get_str(added, "arg-type"), ==, "SpicevmcChannel");
    g_assert_cmpstr(get_str(find(schema, "SpicevmcChannel"), "meta-type"), ==, "object");
    deleted = find(schema, "SPICEVMC_CHANNEL_DELETED");
    g_assert_cmpstr(get_str(deleted, "meta-type"), ==, "event");
    members = get(find(schema, get_str(deleted, "arg-type")), "members");
    g_assert_cmpuint(json_object_array_length(members), ==, 1);
    g_assert_cmpstr(get_str(json_object_array_get_idx(members, 0), "name"), ==, "id");
    g_assert_cmpstr(get_str(json_object_array_get_idx(members, 0), "type"), ==, "str");
}

/* 250 port channels a batch, on a bus with room for them. */
static void
setup_wide(Proxied *f, gconstpointer data)
{
    f->vm = testvm_start(511, NULL);
    f->inspect = testvm_qmp(f->vm);
    f->path = g_build_filename(f->vm->dir, "proxy.sock", NULL);
    f->log = g_string_new(NULL);
    f->log_fd = -1;
}

/* spicevmc-add of @n port channels with the longest names: events of ~1 KiB each. */
static char *
wide_add(guint round, guint n)
{
    g_autoptr(GString) cmd = g_string_new("{\"execute\": \"spicevmc-add\", \"arguments\": "
                                          "{\"channels\": [");

    for (guint i = 0; i < n; i++) {
        g_autofree char *id = g_strdup_printf("w%u-%u-", round, i);
        g_autofree char *fqdn = g_strdup_printf("org.example.%u.%u.", round, i);
        g_autofree char *id_pad = g_strnfill(127 - strlen(id), 'i');
        g_autofree char *fqdn_pad = g_strnfill(127 - strlen(fqdn), 'f');

        g_string_append_printf(cmd, "%s{\"kind\": \"port\", \"id\": \"%s%s\", \"fqdn\": \"%s%s\"}",
                               i ? ", " : "", id, id_pad, fqdn, fqdn_pad);
    }
    g_string_append(cmd, "]}}");
    return g_string_free(g_steal_pointer(&cmd), FALSE);
}

/* The proxy's events count against a client's bound as QEMU's do: one that reads none is
 * dropped, the others go on. */
static void
test_unread_dropped(Proxied *f, gconstpointer data)
{
    enum { PORTS = 250, ROUNDS = 20 };
    ProxySpec spec = { .capture_log = TRUE };
    g_auto(Raw) deaf = { NULL };
    g_auto(Raw) busy = { NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    g_autoptr(json_object) status = NULL;
    guint rounds = 0, events = 0;

    proxied_start(f, &spec);
    raw_open(&deaf, f->path, TRUE);
    raw_open(&busy, f->path, TRUE);
    while (proxied_log_count(f, "dropping QMP client 1:") == 0) {
        g_autofree char *add = wide_add(rounds, PORTS);
        g_autoptr(json_object) added = NULL;
        g_autoptr(json_object) removed = NULL;

        g_assert_cmpuint(++rounds, <, ROUNDS);
        added = raw_exchange(&busy, add, -1);
        g_assert_cmpuint(json_object_array_length(get(added, "return")), ==, PORTS);
        removed = raw_exchange(&busy, "{\"execute\": \"spicevmc-remove\", \"arguments\": "
                                      "{\"all\": true}}", -1);
        g_assert_cmpuint(json_object_array_length(get(removed, "return")), ==, PORTS);
        proxied_log_drain(f);
    }
    line = proxied_log_wait(f, "dropping QMP client 1:");
    g_assert_cmpstr(line, ==, "spicevmc-qmp-proxy: dropping QMP client 1: it leaves more than "
                              "1024 KiB unread");
    /* What the kernel held for it, then the end. */
    for (;;) {
        g_autofree char *text = g_data_input_stream_read_line_utf8(deaf.in, NULL, NULL, &error);

        g_assert_no_error(error);
        if (!text)
            break;
        events++;
    }
    g_assert_cmpuint(events, <, rounds * PORTS * 2);
    status = raw_exchange(&busy, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/proxy-events/added-deleted", NULL, test_added_deleted);
    ADD_PROXIED("/proxy-events/schema", NULL, test_schema);
    g_test_add("/proxy-events/unread-dropped", Proxied, NULL, setup_wide, test_unread_dropped,
               proxied_teardown);
    return g_test_run();
}
