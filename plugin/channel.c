/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A SPICE channel as found on a VM, and its JSON form for list --json and query-spicevmc. */
#include "config.h"

#include "svc-private.h"

void
svc_channel_free(SvcChannel *ch)
{
    if (!ch)
        return;
    g_free(ch->id);
    g_free(ch->chardev);
    g_free(ch->spice_name);
    g_free(ch->driver);
    g_free(ch->bus);
    g_free(ch->port_name);
    g_free(ch->controller);
    g_free(ch->reason);
    g_free(ch);
}

SvcChannel *
svc_channel_copy(const SvcChannel *ch)
{
    SvcChannel *copy = g_memdup2(ch, sizeof(*ch));

    copy->id = g_strdup(ch->id);
    copy->chardev = g_strdup(ch->chardev);
    copy->spice_name = g_strdup(ch->spice_name);
    copy->driver = g_strdup(ch->driver);
    copy->bus = g_strdup(ch->bus);
    copy->port_name = g_strdup(ch->port_name);
    copy->controller = g_strdup(ch->controller);
    copy->reason = g_strdup(ch->reason);
    return copy;
}

/* Each key once, a literal: json-c neither looks it up nor copies it (a list of hundreds of
 * channels spent more here than in parsing QEMU's reply). */
static void
add(json_object *obj, const char *key, json_object *value)
{
    json_object_object_add_ex(obj, key, value,
                              JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
    if (value)
        add(obj, key, json_object_new_string(value));
}

json_object *
svc_channel_to_json(const SvcChannel *ch)
{
    json_object *obj = json_object_new_object();

    add_string(obj, "id", ch->id);
    add_string(obj, "kind", ch->kind ? ch->kind->name : NULL);
    add_string(obj, "spice-name", ch->spice_name);
    add_string(obj, "chardev", ch->chardev);
    add_string(obj, "frontend", ch->driver);
    add_string(obj, "bus", ch->bus);
    if (ch->nr)
        add(obj, "nr", json_object_new_int64(ch->nr));
    add_string(obj, "port-name", ch->port_name);
    add_string(obj, "controller", ch->controller);
    add(obj, "guest-open", json_object_new_boolean(ch->guest_open));
    /* Channels spicevmc did not create are described from what QEMU shows of them. */
    add(obj, "inferred", json_object_new_boolean(!ch->ours));
    add(obj, "libvirt", json_object_new_boolean(ch->libvirt));
    add(obj, "persistent", json_object_new_boolean(ch->persistent));
    add(obj, "state", json_object_new_string(svc_state_name(ch->state)));
    add_string(obj, "reason", ch->reason);
    return obj;
}

const char *
svc_state_name(SvcState state)
{
    static const char *const names[] = {
        [SVC_STATE_OK] = "ok",
        [SVC_STATE_NO_DEVICE] = "no-device",
        [SVC_STATE_GONE] = "gone",
        [SVC_STATE_CONFIG] = "config",
    };

    return names[state];
}

gboolean
svc_channel_matches(const SvcChannel *ch, const SvcSpec *spec)
{
    if (ch->kind != spec->kind || (spec->id && g_strcmp0(ch->id, spec->id) != 0))
        return FALSE;
    if (spec->fqdn && g_strcmp0(ch->spice_name, spec->fqdn) != 0)
        return FALSE;
    if (spec->port_name && g_strcmp0(ch->port_name, spec->port_name) != 0)
        return FALSE;
    if (spec->nr && ch->nr != spec->nr)
        return FALSE;
    return !spec->bus || g_strcmp0(ch->bus, spec->bus) == 0;
}

SvcChannel *
svc_channel_from_spec(const SvcSpec *spec)
{
    SvcChannel *ch = g_new0(SvcChannel, 1);

    ch->kind = spec->kind;
    ch->id = g_strdup(spec->id);
    /* A numbered SPICE name is only known once a number was picked. */
    ch->spice_name = g_strdup(spec->fqdn ? spec->fqdn
                                         : spec->kind->numbered ? NULL : spec->kind->spice_name);
    ch->port_name = g_strdup(spec->port_name ? spec->port_name
                                             : svc_kind_default_port_name(spec->kind,
                                                                          ch->spice_name));
    ch->driver = g_strdup(svc_frontend_driver(spec->kind->frontend));
    ch->ours = TRUE;
    return ch;
}

SvcChannel *
svc_channels_find(GPtrArray *channels, const char *id)
{
    for (guint i = 0; i < channels->len; i++) {
        SvcChannel *ch = channels->pdata[i];

        if (g_strcmp0(ch->id, id) == 0)
            return ch;
    }
    return NULL;
}
