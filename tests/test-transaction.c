/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc against a real QEMU when things go wrong: rollback, a dying QEMU, lost events,
 * and channels spicevmc did not create. */
#include "config.h"

#include <string.h>

#include "channels-common.h"

/* A transport that forwards to the real one, with a hook for the failure under test.  Only
 * HOOK_DEAF is a mock (QEMU cannot be made to lose a DEVICE_DELETED on demand); the other
 * hooks make real QEMU fail at a chosen moment. */
typedef enum {
    HOOK_NONE,
    HOOK_KILL_ON_FRONTENDS,   /* QEMU dies just before the frontends are added */
    HOOK_KILL_ON_WAIT,        /* QEMU dies while removals are awaited */
    HOOK_RACE_ON_FRONTENDS,   /* another client takes port 2 just before the frontends */
    HOOK_RACE_ON_CHARDEVS,    /* another client takes the usb-ccid's id just before stage 1 */
    HOOK_DEAF,                /* DEVICE_DELETED never arrives */
} Hook;

typedef struct {
    Fixture *f;
    Hook hook;
} Hooked;

static gboolean
has_command(json_object *const *cmds, guint n, const char *name)
{
    for (guint i = 0; i < n; i++) {
        if (g_str_equal(json_object_get_string(json_object_object_get(cmds[i], "execute")), name))
            return TRUE;
    }
    return FALSE;
}

/* Stage 2 of an add is the batch of device_add commands with a chardev. */
static gboolean
is_frontend_stage(json_object *const *cmds, guint n)
{
    for (guint i = 0; i < n; i++) {
        json_object *args = json_object_object_get(cmds[i], "arguments");

        if (g_str_equal(json_object_get_string(json_object_object_get(cmds[i], "execute")),
                        "device_add") &&
            json_object_object_get(args, "chardev"))
            return TRUE;
    }
    return FALSE;
}

static void
take_ccid_id(Hooked *h)
{
    g_autoptr(json_object) ret = testvm_exec(h->f->inspect,
                                             qmp_cmd_device_add("usb-kbd", "smartcard0-ccid",
                                                                NULL));
}

static void
take_port_two(Hooked *h)
{
    testvm_add_port(h->f->inspect, "intruder", "intruder", "vs0.0", 2, "org.example.intruder");
}

