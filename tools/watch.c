/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/watch.c — virt-spicevmc watch: one line per change of a VM's SPICE channels, as it
 * happens, until SIGTERM or SIGINT (exit 0) or the VM or libvirt goes away (exit 1). */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "cli.h"

/* SIGTERM and SIGINT are taken by a thread of their own, which cancels the watch: the main
 * thread may be waiting in a socket or for libvirt, which a signal handler could not end. */
typedef struct {
    sigset_t signals;
    sigset_t before;
    pthread_t thread;
    GMutex lock;
    SvcWatch *watch;          /* cancelled by a signal, once there is one */
    gboolean stopped;         /* a signal came */
    gboolean over;            /* the watch is over: the thread goes */
} Stopper;

static void *
stopper_run(void *data)
{
    Stopper *s = data;
    int signum;

    sigwait(&s->signals, &signum);
    g_mutex_lock(&s->lock);
    if (!s->over) {
        s->stopped = TRUE;
        if (s->watch)
            svc_watch_cancel(s->watch);
    }
    g_mutex_unlock(&s->lock);
    return NULL;
}

/* Before any thread is started (libvirt's event loop included), so that none takes the
 * signals in its place. */
static void
stopper_start(Stopper *s)
{
    sigemptyset(&s->signals);
    sigaddset(&s->signals, SIGTERM);
    sigaddset(&s->signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &s->signals, &s->before);
    g_mutex_init(&s->lock);
    pthread_create(&s->thread, NULL, stopper_run, s);
}

/* TRUE when a signal came before the watch was there: nothing to watch, nothing failed. */
static gboolean
stopper_set_watch(Stopper *s, SvcWatch *w)
{
    gboolean stopped;

    g_mutex_lock(&s->lock);
    s->watch = w;
    stopped = s->stopped;
    g_mutex_unlock(&s->lock);
    return stopped;
}

static gboolean
stopper_stop(Stopper *s)
{
    gboolean stopped;

    g_mutex_lock(&s->lock);
    s->over = TRUE;
    s->watch = NULL;
    stopped = s->stopped;
    g_mutex_unlock(&s->lock);
    /* Its sigwait() takes this one, if no signal came. */
    pthread_kill(s->thread, SIGTERM);
    pthread_join(s->thread, NULL);
    g_mutex_clear(&s->lock);
    pthread_sigmask(SIG_SETMASK, &s->before, NULL);
    return stopped;
}

/* ---- what is watched ---------------------------------------------------------- */

/* spicevmc-qmp-proxy lists spicevmc-add among its commands; QEMU never does. */
static gboolean
is_proxy(SvcVm *vm, gboolean *proxy, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    SvcReply *r = NULL;
    gboolean ok;

    *proxy = FALSE;
    g_ptr_array_add(cmds, qmp_cmd_query_commands());
    if (!svc_vm_run(vm, cmds, &r, error))
        return FALSE;
    ok = r[0].ret ? svc_reply_expect(r[0].ret, json_type_array, "query-commands", "the list",
                                     error)
                  : (g_propagate_error(error, g_steal_pointer(&r[0].error)), FALSE);
    for (size_t i = 0; ok && i < json_object_array_length(r[0].ret); i++) {
        json_object *entry = json_object_array_get_idx(r[0].ret, i);
        json_object *name;

        ok = svc_reply_expect(entry, json_type_object, "query-commands", "an entry", error) &&
             svc_reply_member(entry, "name", json_type_string, TRUE, "query-commands", &name,
                              error);
        if (ok && g_str_equal(json_object_get_string(name), "spicevmc-add"))
            *proxy = TRUE;
    }
    svc_replies_free(r, cmds->len);
    return ok;
}

static SvcWatch *
open_watch(Options *o, Target *t, GError **error)
{
    g_autofree char *shown = NULL;
    gboolean proxy;

    if (!target_open(o, t, error))
        return NULL;
    if (t->domain)
        return t->api->watch(t->domain, error);
    if (!is_proxy(t->vm, &proxy, error))
        return NULL;
    if (proxy)
        return svc_watch_new(t->vm, error);
    /* QEMU serves one client per monitor: a watch would keep everyone else out for as long
     * as it runs. */
    shown = qmp_escape(o->qmp);
    g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID,
                "'%s' is QEMU's own monitor, which serves one client at a time: watching it "
                "would lock every other tool out; watch the socket of a spicevmc-qmp-proxy in "
                "front of it instead (spicevmc-qmp-proxy --upstream %s --listen PATH, see "
                "spicevmc-qmp-proxy(8))", shown, shown);
    return NULL;
}

/* ---- lines ------------------------------------------------------------------- */

/* Local time to the millisecond, as a person reads a log. */
static char *
local_time(gint64 us)
{
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) local = utc ? g_date_time_to_local(utc) : NULL;
    g_autofree char *seconds = local ? g_date_time_format(local, "%Y-%m-%d %H:%M:%S") : NULL;

    return g_strdup_printf("%s.%03d", seconds ? seconds : "?",
                           (int)(us % G_USEC_PER_SEC / 1000));
}

