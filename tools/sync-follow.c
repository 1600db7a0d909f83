/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/sync-follow.c — virt-spicevmc sync --follow: each change of a domain's definition applied
 * live as it happens, from libvirt's domain events and, for the changes libvirt sends none for
 * (attach-device --config), from a poll of the definitions; through libvirtd restarts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli-libvirt.h"
#include "libvirt/svc-libvirt.h"

/* A change without an event is noticed within this, plus the time to read the definitions. */
#define POLL_INTERVAL_MS 1000
/* Reconnecting to libvirt: the first wait, doubled at each failure up to the last. */
#define BACKOFF_FIRST_MS 250
#define BACKOFF_LAST_MS 8000

typedef struct {
    char *name;
    virDomainPtr dom;         /* on the follower's connection */
    gboolean running;
    char *devices_sum;        /* checksum of its definition's <devices> when last synced */
    gint64 noticed;           /* when an unapplied change was noticed; 0: none */
    GHashTable *skips;        /* lines already logged of devices that cannot go live */
} Followed;

typedef struct {
    Options *o;
    GHashTable *named;        /* the names followed; NULL: every domain */
    GHashTable *domains;      /* name -> Followed */
    virConnectPtr conn;       /* NULL while libvirt is away */
    char *uri;                /* as libvirt names it */
    int lifecycle_cb, removed_cb;
    /* The domain-event callbacks libvirt holds: it may be delivering one on its own thread when
     * they are deregistered, and lets go of each once it returned. */
    GMutex lock;
    GCond released;
    guint held;
    guint backoff_ms;
    gboolean lost_logged;
    gboolean stopping;        /* SIGTERM or SIGINT came: no more reconnecting */
    /* Its own: libvirt's default event loop runs GLib's default context in another thread. */
    GMainContext *context;
    GMainLoop *loop;
    int lock_fd;
} Follower;

/* @func in the follower's main loop, from any thread; @source is taken. */
static void
attach(Follower *f, GSource *source, GSourceFunc func, gpointer data, GDestroyNotify destroy)
{
    g_source_set_callback(source, func, data, destroy);
    g_source_attach(source, f->context);
    g_source_unref(source);
}

static void G_GNUC_PRINTF(1, 2)
log_line(const char *format, ...)
{
    va_list ap;
    g_autofree char *text = NULL;
    g_autofree char *shown = NULL;

    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    shown = qmp_escape_message(text);
    fprintf(stderr, "%s: %s\n", g_get_prgname(), shown);
}

static void
followed_free(Followed *fd)
{
    if (fd->dom)
        virDomainFree(fd->dom);
    g_free(fd->name);
    g_free(fd->devices_sum);
    g_hash_table_unref(fd->skips);
    g_free(fd);
}

static const char *
uri_or_default(const char *uri)
{
    return uri ? uri : "(default)";
}

/* ---- one domain ------------------------------------------------------- */

/* What sync acts on: the definition's devices (a change of its metadata, say, is not one). */
static char *
devices_checksum(Followed *fd)
{
    g_autofree char *xml = fd->dom ? virDomainGetXMLDesc(fd->dom, VIR_DOMAIN_XML_INACTIVE)
                                   : NULL;
    const char *start = xml ? strstr(xml, "<devices>") : NULL;
    const char *end = start ? strstr(start, "</devices>") : NULL;

    if (!xml)
        return NULL;
    if (!end)
        return g_compute_checksum_for_string(G_CHECKSUM_SHA256, xml, -1);
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, start, end - start);
}

/* One line per change: what, which domain, live how long after it was noticed. */
static void
log_changes(Followed *fd, GPtrArray *changes, gint64 noticed)
{
    g_autoptr(GHashTable) skips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    double ms = (g_get_monotonic_time() - noticed) / 1000.0;

    for (guint i = 0; i < changes->len; i++) {
        const SvcSyncChange *c = changes->pdata[i];
        g_autofree char *line = sync_change_line(fd->name, c);

        if (c->action == SVC_SYNC_ADDED || c->action == SVC_SYNC_REMOVED)
            log_line("%s, in %.0f ms", line, ms);
        else if (c->action == SVC_SYNC_SKIPPED && !g_hash_table_contains(fd->skips, line))
            log_line("error: %s", line);
        if (c->action == SVC_SYNC_SKIPPED)
            g_hash_table_add(skips, g_steal_pointer(&line));
    }
    /* A device that could go live again and then not is said again. */
    g_hash_table_unref(fd->skips);
    fd->skips = g_steal_pointer(&skips);
}

