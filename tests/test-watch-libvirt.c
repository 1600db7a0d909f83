/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-watch-libvirt.c — virt-spicevmc DOMAIN watch on embedded and libvirtd domains:
 * channels added and removed by another process's raw QMP (a second QMP monitor of the
 * embedded domain's QEMU, whose root the watch holds; virsh qemu-monitor-command on libvirtd)
 * and by libvirt's own hot-plug, SIGTERM, the domain stopping, libvirt going away. */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "testvm.h"
#include "watch-proc.h"

#define FQDN "org.example.watch.0"
/* Where libvirtd listens, which the relay connects to. */
#define LIBVIRT_SOCKET "/run/libvirt/libvirt-sock"

/* The embedded driver passes valgrind's preload on to QEMU: the watch runs without it. */
static WatchProc *
watch_domain(Fixture *f, const char *uri, json_object **first)
{
    const char *const args[] = { "-c", uri, f->name, NULL };

    return watch_proc_start_watching(args, FALSE, first);
}

#define CHARDEV_ADD "{\"execute\": \"chardev-add\", \"arguments\": {\"id\": \"c-w0\", " \
                    "\"backend\": {\"type\": \"spiceport\", \"data\": {\"fqdn\": \"" FQDN "\"}}}}"
#define DEVICE_ADD "{\"execute\": \"device_add\", \"arguments\": {\"driver\": " \
                   "\"virtserialport\", \"bus\": \"virtio-serial0.0\", \"id\": \"w0\", " \
                   "\"chardev\": \"c-w0\", \"name\": \"" FQDN "\"}}"
#define DEVICE_DEL "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"w0\"}}"
#define CHARDEV_REMOVE "{\"execute\": \"chardev-remove\", \"arguments\": {\"id\": \"c-w0\"}}"

/* Another program's QMP: virsh qemu-monitor-command, or a monitor of its own. */
typedef void (*RawQmp)(Fixture *f, QmpClient *monitor, const char *command);

static void
through_virsh(Fixture *f, QmpClient *monitor, const char *command)
{
    json_object_put(qemu(f, command));
}

static void
through_monitor(Fixture *f, QmpClient *monitor, const char *command)
{
    g_autoptr(json_object) cmd = json_tokener_parse(command);
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) ret = qmp_client_execute(monitor, cmd, &error);

    g_assert_no_error(error);
}

/* A port added and removed by hand, while the domain is watched. */
static void
assert_raw_qmp_seen(Fixture *f, const char *uri, RawQmp raw, QmpClient *monitor)
{
    g_autoptr(WatchProc) w = NULL;
    g_autoptr(json_object) first = NULL;
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) removed = NULL;

    w = watch_domain(f, uri, &first);
    g_assert_cmpuint(json_object_array_length(member(first, "channels")), ==, 0);
    raw(f, monitor, CHARDEV_ADD);
    raw(f, monitor, DEVICE_ADD);
    added = watch_proc_wait(w, "channel-added", "w0");
    g_assert_cmpstr(member_str(added, "kind"), ==, "port");
    g_assert_cmpstr(member_str(added, "spice-name"), ==, FQDN);
    g_assert_cmpstr(member_str(added, "port-name"), ==, FQDN);
    g_assert_cmpstr(member_str(added, "source"), ==, "inventory");

    raw(f, monitor, DEVICE_DEL);
    removed = watch_proc_wait(w, "channel-removed", "w0");
    /* From QEMU's event through libvirt, which does not know the device itself. */
    g_assert_cmpstr(member_str(removed, "source"), ==, "DEVICE_DELETED");
    g_assert_cmpstr(member_str(member(removed, "data"), "device"), ==, "w0");
    raw(f, monitor, CHARDEV_REMOVE);
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

/* On libvirtd: virsh qemu-monitor-command, as users pass QMP through. */
static void
raw_qmp_case(Fixture *f, const char *arg)
{
    assert_raw_qmp_seen(f, f->uri, through_virsh, NULL);
}

/* The embedded driver's root is the watch's for as long as it runs, virsh included: the
 * domain's QEMU gets a second monitor (qemu:commandline), for the test to use by hand. */
