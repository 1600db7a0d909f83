/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A real SPICE client (spice-gtk) sees the channels spicevmc adds, and not those it removed. */
#include "config.h"

#include <string.h>

#include <spice-client.h>

#include "spicevmc.h"
#include "skip.h"
#include "testvm.h"

/* QEMU may take a while to start on a loaded machine; only a bug waits this long. */
#define QMP_TIMEOUT_MS 30000
/* A client sees new channels within milliseconds; this leaves room for valgrind. */
#define CLIENT_TIMEOUT_MS 10000

#define MARKER "org.example.marker"

/* What the cases add, and the SPICE port names that must then reach the client. */
static const char *const added_specs[] = {
    "port,fqdn=org.example.test.0", "serial", "webdav", "usbredir", NULL
};
static const char *const added_ports[] = {
    "org.example.test.0", "org.qemu.console.serial.0", "org.spice-space.webdav.0", NULL
};

/* A channel spicevmc did not create, so that removing "all" must leave it alone. */
static const char *const marker_args[] = {
    "-chardev", "spiceport,id=marker,name=" MARKER,
    "-device", "virtserialport,bus=vs0.0,chardev=marker,name=" MARKER ",id=marker0",
    NULL
};

typedef struct {
    TestVm *vm;
    SvcVm *svc;
    GError *error;
} Fixture;

typedef struct _Client Client;
typedef gboolean (*ClientCheck)(Client *c);

/* One SPICE client session and what it has seen. */
struct _Client {
    SpiceSession *session;
    GMainLoop *loop;
    GPtrArray *channels;      /* every channel but the main one, in order of creation */
    gboolean list_done;       /* every channel of the server's channel list exists */
    guint list_idle;
    gboolean disconnected;
    ClientCheck check;        /* what client_wait() waits for */
    guint timeout_id;
};

static void
client_changed(Client *c)
{
    if (c->check && c->check(c))
        g_main_loop_quit(c->loop);
}

/* A channel the server drops reports SPICE_CHANNEL_CLOSED last (after ERROR_IO if its socket
 * broke rather than closed), so the last event is what tells. */
static void
on_channel_event(SpiceChannel *channel, SpiceChannelEvent event, Client *c)
{
    g_object_set_data(G_OBJECT(channel), "last-event", GINT_TO_POINTER(event));
    client_changed(c);
}

static gboolean
on_list_done(gpointer data)
{
    Client *c = data;

    c->list_idle = 0;
    c->list_done = TRUE;
    client_changed(c);
    return G_SOURCE_REMOVE;
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, Client *c)
{
    if (SPICE_IS_MAIN_CHANNEL(channel))
        return;
    /* spice-gtk turns SPICE_MSG_MAIN_CHANNELS_LIST into one idle per channel, all queued at
     * once; an idle queued from the first of them runs after the last, so from then on a
     * channel that is not there was not in the list. */
    if (!c->list_done && !c->list_idle)
        c->list_idle = g_idle_add(on_list_done, c);
    g_ptr_array_add(c->channels, g_object_ref(channel));
    if (SPICE_IS_PORT_CHANNEL(channel))
        g_signal_connect_swapped(channel, "notify::port-name", G_CALLBACK(client_changed), c);
    g_signal_connect(channel, "channel-event", G_CALLBACK(on_channel_event), c);
    /* Like any client: a port's name only arrives once it is connected (SPICE_MSG_PORT_INIT). */
    spice_channel_connect(channel);
    client_changed(c);
}

static void
on_disconnected(SpiceSession *session, Client *c)
{
    c->disconnected = TRUE;
    client_changed(c);
}

static gboolean
on_timeout(gpointer data)
{
    Client *c = data;

    c->timeout_id = 0;
    g_main_loop_quit(c->loop);
    return G_SOURCE_REMOVE;
}

static int
channel_type(SpiceChannel *channel)
{
    int type;

    g_object_get(channel, "channel-type", &type, NULL);
    return type;
}

/* SPICE_CHANNEL_NONE (0) until the channel has linked or failed to. */
static SpiceChannelEvent
last_event(SpiceChannel *channel)
{
    return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(channel), "last-event"));
}

static char *
channel_port_name(SpiceChannel *channel)
{
    char *name = NULL;

    if (SPICE_IS_PORT_CHANNEL(channel))
        g_object_get(channel, "port-name", &name, NULL);
    return name;
}

