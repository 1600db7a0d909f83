/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp/text.c — names, paths and peers' words made safe to show in a one-line message. */
#include "config.h"

#include <string.h>

#include "qmp.h"

/* Control characters (C0, DEL, C1, and the Unicode line and paragraph separators) as C
 * escapes, and bytes that are not UTF-8 as \xNN; with @strict, also the backslash and the
 * single quote, so that a name shown between quotes reads back one way only. */
static char *
escape(const char *text, gsize len, gboolean strict)
{
    GString *out = g_string_sized_new(len);
    const char *p = text, *end = text + len;

    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        const char *next;

        /* A NUL is a control character here, as in any bytes a peer sent. */
        if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0) {
            g_string_append_printf(out, "\\x%02x", (guchar)*p++);
            continue;
        }
        next = g_utf8_next_char(p);
        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else if ((c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029)
            g_string_append_printf(out, "\\u%04x", c);
        else if (strict && (c == '\\' || c == '\''))
            g_string_append_printf(out, "\\%c", (char)c);
        else
            g_string_append_len(out, p, next - p);
        p = next;
    }
    return g_string_free(out, FALSE);
}

char *
qmp_escape(const char *text)
{
    return text ? escape(text, strlen(text), TRUE) : g_strdup("");
}

char *
qmp_escape_bytes(const char *data, gsize len)
{
    return escape(data, len, TRUE);
}

char *
qmp_escape_message(const char *message)
{
    return message ? escape(message, strlen(message), FALSE) : g_strdup("");
}