static gboolean
connected(Follower *f)
{
    return f->conn && virConnectIsAlive(f->conn) == 1;
}

static void
sync_domain(Follower *f, Followed *fd)
{
    gint64 noticed = fd->noticed ? fd->noticed : g_get_monotonic_time();
    g_autoptr(GPtrArray) changes = NULL;
    g_autoptr(GError) error = NULL;
    SvcDomain *d;

    fd->noticed = 0;
    /* Read before: a change made while sync runs is seen by the next poll. */
    g_free(fd->devices_sum);
    fd->devices_sum = devices_checksum(fd);
    if ((d = svc_domain_open(f->o->uri, fd->name, f->o->timeout_ms, &error))) {
        svc_domain_sync(d, &changes, &error);
        svc_domain_free(d);
    }
    if (changes) {
        log_changes(fd, changes, noticed);
        return;
    }
    /* libvirt gone: the close callback reconnects and syncs everything again. */
    if (!connected(f))
        return;
    /* Stopped meanwhile: its Stopped event is on its way. */
    if (g_error_matches(error, SVC_ERROR, SVC_ERROR_STATE) && virDomainIsActive(fd->dom) != 1) {
        fd->running = FALSE;
        return;
    }
    log_line("error: domain '%s': %s", fd->name, error->message);
}

/* Every running domain with a change noticed. */
static void
sync_noticed(Follower *f)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, f->domains);
    while (connected(f) && g_hash_table_iter_next(&iter, NULL, &value)) {
        Followed *fd = value;

        if (fd->noticed && fd->running)
            sync_domain(f, fd);
        fd->noticed = 0;
    }
}

static void
notice(Followed *fd)
{
    if (!fd->noticed)
        fd->noticed = g_get_monotonic_time();
}

/* ---- which domains ---------------------------------------------------- */

/* @dom (taken) followed from now on, if it is one to follow: persistent, and named or --all. */
static Followed *
follow_domain(Follower *f, virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    Followed *fd;

    if (!name || virDomainIsPersistent(dom) != 1 ||
        (f->named && !g_hash_table_contains(f->named, name))) {
        virDomainFree(dom);
        return NULL;
    }
    if (!(fd = g_hash_table_lookup(f->domains, name))) {
        fd = g_new0(Followed, 1);
        fd->name = g_strdup(name);
        fd->skips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(f->domains, fd->name, fd);
    }
    if (fd->dom)
        virDomainFree(fd->dom);
    fd->dom = dom;
    fd->running = virDomainIsActive(dom) == 1;
    return fd;
}

/* Every domain to follow, as libvirt has them now; each running one to sync. */
static gboolean
refresh_domains(Follower *f, GError **error)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(f->conn, &doms, VIR_CONNECT_LIST_DOMAINS_PERSISTENT);

    if (n < 0) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot list the domains at '%s': %s",
                    f->uri, virGetLastErrorMessage());
        return FALSE;
    }
    /* Those undefined while libvirt was away go. */
    g_hash_table_remove_all(f->domains);
    for (int i = 0; i < n; i++) {
        Followed *fd = follow_domain(f, doms[i]);

        if (fd)
            notice(fd);
    }
    free(doms);
    return TRUE;
}

