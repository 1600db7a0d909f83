/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Address and name allocation: free-port maps per virtio-serial bus, lowest free suffixes. */
#include "config.h"

#include "svc-private.h"

SvcPortMap *
svc_port_map_new(const char *name, guint max_ports)
{
    SvcPortMap *map = g_new0(SvcPortMap, 1);

    map->name = g_strdup(name);
    map->max_ports = max_ports;
    map->used = g_new0(guint8, MAX(max_ports, 1));
    /* Port 0 is reserved for a virtconsole at startup; hot-plugged ports never get it. */
    map->used[0] = 1;
    return map;
}

void
svc_port_map_free(SvcPortMap *map)
{
    if (!map)
        return;
    g_free(map->name);
    g_free(map->used);
    g_free(map);
}

gboolean
svc_port_map_valid(const SvcPortMap *map, guint nr)
{
    return nr >= 1 && nr < map->max_ports;
}

gboolean
svc_port_map_is_free(const SvcPortMap *map, guint nr)
{
    return svc_port_map_valid(map, nr) && !map->used[nr];
}

void
svc_port_map_take(SvcPortMap *map, guint nr)
{
    if (nr < map->max_ports)
        map->used[nr] = 1;
}

guint
svc_port_map_first_free(const SvcPortMap *map)
{
    for (guint nr = 1; nr < map->max_ports; nr++) {
        if (!map->used[nr])
            return nr;
    }
    return 0;
}

guint
svc_port_map_last_free(const SvcPortMap *map)
{
    for (guint nr = map->max_ports - 1; nr >= 1 && nr < map->max_ports; nr--) {
        if (!map->used[nr])
            return nr;
    }
    return 0;
}

guint
svc_port_map_count_used(const SvcPortMap *map)
{
    guint n = 0;

    for (guint nr = 1; nr < map->max_ports; nr++)
        n += map->used[nr];
    return n;
}

char *
svc_first_free_name(GHashTable *taken, const char *prefix, guint start)
{
    for (guint n = start;; n++) {
        g_autofree char *name = g_strdup_printf("%s%u", prefix, n);

        if (!g_hash_table_contains(taken, name))
            return g_steal_pointer(&name);
    }
}
