/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a user asks for when adding a channel, checked before anything talks to QEMU. */
#include "config.h"

#include "svc-private.h"

static void
list_kinds(GString *out)
{
    guint n;
    const SvcKind *kinds = svc_kinds(&n);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(out, "%s%s", i ? ", " : "", kinds[i].name);
}

SvcSpec *
svc_spec_new(const char *kind, GError **error)
{
    const SvcKind *k = svc_kind_lookup(kind);
    SvcSpec *spec;

    if (!k) {
        g_autoptr(GString) known = g_string_new(NULL);
        g_autofree char *shown = qmp_escape(kind);

        list_kinds(known);
        g_set_error(error, SVC_ERROR, SVC_ERROR_UNKNOWN_KIND,
                    "unknown channel kind '%s' (known: %s)", shown, known->str);
        return NULL;
    }
    spec = g_new0(SvcSpec, 1);
    spec->kind = k;
    spec->controller = -1;
    return spec;
}

void
svc_spec_free(SvcSpec *spec)
{
    if (!spec)
        return;
    g_free(spec->id);
    g_free(spec->fqdn);
    g_free(spec->port_name);
    g_free(spec->bus);
    g_free(spec->origin);
    g_free(spec);
}

static gboolean
refuse(const SvcSpec *spec, const char *key, const char *why, GError **error)
{
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                "option '%s' does not apply to a %s channel: %s", key, spec->kind->name, why);
    return FALSE;
}

static gboolean
set_nr(SvcSpec *spec, const char *value, GError **error)
{
    guint64 nr;

    if (!svc_frontend_is_virtio_serial(spec->kind->frontend))
        return refuse(spec, "nr", "it has no virtio-serial port", error);
    if (!g_ascii_string_to_unsigned(value, 10, 1, G_MAXUINT32, &nr, NULL)) {
        g_autofree char *shown = qmp_escape(value);

        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "invalid port number '%s': expected an integer from 1 up", shown);
        return FALSE;
    }
    spec->nr = nr;
    return TRUE;
}

gboolean
svc_spec_set(SvcSpec *spec, const char *key, const char *value, GError **error)
{
    if (g_strcmp0(key, "id") == 0) {
        if (!svc_check_id("device id", value, error))
            return FALSE;
        g_free(spec->id);
        spec->id = g_strdup(value);
    } else if (g_strcmp0(key, "fqdn") == 0) {
        if (spec->kind->backend != SVC_BACKEND_SPICEPORT || spec->kind->spice_name)
            return refuse(spec, key, "only a 'port' channel takes a SPICE port name", error);
        if (!svc_check_port_name("fqdn", value, error))
            return FALSE;
        g_free(spec->fqdn);
        spec->fqdn = g_strdup(value);
    } else if (g_strcmp0(key, "port-name") == 0) {
        if (!svc_frontend_is_virtio_serial(spec->kind->frontend))
            return refuse(spec, key, "it has no virtio-serial port", error);
        if (!svc_check_port_name("guest port name", value, error))
            return FALSE;
        g_free(spec->port_name);
        spec->port_name = g_strdup(value);
    } else if (g_strcmp0(key, "bus") == 0) {
        if (!svc_check_id("bus", value, error))
            return FALSE;
        g_free(spec->bus);
        spec->bus = g_strdup(value);
    } else if (g_strcmp0(key, "nr") == 0) {
        return set_nr(spec, value, error);
    } else {
        g_autofree char *shown = qmp_escape(key);

        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                    "unknown option '%s' (known: id, fqdn, port-name, bus, nr)", shown);
        return FALSE;
    }
    return TRUE;
}

/* "KIND[,key=value]…", virt-xml style. */
SvcSpec *
svc_spec_parse(const char *text, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    g_autoptr(SvcSpec) spec = svc_spec_new(parts[0] ? parts[0] : "", error);

    if (!spec)
        return NULL;
    for (guint i = 1; parts[i]; i++) {
        g_auto(GStrv) kv = g_strsplit(parts[i], "=", 2);

        if (!kv[0] || !kv[1]) {
            g_autofree char *shown = qmp_escape(parts[i]);

            g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                        "invalid option '%s' in '%s': expected key=value", shown,
                        spec->kind->name);
            return NULL;
        }
        if (!svc_spec_set(spec, kv[0], kv[1], error))
            return NULL;
    }
    return g_steal_pointer(&spec);
}

void
svc_spec_prefix_error(GError **error, const SvcSpec *spec)
{
    if (spec->origin)
        g_prefix_error(error, "cannot add '%s' (%s): ", spec->kind->name, spec->origin);
    else
        g_prefix_error(error, "cannot add '%s': ", spec->kind->name);
}

SvcSpec *
svc_spec_copy(const SvcSpec *spec)
{
    SvcSpec *copy = g_memdup2(spec, sizeof(*spec));

    copy->id = g_strdup(spec->id);
    copy->fqdn = g_strdup(spec->fqdn);
    copy->port_name = g_strdup(spec->port_name);
    copy->bus = g_strdup(spec->bus);
    copy->origin = g_strdup(spec->origin);
    return copy;
}

SvcSpec *
svc_spec_from_channel(const SvcChannel *ch)
{
    SvcSpec *spec = g_new0(SvcSpec, 1);

    spec->kind = ch->kind;
    spec->controller = -1;
    spec->id = g_strdup(ch->id);
    if (ch->kind->backend == SVC_BACKEND_SPICEPORT && !ch->kind->spice_name)
        spec->fqdn = g_strdup(ch->spice_name);
    spec->port_name = g_strdup(svc_kind_explicit_port_name(ch->kind, ch->spice_name,
                                                           ch->port_name));
    return spec;
}