/* A snapshot without the lines naming @intruder. */
static char *
without(const char *snapshot, const char *intruder)
{
    g_auto(GStrv) lines = g_strsplit(snapshot, "\n", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autofree char *word = g_strdup_printf(" %s ", intruder);

    for (guint i = 0; lines[i]; i++) {
        if (!strstr(lines[i], word))
            g_ptr_array_add(kept, lines[i]);
    }
    g_ptr_array_add(kept, NULL);
    return g_strjoinv("\n", (char **)kept->pdata);
}

static gboolean
hooked_run(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies, GError **error)
{
    Hooked *h = impl;
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func(qmp_json_free);
    SvcReply *r = NULL;

    if (is_frontend_stage(cmds, n) && h->hook == HOOK_KILL_ON_FRONTENDS)
        testvm_kill(h->f->vm);
    if (is_frontend_stage(cmds, n) && h->hook == HOOK_RACE_ON_FRONTENDS)
        take_port_two(h);
    if (has_command(cmds, n, "chardev-add") && h->hook == HOOK_RACE_ON_CHARDEVS)
        take_ccid_id(h);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(batch, json_object_get(cmds[i]));
    if (!svc_vm_run(h->f->svc, batch, &r, error))
        return FALSE;
    memcpy(replies, r, n * sizeof(*r));
    g_free(r);
    return TRUE;
}

static gboolean
hooked_wait_deleted(gpointer impl, GHashTable *pending, gint64 deadline, GError **error)
{
    Hooked *h = impl;
    g_autoptr(GHashTable) never = NULL;

    if (h->hook == HOOK_KILL_ON_WAIT)
        testvm_kill(h->f->vm);
    if (h->hook != HOOK_DEAF)
        return svc_vm_wait_deleted(h->f->svc, pending, deadline, error);
    /* Let the real events pass unseen until the deadline. */
    never = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_add(never, (gpointer)"no-such-device");
    return svc_vm_wait_deleted(h->f->svc, never, deadline, error);
}

static const SvcTransportOps hooked_ops = {
    .run = hooked_run,
    .wait_deleted = hooked_wait_deleted,
};

static SvcVm *
hooked_vm(Hooked *h, Fixture *f, Hook hook)
{
    h->f = f;
    h->hook = hook;
    return svc_vm_new(&hooked_ops, h);
}

static void
setup(Fixture *f, gconstpointer data)
{
    fixture_start(f, 0, data);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    fixture_stop(f);
}

static void
test_rollback_frontends(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_RACE_ON_FRONTENDS);
    const char *texts[] = { "serial", "serial", "webdav", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;
    g_autofree char *after_without = NULL;

    g_assert_false(add_specs(svc, texts, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_QEMU);
    g_assert_nonnull(strstr(error->message, "cannot add 'serial': "));
    /* serial0 and webdav0 got in; the undo waits for their removal before their chardevs
     * go, or QEMU would answer "is busy". */
    after = vm_snapshot(f->inspect);
    g_assert_nonnull(strstr(after, "device intruder"));
    after_without = without(after, "intruder");
    g_assert_cmpstr(after_without, ==, before);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 1);
}

static void
test_rollback_controllers(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_RACE_ON_CHARDEVS);
    const char *texts[] = { "serial", "smartcard", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;
    g_autofree char *after_without = NULL;

    g_assert_false(add_specs(svc, texts, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_QEMU);
    g_assert_nonnull(strstr(error->message, "cannot add 'smartcard': "));
    /* Both chardevs were added in the same batch as the refused usb-ccid; both are gone, and
     * no smartcard marker was left since no card was tried. */
    after = vm_snapshot(f->inspect);
    g_assert_nonnull(strstr(after, "device smartcard0-ccid child<usb-kbd>"));
    after_without = without(after, "smartcard0-ccid");
    g_assert_cmpstr(after_without, ==, before);
}

/* QEMU chains hubs onto a full USB bus, up to a depth: with one root port, 36 devices fit.
 * Filled to 35 here, so the second usb-redir of a batch is refused by QEMU itself. */
static char **
nearly_full_usb(void)
{
    GPtrArray *args = g_ptr_array_new();

    g_ptr_array_add(args, g_strdup("-device"));
    g_ptr_array_add(args, g_strdup("qemu-xhci,id=xhci1,p2=1,p3=0"));
    for (guint i = 0; i < 35; i++) {
        g_ptr_array_add(args, g_strdup("-device"));
        g_ptr_array_add(args, g_strdup("usb-kbd,bus=xhci1.0"));
    }
    g_ptr_array_add(args, NULL);
    return (char **)g_ptr_array_free(args, FALSE);
}

static void
test_rollback_usb_full(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "serial", "usbredir,bus=xhci1.0", "usbredir,bus=xhci1.0", "webdav",
                            NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *before = vm_snapshot(f->inspect);
    g_autofree char *after = NULL;

    g_assert_false(add_specs(f->svc, texts, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_QEMU);
    g_assert_nonnull(strstr(error->message, "cannot add 'usbredir': "));
    g_assert_nonnull(strstr(error->message, "no free ports"));
    after = vm_snapshot(f->inspect);
    g_assert_cmpstr(after, ==, before);
}

static void
test_killed_during_add(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_KILL_ON_FRONTENDS);
    const char *texts[] = { "webdav", "serial", NULL };
    g_autoptr(GError) error = NULL;

    g_assert_false(add_specs(svc, texts, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_TRANSPORT);
    g_assert_nonnull(strstr(error->message, "closed"));
}

static void
test_killed_during_removal(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_KILL_ON_WAIT);
    const char *texts[] = { "webdav", "serial", NULL };
    g_autoptr(GError) error = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    g_assert_false(svc_remove(svc, NULL, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_TRANSPORT);
}

static void
test_timeout_then_finish(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_DEAF);
    const char *texts[] = { "serial", "serial", NULL };
    const char *one[] = { "serial", NULL };
    const char *ids[] = { "serial0", "serial1", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) removed = NULL;
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) listed = NULL;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    svc_vm_set_timeout(svc, 300);
    g_assert_false(svc_remove(svc, NULL, &removed, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(error->message, "'serial0'"));
    g_assert_nonnull(strstr(error->message, "'serial1'"));
    g_assert_cmpuint(removed->len, ==, 0);
    g_clear_error(&error);
    /* The devices went, their chardevs were kept: removing a busy one would fail. */
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 2);
    listed = svc_list(f->svc, &error);
    g_assert_cmpuint(listed->len, ==, 2);
    for (guint i = 0; i < listed->len; i++)
        g_assert_cmpint(((SvcChannel *)listed->pdata[i])->state, ==, SVC_STATE_NO_DEVICE);

    /* Their ids stay taken while their chardevs exist: a new channel must not reuse them. */
    g_assert_true(add_specs(f->svc, one, &added, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(((SvcChannel *)added->pdata[0])->id, ==, "serial2");

    g_assert_true(svc_remove(f->svc, ids, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 1);
}

/* Many channels left: how many, the first few in list's order, and what to do (issue 12,
 * item 12).  Before: every id, in hash order, and no count. */
static void
test_timeout_message(Fixture *f, gconstpointer data)
{
    Hooked h = { NULL };
    g_autoptr(SvcVm) svc = hooked_vm(&h, f, HOOK_DEAF);
    const char *texts[13];
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < 12; i++)
        texts[i] = "serial";
    texts[12] = NULL;
    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    svc_vm_set_timeout(svc, 300);
    g_assert_false(svc_remove(svc, NULL, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_TIMEOUT);
    g_assert_cmpstr(error->message, ==,
                    "QEMU did not confirm within 0.3 s the removal of 12 channels: 'serial0', "
                    "'serial1', 'serial2', 'serial3', 'serial4' and 7 more; their chardevs stay "
                    "until it does: remove them again to finish");
    g_clear_error(&error);
    g_assert_true(svc_remove(f->svc, NULL, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
}

static void
on_deleted(const char *name, json_object *event, gpointer user_data)
{
    *(gboolean *)user_data |= g_str_equal(name, "DEVICE_DELETED");
}

static void
test_removed_by_hand(Fixture *f, gconstpointer data)
{
    const char *texts[] = { "serial", NULL };
    const char *ids[] = { "serial0", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) listed = NULL;
    g_autoptr(json_object) ret = NULL;
    gboolean deleted = FALSE;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    g_assert_true(add_specs(f->svc, texts, NULL, &error));
    qmp_client_set_event_handler(f->inspect, on_deleted, &deleted);
    ret = testvm_exec(f->inspect, qmp_cmd_device_del("serial0"));
    while (!deleted) {
        g_assert_true(qmp_client_wait_event(f->inspect, deadline, &error));
        g_assert_no_error(error);
    }
    listed = svc_list(f->svc, &error);
    g_assert_cmpuint(listed->len, ==, 1);
    g_assert_cmpint(((SvcChannel *)listed->pdata[0])->state, ==, SVC_STATE_NO_DEVICE);
    g_assert_true(svc_remove(f->svc, ids, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);
}

/* What libvirt or a hand-written command line puts there. */
static const char *const foreign[] = {
    "-chardev", "spicevmc,id=charchannel0,name=vdagent",
    "-device", "virtserialport,bus=vs0.0,nr=1,chardev=charchannel0,id=channel0,"
               "name=com.redhat.spice.0",
    "-chardev", "spiceport,id=charchannel1,name=org.spice-space.webdav.0",
    "-device", "virtserialport,bus=vs0.0,nr=2,chardev=charchannel1,id=channel1,"
               "name=org.spice-space.webdav.0",
    "-chardev", "null,id=charqga",
    "-device", "virtserialport,bus=vs0.0,nr=3,chardev=charqga,name=org.qemu.guest_agent.0",
    "-chardev", "spicevmc,id=charredir0,name=usbredir",
    "-device", "usb-redir,chardev=charredir0,id=redir0",
    NULL
};

static const SvcChannel *
find(GPtrArray *channels, const char *id)
{
    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];

        if (g_str_equal(ch->id, id))
            return ch;
    }
    g_error("no channel '%s' listed", id);
}

static void
test_foreign(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) listed = svc_list(f->svc, &error);
    g_autoptr(GPtrArray) added = NULL;
    g_autoptr(GPtrArray) after = NULL;
    const char *agent[] = { "vdagent", NULL };
    const char *webdav[] = { "webdav", NULL };
    const char *qga_name[] = { "port,fqdn=org.example.a,port-name=org.qemu.guest_agent.0", NULL };
    const char *serial[] = { "serial", NULL };
    const char *theirs[] = { "channel0", NULL };
    const SvcChannel *ch;
    g_autofree char *before = NULL;
    g_autofree char *unchanged = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(listed->len, ==, 3);
    ch = find(listed, "channel0");
    g_assert_false(ch->ours);
    g_assert_cmpstr(ch->kind->name, ==, "vdagent");
    g_assert_cmpstr(ch->port_name, ==, "com.redhat.spice.0");
    g_assert_cmpuint(ch->nr, ==, 1);
    g_assert_cmpstr(ch->bus, ==, "vs0.0");
    g_assert_cmpstr(find(listed, "channel1")->kind->name, ==, "webdav");
    g_assert_cmpstr(find(listed, "redir0")->kind->name, ==, "usbredir");

    before = vm_snapshot(f->inspect);
    g_assert_false(add_specs(f->svc, agent, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
    g_clear_error(&error);
    g_assert_false(add_specs(f->svc, webdav, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_CAPACITY);
    g_clear_error(&error);
    g_assert_false(add_specs(f->svc, qga_name, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NAME_IN_USE);
    g_clear_error(&error);
    g_assert_false(svc_remove(f->svc, theirs, NULL, &error));
    g_assert_error(error, SVC_ERROR, SVC_ERROR_NOT_OURS);
    g_clear_error(&error);
    unchanged = vm_snapshot(f->inspect);
    g_assert_cmpstr(unchanged, ==, before);

    g_assert_true(add_specs(f->svc, serial, &added, &error));
    g_assert_cmpuint(((SvcChannel *)added->pdata[0])->nr, ==, 4);
    g_assert_true(svc_remove(f->svc, NULL, NULL, &error));
    g_assert_no_error(error);
    after = svc_list(f->svc, &error);
    g_assert_cmpuint(after->len, ==, 3);
}

int
main(int argc, char **argv)
{
    g_auto(GStrv) usb_args = nearly_full_usb();

    g_test_init(&argc, &argv, NULL);
    g_test_add("/transaction/rollback/frontends", Fixture, NULL, setup,
               test_rollback_frontends, teardown);
    g_test_add("/transaction/rollback/controllers", Fixture, NULL, setup,
               test_rollback_controllers, teardown);
    g_test_add("/transaction/rollback/usb-full", Fixture, usb_args, setup,
               test_rollback_usb_full, teardown);
    g_test_add("/transaction/killed/during-add", Fixture, NULL, setup, test_killed_during_add,
               teardown);
    g_test_add("/transaction/killed/during-removal-wait", Fixture, NULL, setup,
               test_killed_during_removal, teardown);
    g_test_add("/transaction/remove/timeout-then-finish", Fixture, NULL, setup,
               test_timeout_then_finish, teardown);
    g_test_add("/transaction/remove/timeout-message", Fixture, NULL, setup,
               test_timeout_message, teardown);
    g_test_add("/transaction/remove/device-removed-by-hand", Fixture, NULL, setup,
               test_removed_by_hand, teardown);
    g_test_add("/transaction/foreign", Fixture, foreign, setup, test_foreign, teardown);
    return g_test_run();
}