/* The domains named on the command line, as libvirt names them; each must have a definition. */
static gboolean
resolve_names(Follower *f, char **names, GError **error)
{
    f->named = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; names[i]; i++) {
        virDomainPtr dom = svc_libvirt_lookup(f->conn, names[i]);
        gboolean persistent = dom && virDomainIsPersistent(dom) == 1;

        if (!dom) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND, "cannot open domain '%s': %s",
                        names[i], virGetLastErrorMessage());
            return FALSE;
        }
        if (persistent)
            g_hash_table_add(f->named, g_strdup(virDomainGetName(dom)));
        virDomainFree(dom);
        if (!persistent) {
            g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                        "domain '%s' is transient: it has no persistent definition to follow",
                        names[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- libvirt's events, received on its event loop's thread ------------ */

typedef enum {
    NOTICE_DEFINED,
    NOTICE_UNDEFINED,
    NOTICE_STARTED,
    NOTICE_STOPPED,
    NOTICE_DEVICE_REMOVED,
    NOTICE_CLOSED,
} NoticeKind;

typedef struct {
    Follower *f;
    NoticeKind kind;
    char *name;
    gint64 when;
} Notice;

static gboolean on_notice(gpointer data);

/* Once it ran, or unrun with the follower's context at the end. */
static void
notice_free(gpointer data)
{
    Notice *n = data;

    g_free(n->name);
    g_free(n);
}

/* To the main thread, which does the work: libvirt's thread must keep delivering events. */
static void
post(Follower *f, NoticeKind kind, virDomainPtr dom)
{
    Notice *n = g_new0(Notice, 1);

    n->f = f;
    n->kind = kind;
    n->name = dom ? g_strdup(virDomainGetName(dom)) : NULL;
    n->when = g_get_monotonic_time();
    attach(f, g_idle_source_new(), on_notice, n, notice_free);
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        post(opaque, NOTICE_DEFINED, dom);
        break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        post(opaque, NOTICE_UNDEFINED, dom);
        break;
    case VIR_DOMAIN_EVENT_STARTED:
        post(opaque, NOTICE_STARTED, dom);
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        post(opaque, NOTICE_STOPPED, dom);
        break;
    }
    return 0;
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    post(opaque, NOTICE_DEVICE_REMOVED, dom);
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    post(opaque, NOTICE_CLOSED, NULL);
}

/* ---- the connection, and getting it back ------------------------------ */

static gboolean try_reconnect(gpointer data);

static void
on_released(void *opaque)
{
    Follower *f = opaque;

    g_mutex_lock(&f->lock);
    f->held--;
    g_cond_broadcast(&f->released);
    g_mutex_unlock(&f->lock);
}

static int
subscribe_event(Follower *f, int id, virConnectDomainEventGenericCallback cb)
{
    int n;

    g_mutex_lock(&f->lock);
    f->held++;
    g_mutex_unlock(&f->lock);
    n = virConnectDomainEventRegisterAny(f->conn, NULL, id, cb, f, on_released);
    /* libvirt keeps nothing of a registration it refuses, and keeps its error. */
    if (n < 0)
        on_released(f);
    return n;
}

static void
disconnect(Follower *f)
{
    if (!f->conn)
        return;
    /* On a connection libvirt closed these fail; the references go all the same. */
    if (f->lifecycle_cb >= 0)
        virConnectDomainEventDeregisterAny(f->conn, f->lifecycle_cb);
    if (f->removed_cb >= 0)
        virConnectDomainEventDeregisterAny(f->conn, f->removed_cb);
    /* A close callback that runs holds off its unregistration; an event callback does not. */
    virConnectUnregisterCloseCallback(f->conn, on_close);
    f->lifecycle_cb = f->removed_cb = -1;
    g_mutex_lock(&f->lock);
    while (f->held)
        g_cond_wait(&f->released, &f->lock);
    g_mutex_unlock(&f->lock);
    g_hash_table_remove_all(f->domains);
    virConnectClose(g_steal_pointer(&f->conn));
}

static gboolean
subscribe(Follower *f, GError **error)
{
    f->lifecycle_cb = subscribe_event(f, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle));
    f->removed_cb = f->lifecycle_cb < 0 ? -1 : subscribe_event(
        f, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed));
    if (f->removed_cb < 0 || virConnectRegisterCloseCallback(f->conn, on_close, f, NULL) < 0) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT,
                    "cannot follow libvirt's domain events at '%s': %s", f->uri,
                    virGetLastErrorMessage());
        return FALSE;
    }
    return TRUE;
}

static gboolean
open_libvirt(Follower *f, GError **error)
{
    if (!(f->conn = virConnectOpen(f->o->uri))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot connect to libvirt at '%s': %s",
                    uri_or_default(f->o->uri), virGetLastErrorMessage());
        return FALSE;
    }
    cli_libvirt_connected();
    /* On qemu:///embed this connection is a driver of its own, reconnecting on its own. */
    if (!svc_libvirt_settle(f->conn, error))
        return FALSE;
    if (!f->uri && !(f->uri = virConnectGetURI(f->conn))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot ask libvirt its URI: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    return TRUE;
}

/* Connected, subscribed, and every domain to follow found, each marked to sync: what happened
 * while nobody listened is found by syncing them all. */
static gboolean
connect_libvirt(Follower *f, GError **error)
{
    return (f->conn || open_libvirt(f, error)) && subscribe(f, error) &&
           refresh_domains(f, error);
}

static void
schedule_reconnect(Follower *f)
{
    attach(f, g_timeout_source_new(f->backoff_ms), try_reconnect, f, NULL);
    f->backoff_ms = MIN(f->backoff_ms * 2, BACKOFF_LAST_MS);
}

