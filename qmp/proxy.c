/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A QMP proxy: to any number of clients it is QEMU's monitor, plus the commands it is given.
 * Every client command goes upstream with an id of the proxy's, and its reply comes back to
 * that client with the client's own id; events go to every client that has negotiated; file
 * descriptors a client passes go upstream with its next command for QEMU.
 *
 * Fairness, as QEMU's monitor has it with one client: each client has one command at a time
 * upstream (or at work in the proxy), and its next is read only once that one is answered; the
 * proxy's own commands go one at a time too.  So a command waits upstream behind at most one
 * command of each other client, however many any of them sent. */
#include "config.h"

#include <string.h>

#include "proxy-private.h"

static void up_lost(QmpProxy *proxy, const char *reason);

/* ---- commands upstream ------------------------------------------------- */

void
proxy_pending_free(Pending *p)
{
    if (p->client)
        proxy_client_unref(p->client);
    json_object_put(p->id);
    g_free(p->command);
    g_free(p);
}

void
proxy_held_free(Held *h)
{
    json_object_put(h->cmd);
    g_clear_object(&h->fds);
    g_free(h);
}

static void
send_up(QmpProxy *proxy, json_object *cmd, Pending *p, GUnixFDList *fds)
{
    if (fds)
        proxy->fds_unanswered = p;
    proxy_conn_write(proxy, &proxy->up, cmd, fds);
}

/* Send @cmd upstream under an id of the proxy's; @p says where its reply goes, @fds (transfer
 * full, nullable) go with it.
 *
 * QEMU 7.2 reads its monitor one byte per main-loop pass, 5 to 10 µs a byte, so the id is paid
 * for on every command: it is the smallest number not in flight, as short as the number of
 * commands in flight allows however long the proxy has run, and shorter than most clients'.
 *
 * QEMU keeps only the fds of its last read that carried some, and with oob it reads ahead of
 * the command it runs: a command with fds waits until QEMU has answered the last one sent with
 * fds.  Commands without fds pass it: QEMU keeps the fds it has until a read brings others. */
void
proxy_forward(QmpProxy *proxy, json_object *cmd, Pending *p, GUnixFDList *fds)
{
    guint id = proxy->lowest_free;
    Held *h;

    while (g_hash_table_contains(proxy->pending, GUINT_TO_POINTER(id)))
        id++;
    proxy->lowest_free = id + 1;
    p->up_id = id;
    json_object_object_add(cmd, "id", json_object_new_int64(id));
    g_hash_table_insert(proxy->pending, GUINT_TO_POINTER(id), p);
    if (!(fds && proxy->fds_unanswered)) {
        send_up(proxy, cmd, p, fds);
        return;
    }
    h = g_new0(Held, 1);
    h->cmd = json_object_get(cmd);
    h->pending = p;
    h->fds = fds;
    g_queue_push_tail(proxy->held, h);
}

/* The command QEMU answers with @id, no longer pending; its id may be given again. */
static Pending *
pending_take(QmpProxy *proxy, json_object *id)
{
    gint64 n = json_object_get_int64(id);
    Pending *p;

    if (!json_object_is_type(id, json_type_int) || n < 0 || n > G_MAXUINT ||
        !(p = g_hash_table_lookup(proxy->pending, GUINT_TO_POINTER(n))))
        return NULL;
    g_hash_table_steal(proxy->pending, GUINT_TO_POINTER(n));
    proxy->lowest_free = MIN(proxy->lowest_free, p->up_id);
    return p;
}

/* QEMU answered the command sent with fds: the next with fds may go. */
static void
release_held(QmpProxy *proxy)
{
    Held *h = g_queue_pop_head(proxy->held);

    proxy->fds_unanswered = NULL;
    if (h) {
        send_up(proxy, h->cmd, h->pending, g_steal_pointer(&h->fds));
        proxy_held_free(h);
    }
}

/* The proxy's own commands go one at a time, like a client's. */
static void
own_next(QmpProxy *proxy)
{
    Held *h;

    if (proxy->own_busy || !(h = g_queue_pop_head(proxy->own)))
        return;
    proxy->own_busy = TRUE;
    proxy_forward(proxy, h->cmd, h->pending, NULL);
    proxy_held_free(h);
}

