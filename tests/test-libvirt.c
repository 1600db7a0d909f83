/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc on libvirt domains, in this process, on the embedded driver (qemu:///embed):
 * libvirt where libvirt can, passthrough where it cannot, the metadata, --config, restore. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libvirt-env.h"
#include "libvirt/svc-domain.h"

static char *root;
static char *uri;
static virConnectPtr conn;

typedef struct {
    char *name;
    virDomainPtr dom;
    SvcDomain *d;
} Fixture;

static void
fixture_open(Fixture *f)
{
    g_autoptr(GError) error = NULL;

    g_clear_pointer(&f->d, svc_domain_free);
    f->d = svc_domain_open(uri, f->name, 10000, &error);
    g_assert_no_error(error);
}

static void
start(Fixture *f)
{
    if (virDomainCreateWithFlags(f->dom, VIR_DOMAIN_START_PAUSED) < 0)
        g_error("cannot start %s: %s", f->name, virGetLastErrorMessage());
}

/* A persistent domain, started paused unless @data says otherwise. */
static void
setup(Fixture *f, gconstpointer data)
{
    static guint count;
    g_autofree char *spice = NULL;
    g_autofree char *xml = NULL;

    f->name = g_strdup_printf("svc%u", count++);
    spice = g_strdup_printf("%s/%s.spice", root, f->name);
    xml = libvirt_env_domain_xml(f->name, spice, NULL);
    f->dom = virDomainDefineXML(conn, xml);
    if (!f->dom)
        g_error("cannot define %s: %s", f->name, virGetLastErrorMessage());
    if (!data)
        start(f);
    fixture_open(f);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->d, svc_domain_free);
    if (virDomainIsActive(f->dom) == 1)
        virDomainDestroy(f->dom);
    virDomainUndefine(f->dom);
    virDomainFree(f->dom);
    g_free(f->name);
}

static void
restart(Fixture *f)
{
    g_assert_cmpint(virDomainDestroy(f->dom), ==, 0);
    start(f);
    /* A fresh view, as a new virt-spicevmc would have: a new QEMU behind the domain. */
    fixture_open(f);
}

/* ---- what libvirt and QEMU say ---------------------------------------- */

/* The <devices> of the domain XML: spicevmc's metadata, elsewhere in it, names ids too. */
static char *
domain_xml(Fixture *f, gboolean inactive)
{
    g_autofree char *xml = virDomainGetXMLDesc(f->dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    const char *start, *end;

    g_assert_nonnull(xml);
    start = strstr(xml, "<devices>");
    end = strstr(xml, "</devices>");
    g_assert_true(start && end > start);
    return g_strndup(start, end - start);
}

#define RESTORE "urn:spicevmc:1"
#define ADDED "urn:spicevmc:added:1"

/* One of spicevmc's records in the domain metadata, "" when there is none. */
static char *
metadata(Fixture *f, const char *record, gboolean config)
{
    char *text = virDomainGetMetadata(f->dom, VIR_DOMAIN_METADATA_ELEMENT, record,
                                      config ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE);

    return text ? text : g_strdup("");
}

static json_object *
qemu(Fixture *f, json_object *cmd)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(qmp_json_free);
    SvcVm *vm = svc_domain_get_vm(f->d, &error);
    SvcReply *r = NULL;
    json_object *ret;

    g_assert_no_error(error);
    g_ptr_array_add(cmds, cmd);
    g_assert_true(svc_vm_run(vm, cmds, &r, &error));
    g_assert_no_error(r[0].error);
    ret = g_steal_pointer(&r[0].ret);
    svc_replies_free(r, 1);
    return ret;
}

/* The labels of QEMU's chardevs, one per line, to look things up in. */
static char *
chardevs(Fixture *f)
{
    g_autoptr(json_object) list = qemu(f, qmp_cmd_query_chardev());
    GString *out = g_string_new("\n");

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *info = json_object_array_get_idx(list, i);

        g_string_append_printf(out, "%s\n",
                               json_object_get_string(json_object_object_get(info, "label")));
    }
    return g_string_free(out, FALSE);
}

