/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/reply.c — QEMU's replies and events read with every value's JSON type and range
 * checked. */
#include "config.h"

#include <stdarg.h>

#include "svc-private.h"

/* How much of a value an error message quotes. */
#define QUOTE_MAX 80

/* @value as JSON on one line (json-c escapes control characters), cut short. */
static char *
quote(json_object *value)
{
    const char *text = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    g_autofree char *cut = NULL;

    if (!g_utf8_validate(text, -1, NULL) || g_utf8_strlen(text, -1) <= QUOTE_MAX)
        return g_strdup(text);
    cut = g_utf8_substring(text, 0, QUOTE_MAX);
    return g_strconcat(cut, "…", NULL);
}

/* "unexpected @what: <problem>: <@value as JSON>". */
static gboolean
unexpected(GError **error, const char *what, json_object *value, const char *format,
           va_list args)
{
    g_autofree char *problem = g_strdup_vprintf(format, args);
    g_autofree char *shown = quote(value);

    g_set_error(error, SVC_ERROR, SVC_ERROR_UNEXPECTED, "unexpected %s: %s: %s", what, problem,
                shown);
    return FALSE;
}

gboolean
svc_reply_unexpected(GError **error, const char *command, json_object *value,
                     const char *format, ...)
{
    g_autofree char *what = g_strdup_printf("reply to %s", command);
    va_list args;

    va_start(args, format);
    unexpected(error, what, value, format, args);
    va_end(args);
    return FALSE;
}

static gboolean G_GNUC_PRINTF(4, 5)
event_unexpected(GError **error, const char *event, json_object *value, const char *format, ...)
{
    g_autofree char *what = g_strdup_printf("%s event", event);
    va_list args;

    va_start(args, format);
    unexpected(error, what, value, format, args);
    va_end(args);
    return FALSE;
}

static const char *
type_name(json_type type)
{
    switch (type) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a fraction";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "a value";
}

gboolean
svc_reply_expect(json_object *value, json_type type, const char *command, const char *what,
                 GError **error)
{
    if (json_object_is_type(value, type))
        return TRUE;
    return svc_reply_unexpected(error, command, value, "%s is %s, not %s", what,
                                type_name(json_object_get_type(value)), type_name(type));
}

gboolean
svc_reply_member(json_object *obj, const char *key, json_type type, gboolean required,
                 const char *command, json_object **out, GError **error)
{
    json_object *member = NULL;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &member)) {
        if (!required)
            return TRUE;
        return svc_reply_unexpected(error, command, obj, "'%s' is missing", key);
    }
    if (!json_object_is_type(member, type))
        return svc_reply_unexpected(error, command, obj, "'%s' is %s, not %s", key,
                                    type_name(json_object_get_type(member)), type_name(type));
    *out = member;
    return TRUE;
}

gboolean
svc_event_member(json_object *data, const char *event, const char *key, json_type type,
                 gboolean required, json_object **out, GError **error)
{
    json_object *member = NULL;

    *out = NULL;
    if (!json_object_is_type(data, json_type_object))
        return event_unexpected(error, event, data, "its data is %s, not an object",
                                type_name(json_object_get_type(data)));
    if (!json_object_object_get_ex(data, key, &member))
        return !required || event_unexpected(error, event, data, "'%s' is missing", key);
    if (!json_object_is_type(member, type))
        return event_unexpected(error, event, data, "'%s' is %s, not %s", key,
                                type_name(json_object_get_type(member)), type_name(type));
    *out = member;
    return TRUE;
}

gboolean
svc_reply_uint(json_object *value, guint min, guint max, const char *command, const char *what,
               guint *out, GError **error)
{
    gint64 n;

    if (!svc_reply_expect(value, json_type_int, command, what, error))
        return FALSE;
    /* json-c gives G_MAXINT64 for anything larger: out of range too. */
    n = json_object_get_int64(value);
    if (n < min || n > max)
        return svc_reply_unexpected(error, command, value, "%s is not from %u to %u", what, min,
                                    max);
    *out = (guint)n;
    return TRUE;
}

/* Each entry an object whose @keys are strings (@n of them, all required). */
static gboolean
check_list(json_object *list, const char *const *keys, guint n, const char *command,
           GError **error)
{
    if (!svc_reply_expect(list, json_type_array, command, "the list", error))
        return FALSE;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        json_object *member;

        if (!svc_reply_expect(entry, json_type_object, command, "an entry", error))
            return FALSE;
        for (guint k = 0; k < n; k++) {
            if (!svc_reply_member(entry, keys[k], json_type_string, TRUE, command, &member,
                                  error))
                return FALSE;
        }
    }
    return TRUE;
}

/* [ChardevInfo]: label, filename, frontend-open, as QEMU's schema has them. */
gboolean
svc_reply_check_chardevs(json_object *list, GError **error)
{
    static const char *const keys[] = { "label", "filename" };
    json_object *open;

    if (!check_list(list, keys, G_N_ELEMENTS(keys), "query-chardev", error))
        return FALSE;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        if (!svc_reply_member(json_object_array_get_idx(list, i), "frontend-open",
                              json_type_boolean, TRUE, "query-chardev", &open, error))
            return FALSE;
    }
    return TRUE;
}

/* [ObjectPropertyInfo]: name, type. */
gboolean
svc_reply_check_properties(json_object *list, const char *command, GError **error)
{
    static const char *const keys[] = { "name", "type" };

    return check_list(list, keys, G_N_ELEMENTS(keys), command, error);
}