static void
raw_monitor_case(Fixture *f, const char *arg)
{
    g_autofree char *spice = g_build_filename(f->dir, "spice.sock", NULL);
    g_autofree char *monitor_path = g_build_filename(f->dir, "monitor.sock", NULL);
    g_autofree char *path = g_build_filename(f->dir, "domain.xml", NULL);
    g_autofree char *xml = libvirt_env_domain_xml(f->name, spice, NULL);
    g_autofree char *qemu_args = g_strdup_printf(
        "  <qemu:commandline><qemu:arg value='-qmp'/>"
        "<qemu:arg value='unix:%s,server=on,wait=off'/></qemu:commandline>\n</domain>",
        monitor_path);
    g_autoptr(GString) domain = g_string_new(xml);
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) monitor = NULL;

    g_string_replace(domain, "<domain type='qemu'>",
                     "<domain type='qemu' "
                     "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>", 1);
    g_string_replace(domain, "</domain>", qemu_args, 1);
    g_assert_true(g_file_set_contents(path, domain->str, -1, &error));
    g_assert_no_error(error);
    g_free(virsh_ok(f->uri, "create", path, "--paused"));
    monitor = qmp_client_connect(monitor_path, 30000, &error);
    g_assert_no_error(error);
    assert_raw_qmp_seen(f, f->uri, through_monitor, monitor);
}

/* What libvirt hot-plugs itself (a redirdev) announces a device added: seen as it is, and its
 * removal from an event. */
static void
hotplug_case(Fixture *f, const char *arg)
{
    g_autoptr(WatchProc) w = watch_domain(f, f->uri, NULL);
    g_autoptr(json_object) added = NULL;
    g_autoptr(json_object) removed = NULL;
    const char *source;

    g_free(cli_ok(f->uri, f->name, "add", "usbredir"));
    added = watch_proc_wait(w, "channel-added", "ua-usbredir0");
    g_assert_cmpstr(member_str(added, "kind"), ==, "usbredir");
    g_assert_cmpstr(member_str(member(added, "channel"), "frontend"), ==, "usb-redir");
    g_free(cli_ok(f->uri, f->name, "remove", "ua-usbredir0"));
    removed = watch_proc_wait(w, "channel-removed", "ua-usbredir0");
    /* QEMU's event or libvirt's, whichever came first: at once either way. */
    source = member_str(removed, "source");
    if (!g_str_equal(source, "DEVICE_DELETED"))
        g_assert_cmpstr(source, ==, "libvirt:device-removed");
    watch_proc_signal(w, SIGTERM);
    watch_proc_assert_exit(w, 0);
}

/* Destroyed: the last line says so, and the watch fails. */
static void
destroyed_case(Fixture *f, const char *arg)
{
    g_autoptr(WatchProc) w = watch_domain(f, f->uri, NULL);
    g_autoptr(json_object) ended = NULL;
    g_autofree char *reason = g_strdup_printf("domain '%s' stopped: destroyed", f->name);

    g_free(virsh_ok(f->uri, "destroy", f->name));
    ended = watch_proc_wait(w, "ended", NULL);
    watch_assert_time(ended);
    g_assert_cmpstr(member_str(ended, "reason"), ==, reason);
    watch_proc_assert_exit(w, 1);
}