static char *
client_describe(Client *c)
{
    g_autoptr(GString) s = g_string_new(c->list_done ? "" : "(channel list not processed) ");

    for (guint i = 0; i < c->channels->len; i++) {
        SpiceChannel *channel = c->channels->pdata[i];
        g_autofree char *name = channel_port_name(channel);

        g_string_append_printf(s, "%s%s%s%s (last event %d)", i ? ", " : "",
                               G_OBJECT_TYPE_NAME(channel), name ? " " : "", name ? name : "",
                               last_event(channel));
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Run the main loop until @check holds; FALSE (and what was seen, in the log) on timeout. */
static gboolean
client_wait(Client *c, ClientCheck check, const char *what)
{
    g_autofree char *seen = NULL;

    if (check(c))
        return TRUE;
    c->check = check;
    c->timeout_id = g_timeout_add(CLIENT_TIMEOUT_MS, on_timeout, c);
    g_main_loop_run(c->loop);
    c->check = NULL;
    g_clear_handle_id(&c->timeout_id, g_source_remove);
    if (check(c))
        return TRUE;
    seen = client_describe(c);
    g_test_message("no %s after %d ms; the client has: %s", what, CLIENT_TIMEOUT_MS, seen);
    return FALSE;
}

static Client *
client_connect(const char *path)
{
    Client *c = g_new0(Client, 1);

    c->loop = g_main_loop_new(NULL, FALSE);
    c->channels = g_ptr_array_new_with_free_func(g_object_unref);
    c->session = spice_session_new();
    /* spice-gtk redirects no USB device unless asked (its auto-connect is off by default):
     * the usbredir channel just links, which needs no USB access. */
    g_object_set(c->session, "unix-path", path, NULL);
    g_signal_connect(c->session, "channel-new", G_CALLBACK(on_channel_new), c);
    g_signal_connect(c->session, "disconnected", G_CALLBACK(on_disconnected), c);
    g_assert_true(spice_session_connect(c->session));
    return c;
}

static gboolean
is_disconnected(Client *c)
{
    return c->disconnected;
}

/* Every channel has linked (or failed to): spice-gtk warns when one is torn down mid-link. */
static gboolean
is_settled(Client *c)
{
    for (guint i = 0; i < c->channels->len; i++) {
        if (last_event(c->channels->pdata[i]) == SPICE_CHANNEL_NONE)
            return FALSE;
    }
    return TRUE;
}

static void
client_free(Client *c)
{
    if (!c)
        return;
    if (!client_wait(c, is_settled, "end of linking"))
        g_test_message("disconnecting channels that are still linking");
    /* Our references would keep the channels, and "disconnected" waits for them to go. */
    g_ptr_array_unref(c->channels);
    spice_session_disconnect(c->session);
    if (!client_wait(c, is_disconnected, "disconnection"))
        g_test_message("the session outlives this test");
    g_clear_handle_id(&c->list_idle, g_source_remove);
    g_signal_handlers_disconnect_by_data(c->session, c);
    g_object_unref(c->session);
    g_main_loop_unref(c->loop);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Client, client_free)

static SpiceChannel *
find_port(Client *c, const char *name)
{
    for (guint i = 0; i < c->channels->len; i++) {
        g_autofree char *port_name = channel_port_name(c->channels->pdata[i]);

        if (g_strcmp0(port_name, name) == 0)
            return c->channels->pdata[i];
    }
    return NULL;
}

static guint
count_type(Client *c, int type)
{
    guint n = 0;

    for (guint i = 0; i < c->channels->len; i++)
        n += channel_type(c->channels->pdata[i]) == type;
    return n;
}

static gboolean
sees_added(Client *c)
{
    for (guint i = 0; added_ports[i]; i++) {
        if (!find_port(c, added_ports[i]))
            return FALSE;
    }
    return c->list_done && count_type(c, SPICE_CHANNEL_USBREDIR) > 0;
}

static gboolean
has_list(Client *c)
{
    return c->list_done;
}

static gboolean
sees_marker(Client *c)
{
    return c->list_done && find_port(c, MARKER);
}

static gboolean
is_closed(SpiceChannel *channel)
{
    return last_event(channel) == SPICE_CHANNEL_CLOSED;
}

/* Every channel has linked: the client holds a live connection to each. */
static gboolean
is_open(Client *c)
{
    for (guint i = 0; i < c->channels->len; i++) {
        if (last_event(c->channels->pdata[i]) != SPICE_CHANNEL_OPENED)
            return FALSE;
    }
    return TRUE;
}

/* Each channel but the marker and inputs (QEMU's own) was removed and must be closed. */
static gboolean
sees_removal(Client *c)
{
    for (guint i = 0; i < c->channels->len; i++) {
        SpiceChannel *channel = c->channels->pdata[i];

        if (channel != find_port(c, MARKER) && channel_type(channel) != SPICE_CHANNEL_INPUTS &&
            !is_closed(channel))
            return FALSE;
    }
    return TRUE;
}

/* FALSE (the test skipped) when this QEMU has no SPICE server to test against. */
static gboolean
start_vm(Fixture *f, const char *const *extra)
{
    g_autofree char *log_path = NULL;
    g_autofree char *log = NULL;

    f->vm = testvm_start(0, extra);
    f->svc = svc_vm_connect_qmp(f->vm->qmp_path, QMP_TIMEOUT_MS, &f->error);
    if (f->svc)
        return TRUE;
    /* A QEMU built without SPICE, or without its spice module, refuses -spice and exits,
     * which closes the monitor. */
    log_path = g_build_filename(f->vm->dir, "qemu.log", NULL);
    g_file_get_contents(log_path, &log, NULL, NULL);
    if (log && (strstr(log, "no option group 'spice'") ||
                strstr(log, "spice support is disabled"))) {
        g_autofree char *why = g_strdup_printf("QEMU has no SPICE: %s", g_strstrip(log));

        skip_missing(why);
        return FALSE;
    }
    g_assert_no_error(f->error);
    return FALSE;
}

static void
add_channels(Fixture *f, const char *const *texts)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    g_autoptr(GPtrArray) added = NULL;

    for (guint i = 0; texts[i]; i++) {
        g_ptr_array_add(specs, svc_spec_parse(texts[i], &f->error));
        g_assert_no_error(f->error);
    }
    svc_add(f->svc, (SvcSpec *const *)specs->pdata, specs->len, &added, &f->error);
    g_assert_no_error(f->error);
    g_assert_cmpuint(added->len, ==, specs->len);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->svc, svc_vm_free);
    g_clear_pointer(&f->vm, testvm_free);
    g_clear_error(&f->error);
}

