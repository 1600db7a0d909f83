/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DEVICE_DELETED as the transports that receive events on a thread of their own see it: the
 * device ids reported, and a worker waiting for the ones it removed. */
#include "config.h"

#include "svc-private.h"

void
svc_deletions_init(SvcDeletions *d)
{
    g_mutex_init(&d->lock);
    g_cond_init(&d->changed);
    d->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d->ended = NULL;
}

void
svc_deletions_clear(SvcDeletions *d)
{
    g_hash_table_unref(d->deleted);
    g_mutex_clear(&d->lock);
    g_cond_clear(&d->changed);
    g_free(d->ended);
}

void
svc_deletions_reset(SvcDeletions *d)
{
    g_mutex_lock(&d->lock);
    g_hash_table_remove_all(d->deleted);
    g_mutex_unlock(&d->lock);
}

void
svc_deletions_add(SvcDeletions *d, json_object *data)
{
    json_object *device;

    /* Anonymous devices and a device's internal parts come with a path only; a device that is
     * not a string is not one we wait for. */
    if (!json_object_object_get_ex(data, "device", &device) ||
        !json_object_is_type(device, json_type_string))
        return;
    g_mutex_lock(&d->lock);
    g_hash_table_add(d->deleted, g_strdup(json_object_get_string(device)));
    g_cond_broadcast(&d->changed);
    g_mutex_unlock(&d->lock);
}

void
svc_deletions_end(SvcDeletions *d, const char *why)
{
    g_mutex_lock(&d->lock);
    if (!d->ended)
        d->ended = g_strdup(why);
    g_cond_broadcast(&d->changed);
    g_mutex_unlock(&d->lock);
}

gboolean
svc_deletions_wait(SvcDeletions *d, GHashTable *pending, gint64 deadline, GError **error)
{
    gboolean ok = TRUE;

    g_mutex_lock(&d->lock);
    for (;;) {
        svc_pending_drop(pending, d->deleted);
        if (!g_hash_table_size(pending))
            break;
        if (d->ended) {
            g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TRANSPORT, d->ended);
            ok = FALSE;
            break;
        }
        if (!g_cond_wait_until(&d->changed, &d->lock, deadline))
            break;
    }
    g_mutex_unlock(&d->lock);
    return ok;
}
