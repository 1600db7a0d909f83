/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/watch-event.c — what a watch reports: an SvcEvent, its names and its JSON form (the
 * shape README.md and virt-spicevmc(1) document, and scripts rely on). */
#include "config.h"

#include "svc-private.h"

static const char *const type_names[] = {
    [SVC_EVENT_WATCHING] = "watching",
    [SVC_EVENT_CHANNEL_ADDED] = "channel-added",
    [SVC_EVENT_CHANNEL_REMOVED] = "channel-removed",
    [SVC_EVENT_PORT_OPENED] = "port-opened",
    [SVC_EVENT_PORT_CLOSED] = "port-closed",
    [SVC_EVENT_CLIENT_CONNECTED] = "client-connected",
    [SVC_EVENT_CLIENT_INITIALIZED] = "client-initialized",
    [SVC_EVENT_CLIENT_DISCONNECTED] = "client-disconnected",
    [SVC_EVENT_EVENTS_LOST] = "events-lost",
    [SVC_EVENT_ENDED] = "ended",
};

/* spice-protocol's SPICE_CHANNEL_* numbers. */
static const char *const spice_channels[] = {
    [1] = "main", [2] = "display", [3] = "inputs", [4] = "cursor", [5] = "playback",
    [6] = "record", [7] = "tunnel", [8] = "smartcard", [9] = "usbredir", [10] = "port",
    [11] = "webdav",
};

const char *
svc_event_type_name(SvcEventType type)
{
    return (guint)type < G_N_ELEMENTS(type_names) ? type_names[type] : NULL;
}

const char *
svc_spice_channel_name(int type)
{
    return type >= 0 && type < (int)G_N_ELEMENTS(spice_channels) ? spice_channels[type] : NULL;
}

SvcEvent *
svc_event_new(SvcEventType type, gint64 time)
{
    SvcEvent *e = g_new0(SvcEvent, 1);

    e->type = type;
    e->time = time ? time : g_get_real_time();
    e->spice_channel_type = -1;
    e->spice_channel_id = -1;
    return e;
}

void
svc_event_free(SvcEvent *e)
{
    if (!e)
        return;
    g_free(e->id);
    svc_channel_free(e->channel);
    if (e->channels)
        g_ptr_array_unref(e->channels);
    g_free(e->source);
    if (e->data)
        json_object_put(e->data);
    g_free(e->reason);
    g_free(e);
}

/* ISO 8601 in UTC, to the microsecond: "2026-11-30T12:00:00.123456Z". */
static char *
format_time(gint64 us)
{
    g_autoptr(GDateTime) seconds = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) exact = seconds ? g_date_time_add(seconds, us % G_USEC_PER_SEC) : NULL;

    return exact ? g_date_time_format(exact, "%Y-%m-%dT%H:%M:%S.%fZ") : g_strdup("");
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
    if (value)
        json_object_object_add(obj, key, json_object_new_string(value));
}

static void
add_int(json_object *obj, const char *key, gint64 value)
{
    if (value >= 0)
        json_object_object_add(obj, key, json_object_new_int64(value));
}

json_object *
svc_event_to_json(const SvcEvent *e)
{
    json_object *obj = json_object_new_object();
    g_autofree char *time = format_time(e->time);
    const SvcChannel *ch = e->channel;

    add_string(obj, "time", time);
    add_string(obj, "event", svc_event_type_name(e->type));
    add_string(obj, "id", e->id);
    if (ch) {
        add_string(obj, "kind", ch->kind ? ch->kind->name : NULL);
        add_string(obj, "spice-name", ch->spice_name);
        add_string(obj, "port-name", ch->port_name);
    }
    if (e->spice_channel_type >= 0) {
        add_string(obj, "spice-channel", svc_spice_channel_name(e->spice_channel_type));
        add_int(obj, "spice-channel-type", e->spice_channel_type);
        add_int(obj, "spice-channel-id", e->spice_channel_id);
        /* spice-server's is a C int: any value. */
        json_object_object_add(obj, "connection-id", json_object_new_int64(e->connection_id));
    }
    if (e->type == SVC_EVENT_EVENTS_LOST)
        json_object_object_add(obj, "count", json_object_new_int64(e->lost));
    add_string(obj, "reason", e->reason);
    add_string(obj, "source", e->source);
    if (e->data)
        json_object_object_add(obj, "data", json_object_get(e->data));
    if (ch)
        json_object_object_add(obj, "channel", svc_channel_to_json(ch));
    if (e->channels) {
        json_object *list = json_object_new_array();

        for (guint i = 0; i < e->channels->len; i++)
            json_object_array_add(list, svc_channel_to_json(e->channels->pdata[i]));
        json_object_object_add(obj, "channels", list);
    }
    return obj;
}
