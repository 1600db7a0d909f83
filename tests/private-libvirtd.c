/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/private-libvirtd.c — a libvirtd of the test's own (private-libvirtd.h). */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "private-libvirtd.h"
#include "testvm.h"

#define TIMEOUT_S 60
/* How often to look while it starts or stops: it says nothing else when it is done. */
#define POLL_MS 50

/* What a session daemon needs to run QEMU here: no virtlogd of its own left behind. */
static const char qemu_conf[] = "stdio_handler = \"file\"\n";

static void
quiet(void *data, virErrorPtr err)
{
}

/* As nobody when root: a session daemon of root's would be the system's.  It exits by itself
 * once idle (no client, no running domain) for a while, should the test die before stopping
 * it: dropping root clears the signal it would get when the test dies.  GLib reaps it. */
static void
spawn(PrivateLibvirtd *p)
{
    struct passwd *nobody = getpwnam("nobody");
    g_autofree char *uid = g_strdup_printf("--reuid=%u", nobody ? nobody->pw_uid : 0);
    g_autofree char *gid = g_strdup_printf("--regid=%u", nobody ? nobody->pw_gid : 0);
    g_autofree char *home = g_strdup_printf("HOME=%s/home", p->dir);
    g_autofree char *run = g_strdup_printf("XDG_RUNTIME_DIR=%s/run", p->dir);
    g_autofree char *log = g_build_filename(p->dir, "libvirtd.log", NULL);
    const char *as_root[] = { "setpriv", uid, gid, "--clear-groups", "env", "-i", home, run,
                              "PATH=/usr/sbin:/usr/bin:/bin", "libvirtd", "--timeout=120",
                              NULL };
    const char *const *argv = geteuid() == 0 ? as_root : as_root + 4;
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_S * G_USEC_PER_SEC;
    virConnectPtr conn = NULL;

    g_subprocess_launcher_set_stderr_file_path(launcher, log);
    proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
    g_assert_no_error(error);
    virSetErrorFunc(NULL, quiet);
    while (!(conn = virConnectOpen(p->uri))) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        /* Still running: it has an identifier until it exits. */
        g_assert_nonnull(g_subprocess_get_identifier(proc));
        g_usleep(POLL_MS * 1000);
    }
    virConnectClose(conn);
}

PrivateLibvirtd *
private_libvirtd_find(const char *dir)
{
    PrivateLibvirtd *p = g_new0(PrivateLibvirtd, 1);

    p->dir = g_strdup(dir);
    p->socket = g_build_filename(p->dir, "run/libvirt/libvirt-sock", NULL);
    p->uri = g_strdup_printf("qemu+unix:///session?socket=%s", p->socket);
    return p;
}

PrivateLibvirtd *
private_libvirtd_start(const char *dir, char **why_not)
{
    g_autofree char *setpriv = g_find_program_in_path("setpriv");
    struct passwd *nobody = getpwnam("nobody");
    const char *const dirs[] = { "", "home", "run", "home/.config", "home/.config/libvirt" };
    g_autofree char *conf = NULL;
    g_autoptr(GError) error = NULL;
    PrivateLibvirtd *p;

    if (!g_file_test("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE)) {
        *why_not = g_strdup("no /usr/sbin/libvirtd (package libvirt-daemon)");
        return NULL;
    }
    if (geteuid() == 0 && (!setpriv || !nobody)) {
        *why_not = g_strdup("no setpriv (package util-linux) or no user nobody to run a "
                            "libvirtd of the test's own as");
        return NULL;
    }
    p = private_libvirtd_find(dir);
    for (guint i = 1; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *d = g_build_filename(p->dir, dirs[i], NULL);

        g_assert_cmpint(g_mkdir(d, 0700), ==, 0);
    }
    conf = g_build_filename(p->dir, "home/.config/libvirt/qemu.conf", NULL);
    g_assert_true(g_file_set_contents(conf, qemu_conf, -1, &error));
    g_assert_no_error(error);
    for (guint i = 0; geteuid() == 0 && i <= G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path = i < G_N_ELEMENTS(dirs) ? g_build_filename(p->dir, dirs[i], NULL)
                                                       : g_strdup(conf);

        g_assert_cmpint(chown(path, nobody->pw_uid, nobody->pw_gid), ==, 0);
    }
    spawn(p);
    return p;
}

/* Its pid, from the pidfile it keeps while it runs; 0: not running. */
static GPid
daemon_pid(PrivateLibvirtd *p)
{
    g_autofree char *path = g_build_filename(p->dir, "run/libvirt/libvirtd.pid", NULL);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    return atoi(text);
}

void
private_libvirtd_stop(PrivateLibvirtd *p)
{
    GPid pid = daemon_pid(p);
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_S * G_USEC_PER_SEC;

    if (!pid || kill(pid, SIGTERM) < 0)
        return;
    /* Gone once reaped, by GLib in the process that started it, else by init. */
    while (kill(pid, 0) == 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(POLL_MS * 1000);
    }
    g_assert_cmpint(errno, ==, ESRCH);
}

void
private_libvirtd_restart(PrivateLibvirtd *p)
{
    private_libvirtd_stop(p);
    spawn(p);
}

void
private_libvirtd_destroy(PrivateLibvirtd *p)
{
    virConnectPtr conn = daemon_pid(p) ? virConnectOpen(p->uri) : NULL;

    if (conn) {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(conn, &doms, 0);

        for (int i = 0; i < n; i++) {
            virDomainDestroy(doms[i]);
            virDomainUndefine(doms[i]);
            virDomainFree(doms[i]);
        }
        free(doms);
        virConnectClose(conn);
    }
    private_libvirtd_stop(p);
    testvm_remove_tree(p->dir);
    private_libvirtd_free(p);
}

void
private_libvirtd_free(PrivateLibvirtd *p)
{
    if (!p)
        return;
    g_free(p->dir);
    g_free(p->socket);
    g_free(p->uri);
    g_free(p);
}
