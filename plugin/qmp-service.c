/* The QMP commands spicevmc adds (schemas/spicevmc.json): spicevmc-add, spicevmc-remove and
 * query-spicevmc, on any VM, their arguments already checked against the schema. */
#include "config.h"

#include "svc-private.h"

/* One channel's members, as the schema names them, onto a spec. */
static SvcSpec *
spec_from_json(json_object *obj, GError **error)
{
    g_autoptr(SvcSpec) spec = NULL;
    json_object *kind;

    if (!json_object_object_get_ex(obj, "kind", &kind)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID, "Parameter 'kind' is missing");
        return NULL;
    }
    if (!(spec = svc_spec_new(json_object_get_string(kind), error)))
        return NULL;
    json_object_object_foreach(obj, key, value) {
        g_autofree char *text = NULL;

        if (g_str_equal(key, "kind"))
            continue;
        /* nr is an integer in QMP, a string on the command line; svc_spec_set checks both. */
        text = g_strdup(json_object_get_string(value));
        if (!svc_spec_set(spec, key, text, error))
            return NULL;
    }
    return g_steal_pointer(&spec);
}

static GPtrArray *
specs_from_arguments(json_object *args, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    json_object *channels = NULL;
    gboolean single = json_object_object_get(args, "kind") != NULL;

    json_object_object_get_ex(args, "channels", &channels);
    if (single == (channels != NULL)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            single ? "give one channel's members or 'channels', not both"
                                   : "spicevmc-add needs 'kind', or 'channels' for several");
        return NULL;
    }
    if (single) {
        SvcSpec *spec = spec_from_json(args, error);

        if (!spec)
            return NULL;
        g_ptr_array_add(specs, spec);
    }
    for (size_t i = 0; channels && i < json_object_array_length(channels); i++) {
        SvcSpec *spec = spec_from_json(json_object_array_get_idx(channels, i), error);

        if (!spec) {
            g_prefix_error(error, "channels[%zu]: ", i);
            return NULL;
        }
        g_ptr_array_add(specs, spec);
    }
    return g_steal_pointer(&specs);
}

static json_object *
channels_to_json(GPtrArray *channels)
{
    json_object *arr = json_object_new_array();

    for (guint i = 0; i < channels->len; i++)
        json_object_array_add(arr, svc_channel_to_json(channels->pdata[i]));
    return arr;
}

json_object *
svc_qmp_add(SvcVm *vm, json_object *args, GError **error)
{
    g_autoptr(GPtrArray) specs = specs_from_arguments(args, error);
    g_autoptr(GPtrArray) added = NULL;

    if (!specs || !svc_add(vm, (SvcSpec *const *)specs->pdata, specs->len, &added, error))
        return NULL;
    return channels_to_json(added);
}

json_object *
svc_qmp_remove(SvcVm *vm, json_object *args, GError **error)
{
    json_object *id = json_object_object_get(args, "id");
    json_object *ids = json_object_object_get(args, "ids");
    gboolean all = json_object_get_boolean(json_object_object_get(args, "all"));
    g_autoptr(GPtrArray) list = g_ptr_array_new();
    g_autoptr(GPtrArray) removed = NULL;
    json_object *out;

    if ((id != NULL) + (ids != NULL) + all != 1) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            "spicevmc-remove needs exactly one of 'id', 'ids' and 'all'");
        return NULL;
    }
    if (id)
        g_ptr_array_add(list, (gpointer)json_object_get_string(id));
    for (size_t i = 0; ids && i < json_object_array_length(ids); i++)
        g_ptr_array_add(list, (gpointer)json_object_get_string(json_object_array_get_idx(ids, i)));
    g_ptr_array_add(list, NULL);
    if (!svc_remove(vm, all ? NULL : (const char *const *)list->pdata, &removed, error))
        return NULL;
    out = json_object_new_array();
    for (guint i = 0; i < removed->len; i++)
        json_object_array_add(out, json_object_new_string(removed->pdata[i]));
    return out;
}

json_object *
svc_qmp_query(SvcVm *vm, GError **error)
{
    g_autoptr(GPtrArray) channels = svc_list(vm, error);

    return channels ? channels_to_json(channels) : NULL;
}
