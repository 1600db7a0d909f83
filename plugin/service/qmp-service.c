/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP commands spicevmc adds (schemas/spicevmc.json): spicevmc-add, spicevmc-remove and
 * query-spicevmc, on any VM, and their service on a QMP proxy. */
#include "config.h"

#include <pthread.h>
#include <signal.h>

#include <glib-unix.h>

#include "qmp-service.h"
#include "svc-private.h"

QapiSchema *
svc_qmp_schema(GError **error)
{
    g_autoptr(GBytes) text = svc_schema_lookup("spicevmc.json", error);
    gsize len;
    const char *data;

    if (!text)
        return NULL;
    data = g_bytes_get_data(text, &len);
    return qapi_schema_parse("spicevmc.json", data, len, error);
}

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

/* spicevmc-remove; *@removed gets the ids of the channels gone, also when it fails. */
static json_object *
qmp_remove(SvcVm *vm, json_object *args, GPtrArray **removed, GError **error)
{
    json_object *id = json_object_object_get(args, "id");
    json_object *ids = json_object_object_get(args, "ids");
    gboolean all = json_object_get_boolean(json_object_object_get(args, "all"));
    g_autoptr(GPtrArray) list = g_ptr_array_new();
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
    if (!svc_remove(vm, all ? NULL : (const char *const *)list->pdata, removed, error))
        return NULL;
    out = json_object_new_array();
    for (guint i = 0; i < (*removed)->len; i++)
        json_object_array_add(out, json_object_new_string((*removed)->pdata[i]));
    return out;
}

json_object *
svc_qmp_remove(SvcVm *vm, json_object *args, GError **error)
{
    g_autoptr(GPtrArray) removed = NULL;

    return qmp_remove(vm, args, &removed, error);
}

json_object *
svc_qmp_query(SvcVm *vm, GError **error)
{
    g_autoptr(GPtrArray) channels = svc_list(vm, error);

    return channels ? channels_to_json(channels) : NULL;
}

/* ---- the service on a proxy ------------------------------------------- */

struct _SvcQmpService {
    GMainContext *context;
    QmpProxy *proxy;
    QapiSchema *schema;
    SvcVm *vm;
    SvcProxyTransport *transport;
    GThreadPool *pool;
    guint jobs;               /* taken and not yet answered */
    gint stopping;            /* atomic: the worker reads it, then why */
    char *why;                /* why it stops: what the commands not run yet are told */
};

/* One command, run in the worker thread and answered from the proxy's. */
typedef struct {
    SvcQmpService *service;
    QmpProxyRequest *request;
    char *command;
    json_object *args;
    json_object *ret;
    GPtrArray *removed;       /* spicevmc-remove: the ids of the channels gone */
    GError *error;
} Job;

/* Every client hears of a change made through the proxy, as of any of QEMU's: before the
 * reply, so that the one who asked has heard of it too when the reply comes. */
static void
announce(Job *job)
{
    QmpProxy *proxy = job->service->proxy;

    if (g_str_equal(job->command, "spicevmc-add") && job->ret) {
        for (size_t i = 0; i < json_object_array_length(job->ret); i++)
            qmp_proxy_emit_event(proxy, "SPICEVMC_CHANNEL_ADDED",
                                 json_object_get(json_object_array_get_idx(job->ret, i)));
    }
    for (guint i = 0; job->removed && i < job->removed->len; i++) {
        json_object *data = json_object_new_object();

        json_object_object_add(data, "id", json_object_new_string(job->removed->pdata[i]));
        qmp_proxy_emit_event(proxy, "SPICEVMC_CHANNEL_DELETED", data);
    }
}

static gboolean
finish_job(gpointer data)
{
    Job *job = data;

    job->service->jobs--;
    announce(job);
    if (job->error)
        qmp_proxy_reply(job->request, NULL, "GenericError", job->error->message);
    else
        qmp_proxy_reply(job->request, g_steal_pointer(&job->ret), NULL, NULL);
    g_clear_error(&job->error);
    g_clear_pointer(&job->removed, g_ptr_array_unref);
    json_object_put(job->args);
    g_free(job->command);
    g_free(job);
    return G_SOURCE_REMOVE;
}

