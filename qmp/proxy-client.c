/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP proxy's clients: negotiation as QEMU does it, their commands routed one at a time,
 * and every client bounded: what it sends ahead, what it leaves unread, how many there are. */
#include "config.h"

#include <string.h>

#include "proxy-private.h"

static void client_pump(Client *c);

/* ---- replies to clients ------------------------------------------------- */

static Client *
client_ref(Client *c)
{
    c->refs++;
    return c;
}

void
proxy_client_unref(Client *c)
{
    if (--c->refs)
        return;
    proxy_conn_close(&c->conn);
    qmp_parser_free(c->parser);
    g_clear_pointer(&c->unread, g_byte_array_unref);
    g_free(c);
}

static json_object *
error_reply(const char *klass, const char *desc, json_object *id)
{
    json_object *reply = json_object_new_object();
    json_object *error = json_object_new_object();

    json_object_object_add(error, "class", json_object_new_string(klass));
    json_object_object_add(error, "desc", json_object_new_string(desc));
    json_object_object_add(reply, "error", error);
    if (id)
        json_object_object_add(reply, "id", json_object_get(id));
    return reply;
}

/* A reply: the client asked for it, and asks for no more while too much is unread, so a
 * reply never gets it dropped on its own. */
void
proxy_client_send(Client *c, json_object *msg)
{
    if (c->closed)
        return;
    proxy_conn_write(c->proxy, &c->conn, msg, NULL);
    proxy_check_total(c->proxy);
}

/* Events are QEMU's to send whenever it likes: a client that does not read them is dropped
 * rather than let them pile up. */
void
proxy_client_send_event(Client *c, json_object *event)
{
    g_autofree char *why = NULL;

    if (c->closed)
        return;
    if (c->conn.queued->len > CLIENT_OUT_MAX) {
        why = g_strdup_printf("it leaves more than %u KiB unread", CLIENT_OUT_MAX / 1024);
        proxy_client_close(c, why);
        return;
    }
    proxy_client_send(c, event);
}

void
proxy_client_error(Client *c, const char *klass, const char *desc, json_object *id)
{
    g_autoptr(json_object) reply = error_reply(klass, desc, id);

    proxy_client_send(c, reply);
}

void
qmp_proxy_reply(QmpProxyRequest *request, json_object *ret, const char *error_class,
                const char *error_desc)
{
    Client *c = request->client;
    g_autoptr(json_object) reply = NULL;

    if (error_class) {
        reply = error_reply(error_class, error_desc, request->id);
    } else {
        reply = json_object_new_object();
        json_object_object_add(reply, "return", ret ? ret : json_object_new_object());
        if (request->id)
            json_object_object_add(reply, "id", json_object_get(request->id));
    }
    if (c->request == request)
        c->request = NULL;
    proxy_client_send(c, reply);
    proxy_client_answered(c);
    proxy_client_unref(c);
    json_object_put(request->id);
    g_free(request);
}

gboolean
qmp_proxy_request_cancelled(QmpProxyRequest *request)
{
    return g_atomic_int_get(&request->cancelled);
}

/* ---- the large-message budget -------------------------------------------- */

/* Past CLIENT_INPUT_FREE, an unfinished message needs the budget, which one client holds at a
 * time, from there until its command is answered; the others wait, unread. */
static gboolean
budget_take(Client *c)
{
    QmpProxy *proxy = c->proxy;

    if (!proxy->budget_holder || proxy->budget_holder == c) {
        proxy->budget_holder = c;
        c->holds_budget = TRUE;
        return TRUE;
    }
    if (!c->wants_budget) {
        c->wants_budget = TRUE;
        g_queue_push_tail(proxy->budget_waiters, client_ref(c));
    }
    return FALSE;
}

static void
budget_release(Client *c)
{
    QmpProxy *proxy = c->proxy;
    Client *next;

    if (!c->holds_budget)
        return;
    c->holds_budget = FALSE;
    proxy->budget_holder = NULL;
    while (!proxy->budget_holder && (next = g_queue_pop_head(proxy->budget_waiters))) {
        next->wants_budget = FALSE;
        client_pump(next);
        proxy_client_unref(next);
    }
}

/* ---- clients ---------------------------------------------------------- */

/* Nothing of a client's waits for QEMU once it is gone: its command holding fds is withdrawn,
 * its command the proxy answers itself is told, the budget and its slot are freed. */
