/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/port-client.c — a spice-gtk client that finds SPICE ports by name and passes bytes
 * through them (port-client.h). */
#include "config.h"

#include "port-client.h"

/* What a port may receive before the test reads it: far more than any test sends. */
#define RECEIVED_MAX (64 * 1024)

struct _PortClient {
    SpiceSession *session;
    GPtrArray *ports;         /* every port channel announced, in order */
    GPtrArray *written;       /* what was written: spice-gtk sends it by reference, later */
    gboolean disconnected;
};

typedef gboolean (*ClientCheck)(PortClient *c, gconstpointer data);

static gboolean
expire(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Run the default main context until @check holds; FALSE with @error after the deadline. */
static gboolean
wait_for(PortClient *c, ClientCheck check, gconstpointer data, const char *what,
         GError **error)
{
    gboolean expired = FALSE;
    guint timer;

    if (check(c, data))
        return TRUE;
    timer = g_timeout_add_seconds(PORT_CLIENT_TIMEOUT_S, expire, &expired);
    while (!check(c, data) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(timer);
    if (check(c, data))
        return TRUE;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no %s at the SPICE client within %d s",
                what, PORT_CLIENT_TIMEOUT_S);
    return FALSE;
}

static GByteArray *
received(SpicePortChannel *port)
{
    return g_object_get_data(G_OBJECT(port), "received");
}

static void
on_port_data(SpicePortChannel *port, gpointer data, int size, PortClient *c)
{
    GByteArray *bytes = received(port);

    /* Past the bound the test fails: it waits for a length and finds more. */
    if (bytes->len + size <= RECEIVED_MAX)
        g_byte_array_append(bytes, data, size);
    else
        g_byte_array_set_size(bytes, RECEIVED_MAX + 1);
}

/* A channel reports SPICE_CHANNEL_OPENED once linked, SPICE_CHANNEL_CLOSED last. */
static void
on_channel_event(SpiceChannel *channel, SpiceChannelEvent event, PortClient *c)
{
    g_object_set_data(G_OBJECT(channel), "last-event", GINT_TO_POINTER(event));
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, PortClient *c)
{
    if (!SPICE_IS_PORT_CHANNEL(channel))
        return;
    g_object_set_data_full(G_OBJECT(channel), "received", g_byte_array_new(),
                           (GDestroyNotify)g_byte_array_unref);
    g_signal_connect(channel, "port-data", G_CALLBACK(on_port_data), c);
    g_signal_connect(channel, "channel-event", G_CALLBACK(on_channel_event), c);
    g_ptr_array_add(c->ports, g_object_ref(channel));
    /* A port's name only arrives once it is connected (SPICE_MSG_PORT_INIT). */
    spice_channel_connect(channel);
}

static void
on_disconnected(SpiceSession *session, PortClient *c)
{
    c->disconnected = TRUE;
}

PortClient *
port_client_connect(const char *path)
{
    PortClient *c = g_new0(PortClient, 1);

    c->ports = g_ptr_array_new_with_free_func(g_object_unref);
    c->written = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    c->session = spice_session_new();
    g_object_set(c->session, "unix-path", path, NULL);
    g_signal_connect(c->session, "channel-new", G_CALLBACK(on_channel_new), c);
    g_signal_connect(c->session, "disconnected", G_CALLBACK(on_disconnected), c);
    g_assert_true(spice_session_connect(c->session));
    return c;
}

/* Every channel has linked or failed to: spice-gtk warns when one is torn down mid-link. */
static gboolean
is_settled(PortClient *c, gconstpointer data)
{
    for (guint i = 0; i < c->ports->len; i++) {
        if (!g_object_get_data(G_OBJECT(c->ports->pdata[i]), "last-event"))
            return FALSE;
    }
    return TRUE;
}

static gboolean
is_disconnected(PortClient *c, gconstpointer data)
{
    return c->disconnected;
}

void
port_client_free(PortClient *c)
{
    g_autoptr(GError) error = NULL;

    if (!c)
        return;
    if (!wait_for(c, is_settled, NULL, "end of linking", &error))
        g_test_message("%s; disconnecting anyway", error->message);
    g_clear_error(&error);
    for (guint i = 0; i < c->ports->len; i++)
        g_signal_handlers_disconnect_by_data(c->ports->pdata[i], c);
    /* Our references would keep the channels, and "disconnected" waits for them to go. */
    g_ptr_array_unref(c->ports);
    spice_session_disconnect(c->session);
    if (!wait_for(c, is_disconnected, NULL, "disconnection", &error))
        g_test_message("%s: the session outlives this test", error->message);
    g_signal_handlers_disconnect_by_data(c->session, c);
    g_object_unref(c->session);
    g_ptr_array_unref(c->written);
    g_free(c);
}

static SpicePortChannel *
find_port(PortClient *c, const char *name)
{
    for (guint i = 0; i < c->ports->len; i++) {
        g_autofree char *port_name = NULL;

        g_object_get(c->ports->pdata[i], "port-name", &port_name, NULL);
        if (g_strcmp0(port_name, name) == 0)
            return c->ports->pdata[i];
    }
    return NULL;
}

static gboolean
has_port(PortClient *c, gconstpointer name)
{
    return find_port(c, name) != NULL;
}

SpicePortChannel *
port_client_wait_port(PortClient *c, const char *name, GError **error)
{
    g_autofree char *what = g_strdup_printf("port %s", name);

    return wait_for(c, has_port, name, what, error) ? find_port(c, name) : NULL;
}

typedef struct {
    SpicePortChannel *port;
    gsize len;
} Want;

static gboolean
has_data(PortClient *c, gconstpointer data)
{
    const Want *want = data;

    return received(want->port)->len >= want->len;
}

GBytes *
port_client_wait_data(PortClient *c, SpicePortChannel *port, gsize len, GError **error)
{
    Want want = { port, len };
    GByteArray *bytes = received(port);

    if (!wait_for(c, has_data, &want, "data from the guest", error)) {
        g_prefix_error(error, "%u of %zu bytes: ", bytes->len, len);
        return NULL;
    }
    return g_bytes_new(bytes->data, bytes->len);
}

static gboolean
is_opened(PortClient *c, gconstpointer port)
{
    gboolean opened = FALSE;

    g_object_get((gpointer)port, "port-opened", &opened, NULL);
    return opened;
}

/* A write in flight; freed by whichever of its callback and its waiter comes last. */
typedef struct {
    gboolean done;
    gboolean abandoned;
    GError *error;
} Write;

static void
write_free(Write *w)
{
    g_clear_error(&w->error);
    g_free(w);
}

static void
on_written(GObject *port, GAsyncResult *result, gpointer data)
{
    Write *w = data;

    spice_port_channel_write_finish(SPICE_PORT_CHANNEL(port), result, &w->error);
    w->done = TRUE;
    if (w->abandoned)
        write_free(w);
}

static gboolean
is_written(PortClient *c, gconstpointer data)
{
    return ((const Write *)data)->done;
}

gboolean
port_client_write(PortClient *c, SpicePortChannel *port, GBytes *data, GError **error)
{
    Write *w;
    gsize len = 0;
    gconstpointer bytes = g_bytes_get_data(data, &len);
    gboolean ok;

    if (!wait_for(c, is_opened, port, "guest opening the port", error))
        return FALSE;
    w = g_new0(Write, 1);
    g_ptr_array_add(c->written, g_bytes_ref(data));
    spice_port_channel_write_async(port, bytes, len, NULL, on_written, w);
    if (!wait_for(c, is_written, w, "end of the write", error)) {
        w->abandoned = TRUE;
        return FALSE;
    }
    ok = !w->error;
    if (w->error)
        g_propagate_error(error, g_steal_pointer(&w->error));
    write_free(w);
    return ok;
}