static void
run_job(gpointer data, gpointer user_data)
{
    Job *job = data;
    SvcVm *vm = user_data;

    /* Taken, but its client has gone or the proxy is stopping: it changes nothing. */
    if (qmp_proxy_request_cancelled(job->request))
        g_set_error_literal(&job->error, SVC_ERROR, SVC_ERROR_TRANSPORT, "the client has gone");
    else if (g_atomic_int_get(&job->service->stopping))
        g_set_error_literal(&job->error, SVC_ERROR, SVC_ERROR_TRANSPORT, job->service->why);
    else if (g_str_equal(job->command, "spicevmc-add"))
        job->ret = svc_qmp_add(vm, job->args, &job->error);
    else if (g_str_equal(job->command, "spicevmc-remove"))
        job->ret = qmp_remove(vm, job->args, &job->removed, &job->error);
    else
        job->ret = svc_qmp_query(vm, &job->error);
    g_main_context_invoke(job->service->context, finish_job, job);
}

static void
on_command(QmpProxy *proxy, QmpProxyRequest *request, const char *command,
           json_object *arguments, gpointer user_data)
{
    SvcQmpService *service = user_data;
    g_autoptr(GError) error = NULL;
    Job *job;

    if (g_atomic_int_get(&service->stopping)) {
        qmp_proxy_reply(request, NULL, "GenericError", service->why);
        return;
    }
    if (!qapi_schema_check_arguments(service->schema, command, arguments, &error)) {
        qmp_proxy_reply(request, NULL, "GenericError", error->message);
        return;
    }
    service->jobs++;
    job = g_new0(Job, 1);
    job->service = service;
    job->request = request;
    job->command = g_strdup(command);
    job->args = arguments ? json_object_get(arguments) : json_object_new_object();
    g_thread_pool_push(service->pool, job, NULL);
}

static json_object *
add_commands(json_object *ret, gpointer user_data)
{
    SvcQmpService *service = user_data;
    g_autoptr(json_object) ours = qapi_schema_commands(service->schema);

    for (size_t i = 0; json_object_is_type(ret, json_type_array) &&
                       i < json_object_array_length(ours); i++)
        json_object_array_add(ret, json_object_get(json_object_array_get_idx(ours, i)));
    return ret;
}

static json_object *
add_schema(json_object *ret, gpointer user_data)
{
    SvcQmpService *service = user_data;
    json_object *merged;

    /* A reply that is not a schema is passed on as QEMU sent it, for the client to judge. */
    if (!json_object_is_type(ret, json_type_array))
        return ret;
    merged = qapi_schema_merge_introspection(service->schema, ret);
    json_object_put(ret);
    return merged;
}

SvcQmpService *
svc_qmp_service_new(QmpProxy *proxy, QapiSchema *schema, guint timeout_ms)
{
    static const char *const ours[] = { "spicevmc-add", "spicevmc-remove", "query-spicevmc" };
    SvcQmpService *service = g_new0(SvcQmpService, 1);

    service->context = g_main_context_ref_thread_default();
    service->proxy = proxy;
    service->schema = schema;
    for (guint i = 0; i < G_N_ELEMENTS(ours); i++) {
        g_return_val_if_fail(qapi_schema_has_command(schema, ours[i]), NULL);
        qmp_proxy_add_command(proxy, ours[i], on_command, service);
    }
    qmp_proxy_add_filter(proxy, "query-commands", add_commands, service);
    qmp_proxy_add_filter(proxy, "query-qmp-schema", add_schema, service);
    service->vm = svc_vm_new_proxy(proxy, &service->transport);
    svc_vm_set_timeout(service->vm, timeout_ms);
    service->pool = g_thread_pool_new(run_job, service->vm, 1, FALSE, NULL);
    return service;
}

void
svc_qmp_service_set_placement(SvcQmpService *service, const char *id_prefix, gboolean from_top)
{
    svc_vm_set_placement(service->vm, id_prefix, from_top);
}

static gboolean
on_grace_over(gpointer data)
{
    SvcQmpService *service = data;

    svc_proxy_transport_end(service->transport, service->why);
    return G_SOURCE_REMOVE;
}

/* The worker reaches QEMU through this thread's loop: it turns until every command taken is
 * answered, taking no new one; the one at work may wait for QEMU until the grace is over.
 * When QEMU went away (@lost says why), nothing waits for it any more, and the commands taken
 * are told why, the one at work and the ones its worker has not come to yet alike. */
