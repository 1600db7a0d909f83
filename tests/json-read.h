/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/json-read.h — JSON from QEMU, libvirt and the CLI, read in tests: a member that is
 * missing or of another type fails the test showing the object. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

/* @text parsed; fails showing @text when it is not JSON. */
json_object *parse_json(const char *text);
/* @obj's @key, which must be there. */
json_object *member(json_object *obj, const char *key);
/* @obj's @key, or NULL when it has none (@obj must be an object). */
json_object *member_opt(json_object *obj, const char *key);
/* @obj's @key, which must be there with that type. */
const char *member_str(json_object *obj, const char *key);
gint64 member_int(json_object *obj, const char *key);
gboolean member_bool(json_object *obj, const char *key);
/* Entries of the array @arr whose string @key starts with (@prefix) or is @value. */
guint count_entries(json_object *arr, const char *key, const char *value, gboolean prefix);
#define has_entry(arr, key, value) (count_entries(arr, key, value, FALSE) > 0)
#define count_prefixed(arr, key, prefix) count_entries(arr, key, prefix, TRUE)
/* The one entry of @arr whose @key is @value; fails showing @arr when there is none or more. */
json_object *find_entry(json_object *arr, const char *key, const char *value);
