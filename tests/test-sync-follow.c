/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-sync-follow.c — virt-spicevmc sync --follow on libvirtd: virt-manager's Add
 * Hardware and virsh --config go live while it runs, a real guest sees the port by name; a
 * second follower of the URI is refused; a libvirtd restart (of a libvirtd of the test's own)
 * is survived, and what changed meanwhile applied; on qemu:///embed, a SIGTERM while libvirt
 * reconnects to QEMU waits for the reconnection. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "guest.h"
#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "private-libvirtd.h"
#include "relay.h"
#include "run.h"
#include "skip.h"
#include "sync-follower.h"
#include "testvm.h"

#define XML_DIR SRCDIR "/tests/xml/virt-xml"
#define GUEST_PORT "org.example.guest.0"
/* What virt-manager's Add Hardware writes for a channel of type spiceport with a name. */
#define GUEST_PORT_XML "<channel type=\"spiceport\">\n" \
                       "  <source channel=\"" GUEST_PORT "\"/>\n" \
                       "  <target type=\"virtio\" name=\"" GUEST_PORT "\"/>\n" \
                       "</channel>\n"
#define AGENT_XML "    <channel type='spicevmc'><target type='virtio' " \
                  "name='com.redhat.spice.0'/></channel>\n"
#define WEBDAV "'ua-webdav0' (webdav org.spice-space.webdav.0)"

static GuestImage *image;
static char *why_no_image;
static GError *image_error;

static char *
write_file(const char *dir, const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, text, -1, &error));
    g_assert_no_error(error);
    return path;
}

static gboolean
qemu_has_device(const char *uri, const char *name, const char *id)
{
    g_autofree char *out = virsh_ok(uri, "qemu-monitor-command", name,
                                    "{\"execute\":\"qom-list\","
                                    "\"arguments\":{\"path\":\"/machine/peripheral\"}}");
    g_autoptr(json_object) reply = parse_json(out);

    return has_entry(member(reply, "return"), "name", id);
}

/* A line the follower printed for a change: named, and timed. */
static void
wait_change(SyncFollower *s, const char *fragment)
{
    g_autofree char *line = sync_follower_wait(s, fragment);

    if (!sync_line_timed(line))
        g_assert_cmpstr(line, ==, "(…, in N ms)");
}

/* ---- on the system's libvirtd, through its remote driver ----------------- */

/* virsh --config, which libvirt sends no event for, goes live and leaves; a channel libvirt
 * took away live (an event) comes back, since the definition has it; a second follower of the
 * URI is refused. */
static void
virsh_config(Fixture *f, const char *arg)
{
    g_autofree char *webdav = g_build_filename(XML_DIR, "webdav.xml", NULL);
    g_autofree char *prefix = g_strdup_printf("domain '%s': ", f->name);
    g_autofree char *added = g_strconcat(prefix, WEBDAV " added live, in ", NULL);
    g_autofree char *removed = g_strconcat(prefix, WEBDAV " removed: it left the definition",
                                           NULL);
    g_autofree char *agent = g_strconcat(prefix, "'ua-vdagent0' (vdagent) added live, by "
                                         "libvirt, in ", NULL);
    g_autofree char *xml = NULL;
    g_autoptr(SyncFollower) s = sync_follower_start(f->c->arg, f->dir,
                                                    (const char *const[]){ f->name, NULL });
    /* Never --all on the system's libvirtd: other people's domains live there. */
    g_autoptr(SyncFollower) second = sync_follower_spawn(f->c->arg, f->dir,
                                                         (const char *const[]){ f->name, NULL });
    g_autofree char *refusal = g_strdup_printf(
        "virt-spicevmc: error: another 'virt-spicevmc sync --follow' (pid %s) follows '"
        REMOTE_URI "' already (lock %s/sync-", sync_follower_pid(s), f->dir);
    g_auto(GStrv) lines = NULL;

    /* One line, before it touched anything. */
    g_assert_cmpint(sync_follower_wait_exit(second), ==, 1);
    lines = g_strsplit(sync_follower_output(second), "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 2);
    g_assert_true(g_str_has_prefix(lines[0], refusal));

    g_free(virsh_ok(f->uri, "attach-device", f->name, webdav, "--config"));
    wait_change(s, added);
    g_assert_true(qemu_has_device(f->uri, f->name, "ua-webdav0"));
    g_free(virsh_ok(f->uri, "detach-device", f->name, webdav, "--config"));
    wait_change(s, removed);
    g_assert_false(qemu_has_device(f->uri, f->name, "ua-webdav0"));

    g_free(virsh_ok(f->uri, "detach-device-alias", f->name, "channel0", "--live"));
    wait_change(s, agent);
    xml = virsh_ok(f->uri, "dumpxml", f->name);
    g_assert_true(has_alias_in(xml, "channel", "ua-vdagent0"));
    g_assert_false(has_alias_in(xml, "channel", "channel0"));
    sync_follower_stop(s, SIGTERM);
}

/* ---- virt-manager's Add Hardware, and a real guest ------------------------ */

static void
quiet(void *data, virErrorPtr err)
{
}

/* As virt-manager adds a device (virtManager/addhardware.py): live first; refused, into the
 * definition with defineXML of the whole domain, the device appended. */
static void
virt_manager_add(const char *uri, const char *name, const char *device)
{
    virConnectPtr conn = virConnectOpen(uri);
    g_autofree char *xml = NULL, *defined = NULL;
    virDomainPtr dom, again;
    char *end;

    g_assert_nonnull(conn);
    /* The refusal is expected: not on stderr. */
    virConnSetErrorFunc(conn, NULL, quiet);
    dom = virDomainLookupByName(conn, name);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainAttachDevice(dom, device), <, 0);
    assert_contains(virGetLastErrorMessage(), "Hotplug unsupported for char device type "
                                              "'spiceport'");
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    g_assert_nonnull(xml);
    g_assert_nonnull((end = strstr(xml, "</devices>")));
    defined = g_strdup_printf("%.*s%s%s", (int)(end - xml), xml, device, end);
    g_assert_nonnull((again = virDomainDefineXML(conn, defined)));
    virDomainFree(again);
    virDomainFree(dom);
    virConnectClose(conn);
}

