/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-embedding.c — libspicevmc.so inside an application that set up libvirt and libxml2
 * its own way (libvirt-glib's event loop, as virt-viewer does, and its own error handlers):
 * after the library has worked on a domain, all of them are still the application's. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>

#include "libvirt-env.h"
#include "spicevmc.h"

#define DEADLINE_S 30

static char *root;
static char *uri;
static char *name;
static virConnectPtr conn;

/* What the application's own handlers have seen. */
static struct {
    GMutex lock;
    GCond changed;
    guint libvirt_errors;
    guint xml_errors;
    gboolean timer_fired;
} app;

static void
app_libvirt_error(void *data, virErrorPtr err)
{
    g_mutex_lock(&app.lock);
    app.libvirt_errors++;
    g_mutex_unlock(&app.lock);
}

static void
app_xml_error(void *ctx, const char *msg, ...)
{
    app.xml_errors++;
}

static void
app_timer(int timer, void *opaque)
{
    virEventRemoveTimeout(timer);
    g_mutex_lock(&app.lock);
    app.timer_fired = TRUE;
    g_cond_broadcast(&app.changed);
    g_mutex_unlock(&app.lock);
}

static gpointer
run_main_loop(gpointer data)
{
    g_main_loop_run(data);
    return NULL;
}

/* The application's choices, made before any library call. */
static void
app_setup(void)
{
    virSetErrorFunc(NULL, app_libvirt_error);
    xmlSetGenericErrorFunc(NULL, app_xml_error);
    gvir_event_register();
    g_thread_unref(g_thread_new("app-main-loop", run_main_loop, g_main_loop_new(NULL, FALSE)));
}

static SvcSpec *
spec(const char *text)
{
    g_autoptr(GError) error = NULL;
    SvcSpec *s = svc_spec_parse(text, &error);

    g_assert_no_error(error);
    return s;
}

/* A change that goes through passthrough and waits for DEVICE_DELETED from libvirt's events:
 * these come only through the application's loop. */
static void
use_the_library(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcDomain) d = svc_domain_open(uri, name, DEADLINE_S * 1000, &error);
    g_autoptr(SvcDomain) missing = NULL;
    g_autoptr(SvcSpec) webdav = spec("webdav,id=ua-webdav9");
    g_autoptr(GPtrArray) bad = NULL;
    const char *ids[] = { "ua-webdav9", NULL };

    g_assert_no_error(error);
    g_assert_true(svc_domain_add(d, &webdav, 1, SVC_AFFECT_LIVE, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(svc_domain_remove(d, ids, SVC_AFFECT_LIVE, NULL, &error));
    g_assert_no_error(error);
    /* Failures in libvirt and in libxml2, reported to the caller. */
    missing = svc_domain_open(uri, "no-such-domain", DEADLINE_S * 1000, &error);
    g_assert_null(missing);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
    g_clear_error(&error);
    bad = svc_xml_parse_specs("<channel", 8, "bad.xml", &error);
    g_assert_null(bad);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
}

static void
test_app_keeps_its_setup(void)
{
    gint64 deadline = g_get_monotonic_time() + DEADLINE_S * G_TIME_SPAN_SECOND;
    guint errors;
    xmlDoc *doc;

    use_the_library();

    /* libvirt's errors still go to the application's handler. */
    g_mutex_lock(&app.lock);
    errors = app.libvirt_errors;
    g_mutex_unlock(&app.lock);
    g_assert_null(virDomainLookupByName(conn, "no-such-domain"));
    g_mutex_lock(&app.lock);
    g_assert_cmpuint(app.libvirt_errors, ==, errors + 1);
    g_mutex_unlock(&app.lock);

    /* libvirt's event loop is still the application's GLib one: a timer runs there. */
    g_assert_cmpint(virEventAddTimeout(0, app_timer, NULL, NULL), >=, 0);
    g_mutex_lock(&app.lock);
    while (!app.timer_fired && g_cond_wait_until(&app.changed, &app.lock, deadline))
        ;
    g_assert_true(app.timer_fired);
    g_mutex_unlock(&app.lock);

    /* libxml2's errors still go to the application's handler. */
    errors = app.xml_errors;
    doc = xmlReadMemory("<a", 2, "app.xml", NULL, 0);
    g_assert_null(doc);
    g_assert_cmpuint(app.xml_errors, >, errors);
}

/* Without an event loop, libvirt could deliver no event: the library says what is missing
 * rather than register one of its own. */
static void
test_no_event_loop(void)
{
    if (g_test_subprocess()) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvcDomain) d = svc_domain_open("test:///default", "test", 1000, &error);

        g_assert_null(d);
        g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
        g_assert_nonnull(strstr(error->message, "event loop"));
        g_assert_cmpint(virEventAddTimeout(0, app_timer, NULL, NULL), <, 0);
        return;
    }
    g_test_trap_subprocess(NULL, DEADLINE_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
    g_autofree char *spice = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/embedding/no-event-loop", test_no_event_loop);
    if (g_test_subprocess())
        return g_test_run();

    app_setup();
    root = libvirt_env_embed_root();
    uri = libvirt_env_embed_uri(root);
    name = g_strdup_printf("svc-embedding-%d", (int)getpid());
    spice = g_strdup_printf("%s/spice.sock", root);
    xml = libvirt_env_domain_xml(name, spice, NULL);
    conn = virConnectOpen(uri);
    g_assert_nonnull(conn);
    dom = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_PAUSED);
    if (!dom)
        g_error("cannot start %s: %s", name, virGetLastErrorMessage());
    g_test_add_func("/embedding/app-keeps-its-setup", test_app_keeps_its_setup);
    rc = g_test_run();
    virDomainDestroy(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    libvirt_env_remove_root(root);
    return rc;
}