static gboolean
qemu_has_device(Fixture *f, const char *id)
{
    g_autoptr(json_object) list = qemu(f, qmp_cmd_qom_list("/machine/peripheral"));

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *prop = json_object_array_get_idx(list, i);

        if (g_strcmp0(json_object_get_string(json_object_object_get(prop, "name")), id) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
contains(const char *text, const char *what)
{
    return strstr(text, what) != NULL;
}

static GPtrArray *
add(Fixture *f, SvcAffect affect, const char *const *texts, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);
    GPtrArray *added = NULL;

    for (guint i = 0; texts[i]; i++)
        g_ptr_array_add(specs, svc_spec_parse(texts[i], NULL));
    if (!svc_domain_add(f->d, (SvcSpec *const *)specs->pdata, specs->len, affect, &added, error))
        return NULL;
    return added;
}

static SvcChannel *
listed(Fixture *f, const char *id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = svc_domain_list(f->d, &error);

    g_assert_no_error(error);
    for (guint i = 0; i < all->len; i++) {
        SvcChannel *ch = all->pdata[i];

        if (g_strcmp0(ch->id, id) == 0)
            return g_ptr_array_steal_index(all, i);
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_kind(Fixture *f, gconstpointer data)
{
    const char *kind = strrchr(g_test_get_path(), '/') + 1;
    const char *texts[] = { g_str_equal(kind, "port") ? "port,fqdn=org.example.p" : kind, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = add(f, SVC_AFFECT_CURRENT, texts, &error);
    g_autoptr(SvcChannel) seen = NULL;
    g_autofree char *id = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *meta = NULL;
    g_autofree char *labels = NULL;
    const char *ids[2];
    gboolean by_libvirt;

    g_assert_no_error(error);
    id = g_strdup(((SvcChannel *)added->pdata[0])->id);
    g_assert_true(g_str_has_prefix(id, "ua-"));
    by_libvirt = g_str_equal(kind, "vdagent") || g_str_equal(kind, "usbredir");

    /* libvirt's view, spicevmc's record and QEMU's devices agree. */
    g_assert_true(qemu_has_device(f, id));
    xml = domain_xml(f, FALSE);
    meta = metadata(f, ADDED, FALSE);
    g_assert_cmpint(contains(xml, id), ==, by_libvirt);
    g_assert_cmpint(contains(meta, id), ==, !by_libvirt);
    seen = listed(f, id);
    g_assert_nonnull(seen);
    g_assert_cmpint(seen->state, ==, SVC_STATE_OK);
    g_assert_cmpint(seen->libvirt, ==, by_libvirt);
    g_assert_cmpstr(seen->kind->name, ==, kind);
    g_assert_false(seen->persistent);

    ids[0] = id;
    ids[1] = NULL;
    g_assert_true(svc_domain_remove(f->d, ids, SVC_AFFECT_CURRENT, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(qemu_has_device(f, id));
    g_free(xml);
    g_free(meta);
    xml = domain_xml(f, FALSE);
    meta = metadata(f, ADDED, FALSE);
    labels = chardevs(f);
    g_assert_false(contains(xml, id));
    g_assert_false(contains(meta, id));
    g_assert_false(contains(labels, "\nsvc_"));
}

/* Passthrough takes virtio-serial ports from the top, libvirt from the bottom. */
static void
test_collision(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "webdav", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = add(f, SVC_AFFECT_LIVE, texts, &error);
    g_autoptr(SvcSpec) agent = svc_spec_new("vdagent", NULL);
    g_autofree char *xml = svc_xml_for_spec(agent, &error);
    g_autoptr(SvcChannel) webdav = NULL;
    g_autoptr(SvcChannel) theirs = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(virDomainAttachDeviceFlags(f->dom, xml, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    webdav = listed(f, "ua-webdav0");
    theirs = listed(f, "channel0");
    g_assert_nonnull(webdav);
    g_assert_nonnull(theirs);
    g_assert_cmpuint(webdav->nr, ==, 30);
    g_assert_cmpuint(theirs->nr, ==, 1);
    g_assert_true(theirs->libvirt);
    g_assert_cmpstr(theirs->kind->name, ==, "vdagent");
}

/* What --config keeps comes back after a restart: by libvirt itself, and the smartcard (which
 * libvirt refuses to keep) by restore. */
static void
test_persistent(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "webdav", "serial", "vdagent", "usbredir", "smartcard", "stream",
                            NULL };
    const char *back[] = { "ua-webdav0", "ua-serial0", "ua-vdagent0", "ua-usbredir0",
                           "ua-stream0" };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = add(f, SVC_AFFECT_LIVE | SVC_AFFECT_CONFIG, texts, &error);
    g_autoptr(GPtrArray) restored = NULL;
    g_autoptr(SvcChannel) card = NULL;
    g_autoptr(SvcChannel) card_back = NULL;
    g_autofree char *config_meta = NULL;

    g_assert_no_error(error);
    config_meta = metadata(f, RESTORE, TRUE);
    g_assert_true(contains(config_meta, "ua-smartcard0"));
    g_assert_false(contains(config_meta, "ua-webdav0"));

    restart(f);
    for (guint i = 0; i < G_N_ELEMENTS(back); i++) {
        g_autoptr(SvcChannel) ch = listed(f, back[i]);

        g_assert_nonnull(ch);
        g_assert_cmpint(ch->state, ==, SVC_STATE_OK);
        g_assert_true(ch->libvirt);
        g_assert_true(ch->persistent);
    }
    card = listed(f, "ua-smartcard0");
    g_assert_cmpint(card->state, ==, SVC_STATE_CONFIG);
    g_assert_false(qemu_has_device(f, "ua-smartcard0"));

    g_assert_true(svc_domain_restore(f->d, &restored, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(restored->len, ==, 1);
    card_back = listed(f, "ua-smartcard0");
    g_assert_cmpint(card_back->state, ==, SVC_STATE_OK);
    g_assert_true(card_back->persistent);
    g_assert_true(qemu_has_device(f, "ua-smartcard0"));
}

/* A passthrough channel does not survive a restart: listed as gone, then forgotten. */
static void
test_gone(Fixture *f, gconstpointer data)
{
    const char *first[] = { "webdav", NULL };
    const char *second[] = { "serial", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) a = add(f, SVC_AFFECT_LIVE, first, &error);
    g_autoptr(GPtrArray) b = NULL;
    g_autoptr(SvcChannel) gone = NULL;
    g_autoptr(SvcChannel) forgotten = NULL;
    g_autofree char *meta = NULL;

    g_assert_no_error(error);
    restart(f);
    gone = listed(f, "ua-webdav0");
    g_assert_nonnull(gone);
    g_assert_cmpint(gone->state, ==, SVC_STATE_GONE);
    b = add(f, SVC_AFFECT_LIVE, second, &error);
    g_assert_no_error(error);
    forgotten = listed(f, "ua-webdav0");
    g_assert_null(forgotten);
    meta = metadata(f, ADDED, FALSE);
    g_assert_false(contains(meta, "ua-webdav0"));
    g_assert_true(contains(meta, "ua-serial0"));
}

/* A domain that is not running changes in its persistent definition only. */
static void
test_shut_off(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "webdav", "smartcard", NULL };
    const char *ids[] = { "ua-webdav0", "ua-smartcard0", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = add(f, SVC_AFFECT_CURRENT, texts, &error);
    g_autoptr(SvcChannel) webdav = NULL;
    g_autoptr(SvcChannel) card = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *xml_after = NULL;
    g_autofree char *meta_after = NULL;

    g_assert_no_error(error);
    xml = domain_xml(f, TRUE);
    g_assert_true(contains(xml, "ua-webdav0"));
    webdav = listed(f, "ua-webdav0");
    card = listed(f, "ua-smartcard0");
    g_assert_cmpint(webdav->state, ==, SVC_STATE_CONFIG);
    g_assert_cmpint(card->state, ==, SVC_STATE_CONFIG);
    g_assert_false(card->libvirt);

    g_assert_true(svc_domain_remove(f->d, ids, SVC_AFFECT_CURRENT, NULL, &error));
    g_assert_no_error(error);
    xml_after = domain_xml(f, TRUE);
    meta_after = metadata(f, RESTORE, TRUE);
    g_assert_false(contains(xml_after, "ua-webdav0"));
    g_assert_false(contains(meta_after, "ua-smartcard0"));
}

/* Refusals name the reason in one line and change nothing. */
static void
test_refused(Fixture *f, gconstpointer data)
{
    const char *bad_id[] = { "webdav,id=mine", NULL };
    const char *agent[] = { "vdagent", NULL };
    const char *unknown[] = { "ua-nothing", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ok = add(f, SVC_AFFECT_LIVE, agent, &error);
    g_autofree char *before = domain_xml(f, FALSE);
    g_autofree char *after = NULL;
    g_autoptr(GPtrArray) no = NULL;

    g_assert_no_error(error);
    no = add(f, SVC_AFFECT_LIVE, bad_id, &error);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_INVALID);
    g_clear_error(&error);
    g_clear_pointer(&no, g_ptr_array_unref);
    no = add(f, SVC_AFFECT_LIVE, agent, &error);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
    g_clear_error(&error);
    g_assert_false(svc_domain_remove(f->d, unknown, SVC_AFFECT_LIVE, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NOT_FOUND);
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
    after = domain_xml(f, FALSE);
    g_assert_cmpstr(after, ==, before);

    g_assert_cmpint(virDomainDestroy(f->dom), ==, 0);
    fixture_open(f);
    no = add(f, SVC_AFFECT_LIVE, agent, &error);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_STATE);
    g_assert_nonnull(strstr(error->message, "is not running"));
}

static void
test_open_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcDomain) missing = svc_domain_open(uri, "no-such-domain", 1000, &error);
    g_autoptr(SvcDomain) nowhere = NULL;

    g_assert_null(missing);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
    g_assert_nonnull(strstr(error->message, "no-such-domain"));
    g_clear_error(&error);
    nowhere = svc_domain_open("test:///nonexistent/file.xml", "x", 1000, &error);
    g_assert_null(nowhere);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
    g_assert_nonnull(strstr(error->message, "test:///nonexistent/file.xml"));
}

static int
run_tests(void)
{
    static const char *const kinds[] = { "vdagent", "usbredir", "smartcard", "webdav", "serial",
                                         "stream", "port" };
    int rc;

    libvirt_env_event_loop();
    conn = virConnectOpen(uri);
    g_assert_nonnull(conn);
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autofree char *path = g_strdup_printf("/libvirt/embed/every-kind/%s", kinds[i]);

        g_test_add(path, Fixture, NULL, setup, test_kind, teardown);
    }
    g_test_add("/libvirt/embed/collision", Fixture, NULL, setup, test_collision, teardown);
    g_test_add("/libvirt/embed/persistent", Fixture, NULL, setup, test_persistent, teardown);
    g_test_add("/libvirt/embed/gone", Fixture, NULL, setup, test_gone, teardown);
    g_test_add("/libvirt/embed/shut-off", Fixture, GINT_TO_POINTER(1), setup, test_shut_off,
               teardown);
    g_test_add("/libvirt/embed/refused", Fixture, NULL, setup, test_refused, teardown);
    g_test_add_func("/libvirt/embed/open-errors", test_open_errors);
    rc = g_test_run();
    virConnectClose(conn);
    return rc;
}

/* The embedded driver's QEMUs outlive a test that aborts; their pid files say which. */
static void
kill_leftovers(void)
{
    g_autofree char *run = g_build_filename(root, "run", "qemu", NULL);
    g_autoptr(GDir) dir = g_dir_open(run, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(run, name, NULL);
        g_autofree char *text = NULL;
        gint64 pid;

        if (g_str_has_suffix(name, ".pid") && g_file_get_contents(path, &text, NULL, NULL) &&
            (pid = g_ascii_strtoll(text, NULL, 10)) > 1)
            kill((pid_t)pid, SIGKILL);
    }
}

int
main(int argc, char **argv)
{
    g_autofree char *log = NULL;
    int status;
    pid_t pid;

    g_test_init(&argc, &argv, NULL);
    root = libvirt_env_embed_root();
    uri = libvirt_env_embed_uri(root);
    log = g_strdup_printf("3:file:%s/log/libvirt.log", root);
    g_setenv("LIBVIRT_LOG_OUTPUTS", log, TRUE);

    /* The tests run in a child, so that whatever becomes of it, this process kills the QEMUs
     * it left and removes the root. */
    fflush(stdout);
    if ((pid = fork()) == 0)
        _exit(run_tests());
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill_leftovers();
    libvirt_env_remove_root(root);
    g_free(uri);
    g_free(root);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