static void
lost(Follower *f)
{
    disconnect(f);
    if (!f->lost_logged)
        log_line("lost the connection to libvirt at '%s'; reconnecting", f->uri);
    f->lost_logged = TRUE;
    f->backoff_ms = BACKOFF_FIRST_MS;
    schedule_reconnect(f);
}

static gboolean
try_reconnect(gpointer data)
{
    Follower *f = data;
    g_autoptr(GError) error = NULL;

    if (f->stopping)
        return G_SOURCE_REMOVE;
    if (!connect_libvirt(f, &error)) {
        disconnect(f);
        schedule_reconnect(f);
        return G_SOURCE_REMOVE;
    }
    log_line("reconnected to libvirt at '%s'", f->uri);
    f->lost_logged = FALSE;
    sync_noticed(f);
    return G_SOURCE_REMOVE;
}

/* ---- what the main thread makes of a notice --------------------------- */

static Followed *
named_domain(Follower *f, const char *name)
{
    virDomainPtr dom;

    if (!name || (f->named && !g_hash_table_contains(f->named, name)))
        return NULL;
    if (!(dom = virDomainLookupByName(f->conn, name)))
        return NULL;
    return follow_domain(f, dom);
}

static gboolean
on_notice(gpointer data)
{
    Notice *n = data;
    const char *name = n->name;
    Follower *f = n->f;
    Followed *fd = name ? g_hash_table_lookup(f->domains, name) : NULL;

    if (n->kind == NOTICE_CLOSED) {
        if (f->conn)
            lost(f);
        return G_SOURCE_REMOVE;
    }
    if (!connected(f))
        return G_SOURCE_REMOVE;
    switch (n->kind) {
    case NOTICE_UNDEFINED:
        g_hash_table_remove(f->domains, name);
        return G_SOURCE_REMOVE;
    case NOTICE_STOPPED:
        if (fd)
            fd->running = FALSE;
        return G_SOURCE_REMOVE;
    case NOTICE_DEFINED:
    case NOTICE_STARTED:
        /* Defined: new, or changed; started: as its definition, or transient. */
        fd = named_domain(f, name);
        break;
    default:
        break;
    }
    if (fd && !fd->noticed)
        fd->noticed = n->when;
    sync_noticed(f);
    return G_SOURCE_REMOVE;
}

/* Changes that come without an event: a definition whose devices differ from the last sync. */
static gboolean
on_poll(gpointer data)
{
    Follower *f = data;
    GHashTableIter iter;
    gpointer value;

    if (!connected(f))
        return G_SOURCE_CONTINUE;
    g_hash_table_iter_init(&iter, f->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        Followed *fd = value;
        g_autofree char *sum = fd->running ? devices_checksum(fd) : NULL;

        if (sum && g_strcmp0(sum, fd->devices_sum) != 0)
            notice(fd);
    }
    sync_noticed(f);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer data)
{
    Follower *f = data;

    f->stopping = TRUE;
    g_main_loop_quit(f->loop);
    return G_SOURCE_CONTINUE;
}

/* Whether SIGTERM or SIGINT came meanwhile, running what else its loop has. */
static gboolean
stop_requested(Follower *f)
{
    while (!f->stopping && g_main_context_iteration(f->context, FALSE))
        ;
    return f->stopping;
}

/* ---- one follower per URI ------------------------------------------------ */

static char *
lock_dir(void)
{
    const char *dir = g_getenv("SPICEVMC_RUNTIME_DIR");

    if (dir)
        return g_strdup(dir);
    if (geteuid() == 0)
        return g_strdup("/run/spicevmc");
    return g_build_filename(g_get_user_runtime_dir(), "spicevmc", NULL);
}

/* A lock on a file named for the URI, held for the life of the process; the file says who
 * holds it. */
