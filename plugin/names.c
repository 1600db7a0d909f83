/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name rules, and the chardev ids that carry a channel's identity. */
#include "config.h"

#include <string.h>

#include "svc-private.h"

#define NAME_MAX_LEN 127

/* Chardev ids are "svc" and the fields below, each after a "_"; a "_" inside a field is written
 * "_-" (no field starts with "-").  Trailing empty fields are left out; an empty field means the
 * kind's default.  QEMU 7.2 reads its monitor a byte at a time, ~5 us a byte, and the id goes
 * to it twice per channel (chardev-add, device_add), so every byte here is paid for. */
#define ID_PREFIX "svc"
enum { F_KIND, F_ID, F_BUS, F_NR, F_SPICE, F_PORT, F_CONTROLLER, N_FIELDS };

static gboolean
is_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* One sentence about the first character QEMU's parsers or ours would trip over. */
static gboolean
check_chars(const char *what, const char *name, GError **error)
{
    g_autofree char *shown = qmp_escape(name);

    if (!*name) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "%s must not be empty", what);
        return FALSE;
    }
    if (strlen(name) > NAME_MAX_LEN) {
        /* Cut by characters: the escaped name keeps UTF-8, which a byte count could split. */
        g_autofree char *start = g_utf8_substring(shown, 0, 20);

        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "%s '%s…' is longer than %d characters", what, start, NAME_MAX_LEN);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if (is_name_char(*p))
            continue;
        if (g_ascii_isprint(*p)) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                        "invalid %s '%s': character '%c' is not allowed "
                        "(use letters, digits, '.', '-' and '_')", what, shown, *p);
        } else {
            g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                        "invalid %s '%s': byte 0x%02x is not allowed "
                        "(use letters, digits, '.', '-' and '_')", what, shown, (guint8)*p);
        }
        return FALSE;
    }
    return TRUE;
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '.', '-', '_'. */
gboolean
svc_check_id(const char *what, const char *id, GError **error)
{
    if (!check_chars(what, id, error))
        return FALSE;
    if (!g_ascii_isalpha(id[0])) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "invalid %s '%s': it must start with a letter", what, id);
        return FALSE;
    }
    return TRUE;
}

/* SPICE port and guest port names: dotted, reverse-domain style ("org.example.term.0"). */
gboolean
svc_check_port_name(const char *what, const char *name, GError **error)
{
    if (!check_chars(what, name, error))
        return FALSE;
    if (!g_ascii_isalnum(name[0]) || strstr(name, "..") || g_str_has_suffix(name, ".")) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "invalid %s '%s': it must be dot-separated words "
                    "starting with a letter or digit", what, name);
        return FALSE;
    }
    return TRUE;
}

static void
append_field(GString *out, const char *field)
{
    g_string_append_c(out, '_');
    for (const char *p = field ? field : ""; *p; p++) {
        if (*p == '_')
            g_string_append(out, "_-");
        else
            g_string_append_c(out, *p);
    }
}

char *
svc_chardev_id_encode(const SvcChannel *ch)
{
    const char *fields[N_FIELDS] = { NULL };
    g_autofree char *nr = ch->nr ? g_strdup_printf("%u", ch->nr) : NULL;
    GString *out = g_string_new(ID_PREFIX);
    int last = F_ID;

    fields[F_KIND] = ch->kind->name;
    fields[F_ID] = ch->id;
    fields[F_BUS] = ch->bus;
    fields[F_NR] = nr;
    if (!ch->kind->spice_name || ch->kind->numbered)
        fields[F_SPICE] = ch->spice_name;
    fields[F_PORT] = svc_kind_explicit_port_name(ch->kind, ch->spice_name, ch->port_name);
    fields[F_CONTROLLER] = ch->controller;

    for (int i = 0; i < N_FIELDS; i++) {
        if (fields[i] && *fields[i])
            last = i;
    }
    for (int i = 0; i <= last; i++)
        append_field(out, fields[i]);
    return g_string_free(out, FALSE);
}

