/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A transport that times every exchange of another, to split the library's time between QEMU
 * round trips and its own work. */
#include "config.h"

#include <string.h>

#include "svc-private.h"
#include "timed-transport.h"

gsize
command_bytes(json_object *cmd)
{
    return strlen(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
log_exchange(TimedTransport *t, const char *what, guint n, gsize bytes, gint64 start)
{
    gint64 us = g_get_monotonic_time() - start;

    t->in_transport += us;
    t->sent += bytes;
    g_string_append_printf(t->log, "      %-28s x%-4u %8.2f ms  %7" G_GSIZE_FORMAT " bytes\n",
                           what, n, us / 1000.0, bytes);
}

static const char *
command_name(json_object *cmd)
{
    return json_object_get_string(json_object_object_get(cmd, "execute"));
}

static gboolean
timed_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies, GError **error)
{
    TimedTransport *t = impl;
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func(qmp_json_free);
    SvcReply *r = NULL;
    gsize bytes = 0;
    gint64 start;

    /* Counted before the clock starts: the real transport does not count. */
    for (guint i = 0; i < n; i++) {
        bytes += command_bytes(cmds[i]);
        g_ptr_array_add(batch, json_object_get(cmds[i]));
    }
    start = g_get_monotonic_time();
    if (!svc_vm_run(t->inner, batch, &r, error))
        return FALSE;
    log_exchange(t, n ? command_name(cmds[0]) : "(nothing)", n, bytes, start);
    memcpy(replies, r, n * sizeof(*r));
    g_free(r);
    return TRUE;
}

static gboolean
timed_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    TimedTransport *t = impl;
    guint n = g_hash_table_size(pending);
    gint64 start = g_get_monotonic_time();

    if (!svc_vm_wait_deleted(t->inner, pending, deadline, error))
        return FALSE;
    log_exchange(t, "wait DEVICE_DELETED", n, 0, start);
    return TRUE;
}

static void
timed_set_timeout(gpointer impl, guint timeout_ms)
{
    svc_vm_set_timeout(((TimedTransport *)impl)->inner, timeout_ms);
}

static void
timed_free(gpointer impl)
{
    TimedTransport *t = impl;

    svc_vm_free(t->inner);
    g_string_free(t->log, TRUE);
    g_free(t);
}

static const SvcTransportOps timed_ops = {
    .run = timed_run,
    .wait_deleted = timed_wait_deleted,
    .set_timeout = timed_set_timeout,
    .free = timed_free,
};

SvcVm *
timed_vm_new(SvcVm *inner, TimedTransport **timed)
{
    TimedTransport *t = g_new0(TimedTransport, 1);

    t->inner = inner;
    t->log = g_string_new(NULL);
    *timed = t;
    return svc_vm_new(&timed_ops, t);
}

void
timed_transport_reset(TimedTransport *t)
{
    g_string_truncate(t->log, 0);
    t->in_transport = 0;
    t->sent = 0;
}