void
proxy_client_close(Client *c, const char *why)
{
    QmpProxy *proxy = c->proxy;

    if (c->closed)
        return;
    c->closed = TRUE;
    if (why)
        g_message("dropping QMP client %u: %s", c->number, why);
    g_ptr_array_remove(proxy->clients, c);
    if (c->request)
        g_atomic_int_set(&c->request->cancelled, TRUE);
    for (GList *l = proxy->held->head, *next; l; l = next) {
        Held *h = l->data;

        next = l->next;
        if (h->pending->client != c)
            continue;
        g_queue_delete_link(proxy->held, l);
        g_hash_table_remove(proxy->pending, GUINT_TO_POINTER(h->pending->up_id));
        proxy->lowest_free = MIN(proxy->lowest_free, h->pending->up_id);
        proxy_pending_free(h->pending);
        proxy_held_free(h);
    }
    budget_release(c);
    if (c->wants_budget && g_queue_remove(proxy->budget_waiters, c)) {
        c->wants_budget = FALSE;
        proxy_client_unref(c);
    }
    proxy_conn_close(&c->conn);
    g_clear_object(&c->fds);
    if (proxy->backoff) {
        /* An fd was freed: the listener need not rest any longer. */
        g_source_destroy(proxy->backoff);
        g_clear_pointer(&proxy->backoff, g_source_unref);
    }
    proxy_start_accepting(proxy);
    proxy_client_unref(c);
}

void
proxy_client_stop_reading(Client *c)
{
    proxy_conn_read_stop(&c->conn);
}

void
proxy_client_answered(Client *c)
{
    if (c->closed)
        return;
    c->busy = FALSE;
    if (c->holds_budget && !qmp_parser_in_message(c->parser))
        budget_release(c);
    client_pump(c);
}

/* As QEMU does before negotiation: the greeting is out, only qmp_capabilities is taken. */
static void
negotiate(Client *c, json_object *msg, json_object *id)
{
    json_object *args = json_object_object_get(msg, "arguments");
    g_autoptr(json_object) reply = NULL;

    if (!json_object_is_type(args, json_type_object))
        args = NULL;
    for (struct lh_entry *e = args ? json_object_get_object(args)->head : NULL; e; e = e->next) {
        const char *key = lh_entry_k(e);
        g_autofree char *desc = NULL;

        /* "enable": ["oob"] is QEMU's; the proxy keeps it, so it is accepted as QEMU would. */
        if (g_str_equal(key, "enable"))
            continue;
        desc = g_strdup_printf("Parameter '%s' is unexpected", key);
        proxy_client_error(c, "GenericError", desc, id);
        return;
    }
    c->negotiated = TRUE;
    reply = json_object_new_object();
    json_object_object_add(reply, "return", json_object_new_object());
    if (id)
        json_object_object_add(reply, "id", json_object_get(id));
    proxy_client_send(c, reply);
}

/* The envelope of a command the proxy answers itself, checked as QEMU checks it. */
static gboolean
check_envelope(Client *c, json_object *msg, json_object *id)
{
    json_object *args;

    json_object_object_foreach(msg, key, value) {
        g_autofree char *desc = NULL;

        (void)value;
        if (g_str_equal(key, "execute") || g_str_equal(key, "arguments") ||
            g_str_equal(key, "id"))
            continue;
        desc = g_strdup_printf("QMP input member '%s' is unexpected", key);
        proxy_client_error(c, "GenericError", desc, id);
        return FALSE;
    }
    if (json_object_object_get_ex(msg, "arguments", &args) &&
        !json_object_is_type(args, json_type_object)) {
        proxy_client_error(c, "GenericError", "QMP input member 'arguments' must be an object", id);
        return FALSE;
    }
    return TRUE;
}