/* Paths and names of the cases that make their own domains, from the test's process id, so
 * that its children and its parent agree on them. */
static char *
run_path(const char *what)
{
    return g_strdup_printf("%s/svc-sync-%s-%s", g_get_tmp_dir(), g_getenv("SVC_TEST_PARENT"),
                           what);
}

static char *
run_name(const char *what)
{
    return g_strdup_printf("svc-sync-%s-%s", g_getenv("SVC_TEST_PARENT"), what);
}

/* Whatever is left of domain @name: the parent's part, after a case passed or failed. */
static void
remove_domain(const char *uri, const char *name)
{
    const char *destroy[] = { "virsh", "-c", uri, "destroy", name, NULL };
    const char *undefine[] = { "virsh", "-c", uri, "undefine", name, NULL };

    g_spawn_sync(NULL, (char **)destroy, NULL, G_SPAWN_SEARCH_PATH |
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, NULL, NULL, NULL, NULL);
    g_spawn_sync(NULL, (char **)undefine, NULL, G_SPAWN_SEARCH_PATH |
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
define_and_start(const char *uri, const char *dir, const char *name, const char *xml,
                 gboolean paused)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *path = write_file(dir, file, xml);

    g_free(virsh_ok(uri, "define", path));
    g_free(virsh_ok(uri, "start", name, paused ? "--paused" : NULL));
}

/* A guest booting, the follower following it only; a second domain, running, whose definition
 * changes too. */
static void
virt_manager_guest(const char *dir, const char *name, const char *other)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *serial = g_build_filename(dir, "ttyS0.sock", NULL);
    g_autofree char *spice = g_build_filename(dir, "spice.sock", NULL);
    g_autofree char *other_spice = g_build_filename(dir, "other-spice.sock", NULL);
    g_autofree char *xml = libvirt_env_boot_domain_xml(name, spice, &image->boot, serial);
    g_autofree char *other_xml = libvirt_env_domain_xml(other, other_spice, NULL);
    g_autofree char *device = write_file(dir, "port.xml", GUEST_PORT_XML);
    g_autofree char *webdav = g_build_filename(XML_DIR, "webdav.xml", NULL);
    g_autofree char *prefix = g_strdup_printf("domain '%s': 'ua-port0' (port " GUEST_PORT ")",
                                              name);
    g_autofree char *added = g_strconcat(prefix, " added live, in ", NULL);
    g_autofree char *removed = g_strconcat(prefix, " removed: it left the definition", NULL);
    g_autofree char *other_live = NULL, *other_after = NULL, *dev = NULL;
    g_autoptr(GSocket) listener = testvm_listen_unix(serial);
    g_autoptr(Guest) g = NULL;
    g_autoptr(SyncFollower) s = NULL;

    define_and_start(SYSTEM_URI, dir, name, xml, FALSE);
    g = guest_accept(listener, &error);
    g_assert_no_error(error);
    define_and_start(SYSTEM_URI, dir, other, other_xml, TRUE);
    g_free(virsh_ok(SYSTEM_URI, "attach-device", other, webdav, "--config"));
    other_live = virsh_ok(SYSTEM_URI, "dumpxml", other);
    s = sync_follower_start(SYSTEM_URI, dir, (const char *const[]){ name, NULL });

    virt_manager_add(SYSTEM_URI, name, GUEST_PORT_XML);
    wait_change(s, added);
    g_assert_true(qemu_has_device(SYSTEM_URI, name, "ua-port0"));
    dev = guest_wait_port(g, GUEST_PORT, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(dev, "/dev/vport"));

    g_free(virsh_ok(SYSTEM_URI, "detach-device", name, device, "--config"));
    wait_change(s, removed);
    guest_wait_port_gone(g, GUEST_PORT, &error);
    g_assert_no_error(error);
    g_assert_false(qemu_has_device(SYSTEM_URI, name, "ua-port0"));

    sync_follower_stop(s, SIGTERM);
    g_assert_null(strstr(sync_follower_output(s), other));
    other_after = virsh_ok(SYSTEM_URI, "dumpxml", other);
    g_assert_cmpstr(other_after, ==, other_live);
    g_assert_false(qemu_has_device(SYSTEM_URI, other, "ua-webdav0"));
}