static void
assert_sees_exactly_added(Client *c)
{
    /* spice-server makes "org.spice-space.webdav.0" a channel type of its own, which
     * spice-gtk serves with a SpicePortChannel subclass; the other two are plain ports. */
    g_assert_true(SPICE_IS_WEBDAV_CHANNEL(find_port(c, "org.spice-space.webdav.0")));
    g_assert_cmpuint(count_type(c, SPICE_CHANNEL_PORT), ==, 2);
    g_assert_cmpuint(count_type(c, SPICE_CHANNEL_WEBDAV), ==, 1);
    g_assert_cmpuint(count_type(c, SPICE_CHANNEL_USBREDIR), ==, 1);
}

/* A client connected afterwards gets the channels in its first channel list. */
static void
test_sees_added(Fixture *f, gconstpointer data)
{
    g_autoptr(Client) c = NULL;

    if (!start_vm(f, NULL))
        return;
    add_channels(f, added_specs);
    c = client_connect(f->vm->spice_path);
    g_assert_true(client_wait(c, sees_added, "added channels"));
    assert_sees_exactly_added(c);
}

/* A client connected before gets them announced one by one, as spice-server registers them. */
static void
test_sees_added_live(Fixture *f, gconstpointer data)
{
    g_autoptr(Client) c = NULL;

    if (!start_vm(f, NULL))
        return;
    c = client_connect(f->vm->spice_path);
    /* QEMU's inputs channel is always there, so the list is never empty. */
    g_assert_true(client_wait(c, has_list, "channel list"));
    add_channels(f, added_specs);
    g_assert_true(client_wait(c, sees_added, "added channels"));
    assert_sees_exactly_added(c);
}

static void
test_removed_gone(Fixture *f, gconstpointer data)
{
    g_autoptr(Client) live = NULL;
    g_autoptr(Client) fresh = NULL;
    g_autoptr(GPtrArray) removed = NULL;

    if (!start_vm(f, marker_args))
        return;
    add_channels(f, added_specs);
    live = client_connect(f->vm->spice_path);
    g_assert_true(client_wait(live, sees_added, "added channels"));
    g_assert_true(client_wait(live, sees_marker, "marker channel"));
    /* A channel removed while its link is under way ends in SPICE_CHANNEL_ERROR_LINK, not
     * closed; on a busy machine the usbredir one can still be linking when the ports have
     * their names. */
    g_assert_true(client_wait(live, is_open, "links of all channels"));

    g_assert_true(svc_remove(f->svc, NULL, &removed, &f->error));
    g_assert_no_error(f->error);
    g_assert_cmpuint(removed->len, ==, G_N_ELEMENTS(added_specs) - 1);

    /* spice-server closes the removed channels' connections and tells the client nothing
     * else: spice-gtk keeps them in the session, closed, without "channel-destroy". */
    g_assert_true(client_wait(live, sees_removal, "closing of the removed channels"));
    g_assert_false(is_closed(find_port(live, MARKER)));

    /* All channels of a list are created together: once the marker is there, the others
     * are truly absent. */
    fresh = client_connect(f->vm->spice_path);
    g_assert_true(client_wait(fresh, sees_marker, "marker channel"));
    g_assert_cmpuint(count_type(fresh, SPICE_CHANNEL_PORT), ==, 1);
    g_assert_cmpuint(count_type(fresh, SPICE_CHANNEL_WEBDAV), ==, 0);
    g_assert_cmpuint(count_type(fresh, SPICE_CHANNEL_USBREDIR), ==, 0);
}

#define ADD(path, test) g_test_add(path, Fixture, NULL, NULL, test, teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/spice-client/sees-added-channels", test_sees_added);
    ADD("/spice-client/sees-live-added-channels", test_sees_added_live);
    ADD("/spice-client/removed-channels-gone", test_removed_gone);
    return g_test_run();
}