/* QEMU of an embedded domain killed (its root is the watch's: no virsh destroy). */
static void
qemu_killed_case(Fixture *f, const char *arg)
{
    const char *root = strstr(f->uri, "root=") + strlen("root=");
    g_autofree char *pid_file = g_strdup_printf("%s/run/qemu/%s.pid", root, f->name);
    g_autofree char *prefix = g_strdup_printf("domain '%s' stopped", f->name);
    g_autofree char *pid = NULL;
    g_autoptr(WatchProc) w = watch_domain(f, f->uri, NULL);
    g_autoptr(json_object) ended = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(pid_file, &pid, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(kill((pid_t)g_ascii_strtoll(pid, NULL, 10), SIGKILL), ==, 0);
    ended = watch_proc_wait(w, "ended", NULL);
    if (!g_str_has_prefix(member_str(ended, "reason"), prefix))
        g_assert_cmpstr(member_str(ended, "reason"), ==, prefix);
    watch_proc_assert_exit(w, 1);
}

/* A domain that does not run has nothing to watch: one line, as any error. */
static void
not_running_case(Fixture *f, const char *arg)
{
    g_auto(Run) r = { NULL };

    cli(&r, f->uri, f->name, "watch");
    assert_one_error(&r, "is not running");
}

/* ---- libvirt going away: a relay in front of libvirtd, closed under the watch ---- */

typedef struct {
    int listener;
    int stop[2];              /* written to stop it */
    GThread *thread;
} Relay;

/* Copy what @from has; FALSE when it closed. */
static gboolean
copy(int from, int to)
{
    char buf[65536];
    ssize_t n = read(from, buf, sizeof(buf));

    for (ssize_t done = 0, m; n > 0 && done < n; done += m) {
        if ((m = write(to, buf + done, n - done)) <= 0)
            return FALSE;
    }
    return n > 0;
}

static gpointer
relay_run(gpointer data)
{
    Relay *r = data;
    struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = LIBVIRT_SOCKET };
    struct pollfd first[2] = { { r->listener, POLLIN, 0 }, { r->stop[0], POLLIN, 0 } };
    int client, up;

    /* One connection: virt-spicevmc-libvirt's (it shares one per URI). */
    g_assert_cmpint(poll(first, 2, -1), >, 0);
    if (first[1].revents)
        return NULL;
    client = accept(r->listener, NULL, NULL);
    up = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(client, >=, 0);
    g_assert_cmpint(connect(up, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    for (;;) {
        struct pollfd pfds[3] = { { client, POLLIN, 0 }, { up, POLLIN, 0 },
                                  { r->stop[0], POLLIN, 0 } };

        g_assert_cmpint(poll(pfds, 3, -1), >, 0);
        if (pfds[2].revents || (pfds[0].revents && !copy(client, up)) ||
            (pfds[1].revents && !copy(up, client)))
            break;
    }
    close(client);
    close(up);
    return NULL;
}

static Relay *
relay_start(const char *path)
{
    Relay *r = g_new0(Relay, 1);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    r->listener = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(r->listener, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(r->listener, 4), ==, 0);
    g_assert_cmpint(pipe(r->stop), ==, 0);
    r->thread = g_thread_new("relay", relay_run, r);
    return r;
}

/* Hang up both sides, as a libvirtd that exits does. */
static void
relay_stop(Relay *r)
{
    g_assert_cmpint(write(r->stop[1], "x", 1), ==, 1);
    g_thread_join(r->thread);
    close(r->listener);
    close(r->stop[0]);
    close(r->stop[1]);
    g_free(r);
}

static void
libvirt_gone_case(Fixture *f, const char *arg)
{
    g_autofree char *path = g_build_filename(f->dir, "libvirt.sock", NULL);
    g_autofree char *uri = g_strdup_printf("qemu+unix:///system?socket=%s", path);
    g_autofree char *reason = g_strdup_printf("the connection to libvirt at '%s' closed", uri);
    Relay *relay = relay_start(path);
    g_autoptr(WatchProc) w = watch_domain(f, uri, NULL);
    g_autoptr(json_object) ended = NULL;

    relay_stop(relay);
    ended = watch_proc_wait(w, "ended", NULL);
    if (!g_str_has_prefix(member_str(ended, "reason"), reason))
        g_assert_cmpstr(member_str(ended, "reason"), ==, reason);
    watch_proc_assert_exit(w, 1);
}

/* On qemu:///embed the watch holds the root: nothing but the test itself, QEMU and a SPICE
 * client can change anything meanwhile. */
static const Case cases[] = {
    { "/watch-libvirt/embed/raw-qmp", FALSE, DOMAIN_BY_CASE, raw_monitor_case },
    { "/watch-libvirt/system/raw-qmp", TRUE, DOMAIN_RUNNING, raw_qmp_case },
    { "/watch-libvirt/system/hotplug", TRUE, DOMAIN_RUNNING, hotplug_case },
    { "/watch-libvirt/embed/qemu-killed", FALSE, DOMAIN_RUNNING, qemu_killed_case },
    { "/watch-libvirt/system/destroyed", TRUE, DOMAIN_RUNNING, destroyed_case },
    { "/watch-libvirt/system/libvirt-gone", TRUE, DOMAIN_RUNNING, libvirt_gone_case },
    { "/watch-libvirt/embed/not-running", FALSE, DOMAIN_DEFINED, not_running_case },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    return libvirt_cli_run();
}
