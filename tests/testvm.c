/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixtures: a throwaway QEMU in a private temp dir, always killed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "testvm.h"

/* Clients can connect before the child that inherits it is up (the kernel queues them), so
 * nothing has to poll for the socket file to appear. */
GSocket *
testvm_listen_unix(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_DEFAULT, &error);
    g_autoptr(GSocketAddress) addr = qmp_unix_address_new(path, &error);

    g_assert_no_error(error);
    g_assert_true(g_socket_bind(sock, addr, FALSE, &error));
    g_assert_no_error(error);
    g_assert_true(g_socket_listen(sock, &error));
    g_assert_no_error(error);
    return g_steal_pointer(&sock);
}

void
testvm_die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static TestVm *
start(gboolean controllers, guint max_ports, const TestVmBoot *boot, const char *const *extra)
{
    g_autoptr(GError) error = NULL;
    TestVm *vm = g_new0(TestVm, 1);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GSocket) qmp = NULL;
    g_autoptr(GSocket) inspect = NULL;
    g_autofree char *log_path = NULL;
    int log_fd;

    vm->dir = g_dir_make_tmp("spicevmc-test-XXXXXX", &error);
    g_assert_no_error(error);
    vm->qmp_path = g_build_filename(vm->dir, "qmp.sock", NULL);
    vm->spice_path = g_build_filename(vm->dir, "spice.sock", NULL);
    vm->inspect_path = g_build_filename(vm->dir, "inspect.sock", NULL);
    log_path = g_build_filename(vm->dir, "qemu.log", NULL);
    qmp = testvm_listen_unix(vm->qmp_path);
    inspect = testvm_listen_unix(vm->inspect_path);
    log_fd = g_open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(log_fd, >=, 0);

    g_ptr_array_add(argv, g_strdup(QEMU_BINARY));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("q35,accel=tcg"));
    if (boot) {
        g_ptr_array_add(argv, g_strdup("-kernel"));
        g_ptr_array_add(argv, g_strdup(boot->kernel));
        g_ptr_array_add(argv, g_strdup("-initrd"));
        g_ptr_array_add(argv, g_strdup(boot->initrd));
        g_ptr_array_add(argv, g_strdup("-append"));
        g_ptr_array_add(argv, g_strdup(boot->cmdline));
        g_ptr_array_add(argv, g_strdup("-no-reboot"));
    } else {
        g_ptr_array_add(argv, g_strdup("-S"));
    }
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-spice"));
    g_ptr_array_add(argv, g_strdup_printf("unix=on,addr=%s,disable-ticketing=on", vm->spice_path));
    if (controllers) {
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, max_ports ? g_strdup_printf("virtio-serial-pci,id=vs0,max_ports=%u",
                                                          max_ports)
                                        : g_strdup("virtio-serial-pci,id=vs0"));
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup("qemu-xhci,id=xhci0"));
    }
    /* Two monitors: one for the code under test, one for the test to inspect QEMU with
     * (a QMP socket serves one client at a time). */
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_strdup("socket,id=qmp,fd=3,server=on,wait=off"));
    g_ptr_array_add(argv, g_strdup("-mon"));
    g_ptr_array_add(argv, g_strdup("chardev=qmp,mode=control"));
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_strdup("socket,id=inspect,fd=4,server=on,wait=off"));
    g_ptr_array_add(argv, g_strdup("-mon"));
    g_ptr_array_add(argv, g_strdup("chardev=inspect,mode=control"));
    for (guint i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, g_strdup(extra[i]));
    g_ptr_array_add(argv, NULL);

    {
        int source_fds[] = { g_socket_get_fd(qmp), g_socket_get_fd(inspect) };
        int target_fds[] = { 3, 4 };

        g_spawn_async_with_pipes_and_fds(vm->dir, (const char *const *)argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD, testvm_die_with_parent, NULL,
                                         -1, log_fd, log_fd, source_fds, target_fds, 2,
                                         &vm->pid, NULL, NULL, NULL, &error);
    }
    g_assert_no_error(error);
    close(log_fd);
    return vm;
}

