/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-watch-clients.c — what watch says of the VM's other ends: a SPICE client
 * (spice-gtk) connecting and going, on the proxy and on libvirt domains; a real Linux guest
 * opening and closing a port (VSERPORT_CHANGE). */
#include "config.h"

#include <signal.h>

#include "guest.h"
#include "libvirt-cli.h"
#include "port-client.h"
#include "proxy-common.h"
#include "skip.h"
#include "watch-proc.h"

#define PORT_NAME "org.example.watch.guest"

static GuestImage *image;
static char *why_no_image;
static GError *image_error;

/* A spice-gtk session links its main channel, and goes: both named, though QEMU names the
 * channel in SPICE_INITIALIZED only. */
static void
assert_client_seen(WatchProc *w, const char *spice_path)
{
    g_autoptr(PortClient) client = port_client_connect(spice_path);
    g_autoptr(json_object) connected = watch_proc_wait(w, "client-connected", NULL);
    g_autoptr(json_object) linked = watch_proc_wait_client(w, "client-initialized", "main");
    g_autoptr(json_object) gone = NULL;
    gint64 connection = json_object_get_int64(member(linked, "connection-id"));

    g_assert_cmpstr(member_str(connected, "source"), ==, "SPICE_CONNECTED");
    g_assert_cmpint(json_object_get_int(member(linked, "spice-channel-type")), ==, 1);
    g_assert_cmpint(json_object_get_int(member(linked, "spice-channel-id")), ==, 0);
    g_assert_cmpstr(member_str(member(member(linked, "data"), "client"), "family"), ==,
                    "unix");
    g_clear_pointer(&client, port_client_free);
    gone = watch_proc_wait_client(w, "client-disconnected", "main");
    g_assert_cmpint(json_object_get_int64(member(gone, "connection-id")), ==, connection);
    g_assert_cmpstr(member_str(gone, "source"), ==, "SPICE_DISCONNECTED");
}

static void
test_proxy_client(Proxied *f, gconstpointer data)
{
    const char *const args[] = { "--qmp", f->path, NULL };
    g_autoptr(WatchProc) w = watch_proc_start_watching(args, TRUE, NULL);

    assert_client_seen(w, f->vm->spice_path);
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

static void
libvirt_client_case(Fixture *f, const char *arg)
{
    g_autofree char *spice = g_build_filename(f->dir, "spice.sock", NULL);
    const char *const args[] = { "-c", f->uri, f->name, NULL };
    g_autoptr(WatchProc) w = watch_proc_start_watching(args, FALSE, NULL);

    assert_client_seen(w, spice);
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

static const Case cases[] = {
    { "/watch-clients/libvirt/embed/spice-client", FALSE, DOMAIN_RUNNING, libvirt_client_case },
    { "/watch-clients/libvirt/system/spice-client", TRUE, DOMAIN_RUNNING, libvirt_client_case },
};

/* A guest that opens a port and closes it: two lines, naming the channel. */
static void
test_guest_port(void)
{
    ProxySpec spec = { 0 };
    Proxied f = { NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(Guest) g = NULL;
    g_autoptr(WatchProc) w = NULL;
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) opened = NULL;
    g_autoptr(json_object) closed = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *out = NULL;
    g_auto(Raw) r = { NULL };
    const char *args[] = { "--qmp", NULL, NULL };

    g_assert_no_error(image_error);
    if (!image) {
        skip_missing(why_no_image);
        return;
    }
    g = guest_boot(image, NULL, &f.vm, &error);
    g_assert_no_error(error);
    f.inspect = testvm_qmp(f.vm);
    f.path = g_build_filename(f.vm->dir, "proxy.sock", NULL);
    f.log = g_string_new(NULL);
    f.log_fd = -1;
    proxied_start(&f, &spec);
    args[1] = f.path;
    w = watch_proc_start_watching(args, TRUE, NULL);
    raw_open(&r, f.path, TRUE);
    json_object_put(raw_exchange(&r, "{\"execute\": \"spicevmc-add\", \"arguments\": "
                                     "{\"kind\": \"port\", \"fqdn\": \"" PORT_NAME "\"}}", -1));
    added = watch_proc_wait(w, "channel-added", "port0");
    dev = guest_wait_port(g, PORT_NAME, &error);
    g_assert_no_error(error);
    /* Opened and closed at once, by the shell's redirection. */
    out = guest_run(g, &error, "true < %s", dev);
    g_assert_no_error(error);
    opened = watch_proc_wait(w, "port-opened", "port0");
    g_assert_cmpstr(member_str(opened, "source"), ==, "VSERPORT_CHANGE");
    g_assert_cmpstr(member_str(opened, "port-name"), ==, PORT_NAME);
    g_assert_true(json_object_get_boolean(member(member(opened, "data"), "open")));
    closed = watch_proc_wait(w, "port-closed", "port0");
    g_assert_false(json_object_get_boolean(member(member(closed, "data"), "open")));
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
    proxied_teardown(&f, NULL);
}

int
main(int argc, char **argv)
{
    int ret;

    /* Before any thread: the cases' children find it through the environment. */
    image = guest_image_get(&why_no_image, &image_error);
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    ADD_PROXIED("/watch-clients/proxy/spice-client", NULL, test_proxy_client);
    g_test_add_func("/watch-clients/proxy/guest-port", test_guest_port);
    ret = libvirt_cli_run();
    guest_image_free(image);
    g_free(why_no_image);
    g_clear_error(&image_error);
    return ret;
}
