/* The QMP proxy's clients: negotiation as QEMU does it, their commands routed, replies and
 * events written without letting one slow reader hold up the others. */
#include "config.h"

#include <string.h>

#include "proxy-private.h"

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

void
proxy_client_send(Client *c, json_object *msg)
{
    if (c->closed)
        return;
    proxy_conn_write(c->proxy, &c->conn, msg, NULL);
    if (c->conn.queued->len > CLIENT_BACKLOG_MAX) {
        g_message("dropping a QMP client that does not read what it is sent");
        proxy_client_close(c);
    }
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
    g_autoptr(json_object) reply = NULL;

    if (error_class) {
        reply = error_reply(error_class, error_desc, request->id);
    } else {
        reply = json_object_new_object();
        json_object_object_add(reply, "return", ret ? ret : json_object_new_object());
        if (request->id)
            json_object_object_add(reply, "id", json_object_get(request->id));
    }
    proxy_client_send(request->client, reply);
    proxy_client_unref(request->client);
    json_object_put(request->id);
    g_free(request);
}

/* ---- clients ---------------------------------------------------------- */

void
proxy_client_close(Client *c)
{
    if (c->closed)
        return;
    c->closed = TRUE;
    g_ptr_array_remove(c->proxy->clients, c);
    proxy_conn_close(&c->conn);
    g_clear_object(&c->fds);
    proxy_client_unref(c);
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
on_client_read(GSocket *sock, GIOCondition cond, gpointer data)
{
    Client *c = data;
    char *buf = c->proxy->read_buf;
    g_autofree char *reason = NULL;
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GUnixFDList) fds = NULL;
    gssize n;

    if (!proxy_conn_read(&c->conn, buf, &n, &fds, &reason)) {
        proxy_client_close(c);
        return G_SOURCE_REMOVE;
    }
    /* libvirt sends fds with the first bytes of the command that takes them; like QEMU's
     * socket chardev, the client's last fds wait for its next command, and replace any that no
     * command took. */
    if (fds)
        g_set_object(&c->fds, fds);
    if (n <= 0)
        return G_SOURCE_CONTINUE;
    for (gssize pos = 0; pos < n;) {
        json_object *message = NULL;
        GError *error = NULL;

        pos += qmp_parser_feed_one(c->parser, buf + pos, n - pos, &message, &error);
        if (message)
            g_ptr_array_add(messages, message);
        if (error)
            g_ptr_array_add(errors, error);
    }
    client_ref(c);
    for (guint i = 0; i < errors->len; i++)
        client_parse_error(c, errors->pdata[i]);
    for (guint i = 0; i < messages->len && !c->closed; i++)
        client_message(c, messages->pdata[i]);
    proxy_client_unref(c);
    return G_SOURCE_CONTINUE;
}

void
qmp_proxy_add_client(QmpProxy *proxy, GSocket *sock)
{
    Client *c = g_new0(Client, 1);

    c->proxy = proxy;
    c->refs = 1;
    c->parser = qmp_parser_new(QMP_MAX_MESSAGE);
    proxy_conn_open(proxy, &c->conn, sock, on_client_read, c);
    g_ptr_array_add(proxy->clients, c);
    proxy_conn_send(proxy, &c->conn, proxy->greeting, strlen(proxy->greeting));
}

gboolean
proxy_on_accept(GSocket *sock, GIOCondition cond, gpointer data)
{
    QmpProxy *proxy = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) client = g_socket_accept(sock, NULL, &error);

    if (client)
        qmp_proxy_add_client(proxy, client);
    else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_message("cannot accept a QMP client: %s", error->message);
    return G_SOURCE_CONTINUE;
}

