/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixtures for libvirt: an embedded driver's root in a temp dir, and domain XML. */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "libvirt-env.h"
#include "run.h"
#include "testvm.h"

/* What the embedded driver needs to run QEMU as root in a container. */
static const char qemu_conf[] =
    "user = \"root\"\n"
    "group = \"root\"\n"
    "security_driver = \"none\"\n"
    "cgroup_controllers = [ ]\n"
    "namespaces = [ ]\n"
    "stdio_handler = \"file\"\n";

char *
libvirt_env_embed_root(void)
{
    g_autoptr(GError) error = NULL;
    char *root = g_dir_make_tmp("svc-virt-XXXXXX", &error);
    g_autofree char *etc = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *log = NULL;

    g_assert_no_error(error);
    etc = g_build_filename(root, "etc", NULL);
    conf = g_build_filename(etc, "qemu.conf", NULL);
    log = g_build_filename(root, "log", NULL);
    g_assert_cmpint(g_mkdir_with_parents(etc, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(log, 0700), ==, 0);
    g_assert_true(g_file_set_contents(conf, qemu_conf, -1, &error));
    g_assert_no_error(error);
    return root;
}

void
libvirt_env_pin_cpu(void)
{
    cpu_set_t one;
    int cpu = sched_getcpu();

    if (cpu < 0)
        return;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    sched_setaffinity(0, sizeof(one), &one);
}

char *
libvirt_env_embed_uri(const char *root)
{
    return g_strdup_printf("qemu:///embed?root=%s", root);
}

/* The embedded driver's QEMUs outlive a test that aborts; their pid files say which. */
static void
kill_leftovers(const char *root)
{
    g_autofree char *run = g_build_filename(root, "run", "qemu", NULL);
    g_autoptr(GDir) dir = g_dir_open(run, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(run, name, NULL);
        g_autofree char *text = NULL;
        gint64 pid;

        if (g_str_has_suffix(name, ".pid") && g_strcmp0(name, "driver.pid") != 0 &&
            g_file_get_contents(path, &text, NULL, NULL) &&
            (pid = g_ascii_strtoll(text, NULL, 10)) > 1)
            kill((pid_t)pid, SIGKILL);
    }
}

int
libvirt_env_root_wait_free(const char *root, guint timeout_s)
{
    g_autofree char *path = g_build_filename(root, "run", "qemu", "driver.pid", NULL);
    gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct flock lock;

    /* No driver has run in it yet. */
    if (fd < 0)
        return 0;
    for (;;) {
        lock = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
        g_assert_cmpint(fcntl(fd, F_GETLK, &lock), ==, 0);
        if (lock.l_type == F_UNLCK || !run_wait_pid_gone(lock.l_pid, deadline))
            break;
    }
    close(fd);
    return lock.l_type == F_UNLCK ? 0 : lock.l_pid;
}

void
libvirt_env_remove_root(const char *root)
{
    kill_leftovers(root);
    testvm_remove_tree(root);
}

/* The test domain, with @boot (XML inside <os>), @lifecycle (XML beside <on_crash>) and
 * @devices (XML after the controllers), each may be "". */
static char *
domain_xml(const char *name, const char *spice_path, const char *emulator, const char *boot,
           const char *lifecycle, const char *devices)
{
    return g_strdup_printf(
        "<domain type='qemu'>\n"
        "  <name>%s</name>\n"
        "  <memory unit='MiB'>128</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='q35'>hvm</type>%s</os>\n"
        "  <on_crash>destroy</on_crash>%s\n"
        "  <devices>\n"
        "    <emulator>%s</emulator>\n"
        "    <controller type='virtio-serial' index='0'/>\n"
        "    <controller type='usb' model='qemu-xhci' index='0'/>\n"
        "    <graphics type='spice'><listen type='socket' socket='%s'/></graphics>\n"
        "    <video><model type='none'/></video>\n"
        "    <memballoon model='none'/>\n%s"
        "  </devices>\n"
        "</domain>\n", name, boot, lifecycle, emulator ? emulator : QEMU_BINARY, spice_path,
        devices);
}

char *
libvirt_env_domain_xml(const char *name, const char *spice_path, const char *emulator)
{
    return domain_xml(name, spice_path, emulator, "", "", "");
}

char *
libvirt_env_boot_domain_xml(const char *name, const char *spice_path, const TestVmBoot *boot,
                            const char *serial_path)
{
    g_autofree char *os = g_markup_printf_escaped(
        "<kernel>%s</kernel><initrd>%s</initrd><cmdline>%s</cmdline>",
        boot->kernel, boot->initrd, boot->cmdline);
    g_autofree char *serial = g_markup_printf_escaped(
        "    <serial type='unix'><source mode='connect' path='%s'/><target port='0'/></serial>\n",
        serial_path);

    /* A guest that panics reboots (panic=-1): the domain stops instead, as testvm's QEMU. */
    return domain_xml(name, spice_path, NULL, os, "<on_reboot>destroy</on_reboot>", serial);
}

static gpointer
run_event_loop(gpointer data)
{
    for (;;)
        virEventRunDefaultImpl();
    return NULL;
}

/* The application's part, which libspicevmc leaves to it: libvirt's event loop, registered
 * before the first connection opens, and run in a thread of its own. */
void
libvirt_env_event_register(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        virEventRegisterDefaultImpl();
        g_once_init_leave(&done, 1);
    }
}

void
libvirt_env_event_loop(void)
{
    static gsize done;

    libvirt_env_event_register();
    if (g_once_init_enter(&done)) {
        g_thread_unref(g_thread_new("libvirt-events", run_event_loop, NULL));
        g_once_init_leave(&done, 1);
    }
}
