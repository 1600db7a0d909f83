/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/watch-spice.c — a watched VM's SPICE clients: QEMU names a channel's type and id in
 * SPICE_INITIALIZED only, so the channels linked are kept, and a SPICE_DISCONNECTED is the one
 * QEMU no longer lists (query-spice). */
#include "config.h"

#include "svc-private.h"

typedef struct {
    gint64 connection;
    gint64 type;
    gint64 id;
} Link;

struct _SvcSpiceLinks {
    GArray *linked;           /* Link: what QEMU listed, or announced linked, since */
    GArray *gone;             /* Link: listed no more, its SPICE_DISCONNECTED still to come */
};

SvcSpiceLinks *
svc_spice_links_new(void)
{
    SvcSpiceLinks *l = g_new0(SvcSpiceLinks, 1);

    l->linked = g_array_new(FALSE, FALSE, sizeof(Link));
    l->gone = g_array_new(FALSE, FALSE, sizeof(Link));
    return l;
}

void
svc_spice_links_free(SvcSpiceLinks *l)
{
    if (!l)
        return;
    g_array_unref(l->linked);
    g_array_unref(l->gone);
    g_free(l);
}

static gint
find(GArray *links, const Link *link)
{
    for (guint i = 0; i < links->len; i++) {
        const Link *k = &g_array_index(links, Link, i);

        if (k->connection == link->connection && k->type == link->type && k->id == link->id)
            return i;
    }
    return -1;
}

static void
add(GArray *links, const Link *link)
{
    if (find(links, link) < 0)
        g_array_append_vals(links, link, 1);
}

/* A SpiceChannel of query-spice or of SPICE_INITIALIZED's "client": the three numbers that
 * name it, type-checked. */
static gboolean
read_link(json_object *obj, const char *what, gboolean event, Link *out, GError **error)
{
    static const char *const keys[] = { "connection-id", "channel-type", "channel-id" };
    gint64 *fields[] = { &out->connection, &out->type, &out->id };
    json_object *value;

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (event ? !svc_event_member(obj, what, keys[i], json_type_int, TRUE, &value, error)
                  : !svc_reply_member(obj, keys[i], json_type_int, TRUE, what, &value, error))
            return FALSE;
        *fields[i] = json_object_get_int64(value);
    }
    return TRUE;
}

/* What query-spice lists now; a QEMU without SPICE, or refusing, lists nothing. */
static GArray *
list_links(SvcVm *vm, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GArray) links = g_array_new(FALSE, FALSE, sizeof(Link));
    SvcReply *r = NULL;
    json_object *channels = NULL;
    gboolean ok = TRUE;

    g_ptr_array_add(cmds, qmp_cmd_query_spice());
    if (!svc_vm_run(vm, cmds, &r, error))
        return NULL;
    if (r[0].ret && svc_reply_expect(r[0].ret, json_type_object, "query-spice", "the reply", error))
        ok = svc_reply_member(r[0].ret, "channels", json_type_array, FALSE, "query-spice",
                              &channels, error);
    else
        ok = r[0].ret == NULL;
    for (size_t i = 0; ok && channels && i < json_object_array_length(channels); i++) {
        json_object *entry = json_object_array_get_idx(channels, i);
        Link link;

        ok = svc_reply_expect(entry, json_type_object, "query-spice", "a channel", error) &&
             read_link(entry, "query-spice", FALSE, &link, error);
        if (ok)
            add(links, &link);
    }
    svc_replies_free(r, cmds->len);
    return ok ? g_steal_pointer(&links) : NULL;
}

gboolean
svc_spice_links_load(SvcSpiceLinks *l, SvcVm *vm, GError **error)
{
    g_autoptr(GArray) now = list_links(vm, error);

    if (!now)
        return FALSE;
    g_array_set_size(l->linked, 0);
    g_array_append_vals(l->linked, now->data, now->len);
    return TRUE;
}

/* Which channel a SPICE_DISCONNECTED is: one linked that QEMU lists no more.  Several may
 * have gone by the time QEMU is asked; their events follow, and take the others in turn. */
static gboolean
take_gone(SvcSpiceLinks *l, SvcVm *vm, Link *out, gboolean *found, GError **error)
{
    *found = FALSE;
    if (!l->gone->len) {
        g_autoptr(GArray) now = list_links(vm, error);

        if (!now)
            return FALSE;
        for (guint i = 0; i < l->linked->len; i++) {
            const Link *k = &g_array_index(l->linked, Link, i);

            if (find(now, k) < 0)
                add(l->gone, k);
        }
        g_array_set_size(l->linked, 0);
        g_array_append_vals(l->linked, now->data, now->len);
    }
    if (!l->gone->len)
        return TRUE;
    *out = g_array_index(l->gone, Link, 0);
    g_array_remove_index(l->gone, 0);
    *found = TRUE;
    return TRUE;
}

SvcEvent *
svc_spice_links_event(SvcSpiceLinks *l, SvcVm *vm, const SvcRawEvent *raw, GError **error)
{
    g_autoptr(SvcEvent) e = NULL;
    json_object *client = NULL;
    gboolean found = TRUE;
    Link link = { -1, -1, -1 };

    /* Every client event says who the client is. */
    if (!svc_event_member(raw->data, raw->name, "client", json_type_object, TRUE, &client,
                          error))
        return NULL;
    if (g_str_equal(raw->name, "SPICE_CONNECTED")) {
        e = svc_event_new(SVC_EVENT_CLIENT_CONNECTED, raw->time);
    } else if (g_str_equal(raw->name, "SPICE_INITIALIZED")) {
        if (!read_link(client, raw->name, TRUE, &link, error))
            return NULL;
        add(l->linked, &link);
        e = svc_event_new(SVC_EVENT_CLIENT_INITIALIZED, raw->time);
    } else {
        if (!take_gone(l, vm, &link, &found, error))
            return NULL;
        e = svc_event_new(SVC_EVENT_CLIENT_DISCONNECTED, raw->time);
    }
    /* QEMU's numbers: SPICE's types and ids are small; a connection id is spice-server's C
     * int, any value. */
    if (found && link.type >= 0 && link.type <= G_MAXINT && link.id >= 0 && link.id <= G_MAXINT) {
        e->spice_channel_type = (int)link.type;
        e->spice_channel_id = (int)link.id;
        e->connection_id = link.connection;
    }
    e->source = g_strdup(raw->name);
    e->data = json_object_get(raw->data);
    return g_steal_pointer(&e);
}
