/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/json-read.c — JSON from QEMU, libvirt and the CLI, read in tests (json-read.h). */
#include "config.h"

#include <glib.h>

#include "json-read.h"

json_object *
parse_json(const char *text)
{
    json_object *obj = json_tokener_parse(text);

    if (!obj)
        g_assert_cmpstr(text, ==, "(valid JSON)");
    return obj;
}

json_object *
member(json_object *obj, const char *key)
{
    json_object *value = NULL;

    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &value))
        g_assert_cmpstr(json_object_to_json_string(obj), ==, key);
    return value;
}

json_object *
member_opt(json_object *obj, const char *key)
{
    json_object *value = NULL;

    if (!json_object_is_type(obj, json_type_object))
        g_assert_cmpstr(json_object_to_json_string(obj), ==, "(an object)");
    json_object_object_get_ex(obj, key, &value);
    return value;
}

static json_object *
typed_member(json_object *obj, const char *key, json_type type)
{
    json_object *value = member(obj, key);

    if (!json_object_is_type(value, type)) {
        g_autofree char *wanted = g_strdup_printf("'%s' of type %s", key,
                                                  json_type_to_name(type));

        g_assert_cmpstr(json_object_to_json_string(obj), ==, wanted);
    }
    return value;
}

const char *
member_str(json_object *obj, const char *key)
{
    return json_object_get_string(typed_member(obj, key, json_type_string));
}

gint64
member_int(json_object *obj, const char *key)
{
    return json_object_get_int64(typed_member(obj, key, json_type_int));
}

gboolean
member_bool(json_object *obj, const char *key)
{
    return json_object_get_boolean(typed_member(obj, key, json_type_boolean));
}

static void
assert_array(json_object *arr)
{
    if (!json_object_is_type(arr, json_type_array))
        g_assert_cmpstr(json_object_to_json_string(arr), ==, "(an array)");
}

guint
count_entries(json_object *arr, const char *key, const char *value, gboolean prefix)
{
    guint n = 0;

    assert_array(arr);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *s = member_str(json_object_array_get_idx(arr, i), key);

        n += prefix ? g_str_has_prefix(s, value) : g_strcmp0(s, value) == 0;
    }
    return n;
}

json_object *
find_entry(json_object *arr, const char *key, const char *value)
{
    json_object *found = NULL;

    assert_array(arr);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *entry = json_object_array_get_idx(arr, i);

        if (g_strcmp0(member_str(entry, key), value) == 0) {
            if (found)
                g_assert_cmpstr(json_object_to_json_string(arr), ==, "(one entry only)");
            found = entry;
        }
    }
    if (!found)
        g_assert_cmpstr(json_object_to_json_string(arr), ==, value);
    return found;
}