static void
deliver_reply(QmpProxy *proxy, json_object *reply, Pending *p)
{
    Filter *f = p->command ? g_hash_table_lookup(proxy->filters, p->command) : NULL;
    json_object *ret;

    if (!p->client) {
        proxy->own_busy = FALSE;
        if (p->func)
            p->func(reply, NULL, p->data);
        own_next(proxy);
        return;
    }
    json_object_object_del(reply, "id");
    if (p->id)
        json_object_object_add(reply, "id", json_object_get(p->id));
    if (f && json_object_object_get_ex(reply, "return", &ret)) {
        json_object *filtered = f->filter(json_object_get(ret), f->data);

        json_object_object_add(reply, "return", filtered);
    }
    proxy_client_send(p->client, reply);
    proxy_client_answered(p->client);
}

static void
fan_out(QmpProxy *proxy, json_object *event)
{
    const char *name = json_object_get_string(json_object_object_get(event, "event"));
    g_autoptr(GPtrArray) clients = g_ptr_array_copy(proxy->clients, NULL, NULL);

    for (guint i = 0; i < proxy->listeners->len; i++) {
        Listener *l = &g_array_index(proxy->listeners, Listener, i);

        l->func(name, event, l->data);
    }
    /* Sending may drop a client that reads nothing. */
    for (guint i = 0; i < clients->len; i++)
        ((Client *)clients->pdata[i])->refs++;
    for (guint i = 0; i < clients->len; i++) {
        Client *c = clients->pdata[i];

        if (c->negotiated)
            proxy_client_send_event(c, event);
        proxy_client_unref(c);
    }
}

void
qmp_proxy_emit_event(QmpProxy *proxy, const char *name, json_object *data)
{
    g_autoptr(json_object) event = json_object_new_object();
    json_object *timestamp = json_object_new_object();
    gint64 now = g_get_real_time();

    /* Shaped and ordered as QEMU's own. */
    json_object_object_add(timestamp, "seconds", json_object_new_int64(now / G_USEC_PER_SEC));
    json_object_object_add(timestamp, "microseconds",
                           json_object_new_int64(now % G_USEC_PER_SEC));
    json_object_object_add(event, "timestamp", timestamp);
    json_object_object_add(event, "event", json_object_new_string(name));
    if (data)
        json_object_object_add(event, "data", data);
    fan_out(proxy, event);
}

/* ---- QEMU's monitor --------------------------------------------------- */

