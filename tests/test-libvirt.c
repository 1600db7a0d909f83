/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc on libvirt domains, in this process, on the embedded driver (qemu:///embed):
 * libvirt where libvirt can, passthrough where it cannot, the metadata, --config, restore. */
#include "config.h"

#include <string.h>

#include <libvirt/libvirt.h>

#include "libvirt-cli.h"
#include "libvirt-env.h"
#include "libvirt/svc-domain.h"

/* The case's domain, opened in the case's child: libvirt's handle and the library's. */
typedef struct {
    Fixture *f;
    virConnectPtr conn;
    virDomainPtr dom;
    SvcDomain *d;
} Lib;

static void
lib_reopen(Lib *l)
{
    g_autoptr(GError) error = NULL;

    g_clear_pointer(&l->d, svc_domain_free);
    l->d = svc_domain_open(l->f->uri, l->f->name, 10000, &error);
    g_assert_no_error(error);
}

static Lib *
lib_open(Lib *l, Fixture *f)
{
    g_autofree char *log = g_strdup_printf("3:file:%s/libvirt.log", f->dir);

    l->f = f;
    /* libvirt's warnings to a file, as the CLI keeps them, before libvirt or a thread runs. */
    g_setenv("LIBVIRT_LOG_OUTPUTS", log, TRUE);
    libvirt_env_event_register();
    l->conn = virConnectOpen(f->uri);
    g_assert_nonnull(l->conn);
    lib_reopen(l);
    libvirt_env_event_loop();
    l->dom = virDomainLookupByName(l->conn, f->name);
    g_assert_nonnull(l->dom);
    return l;
}

static void
lib_close(Lib *l)
{
    g_clear_pointer(&l->d, svc_domain_free);
    g_clear_pointer(&l->dom, virDomainFree);
    g_clear_pointer(&l->conn, virConnectClose);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Lib, lib_close)

static void
start(Lib *l)
{
    if (virDomainCreateWithFlags(l->dom, VIR_DOMAIN_START_PAUSED) < 0)
        g_error("cannot start %s: %s", l->f->name, virGetLastErrorMessage());
}

static void
restart(Lib *l)
{
    g_assert_cmpint(virDomainDestroy(l->dom), ==, 0);
    start(l);
    /* A fresh view, as a new virt-spicevmc would have: a new QEMU behind the domain. */
    lib_reopen(l);
}

/* ---- what libvirt and QEMU say ---------------------------------------- */

/* The <devices> of the domain XML: spicevmc's metadata, elsewhere in it, names ids too. */
static char *
domain_xml(Lib *f, gboolean inactive)
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
metadata(Lib *f, const char *record, gboolean config)
{
    char *text = virDomainGetMetadata(f->dom, VIR_DOMAIN_METADATA_ELEMENT, record,
                                      config ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE);

    return text ? text : g_strdup("");
}

static json_object *
qemu_run(Lib *f, json_object *cmd)
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

static gboolean
qemu_has_device(Lib *f, const char *id)
{
    g_autoptr(json_object) list = qemu_run(f, qmp_cmd_qom_list("/machine/peripheral"));

    return has_entry(list, "name", id);
}

static gboolean
contains(const char *text, const char *what)
{
    return strstr(text, what) != NULL;
}

static GPtrArray *
add(Lib *f, SvcAffect affect, const char *const *texts, GError **error)
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
listed(Lib *f, const char *id)
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
test_kind(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
    const char *kind = arg;
    const char *texts[] = { g_str_equal(kind, "port") ? "port,fqdn=org.example.p" : kind, NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = add(f, SVC_AFFECT_CURRENT, texts, &error);
    g_autoptr(SvcChannel) seen = NULL;
    g_autofree char *id = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *meta = NULL;
    g_autoptr(json_object) chardevs = NULL;
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
    chardevs = qemu_run(f, qmp_cmd_query_chardev());
    g_assert_false(contains(xml, id));
    g_assert_false(contains(meta, id));
    g_assert_cmpuint(count_prefixed(chardevs, "label", "svc_"), ==, 0);
}

/* Passthrough takes virtio-serial ports from the top, libvirt from the bottom. */
static void
test_collision(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
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
test_persistent(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
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
test_gone(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
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
test_shut_off(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
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
test_refused(Fixture *fx, const char *arg)
{
    g_auto(Lib) lib = { NULL };
    Lib *f = lib_open(&lib, fx);
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
    lib_reopen(f);
    no = add(f, SVC_AFFECT_LIVE, agent, &error);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_STATE);
    g_assert_nonnull(strstr(error->message, "is not running"));
}

static void
test_open_errors(Fixture *f, const char *arg)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvcDomain) missing = NULL;
    g_autoptr(SvcDomain) nowhere = NULL;

    libvirt_env_event_register();
    missing = svc_domain_open(f->uri, "no-such-domain", 1000, &error);
    libvirt_env_event_loop();
    g_assert_null(missing);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
    g_assert_nonnull(strstr(error->message, "no-such-domain"));
    g_clear_error(&error);
    nowhere = svc_domain_open("test:///nonexistent/file.xml", "x", 1000, &error);
    g_assert_null(nowhere);
    g_assert_error(error, SVC_ERROR, SVC_ERROR_LIBVIRT);
    g_assert_nonnull(strstr(error->message, "test:///nonexistent/file.xml"));
}

/* Each case in a child of its own, which opens the embedded driver in-process: one that fails
 * or crashes leaves the others to run, and the parent destroys its domain. */
static const Case cases[] = {
    { "/libvirt/embed/every-kind/vdagent", FALSE, DOMAIN_RUNNING, test_kind, "vdagent" },
    { "/libvirt/embed/every-kind/usbredir", FALSE, DOMAIN_RUNNING, test_kind, "usbredir" },
    { "/libvirt/embed/every-kind/smartcard", FALSE, DOMAIN_RUNNING, test_kind, "smartcard" },
    { "/libvirt/embed/every-kind/webdav", FALSE, DOMAIN_RUNNING, test_kind, "webdav" },
    { "/libvirt/embed/every-kind/serial", FALSE, DOMAIN_RUNNING, test_kind, "serial" },
    { "/libvirt/embed/every-kind/stream", FALSE, DOMAIN_RUNNING, test_kind, "stream" },
    { "/libvirt/embed/every-kind/port", FALSE, DOMAIN_RUNNING, test_kind, "port" },
    { "/libvirt/embed/collision", FALSE, DOMAIN_RUNNING, test_collision },
    { "/libvirt/embed/persistent", FALSE, DOMAIN_RUNNING, test_persistent },
    { "/libvirt/embed/gone", FALSE, DOMAIN_RUNNING, test_gone },
    { "/libvirt/embed/shut-off", FALSE, DOMAIN_DEFINED, test_shut_off },
    { "/libvirt/embed/refused", FALSE, DOMAIN_RUNNING, test_refused },
    { "/libvirt/embed/open-errors", FALSE, DOMAIN_NONE, test_open_errors },
};

int
main(int argc, char **argv)
{
    libvirt_cli_init(&argc, &argv, cases, G_N_ELEMENTS(cases));
    return libvirt_cli_run();
}