static void
service_stop(SvcQmpService *service, const char *lost)
{
    g_autoptr(GSource) grace = NULL;

    if (g_atomic_int_get(&service->stopping))
        return;
    service->why = g_strdup(lost ? lost : "the QMP proxy is stopping");
    g_atomic_int_set(&service->stopping, TRUE);
    if (lost)
        svc_proxy_transport_end(service->transport, lost);
    if (!service->jobs)
        return;
    grace = g_timeout_source_new(SVC_QMP_STOP_GRACE_MS);
    g_source_set_callback(grace, on_grace_over, service, NULL);
    g_source_attach(grace, service->context);
    while (service->jobs)
        g_main_context_iteration(service->context, TRUE);
    g_source_destroy(grace);
}

void
svc_qmp_service_free(SvcQmpService *service)
{
    if (!service)
        return;
    service_stop(service, NULL);
    g_thread_pool_free(service->pool, FALSE, TRUE);
    svc_vm_free(service->vm);
    g_main_context_unref(service->context);
    g_free(service->why);
    g_free(service);
}

/* ---- the proxy as a program --------------------------------------------- */

typedef struct {
    GMainLoop *loop;
    char *lost;               /* why QEMU went away */
    gboolean signalled;       /* asked to stop */
} Serving;

static void
on_lost(const char *reason, gpointer user_data)
{
    Serving *s = user_data;

    s->lost = g_strdup(reason);
    g_main_loop_quit(s->loop);
}

static gboolean
on_stop(gpointer user_data)
{
    Serving *s = user_data;

    s->signalled = TRUE;
    g_main_loop_quit(s->loop);
    return G_SOURCE_CONTINUE;
}

static GSource *
watch_signal(int signum, Serving *s)
{
    GSource *source = g_unix_signal_source_new(signum);

    g_source_set_callback(source, on_stop, s, NULL);
    g_source_attach(source, g_main_loop_get_context(s->loop));
    return source;
}

/* The stop signals blocked or let through. */
static void
mask_stop_signals(int how)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(how, &set, NULL);
}

void
svc_qmp_block_stop_signals(void)
{
    mask_stop_signals(SIG_BLOCK);
}

gboolean
svc_qmp_serve(GSocket *upstream, GSocket *listener, QapiSchema *schema,
              const SvcQmpServeOptions *options, GError **error)
{
    static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };
    g_autoptr(GMainLoop) loop = g_main_loop_new(g_main_context_get_thread_default(), FALSE);
    Serving s = { loop, NULL, FALSE };
    g_autoptr(QmpProxy) proxy = NULL;
    g_autoptr(SvcQmpService) service = NULL;
    g_autoptr(GPtrArray) signals = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
    g_autofree char *lost = NULL;

    qmp_proxy_log_install(g_get_prgname());
    /* A client, or whoever reads the log, that hangs up is no reason to die. */
    signal(SIGPIPE, SIG_IGN);
    proxy = qmp_proxy_new(upstream, on_lost, &s);
    service = svc_qmp_service_new(proxy, schema, options->timeout_ms);
    /* systemd stops a unit with SIGTERM: the commands taken are answered, then clients closed. */
    for (guint i = 0; i < G_N_ELEMENTS(stop_signals); i++)
        g_ptr_array_add(signals, watch_signal(stop_signals[i], &s));
    /* Handled from here on: one that came while the program was starting is taken now. */
    mask_stop_signals(SIG_UNBLOCK);
    qmp_proxy_set_greeting_timeout(proxy, options->timeout_ms, options->upstream);
    qmp_proxy_set_max_clients(proxy, options->max_clients);
    svc_qmp_service_set_placement(service, options->id_prefix, options->from_top);
    qmp_proxy_listen(proxy, listener);
    g_main_loop_run(loop);

    qmp_proxy_shutdown(proxy);
    service_stop(service, s.lost);
    qmp_proxy_fail_pending(proxy, s.lost ? s.lost : "the QMP proxy stopped before QEMU answered");
    qmp_proxy_flush(proxy, SVC_QMP_STOP_GRACE_MS);
    /* Held again for the program's way out (its socket to remove), as before. */
    mask_stop_signals(SIG_BLOCK);
    for (guint i = 0; i < signals->len; i++)
        g_source_destroy(signals->pdata[i]);
    lost = g_steal_pointer(&s.lost);
    if (lost && !s.signalled) {
        g_set_error_literal(error, QMP_ERROR, QMP_ERROR_CLOSED, lost);
        return FALSE;
    }
    return TRUE;
}
