/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/sync.c — virt-spicevmc sync: running domains' SPICE channels made to match their
 * persistent definitions, once or (--follow) as the definitions change. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

/* "webdav org.spice-space.webdav.0": what a channel is, for people. */
static char *
describe(const SvcChannel *ch)
{
    const char *kind = ch->kind ? ch->kind->name : "unknown";

    if (!ch->spice_name || g_strcmp0(ch->spice_name, kind) == 0)
        return g_strdup(kind);
    return g_strdup_printf("%s %s", kind, ch->spice_name);
}

char *
sync_change_line(const char *domain, const SvcSyncChange *c)
{
    g_autofree char *what = describe(c->channel);
    char *line = NULL;

    switch (c->action) {
    case SVC_SYNC_LIVE:
        line = g_strdup_printf("domain '%s': '%s' (%s) is live", domain, c->channel->id, what);
        break;
    case SVC_SYNC_ADDED:
        line = g_strdup_printf("domain '%s': '%s' (%s) added live%s", domain, c->channel->id,
                               what, c->channel->libvirt ? ", by libvirt" : "");
        break;
    case SVC_SYNC_REMOVED:
        line = g_strdup_printf("domain '%s': '%s' (%s) removed: it left the definition", domain,
                               c->channel->id, what);
        break;
    case SVC_SYNC_SKIPPED:
        line = g_strdup_printf("domain '%s': cannot make '%s' (%s) of the definition live: %s",
                               domain, c->channel->id, what, c->channel->reason);
        break;
    }
    return line;
}

static void
domains_free(GPtrArray *domains, const CliDomainApi *api)
{
    for (guint i = 0; i < domains->len; i++)
        api->free(domains->pdata[i]);
    g_ptr_array_unref(domains);
}

/* Every domain named, checked before any is changed: a bad name changes nothing. */
static GPtrArray *
open_all(Options *o, char **names, GError **error)
{
    GPtrArray *domains = g_ptr_array_new();

    for (guint i = 0; names[i]; i++) {
        SvcDomain *d = o->api->open(o->uri, names[i], o->timeout_ms, error);

        if (!d || !o->api->is_running(d)) {
            if (d) {
                g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                            "domain '%s' is not running: libvirt starts it as its definition "
                            "says", names[i]);
                o->api->free(d);
            }
            domains_free(domains, o->api);
            return NULL;
        }
        g_ptr_array_add(domains, d);
    }
    return domains;
}

static void
print_line(const char *line)
{
    g_autofree char *shown = qmp_escape_message(line);

    printf("%s\n", shown);
}

/* One line per change on stdout (-q: none); into @failures, one per device that cannot go
 * live. */
static void
print_changes(Options *o, const char *domain, GPtrArray *changes, GPtrArray *failures)
{
    guint live = 0;

    for (guint i = 0; i < changes->len; i++) {
        const SvcSyncChange *c = changes->pdata[i];
        g_autofree char *line = sync_change_line(domain, c);

        if (c->action == SVC_SYNC_LIVE)
            live++;
        else if (c->action == SVC_SYNC_SKIPPED)
            g_ptr_array_add(failures, g_steal_pointer(&line));
        else if (!o->quiet)
            print_line(line);
    }
    if (!o->quiet && live == changes->len)
        printf("Domain '%s' matches its definition: %u SPICE channel%s live, nothing to do\n",
               domain, live, live == 1 ? "" : "s");
}

/* Each domain in turn: what fails is one line each, and the others are still synced.  The
 * last line is the error. */
static gboolean
sync_once(Options *o, GPtrArray *domains, char **names, GError **error)
{
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < domains->len; i++) {
        g_autoptr(GPtrArray) changes = NULL;
        g_autoptr(GError) local = NULL;

        if (o->api->sync(domains->pdata[i], &changes, &local))
            print_changes(o, names[i], changes, failures);
        else
            g_ptr_array_add(failures, g_strdup(local->message));
    }
    if (!failures->len)
        return TRUE;
    fflush(stdout);
    for (guint i = 0; i + 1 < failures->len; i++) {
        g_autofree char *line = qmp_escape_message(failures->pdata[i]);

        fprintf(stderr, "%s: error: %s\n", g_get_prgname(), line);
    }
    g_set_error_literal(error, SVC_ERROR, SVC_ERROR_STATE,
                        failures->pdata[failures->len - 1]);
    return FALSE;
}

gboolean
cmd_sync(Options *o, char **args, GError **error)
{
    g_autoptr(GPtrArray) named = g_ptr_array_new();
    g_auto(GStrv) all = NULL;
    GPtrArray *domains;
    gboolean ok;

    if (o->domain)
        g_ptr_array_add(named, o->domain);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(named, args[i]);
    if (o->all == (named->len > 0)) {
        g_set_error_literal(error, SVC_ERROR, SVC_ERROR_INVALID,
                            o->all ? "give either domains or --all, not both"
                                   : "sync needs domains or --all");
        return FALSE;
    }
    g_ptr_array_add(named, NULL);
    if (o->follow)
        return o->api->follow(o, o->all ? NULL : (char **)named->pdata, error);
    if (o->all) {
        if (!(all = o->api->sync_domains(o->uri, error)))
            return FALSE;
        if (!all[0]) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND,
                        "no running domain with a persistent definition at '%s'",
                        o->uri ? o->uri : "(default)");
            return FALSE;
        }
    }
    if (!(domains = open_all(o, all ? all : (char **)named->pdata, error)))
        return FALSE;
    ok = sync_once(o, domains, all ? all : (char **)named->pdata, error);
    domains_free(domains, o->api);
    return ok;
}
