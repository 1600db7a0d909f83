/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-guest.c — a real Linux guest sees the channels spicevmc adds live, by name; bytes
 * pass both ways between it and a SPICE client; removed channels leave it.  Over QMP with the
 * library, and on libvirt domains with the CLI. */
#include "config.h"

#include <glib/gstdio.h>

#include "guest.h"
#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "skip.h"
#include "port-client.h"
#include "spicevmc.h"

/* QEMU may take a while to start on a loaded machine; only a bug waits this long. */
#define QMP_TIMEOUT_MS 30000

#define PORT_NAME "org.example.guest.0"
#define SERIAL_NAME "org.qemu.console.serial.0"
#define WEBDAV_NAME "org.spice-space.webdav.0"
/* A serial console is /dev/hvc0 when it is the guest's only virtconsole. */
#define SERIAL_DEV "/dev/hvc0"

/* What each case adds, and the guest port names that must then appear. */
static const char *const added_specs[] = { "port,fqdn=" PORT_NAME, "serial", "webdav", NULL };
static const char *const added_names[] = { PORT_NAME, SERIAL_NAME, WEBDAV_NAME, NULL };

static GuestImage *image;
static char *why_no_image;
static GError *image_error;

/* Bytes 0…255 from the guest's @dev to the client on SPICE port @name, and back. */
static void
assert_bytes_flow(Guest *g, PortClient *c, const char *name, const char *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) pattern = guest_pattern();
    g_autoptr(GBytes) to_client = NULL;
    g_autoptr(GBytes) to_guest = NULL;
    SpicePortChannel *port = port_client_wait_port(c, name, &error);
    guint exchange;

    g_assert_no_error(error);
    exchange = guest_exchange_start(g, dev, &error);
    g_assert_no_error(error);
    to_client = port_client_wait_data(c, port, GUEST_PATTERN_LEN, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(to_client, NULL), g_bytes_get_size(to_client),
                    g_bytes_get_data(pattern, NULL), g_bytes_get_size(pattern));
    port_client_write(c, port, pattern, &error);
    g_assert_no_error(error);
    to_guest = guest_exchange_finish(g, exchange, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(to_guest, NULL), g_bytes_get_size(to_guest),
                    g_bytes_get_data(pattern, NULL), g_bytes_get_size(pattern));
}

/* Just added: the guest sees each port by name, and bytes pass through the named port and
 * the serial console. */
static void
assert_guest_sees_added(Guest *g, const char *spice_path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *port_dev = NULL;
    g_autoptr(PortClient) c = NULL;

    for (guint i = 0; added_names[i]; i++) {
        g_autofree char *dev = guest_wait_port(g, added_names[i], &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(dev, "/dev/vport"));
        if (i == 0)
            port_dev = g_steal_pointer(&dev);
    }
    c = port_client_connect(spice_path);
    assert_bytes_flow(g, c, PORT_NAME, port_dev);
    assert_bytes_flow(g, c, SERIAL_NAME, SERIAL_DEV);
}

static void
assert_guest_lost_added(Guest *g)
{
    g_autoptr(GError) error = NULL;

    for (guint i = 0; added_names[i]; i++) {
        guest_wait_port_gone(g, added_names[i], &error);
        g_assert_no_error(error);
    }
}

/* FALSE, the test skipped or failed, without an image. */
static gboolean
have_image(void)
{
    g_assert_no_error(image_error);
    if (!image)
        skip_missing(why_no_image);
    return image != NULL;
}

/* One guest, one QEMU, over QMP with the library. */
static void
test_qmp(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(TestVm) vm = NULL;
    g_autoptr(Guest) g = NULL;
    g_autoptr(SvcVm) svc = NULL;
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    g_autoptr(GPtrArray) removed = NULL;

    if (!have_image())
        return;
    g = guest_boot(image, NULL, &vm, &error);
    g_assert_no_error(error);
    svc = svc_vm_connect_qmp(vm->qmp_path, QMP_TIMEOUT_MS, &error);
    g_assert_no_error(error);
    for (guint i = 0; added_specs[i]; i++) {
        g_ptr_array_add(specs, svc_spec_parse(added_specs[i], &error));
        g_assert_no_error(error);
    }
    svc_add(svc, (SvcSpec *const *)specs->pdata, specs->len, &added, &error);
    g_assert_no_error(error);
    assert_guest_sees_added(g, vm->spice_path);

    for (guint i = 0; i < added->len; i++)
        g_ptr_array_add(ids, ((SvcChannel *)added->pdata[i])->id);
    g_ptr_array_add(ids, NULL);
    svc_remove(svc, (const char *const *)ids->pdata, &removed, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, added->len);
    assert_guest_lost_added(g);
}

/* One guest on a transient domain, through virt-spicevmc as a user runs it; in a child, the
 * parent destroys the domain. */
static void
libvirt_case(Fixture *f, const char *arg)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *serial = g_build_filename(f->dir, "ttyS0.sock", NULL);
    g_autofree char *spice = g_build_filename(f->dir, "spice.sock", NULL);
    g_autofree char *path = g_build_filename(f->dir, "domain.xml", NULL);
    g_autofree char *xml = libvirt_env_boot_domain_xml(f->name, spice, &image->boot, serial);
    g_autoptr(GSocket) listener = testvm_listen_unix(serial);
    g_autoptr(Guest) g = NULL;

    g_assert_true(g_file_set_contents(path, xml, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "create", path));
    g = guest_accept(listener, &error);
    g_assert_no_error(error);

    g_free(cli_ok(f->uri, f->name, "add", added_specs[0], added_specs[1], added_specs[2]));
    assert_guest_sees_added(g, spice);
    g_free(cli_ok(f->uri, f->name, "remove", "--all"));
    assert_guest_lost_added(g);
}

static const Case cases[] = {
    { "/guest/libvirt/embed", FALSE, DOMAIN_BY_CASE, libvirt_case },
    { "/guest/libvirt/system", TRUE, DOMAIN_BY_CASE, libvirt_case },
};

static void
test_no_image(gconstpointer data)
{
    have_image();
}

int
main(int argc, char **argv)
{
    int ret;

    /* Before any thread: the cases' children find it through the environment. */
    image = guest_image_get(&why_no_image, &image_error);
    libvirt_cli_init(&argc, &argv, cases, image ? G_N_ELEMENTS(cases) : 0);
    g_test_add_func("/guest/qmp", test_qmp);
    for (guint i = 0; !image && i < G_N_ELEMENTS(cases); i++)
        g_test_add_data_func(cases[i].path, NULL, test_no_image);
    ret = libvirt_cli_run();
    guest_image_free(image);
    g_free(why_no_image);
    g_clear_error(&image_error);
    return ret;
}