/* In a child, two domains of its own: the parent removes both, whether the child passed or
 * not (an assertion that fails in the child leaves them running). */
static void
test_virt_manager_guest(void)
{
    g_autofree char *dir = run_path("guest");
    g_autofree char *name = run_name("guest");
    g_autofree char *other = run_name("other");
    const char *version[] = { "virsh", "-c", SYSTEM_URI, "version", NULL };
    int status = -1;

    if (g_test_subprocess()) {
        virt_manager_guest(dir, name, other);
        return;
    }
    g_assert_no_error(image_error);
    if (!image) {
        skip_missing(why_no_image);
        return;
    }
    if (!g_spawn_sync(NULL, (char **)version, NULL, G_SPAWN_SEARCH_PATH |
                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        skip_missing("no libvirtd at " SYSTEM_URI " (CI starts one with .ci/libvirtd)");
        return;
    }
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_test_trap_subprocess(NULL, 300 * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    remove_domain(SYSTEM_URI, name);
    remove_domain(SYSTEM_URI, other);
    testvm_remove_tree(dir);
    if (!g_test_trap_has_passed())
        g_test_fail();
}

/* ---- qemu:///embed -------------------------------------------------------- */

/* SIGTERM while the follower's embedded driver reconnects to QEMU (its "init-DOMAIN" thread,
 * held there by QEMU stopped): it exits 0 once the reconnection is over.  Dying in the middle
 * of it would break the README's "SIGTERM or SIGINT: it exits 0", and leave QEMU's answer to
 * the next process's driver, which kills QEMU for it. */
static void
sigterm_while_reconnecting(Fixture *f, const char *arg)
{
    int qemu = domain_qemu_pid(f);
    g_autofree char *state = virsh_ok(f->uri, "domstate", f->name);
    g_autofree char *state_after = NULL;
    g_autoptr(SyncFollower) s = NULL;
    GSubprocess *proc;

    g_assert_cmpint(kill(qemu, SIGSTOP), ==, 0);
    s = sync_follower_spawn(f->uri, f->dir, (const char *const[]){ f->name, NULL });
    proc = sync_follower_process(s);
    g_assert_true(run_wait_thread(proc, "init-", FOLLOW_TIMEOUT_S));
    g_subprocess_send_signal(proc, SIGTERM);
    /* A second, then no wait at all: a follower that dies of it has long been gone. */
    g_usleep(G_USEC_PER_SEC);
    g_assert_true(run_is_running(proc));
    g_assert_cmpint(kill(qemu, SIGCONT), ==, 0);
    g_assert_cmpint(sync_follower_wait_exit(s), ==, 0);
    /* Its own errors only: valgrind, in the valgrind pass, writes there too. */
    g_assert_null(strstr(sync_follower_output(s), "virt-spicevmc: error"));
    state_after = virsh_ok(f->uri, "domstate", f->name);
    g_assert_cmpstr(state_after, ==, state);
    g_assert_cmpint(domain_qemu_pid(f), ==, qemu);
}

static const Case cases[] = {
    { "/sync-follow/system/virsh-config", TRUE, DOMAIN_RUNNING, virsh_config, REMOTE_URI, NULL,
      AGENT_XML },
    { "/sync-follow/embed/sigterm-while-reconnecting", FALSE, DOMAIN_RUNNING,
      sigterm_while_reconnecting },
};

/* ---- a libvirtd restart --------------------------------------------------- */

/* Domain @name on the private libvirtd, defined, and started when @start. */
static void
define_domain(PrivateLibvirtd *p, const char *name, gboolean start)
{
    g_autofree char *spice_name = g_strconcat(name, "-spice.sock", NULL);
    g_autofree char *spice = g_build_filename(p->dir, "home", spice_name, NULL);
    g_autofree char *xml = libvirt_env_domain_xml(name, spice, NULL);
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *path = write_file(p->dir, file, xml);

    g_free(virsh_ok(p->uri, "define", path));
    if (start)
        g_free(virsh_ok(p->uri, "start", "--paused", name));
}

/* The follower reaches the daemon through a relay the test cuts: the daemon restarts, a
 * definition changes while nobody listens, and once the follower is back it has applied that
 * (a full sync after reconnecting) and follows events again. */
static void
restart_case(PrivateLibvirtd *p)
{
    g_autofree char *relay_path = g_build_filename(p->dir, "relay.sock", NULL);
    g_autofree char *uri = g_strdup_printf("qemu+unix:///session?socket=%s", relay_path);
    g_autofree char *webdav = g_build_filename(XML_DIR, "webdav.xml", NULL);
    g_autoptr(Relay) relay = relay_new(relay_path, p->socket);
    g_autoptr(SyncFollower) s = sync_follower_start(uri, p->dir,
                                                    (const char *const[]){ "--all", NULL });

    g_free(virsh_ok(p->uri, "attach-device", "svc-a", webdav, "--config"));
    wait_change(s, "domain 'svc-a': " WEBDAV " added live");

    relay_stop(relay);
    g_free(sync_follower_wait(s, "lost the connection to libvirt at '"));
    private_libvirtd_restart(p);
    /* Meanwhile: a definition changes (an event nobody hears), and a channel of a definition
     * goes away live (no event, and the definition does not change: only a full sync finds
     * it). */
    g_free(virsh_ok(p->uri, "attach-device", "svc-b", webdav, "--config"));
    g_free(cli_ok(p->uri, "svc-a", "remove", "ua-webdav0"));
    g_assert_false(qemu_has_device(p->uri, "svc-a", "ua-webdav0"));
    relay_start(relay);
    g_free(sync_follower_wait(s, "reconnected to libvirt at '"));
    sync_follower_wait_all(s, (const char *const[]){
        "domain 'svc-b': " WEBDAV " added live, in ",
        "domain 'svc-a': " WEBDAV " added live, in ", NULL });
    g_assert_true(qemu_has_device(p->uri, "svc-b", "ua-webdav0"));
    g_assert_true(qemu_has_device(p->uri, "svc-a", "ua-webdav0"));

    /* Events again, on the new connection: defineXML's. */
    virt_manager_add(p->uri, "svc-a", GUEST_PORT_XML);
    wait_change(s, "domain 'svc-a': 'ua-port0' (port " GUEST_PORT ") added live");
    /* And a start's: a domain that was not running is followed from its start, so a change
     * of its definition then goes live too. */
    g_free(virsh_ok(p->uri, "start", "--paused", "svc-c"));
    g_free(virsh_ok(p->uri, "attach-device", "svc-c", webdav, "--config"));
    wait_change(s, "domain 'svc-c': " WEBDAV " added live");
    g_assert_true(qemu_has_device(p->uri, "svc-c", "ua-webdav0"));
    g_assert_null(strstr(sync_follower_output(s), "error"));
    /* Ctrl-C where it runs in a terminal: it exits 0, as on SIGTERM. */
    sync_follower_stop(s, SIGINT);
}

static void
test_libvirtd_restart(void)
{
    g_autofree char *dir = run_path("libvirtd");
    g_autofree char *why_not = NULL;
    PrivateLibvirtd *p;

    if (g_test_subprocess()) {
        g_autoptr(PrivateLibvirtd) child = private_libvirtd_find(dir);

        restart_case(child);
        return;
    }
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    if (!(p = private_libvirtd_start(dir, &why_not))) {
        testvm_remove_tree(dir);
        skip_missing(why_not);
        return;
    }
    define_domain(p, "svc-a", TRUE);
    define_domain(p, "svc-b", TRUE);
    define_domain(p, "svc-c", FALSE);
    g_test_trap_subprocess(NULL, 300 * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    private_libvirtd_destroy(p);
    if (!g_test_trap_has_passed())
        g_test_fail();
}

int
main(int argc, char **argv)
{
    int ret;

    /* Before any thread: the cases' children find it through the environment. */
    image = guest_image_get(&why_no_image, &image_error);
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    g_test_add_func("/sync-follow/system/virt-manager-guest", test_virt_manager_guest);
    g_test_add_func("/sync-follow/private/libvirtd-restart", test_libvirtd_restart);
    ret = libvirt_cli_run();
    guest_image_free(image);
    g_free(why_no_image);
    g_clear_error(&image_error);
    return ret;
}