/* QEMU's greeting is every client's; read-ahead (oob) is asked for the proxy's own sake. */
static void
up_greeting(QmpProxy *proxy, json_object *msg)
{
    g_autoptr(json_object) cmd = NULL;

    if (!json_object_object_get(msg, "QMP")) {
        up_lost(proxy, "QEMU's monitor did not greet with QMP");
        return;
    }
    proxy->greeting = g_strdup_printf("%s\r\n", json_object_to_json_string_ext(
                                                    msg, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    cmd = qmp_cmd_capabilities(qmp_greeting_offers_oob(msg));
    json_object_object_add(cmd, "id", json_object_new_string("svc-negotiation"));
    proxy_conn_write(proxy, &proxy->up, cmd, NULL);
    proxy->state = UP_NEGOTIATING;
}

static void
up_message(QmpProxy *proxy, json_object *msg)
{
    Pending *p;

    if (proxy->state == UP_GREETING) {
        up_greeting(proxy, msg);
    } else if (proxy->state == UP_NEGOTIATING) {
        if (!json_object_object_get(msg, "return")) {
            up_lost(proxy, "QEMU refused QMP capabilities negotiation");
            return;
        }
        proxy->state = UP_READY;
        if (proxy->greeting_timer) {
            g_source_destroy(proxy->greeting_timer);
            g_clear_pointer(&proxy->greeting_timer, g_source_unref);
        }
        proxy_start_accepting(proxy);
    } else if (json_object_object_get(msg, "event")) {
        fan_out(proxy, msg);
    } else if ((p = pending_take(proxy, json_object_object_get(msg, "id")))) {
        if (p == proxy->fds_unanswered)
            release_held(proxy);
        deliver_reply(proxy, msg, p);
        proxy_pending_free(p);
    } else if (!proxy->shut) {
        g_message("dropping a QMP reply with an id the proxy did not give: %.200s",
                  json_object_to_json_string(msg));
    }
}

static gboolean
on_up_read(GSocket *sock, GIOCondition cond, gpointer data)
{
    QmpProxy *proxy = data;
    char *buf = proxy->read_buf;
    g_autofree char *reason = NULL;
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GError) error = NULL;
    gssize n;

    if (!proxy_conn_read(&proxy->up, buf, READ_SIZE, &n, NULL, &reason)) {
        g_autofree char *why = g_strdup_printf("QEMU's monitor %s", reason);

        up_lost(proxy, why);
        return G_SOURCE_REMOVE;
    }
    if (n > 0 && !qmp_parser_feed(proxy->up_parser, buf, n, messages, &error)) {
        up_lost(proxy, error->message);
        return G_SOURCE_REMOVE;
    }
    for (guint i = 0; i < messages->len && proxy->state != UP_LOST; i++)
        up_message(proxy, messages->pdata[i]);
    return proxy->state == UP_LOST ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Whatever waits for QEMU gets @reason: clients an error reply, the proxy's own commands an
 * error. */
static void
fail_pending(QmpProxy *proxy, const char *reason)
{
    g_autoptr(GList) waiting = g_hash_table_get_values(proxy->pending);
    Held *h;

    g_hash_table_steal_all(proxy->pending);
    /* Held commands are pending too: only their shells go here. */
    while ((h = g_queue_pop_head(proxy->held))) {
        h->pending = NULL;
        proxy_held_free(h);
    }
    while ((h = g_queue_pop_head(proxy->own))) {
        waiting = g_list_append(waiting, g_steal_pointer(&h->pending));
        proxy_held_free(h);
    }
    proxy->lowest_free = 0;
    proxy->fds_unanswered = NULL;
    proxy->own_busy = FALSE;
    for (GList *l = waiting; l; l = l->next) {
        Pending *p = l->data;
        g_autoptr(GError) error = g_error_new(QMP_ERROR, QMP_ERROR_CLOSED, "%s", reason);

        if (p->client && !p->client->closed) {
            proxy_client_error(p->client, "GenericError", reason, p->id);
            proxy_client_answered(p->client);
        } else if (!p->client && p->func) {
            p->func(NULL, error, p->data);
        }
        proxy_pending_free(p);
    }
}

/* The proxy takes nothing more; every command still waiting for QEMU gets an error. */
static void
up_lost(QmpProxy *proxy, const char *reason)
{
    if (proxy->state == UP_LOST)
        return;
    proxy->state = UP_LOST;
    proxy->lost = g_strdup(reason);
    if (proxy->greeting_timer) {
        g_source_destroy(proxy->greeting_timer);
        g_clear_pointer(&proxy->greeting_timer, g_source_unref);
    }
    qmp_proxy_shutdown(proxy);
    fail_pending(proxy, reason);
    if (proxy->on_lost)
        proxy->on_lost(reason, proxy->lost_data);
}

static char *
format_ms(guint ms)
{
    if (ms % 1000 == 0)
        return g_strdup_printf("%u s", ms / 1000);
    return ms < 1000 ? g_strdup_printf("%u ms", ms) : g_strdup_printf("%.1f s", ms / 1000.0);
}

typedef struct {
    QmpProxy *proxy;
    char *name;
    guint ms;
} GreetingWait;

static void
greeting_wait_free(gpointer data)
{
    GreetingWait *w = data;

    g_free(w->name);
    g_free(w);
}

/* QEMU serves one client per monitor socket: another one's connect succeeds, but no greeting
 * comes until the first leaves. */
static gboolean
on_no_greeting(gpointer data)
{
    GreetingWait *w = data;
    g_autofree char *span = format_ms(w->ms);
    g_autofree char *why = g_strdup_printf("QEMU's monitor at %s did not greet within %s: "
                                           "another client may hold it", w->name, span);

    g_clear_pointer(&w->proxy->greeting_timer, g_source_unref);
    up_lost(w->proxy, why);
    return G_SOURCE_REMOVE;
}

/* ---- the proxy -------------------------------------------------------- */

QmpProxy *
qmp_proxy_new(GSocket *upstream, QmpProxyLostFunc on_lost, gpointer user_data)
{
    QmpProxy *proxy = g_new0(QmpProxy, 1);

    proxy->context = g_main_context_ref_thread_default();
    proxy->up_parser = qmp_parser_new(QMP_MAX_MESSAGE);
    proxy->read_buf = g_malloc(READ_SIZE);
    proxy->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
    proxy->held = g_queue_new();
    proxy->own = g_queue_new();
    proxy->clients = g_ptr_array_new();
    proxy->max_clients = QMP_PROXY_DEFAULT_MAX_CLIENTS;
    proxy->budget_waiters = g_queue_new();
    proxy->commands = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    proxy->filters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    proxy->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
    proxy->on_lost = on_lost;
    proxy->lost_data = user_data;
    proxy_conn_open(proxy, &proxy->up, upstream, on_up_read, proxy);
    return proxy;
}

void
qmp_proxy_set_greeting_timeout(QmpProxy *proxy, guint timeout_ms, const char *name)
{
    GreetingWait *w = g_new0(GreetingWait, 1);

    g_return_if_fail(proxy->state == UP_GREETING && !proxy->greeting_timer);
    w->proxy = proxy;
    w->name = g_strdup(name);
    w->ms = timeout_ms;
    proxy->greeting_timer = g_timeout_source_new(timeout_ms);
    g_source_set_callback(proxy->greeting_timer, on_no_greeting, w, greeting_wait_free);
    g_source_attach(proxy->greeting_timer, proxy->context);
}

void
qmp_proxy_set_max_clients(QmpProxy *proxy, guint max_clients)
{
    proxy->max_clients = max_clients ? max_clients : QMP_PROXY_DEFAULT_MAX_CLIENTS;
}

void
qmp_proxy_free(QmpProxy *proxy)
{
    GHashTableIter iter;
    gpointer value;

    if (!proxy)
        return;
    proxy->on_lost = NULL;
    qmp_proxy_shutdown(proxy);
    /* Whoever waits for a reply is told, and frees what it holds for it. */
    fail_pending(proxy, "the QMP proxy is gone");
    while (proxy->clients->len)
        proxy_client_close(proxy->clients->pdata[0], NULL);
    if (proxy->greeting_timer) {
        g_source_destroy(proxy->greeting_timer);
        g_source_unref(proxy->greeting_timer);
    }
    g_clear_object(&proxy->listener);
    proxy_conn_close(&proxy->up);
    qmp_parser_free(proxy->up_parser);
    g_hash_table_iter_init(&iter, proxy->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        proxy_pending_free(value);
    g_hash_table_unref(proxy->pending);
    g_queue_free_full(proxy->held, (GDestroyNotify)proxy_held_free);
    while (!g_queue_is_empty(proxy->own)) {
        Held *h = g_queue_pop_head(proxy->own);

        proxy_pending_free(h->pending);
        proxy_held_free(h);
    }
    g_queue_free(proxy->own);
    g_queue_free(proxy->budget_waiters);
    g_ptr_array_unref(proxy->clients);
    g_hash_table_unref(proxy->commands);
    g_hash_table_unref(proxy->filters);
    g_array_unref(proxy->listeners);
    g_free(proxy->greeting);
    g_free(proxy->lost);
    g_free(proxy->read_buf);
    g_main_context_unref(proxy->context);
    g_free(proxy);
}

void
qmp_proxy_listen(QmpProxy *proxy, GSocket *listener)
{
    g_socket_set_blocking(listener, FALSE);
    proxy->listener = g_object_ref(listener);
    proxy_start_accepting(proxy);
}

void
qmp_proxy_shutdown(QmpProxy *proxy)
{
    proxy->shut = TRUE;
    proxy_stop_accepting(proxy);
    for (guint i = 0; i < proxy->clients->len; i++)
        proxy_client_stop_reading(proxy->clients->pdata[i]);
}

void
qmp_proxy_fail_pending(QmpProxy *proxy, const char *reason)
{
    fail_pending(proxy, reason);
}

static gboolean
on_flush_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static gboolean
clients_have_output(QmpProxy *proxy)
{
    for (guint i = 0; i < proxy->clients->len; i++) {
        Client *c = proxy->clients->pdata[i];

        if (c->conn.queued && c->conn.queued->len)
            return TRUE;
    }
    return FALSE;
}

void
qmp_proxy_flush(QmpProxy *proxy, guint timeout_ms)
{
    g_autoptr(GSource) timer = g_timeout_source_new(timeout_ms);
    gboolean late = FALSE;

    g_source_set_callback(timer, on_flush_deadline, &late, NULL);
    g_source_attach(timer, proxy->context);
    while (!late && clients_have_output(proxy))
        g_main_context_iteration(proxy->context, TRUE);
    g_source_destroy(timer);
}

void
qmp_proxy_add_command(QmpProxy *proxy, const char *name, QmpProxyHandler handler,
                      gpointer user_data)
{
    Command *c = g_new0(Command, 1);

    c->handler = handler;
    c->data = user_data;
    g_hash_table_insert(proxy->commands, g_strdup(name), c);
}

void
qmp_proxy_add_filter(QmpProxy *proxy, const char *command, QmpProxyFilter filter,
                     gpointer user_data)
{
    Filter *f = g_new0(Filter, 1);

    f->filter = filter;
    f->data = user_data;
    g_hash_table_insert(proxy->filters, g_strdup(command), f);
}

void
qmp_proxy_add_event_listener(QmpProxy *proxy, QmpProxyEventFunc func, gpointer user_data)
{
    Listener l = { func, user_data };

    g_array_append_val(proxy->listeners, l);
}

guint
qmp_proxy_execute(QmpProxy *proxy, json_object *cmd, QmpProxyReplyFunc func, gpointer user_data)
{
    Held *h;
    guint handle;

    if (proxy->state == UP_LOST) {
        g_autoptr(GError) error = g_error_new_literal(QMP_ERROR, QMP_ERROR_CLOSED, proxy->lost);

        func(NULL, error, user_data);
        return 0;
    }
    if (!++proxy->next_handle)
        ++proxy->next_handle;
    handle = proxy->next_handle;
    h = g_new0(Held, 1);
    h->cmd = json_object_new_object();
    json_object_object_foreach(cmd, key, value)
        json_object_object_add(h->cmd, key, json_object_get(value));
    h->pending = g_new0(Pending, 1);
    h->pending->func = func;
    h->pending->data = user_data;
    h->pending->handle = handle;
    g_queue_push_tail(proxy->own, h);
    own_next(proxy);
    return handle;
}

gboolean
qmp_proxy_cancel(QmpProxy *proxy, guint handle)
{
    for (GList *l = proxy->own->head; l; l = l->next) {
        Held *h = l->data;

        if (h->pending->handle == handle) {
            g_queue_delete_link(proxy->own, l);
            proxy_pending_free(h->pending);
            proxy_held_free(h);
            return TRUE;
        }
    }
    return FALSE;
}

void
qmp_proxy_forget(QmpProxy *proxy, guint handle)
{
    GHashTableIter iter;
    gpointer value;

    if (qmp_proxy_cancel(proxy, handle))
        return;
    g_hash_table_iter_init(&iter, proxy->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        Pending *p = value;

        if (p->handle == handle)
            p->func = NULL;
    }
}

void
qmp_proxy_remove_event_listener(QmpProxy *proxy, QmpProxyEventFunc func, gpointer user_data)
{
    for (guint i = 0; i < proxy->listeners->len; i++) {
        Listener *l = &g_array_index(proxy->listeners, Listener, i);

        if (l->func == func && l->data == user_data) {
            g_array_remove_index(proxy->listeners, i);
            return;
        }
    }
}

guint
qmp_proxy_count_clients(QmpProxy *proxy)
{
    return proxy->clients->len;
}