/* Split an encoded id into its fields; NULL when it is not in our form. */
static GPtrArray *
split_fields(const char *label)
{
    g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) cur = NULL;
    const char *p;

    if (!g_str_has_prefix(label, ID_PREFIX "_"))
        return NULL;
    for (p = label + strlen(ID_PREFIX); *p; p++) {
        if (*p != '_') {
            if (!is_name_char(*p))
                return NULL;
            g_string_append_c(cur, *p);
        } else if (p[1] == '-' && cur) {
            g_string_append_c(cur, '_');
            p++;
        } else {
            if (cur)
                g_ptr_array_add(fields, g_string_free(g_steal_pointer(&cur), FALSE));
            cur = g_string_new(NULL);
        }
    }
    g_ptr_array_add(fields, g_string_free(g_steal_pointer(&cur), FALSE));
    if (fields->len > N_FIELDS)
        return NULL;
    while (fields->len < N_FIELDS)
        g_ptr_array_add(fields, g_strdup(""));
    return g_steal_pointer(&fields);
}

static char *
nonempty(const char *s)
{
    return *s ? g_strdup(s) : NULL;
}

/* "org.qemu.console.serial.N": the kind's prefix and a number as %u writes it. */
static gboolean
is_numbered_name(const SvcKind *kind, const char *name)
{
    const char *n = g_str_has_prefix(name, kind->spice_name) ? name + strlen(kind->spice_name)
                                                             : NULL;
    guint64 value;
    char canonical[16];

    if (!n || !g_ascii_string_to_unsigned(n, 10, 0, G_MAXUINT32, &value, NULL))
        return FALSE;
    g_snprintf(canonical, sizeof(canonical), "%" G_GUINT64_FORMAT, value);
    return g_str_equal(n, canonical);
}

/* Whether @ch is a channel spicevmc could have made, so that what it is decoded as is what the
 * label means: every name as spec.c and plan.c check it, and only the fields its kind has. */
static gboolean
is_encodable(const SvcChannel *ch)
{
    const SvcKind *kind = ch->kind;
    gboolean virtio = svc_frontend_is_virtio_serial(kind->frontend);

    if (!svc_check_id("id", ch->id, NULL) || !ch->bus || !svc_check_id("bus", ch->bus, NULL))
        return FALSE;
    if (virtio != (ch->nr != 0) || virtio != (ch->port_name != NULL))
        return FALSE;
    if (ch->port_name && !svc_check_port_name("guest port name", ch->port_name, NULL))
        return FALSE;
    if (ch->controller && (kind->frontend != SVC_FRONT_CCID_CARD ||
                           !svc_check_id("controller", ch->controller, NULL)))
        return FALSE;
    if (!ch->spice_name)
        return FALSE;
    if (kind->numbered)
        return is_numbered_name(kind, ch->spice_name);
    if (kind->spice_name)
        return g_str_equal(ch->spice_name, kind->spice_name);
    return svc_check_port_name("fqdn", ch->spice_name, NULL);
}

/* Only what svc_chardev_id_encode() writes is decoded, each label one way: a chardev someone
 * else named like ours (an extra field, a default written out, "01" for 1) is not ours. */
SvcChannel *
svc_chardev_id_decode(const char *label)
{
    g_autoptr(GPtrArray) f = split_fields(label);
    g_autoptr(SvcChannel) ch = NULL;
    g_autofree char *again = NULL;
    const SvcKind *kind;
    guint64 nr = 0;

    if (!f || !(kind = svc_kind_lookup(f->pdata[F_KIND])))
        return NULL;
    if (*(char *)f->pdata[F_NR] &&
        !g_ascii_string_to_unsigned(f->pdata[F_NR], 10, 1, G_MAXUINT32, &nr, NULL))
        return NULL;

    ch = g_new0(SvcChannel, 1);
    ch->kind = kind;
    ch->ours = TRUE;
    ch->id = g_strdup(f->pdata[F_ID]);
    ch->chardev = g_strdup(label);
    ch->driver = g_strdup(svc_frontend_driver(kind->frontend));
    ch->bus = nonempty(f->pdata[F_BUS]);
    ch->nr = nr;
    ch->spice_name = nonempty(f->pdata[F_SPICE]);
    if (!ch->spice_name && kind->spice_name && !kind->numbered)
        ch->spice_name = g_strdup(kind->spice_name);
    ch->port_name = nonempty(f->pdata[F_PORT]);
    if (!ch->port_name)
        ch->port_name = g_strdup(svc_kind_default_port_name(kind, ch->spice_name));
    ch->controller = nonempty(f->pdata[F_CONTROLLER]);

    if (!is_encodable(ch))
        return NULL;
    again = svc_chardev_id_encode(ch);
    return g_str_equal(again, label) ? g_steal_pointer(&ch) : NULL;
}