TestVm *
testvm_start(guint max_ports, const char *const *extra)
{
    return start(TRUE, max_ports, NULL, extra);
}

TestVm *
testvm_start_bare(const char *const *extra)
{
    return start(FALSE, 0, NULL, extra);
}

TestVm *
testvm_start_boot(const TestVmBoot *boot, const char *const *extra)
{
    return start(TRUE, 0, boot, extra);
}

void
testvm_kill(TestVm *vm)
{
    int status;

    if (vm->pid <= 0)
        return;
    kill(vm->pid, SIGKILL);
    while (waitpid(vm->pid, &status, 0) < 0 && errno == EINTR)
        ;
    g_spawn_close_pid(vm->pid);
    vm->pid = 0;
}

void
testvm_free(TestVm *vm)
{
    if (!vm)
        return;
    testvm_kill(vm);
    testvm_remove_tree(vm->dir);
    g_free(vm->dir);
    g_free(vm->qmp_path);
    g_free(vm->inspect_path);
    g_free(vm->spice_path);
    g_free(vm);
}

QmpClient *
testvm_qmp(TestVm *vm)
{
    g_autoptr(GError) error = NULL;
    QmpClient *client = qmp_client_connect(vm->inspect_path, 30000, &error);

    g_assert_no_error(error);
    return client;
}

json_object *
testvm_exec(QmpClient *client, json_object *cmd)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) owned = cmd;
    json_object *ret = qmp_client_execute(client, owned, &error);

    g_assert_no_error(error);
    return ret;
}

static gboolean
is_spice_backend(const char *filename)
{
    return g_strcmp0(filename, "spicevmc") == 0 || g_strcmp0(filename, "spiceport") == 0;
}

guint
testvm_count_spice_chardevs(QmpClient *client)
{
    g_autoptr(json_object) list = testvm_exec(client, qmp_cmd_query_chardev());
    guint n = 0;

    for (size_t i = 0; i < json_object_array_length(list); i++)
        n += is_spice_backend(member_str(json_object_array_get_idx(list, i), "filename"));
    return n;
}

gboolean
testvm_has_chardev(QmpClient *client, const char *label)
{
    g_autoptr(json_object) list = testvm_exec(client, qmp_cmd_query_chardev());

    return has_entry(list, "label", label);
}

gboolean
testvm_has_device(QmpClient *client, const char *id)
{
    g_autoptr(json_object) list = testvm_exec(client, qmp_cmd_qom_list("/machine/peripheral"));

    return has_entry(list, "name", id);
}

void
testvm_add_port(QmpClient *client, const char *chardev, const char *id, const char *bus,
                guint nr, const char *name)
{
    json_object_put(testvm_exec(client, qmp_cmd_chardev_add_spiceport(chardev, name)));
    json_object_put(testvm_exec(client, qmp_cmd_device_add_virtio_port("virtserialport", id, bus,
                                                                       nr, chardev, name)));
}

static void
collect(GPtrArray *out, const char *prefix, json_object *list, const char *key, const char *key2)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *item = json_object_array_get_idx(list, i);

        g_ptr_array_add(out, g_strdup_printf("%s %s %s", prefix, member_str(item, key),
                                             member_str(item, key2)));
    }
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
testvm_snapshot(json_object *chardevs, json_object *devices, json_object *objects)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    collect(lines, "chardev", chardevs, "label", "filename");
    collect(lines, "device", devices, "name", "type");
    collect(lines, "object", objects, "name", "type");
    /* QEMU lists QOM children in no order that lasts. */
    g_ptr_array_sort(lines, compare_strings);
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

const char *
testvm_cli_path(void)
{
    return VIRT_SPICEVMC;
}