static gboolean
take_lock(Follower *f, GError **error)
{
    g_autofree char *dir = lock_dir();
    g_autofree char *escaped = g_uri_escape_string(f->uri, NULL, FALSE);
    g_autofree char *name = strlen(escaped) > 200
                                ? g_compute_checksum_for_string(G_CHECKSUM_SHA256, f->uri, -1)
                                : g_steal_pointer(&escaped);
    g_autofree char *file = g_strdup_printf("sync-%s.lock", name);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    char holder[32] = "";
    ssize_t len;

    if (g_mkdir_with_parents(dir, 0755) < 0 ||
        (f->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_INVALID, "cannot make the lock %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (flock(f->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return ftruncate(f->lock_fd, 0) == 0 && write(f->lock_fd, pid, strlen(pid)) >= 0;
    len = errno == EWOULDBLOCK ? read(f->lock_fd, holder, sizeof(holder) - 1) : -1;
    holder[MAX(len, 0)] = '\0';
    g_set_error(error, SVC_ERROR, SVC_ERROR_STATE,
                "another 'virt-spicevmc sync --follow' (pid %d) follows '%s' already (lock %s)",
                atoi(holder), f->uri, path);
    return FALSE;
}

/* ---- the follower ------------------------------------------------------ */

static void
follower_clear(Follower *f)
{
    disconnect(f);
    g_clear_pointer(&f->named, g_hash_table_unref);
    g_clear_pointer(&f->domains, g_hash_table_unref);
    g_clear_pointer(&f->uri, free);
    g_clear_pointer(&f->loop, g_main_loop_unref);
    g_clear_pointer(&f->context, g_main_context_unref);
    g_mutex_clear(&f->lock);
    g_cond_clear(&f->released);
    if (f->lock_fd >= 0)
        close(f->lock_fd);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Follower, follower_clear)

gboolean
cli_follow(Options *o, char **names, GError **error)
{
    g_auto(Follower) f = { .o = o, .lifecycle_cb = -1, .removed_cb = -1, .lock_fd = -1 };
    GSource *sources[3] = { NULL };
    gboolean ok;

    g_mutex_init(&f.lock);
    g_cond_init(&f.released);
    if (!cli_libvirt_connecting(o->uri, error))
        return FALSE;
    f.domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify)followed_free);
    f.context = g_main_context_new();
    f.loop = g_main_loop_new(f.context, FALSE);
    /* From the start: a signal while it connects, or while libvirt reconnects to QEMU, ends
     * it with status 0 once that step is over rather than in the middle of it. */
    sources[0] = g_unix_signal_source_new(SIGTERM);
    sources[1] = g_unix_signal_source_new(SIGINT);
    attach(&f, g_source_ref(sources[0]), on_signal, &f, NULL);
    attach(&f, g_source_ref(sources[1]), on_signal, &f, NULL);
    ok = open_libvirt(&f, error);
    if (ok && !stop_requested(&f))
        ok = take_lock(&f, error) && (!names || resolve_names(&f, names, error)) &&
             connect_libvirt(&f, error);
    if (ok && !stop_requested(&f)) {
        sync_noticed(&f);
        log_line("following %s at '%s'", names ? "the domains named" : "every domain", f.uri);
        sources[2] = g_timeout_source_new(POLL_INTERVAL_MS);
        attach(&f, g_source_ref(sources[2]), on_poll, &f, NULL);
        /* A signal since the last look is dispatched by the loop. */
        g_main_loop_run(f.loop);
    }
    f.stopping = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(sources); i++) {
        if (sources[i]) {
            g_source_destroy(sources[i]);
            g_source_unref(sources[i]);
        }
    }
    disconnect(&f);
    /* What libvirt's thread posted meanwhile refers to @f: run it out. */
    while (g_main_context_iteration(f.context, FALSE))
        ;
    return ok;
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GStrv
cli_sync_domains(const char *uri, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    virDomainPtr *doms = NULL;
    virConnectPtr conn;
    int n;

    if (!cli_libvirt_connecting(uri, error))
        return NULL;
    if (!(conn = virConnectOpen(uri))) {
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot connect to libvirt at '%s': %s",
                    uri_or_default(uri), virGetLastErrorMessage());
        return NULL;
    }
    cli_libvirt_connected();
    /* On qemu:///embed this connection is a driver of its own, reconnecting on its own. */
    if (!svc_libvirt_settle(conn, error)) {
        virConnectClose(conn);
        return NULL;
    }
    n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE |
                                                  VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
    if (n < 0)
        g_set_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT, "cannot list the domains at '%s': %s",
                    uri_or_default(uri), virGetLastErrorMessage());
    for (int i = 0; i < n; i++) {
        g_ptr_array_add(names, g_strdup(virDomainGetName(doms[i])));
        virDomainFree(doms[i]);
    }
    free(doms);
    virConnectClose(conn);
    if (n < 0)
        return NULL;
    g_ptr_array_sort(names, by_name);
    g_ptr_array_add(names, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}
