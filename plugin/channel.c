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
    g_free(ch);
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
    if (value)
        json_object_object_add(obj, key, json_object_new_string(value));
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
        json_object_object_add(obj, "nr", json_object_new_int64(ch->nr));
    add_string(obj, "port-name", ch->port_name);
    add_string(obj, "controller", ch->controller);
    json_object_object_add(obj, "guest-open", json_object_new_boolean(ch->guest_open));
    /* Channels spicevmc did not create are described from what QEMU shows of them. */
    json_object_object_add(obj, "inferred", json_object_new_boolean(!ch->ours));
    json_object_object_add(obj, "state",
                           json_object_new_string(ch->state == SVC_STATE_OK ? "ok" : "no-device"));
    return obj;
}