/* Names and ids come from QEMU and other programs: escaped, so that a line stays one. */
static void
append_escaped(GString *line, const char *before, const char *text)
{
    g_autofree char *shown = qmp_escape(text);

    g_string_append(line, before);
    g_string_append(line, shown);
}

static void
describe_channel(GString *line, const SvcEvent *e)
{
    const SvcChannel *ch = e->channel;

    append_escaped(line, " ", e->id);
    g_string_append_printf(line, ": %s", ch->kind ? ch->kind->name : "unknown kind");
    if (ch->spice_name)
        append_escaped(line, ", SPICE name ", ch->spice_name);
    if (ch->port_name)
        append_escaped(line, ", guest port ", ch->port_name);
    if (e->source && !g_str_equal(e->source, "inventory"))
        append_escaped(line, ", from ", e->source);
}

static void
describe_client(GString *line, const SvcEvent *e)
{
    const char *name = svc_spice_channel_name(e->spice_channel_type);

    if (e->spice_channel_type < 0) {
        g_string_append(line, e->type == SVC_EVENT_CLIENT_CONNECTED
                                  ? ": a SPICE client connected (not linked yet)"
                                  : ": a SPICE channel QEMU did not name");
        return;
    }
    if (name)
        g_string_append_printf(line, ": SPICE channel %s %d", name, e->spice_channel_id);
    else
        g_string_append_printf(line, ": SPICE channel of type %d, %d", e->spice_channel_type,
                               e->spice_channel_id);
    g_string_append_printf(line, " (connection %" G_GINT64_FORMAT ")", e->connection_id);
}

static void
describe_watching(GString *line, const SvcEvent *e)
{
    g_string_append_printf(line, ": %u SPICE channel%s", e->channels->len,
                           e->channels->len == 1 ? "" : "s");
    for (guint i = 0; i < e->channels->len; i++)
        append_escaped(line, i ? ", " : " (", ((SvcChannel *)e->channels->pdata[i])->id);
    if (e->channels->len)
        g_string_append(line, ")");
}

static char *
text_line(const SvcEvent *e)
{
    g_autofree char *time = local_time(e->time);
    GString *line = g_string_new(NULL);

    g_string_append_printf(line, "%s %s", time, svc_event_type_name(e->type));
    switch (e->type) {
    case SVC_EVENT_WATCHING:
        describe_watching(line, e);
        break;
    case SVC_EVENT_CHANNEL_ADDED:
    case SVC_EVENT_CHANNEL_REMOVED:
    case SVC_EVENT_PORT_OPENED:
    case SVC_EVENT_PORT_CLOSED:
        describe_channel(line, e);
        break;
    case SVC_EVENT_CLIENT_CONNECTED:
    case SVC_EVENT_CLIENT_INITIALIZED:
    case SVC_EVENT_CLIENT_DISCONNECTED:
        describe_client(line, e);
        break;
    case SVC_EVENT_EVENTS_LOST:
        g_string_append_printf(line, ": %u events were dropped, the watch fell behind",
                               e->lost);
        break;
    case SVC_EVENT_ENDED: {
        /* A message, whose names are quoted and escaped already: one line all the same. */
        g_autofree char *reason = qmp_escape_message(e->reason);

        g_string_append_printf(line, ": %s", reason);
        break;
    }
    }
    return g_string_free(line, FALSE);
}

/* One line, out at once: whoever reads it follows the VM as it changes. */
static void
print_event(Options *o, const SvcEvent *e)
{
    g_autoptr(json_object) obj = NULL;
    g_autofree char *line = NULL;

    if (o->json) {
        obj = svc_event_to_json(e);
        printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    } else if (!(o->quiet && e->type == SVC_EVENT_WATCHING)) {
        line = text_line(e);
        printf("%s\n", line);
    }
    fflush(stdout);
}

/* Until a signal (TRUE) or the end (FALSE, why). */
static gboolean
follow(Options *o, SvcWatch *w, GError **error)
{
    for (;;) {
        g_autoptr(SvcEvent) e = svc_watch_next(w, error);

        if (!e)
            return FALSE;
        print_event(o, e);
        if (e->type == SVC_EVENT_ENDED) {
            g_set_error_literal(error, SVC_ERROR, SVC_ERROR_TRANSPORT, e->reason);
            return FALSE;
        }
    }
}

gboolean
cmd_watch(Options *o, char **args, GError **error)
{
    g_auto(Target) t = { NULL };
    g_autoptr(SvcWatch) w = NULL;
    g_autoptr(GError) local = NULL;
    Stopper stopper = { 0 };
    gboolean ok;

    if (args[0]) {
        g_autofree char *shown = qmp_escape(args[0]);

        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "unexpected argument '%s'", shown);
        return FALSE;
    }
    stopper_start(&stopper);
    w = open_watch(o, &t, &local);
    ok = w && (stopper_set_watch(&stopper, w) || follow(o, w, &local));
    /* Stopped by a signal: the watch ends as asked, whatever it was doing. */
    if (stopper_stop(&stopper))
        return TRUE;
    if (!ok)
        g_propagate_error(error, g_steal_pointer(&local));
    return ok;
}