static void
client_message(Client *c, json_object *msg)
{
    QmpProxy *proxy = c->proxy;
    json_object *id = json_object_object_get(msg, "id");
    const char *name = json_object_get_string(json_object_object_get(msg, "execute"));
    Command *command = name ? g_hash_table_lookup(proxy->commands, name) : NULL;
    Pending *p;

    if (!c->negotiated) {
        if (g_strcmp0(name, "qmp_capabilities") == 0)
            negotiate(c, msg, id);
        else
            proxy_client_error(c, "CommandNotFound",
                         "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        return;
    }
    if (g_strcmp0(name, "qmp_capabilities") == 0) {
        proxy_client_error(c, "CommandNotFound",
                     "Capabilities negotiation is already complete, command ignored", id);
        return;
    }
    if (command) {
        QmpProxyRequest *request;

        if (!check_envelope(c, msg, id))
            return;
        request = g_new0(QmpProxyRequest, 1);
        request->client = client_ref(c);
        request->id = id ? json_object_get(id) : NULL;
        c->busy = TRUE;
        c->request = request;
        command->handler(proxy, request, name, json_object_object_get(msg, "arguments"),
                         command->data);
        return;
    }
    /* Everything else is QEMU's to answer, malformed envelopes included, and takes the fds the
     * client sent last, as QEMU's monitor would have kept them for it. */
    p = g_new0(Pending, 1);
    p->client = client_ref(c);
    p->id = id ? json_object_get(id) : NULL;
    p->command = g_strdup(name);
    c->busy = TRUE;
    proxy_forward(proxy, msg, p, g_steal_pointer(&c->fds));
}

/* QEMU's words for what its JSON parser refuses. */
static void
client_parse_error(Client *c, GError *error)
{
    const char *detail = error->message;
    g_autofree char *desc = NULL;

    if (g_str_has_prefix(detail, "malformed QMP message: "))
        detail += strlen("malformed QMP message: ");
    if (g_error_matches(error, QMP_ERROR, QMP_ERROR_TOO_BIG))
        desc = g_strdup(detail);    /* QEMU's limits, in QEMU's words */
    else if (g_str_has_prefix(detail, "a QMP message must be"))
        desc = g_strdup("QMP input must be a JSON object");
    else
        desc = g_strdup_printf("JSON parse error, %s", detail);

    proxy_client_error(c, "GenericError", desc, NULL);
}

static gboolean
on_client_read(GSocket *sock, GIOCondition cond, gpointer data);

static gboolean
can_take(Client *c)
{
    return !c->closed && !c->busy && !c->proxy->shut &&
           c->conn.queued->len <= CLIENT_OUT_PAUSE;
}

/* Take the client's next message, if it may have one: parsed as far as it goes and no further,
 * so that what it sent ahead stays unread, in its socket once CLIENT_UNREAD_MAX is read. */
static void
client_pump(Client *c)
{
    QmpProxy *proxy = c->proxy;

    /* A reply given while a command is taken does not take the next from within. */
    if (c->pumping)
        return;
    c->pumping = TRUE;
    client_ref(c);
    while (can_take(c) && c->unread_pos < c->unread->len) {
        const char *bytes = (const char *)c->unread->data + c->unread_pos;
        gsize len = c->unread->len - c->unread_pos;
        gsize unfinished = qmp_parser_pending(c->parser);
        json_object *msg = NULL;
        GError *error = NULL;
        gsize used;

        if (!c->holds_budget && unfinished + len > CLIENT_INPUT_FREE) {
            len = CLIENT_INPUT_FREE - MIN(unfinished, CLIENT_INPUT_FREE);
            if (len == 0 && !budget_take(c))
                break;
            if (len == 0)
                len = c->unread->len - c->unread_pos;
        }
        used = qmp_parser_feed_one(c->parser, bytes, len, &msg, &error);
        c->unread_pos += used;
        if (error) {
            client_parse_error(c, error);
            g_error_free(error);
        }
        if (msg) {
            client_message(c, msg);
            json_object_put(msg);
        }
        if (c->holds_budget && !c->busy && !qmp_parser_in_message(c->parser))
            budget_release(c);
        if (!used && !msg && !error)
            break;
    }
    if (c->unread_pos == c->unread->len) {
        g_byte_array_set_size(c->unread, 0);
        c->unread_pos = 0;
    }
    if (!c->closed && !c->sent_all && !proxy->shut &&
        c->unread->len - c->unread_pos < CLIENT_UNREAD_MAX)
        proxy_conn_read_start(proxy, &c->conn, on_client_read, c);
    if (!c->closed && c->sent_all && !c->busy && c->unread_pos == c->unread->len &&
        !c->conn.queued->len)
        proxy_client_close(c, NULL);
    c->pumping = FALSE;
    proxy_client_unref(c);
}

static gboolean
on_client_read(GSocket *sock, GIOCondition cond, gpointer data)
{
    Client *c = data;
    char *buf = c->proxy->read_buf;
    gsize ahead = c->unread->len - c->unread_pos;
    g_autofree char *reason = NULL;
    g_autoptr(GUnixFDList) fds = NULL;
    gssize n;

    if (ahead >= CLIENT_UNREAD_MAX) {
        proxy_conn_read_stop(&c->conn);
        return G_SOURCE_REMOVE;
    }
    if (!proxy_conn_read(&c->conn, buf, MIN(READ_SIZE, CLIENT_UNREAD_MAX - ahead), &n, &fds,
                         &reason)) {
        /* A client that only shut its writing side (echo … | socat) still reads: what it sent
         * is answered before it is closed.  One that is gone entirely (HUP) is closed now, and
         * what it had queued is dropped, as QEMU drops a closed monitor's queue. */
        if (n == 0 && !(cond & G_IO_HUP)) {
            c->sent_all = TRUE;
            proxy_conn_read_stop(&c->conn);
            client_pump(c);
        } else {
            proxy_client_close(c, NULL);
        }
        return G_SOURCE_REMOVE;
    }
    /* libvirt sends fds with the first bytes of the command that takes them; like QEMU's
     * socket chardev, the client's last fds wait for its next command, and replace any that no
     * command took. */
    if (fds)
        g_set_object(&c->fds, fds);
    if (n <= 0)
        return G_SOURCE_CONTINUE;
    if (c->unread_pos) {
        g_byte_array_remove_range(c->unread, 0, c->unread_pos);
        c->unread_pos = 0;
    }
    g_byte_array_append(c->unread, (const guint8 *)buf, n);
    client_pump(c);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_drained(gpointer data)
{
    client_pump(data);
    return G_SOURCE_CONTINUE;
}

void
qmp_proxy_add_client(QmpProxy *proxy, GSocket *sock)
{
    Client *c = g_new0(Client, 1);

    c->proxy = proxy;
    c->refs = 1;
    c->number = ++proxy->clients_seen;
    /* No size limit but QEMU's own: what QEMU would take, the proxy takes. */
    c->parser = qmp_parser_new(G_MAXSIZE);
    c->unread = g_byte_array_new();
    c->conn.total = &proxy->out_total;
    c->conn.drained = on_drained;
    c->conn.data = c;
    proxy_conn_open(proxy, &c->conn, sock, on_client_read, c);
    g_ptr_array_add(proxy->clients, c);
    proxy_conn_send(proxy, &c->conn, proxy->greeting, strlen(proxy->greeting));
}

/* When what all clients leave unread passes the bound, the client that leaves most goes. */
void
proxy_check_total(QmpProxy *proxy)
{
    while (proxy->out_total > CLIENTS_OUT_MAX && proxy->clients->len) {
        Client *most = proxy->clients->pdata[0];
        g_autofree char *why = NULL;

        for (guint i = 1; i < proxy->clients->len; i++) {
            Client *c = proxy->clients->pdata[i];

            if (c->conn.queued->len > most->conn.queued->len)
                most = c;
        }
        why = g_strdup_printf("it leaves %u bytes unread, and all clients more than %u MiB",
                              most->conn.queued->len, CLIENTS_OUT_MAX / (1024 * 1024));
        proxy_client_close(most, why);
    }
}

/* ---- the listener ------------------------------------------------------- */

static gboolean proxy_on_accept(GSocket *sock, GIOCondition cond, gpointer data);

void
proxy_start_accepting(QmpProxy *proxy)
{
    if (proxy->state != UP_READY || !proxy->listener || proxy->accepting || proxy->backoff ||
        proxy->shut || proxy->clients->len >= proxy->max_clients)
        return;
    proxy->accepting = g_socket_create_source(proxy->listener, G_IO_IN, NULL);
    g_source_set_callback(proxy->accepting, G_SOURCE_FUNC(proxy_on_accept), proxy, NULL);
    g_source_attach(proxy->accepting, proxy->context);
}

void
proxy_stop_accepting(QmpProxy *proxy)
{
    if (proxy->accepting) {
        g_source_destroy(proxy->accepting);
        g_clear_pointer(&proxy->accepting, g_source_unref);
    }
    if (proxy->backoff) {
        g_source_destroy(proxy->backoff);
        g_clear_pointer(&proxy->backoff, g_source_unref);
    }
}

static gboolean
on_rested(gpointer data)
{
    QmpProxy *proxy = data;

    g_clear_pointer(&proxy->backoff, g_source_unref);
    proxy_start_accepting(proxy);
    return G_SOURCE_REMOVE;
}

/* Out of fds, the connection stays in the listener's queue and the listener stays readable:
 * rather than spin on it, rest, longer each time, until an accept succeeds or a client leaves. */
static void
rest(QmpProxy *proxy)
{
    proxy_stop_accepting(proxy);
    proxy->backoff_ms = proxy->backoff_ms ? MIN(proxy->backoff_ms * 2, ACCEPT_BACKOFF_MAX_MS)
                                          : ACCEPT_BACKOFF_MIN_MS;
    proxy->backoff = g_timeout_source_new(proxy->backoff_ms);
    g_source_set_callback(proxy->backoff, on_rested, proxy, NULL);
    g_source_attach(proxy->backoff, proxy->context);
}

static gboolean
proxy_on_accept(GSocket *sock, GIOCondition cond, gpointer data)
{
    QmpProxy *proxy = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) client = g_socket_accept(sock, NULL, &error);

    if (client) {
        proxy->backoff_ms = 0;
        qmp_proxy_add_client(proxy, client);
    } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_message("cannot accept a QMP client: %s", error->message);
        rest(proxy);
        return G_SOURCE_REMOVE;
    }
    if (proxy->clients->len < proxy->max_clients)
        return G_SOURCE_CONTINUE;
    /* The next ones wait in the listener's queue, as a second client of QEMU's monitor waits. */
    g_message("%u QMP clients are connected, the most allowed: the next waits until one leaves",
              proxy->max_clients);
    proxy_stop_accepting(proxy);
    return G_SOURCE_REMOVE;
}
