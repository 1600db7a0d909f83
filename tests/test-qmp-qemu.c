/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the QMP client and command builders against a real QEMU. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "testvm.h"

/* QEMU may take a while to start under valgrind or on a loaded machine; only a bug waits
 * this long. */
#define TIMEOUT_MS 30000

typedef struct {
    TestVm *vm;
    QmpClient *client;        /* the connection under test */
    QmpClient *inspect;       /* the test's own, to ask QEMU what it has */
    GPtrArray *events;        /* the events dispatched, in order (references) */
    GError *error;
} Fixture;

static void
on_event(const char *name, json_object *event, gpointer user_data)
{
    Fixture *f = user_data;

    g_ptr_array_add(f->events, json_object_get(event));
}

static void
setup(Fixture *f, gconstpointer data)
{
    f->vm = testvm_start(0, NULL);
    f->client = qmp_client_connect(f->vm->qmp_path, TIMEOUT_MS, &f->error);
    g_assert_no_error(f->error);
    f->inspect = testvm_qmp(f->vm);
    f->events = g_ptr_array_new_with_free_func(qmp_json_free);
    qmp_client_set_event_handler(f->client, on_event, f);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->client, qmp_client_free);
    g_clear_pointer(&f->inspect, qmp_client_free);
    g_clear_pointer(&f->vm, testvm_free);
    g_ptr_array_unref(f->events);
    g_clear_error(&f->error);
}

static void
test_greeting(Fixture *f, gconstpointer data)
{
    json_object *qmp = member(qmp_client_get_greeting(f->client), "QMP");
    json_object *qemu = member(member(qmp, "version"), "qemu");

    g_assert_cmpint(member_int(qemu, "major"), >=, 7);
    g_assert_true(json_object_is_type(member(qmp, "capabilities"), json_type_array));
}

static void
test_execute(Fixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();
    g_autoptr(json_object) ret = qmp_client_execute(f->client, cmd, &f->error);

    g_assert_no_error(f->error);
    /* The VM was started with -S. */
    g_assert_cmpstr(member_str(ret, "status"), ==, "prelaunch");
    g_assert_false(member_bool(ret, "running"));
}

static void
test_error(Fixture *f, gconstpointer data)
{
    g_autoptr(json_object) cmd = qmp_cmd_device_del("nope");
    g_autoptr(json_object) reply = NULL;
    g_autoptr(json_object) ret = NULL;

    g_assert_null(qmp_client_execute(f->client, cmd, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_COMMAND);
    g_assert_cmpstr(f->error->message, ==, "Device 'nope' not found");
    g_clear_error(&f->error);

    /* The same through execute_many, which keeps the whole reply. */
    g_assert_true(qmp_client_execute_many(f->client, &cmd, 1, &reply, &f->error));
    g_assert_no_error(f->error);
    g_assert_cmpstr(qmp_reply_error_class(reply), ==, "DeviceNotFound");
    g_assert_null(qmp_reply_take_return(reply, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_COMMAND);
}

/* Three kinds of command whose replies tell them apart. */
static json_object *
pipelined_command(guint i)
{
    switch (i % 3) {
    case 0:
        return qmp_cmd_query_status();
    case 1:
        return qmp_cmd_qom_list("/machine/peripheral");
    default:
        return qmp_cmd_device_del("nope");
    }
}

static void
assert_pipelined_reply(json_object *reply, guint i)
{
    switch (i % 3) {
    case 0:
        g_assert_cmpstr(member_str(member(reply, "return"), "status"), ==, "prelaunch");
        break;
    case 1:
        g_assert_true(json_object_is_type(member(reply, "return"), json_type_array));
        break;
    default:
        g_assert_cmpstr(qmp_reply_error_class(reply), ==, "DeviceNotFound");
        break;
    }
}

static void
test_pipelined(Fixture *f, gconstpointer data)
{
    json_object *cmds[50];
    json_object *replies[G_N_ELEMENTS(cmds)];

    for (guint i = 0; i < G_N_ELEMENTS(cmds); i++)
        cmds[i] = pipelined_command(i);
    g_assert_true(qmp_client_execute_many(f->client, cmds, G_N_ELEMENTS(cmds), replies,
                                          &f->error));
    g_assert_no_error(f->error);
    for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
        assert_pipelined_reply(replies[i], i);
        json_object_put(replies[i]);
        json_object_put(cmds[i]);
    }
}

static void
execute_ok(Fixture *f, json_object *cmd)
{
    g_autoptr(json_object) owned = cmd;
    g_autoptr(json_object) ret = qmp_client_execute(f->client, owned, &f->error);

    g_assert_no_error(f->error);
    g_assert_nonnull(ret);
}

static gboolean
saw_device_deleted(Fixture *f, const char *id)
{
    for (guint i = 0; i < f->events->len; i++) {
        json_object *event = f->events->pdata[i];

        if (g_strcmp0(member_str(event, "event"), "DEVICE_DELETED") == 0 &&
            g_strcmp0(member_str(member(event, "data"), "device"), id) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Wait until QEMU reports that device @id is gone; the event may have come with a reply. */
static void
wait_device_deleted(Fixture *f, const char *id)
{
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

    while (!saw_device_deleted(f, id)) {
        g_assert_true(qmp_client_wait_event(f->client, deadline, &f->error));
        g_assert_no_error(f->error);
    }
}

static void
test_event(Fixture *f, gconstpointer data)
{
    execute_ok(f, qmp_cmd_chardev_add_spiceport("ch0", "org.spice-space.test.0"));
    execute_ok(f, qmp_cmd_device_add_virtio_port("virtserialport", "port0", "vs0.0", 1, "ch0",
                                                 "org.spice-space.test.0"));
    g_assert_true(testvm_has_device(f->inspect, "port0"));

    execute_ok(f, qmp_cmd_device_del("port0"));
    wait_device_deleted(f, "port0");
    g_assert_false(testvm_has_device(f->inspect, "port0"));
    execute_ok(f, qmp_cmd_chardev_remove("ch0"));
    g_assert_false(testvm_has_chardev(f->inspect, "ch0"));
}

/* Every builder's arguments as QEMU 7.2 takes them, checked by QEMU itself. */
static void
test_builders(Fixture *f, gconstpointer data)
{
    g_autoptr(json_object) type = NULL;
    g_autoptr(json_object) get = qmp_cmd_qom_get("/machine/peripheral/redir0", "type");

    execute_ok(f, qmp_cmd_query_chardev());
    execute_ok(f, qmp_cmd_chardev_add_spicevmc("vmc0", "usbredir"));
    execute_ok(f, qmp_cmd_device_add_chardev("usb-redir", "redir0", "xhci0.0", "vmc0"));
    type = qmp_client_execute(f->client, get, &f->error);
    g_assert_no_error(f->error);
    g_assert_cmpstr(json_object_get_string(type), ==, "usb-redir");
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 1);

    execute_ok(f, qmp_cmd_device_del("redir0"));
    wait_device_deleted(f, "redir0");
    /* usb-redir takes its chardev with it (QEMU 7.2's usbredir_unrealize deletes it), so
     * there is nothing left for chardev-remove. */
    g_assert_false(testvm_has_chardev(f->inspect, "vmc0"));

    execute_ok(f, qmp_cmd_chardev_add_spicevmc("vmc1", "vdagent"));
    g_assert_true(testvm_has_chardev(f->inspect, "vmc1"));
    execute_ok(f, qmp_cmd_chardev_remove("vmc1"));
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, 0);

    /* Without a bus QEMU picks one of the right kind (here vs0's). */
    execute_ok(f, qmp_cmd_device_add("virtserialport", "port9", NULL));
    g_assert_true(testvm_has_device(f->inspect, "port9"));
}

static gpointer
kill_qemu(gpointer data)
{
    TestVm *vm = data;

    kill(vm->pid, SIGKILL);
    return NULL;
}

static void
test_killed(Fixture *f, gconstpointer data)
{
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    g_autoptr(GThread) killer = NULL;

    /* From another thread, so that QEMU most likely dies while the client waits; either way
     * the wait must end with the connection closed, not with the deadline. */
    killer = g_thread_new("kill-qemu", kill_qemu, f->vm);
    g_assert_false(qmp_client_wait_event(f->client, deadline, &f->error));
    g_assert_error(f->error, QMP_ERROR, QMP_ERROR_CLOSED);
    g_test_message("error: %s", f->error->message);
    g_thread_join(g_steal_pointer(&killer));
}

#define ADD(path, test) g_test_add(path, Fixture, NULL, setup, test, teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/qmp/qemu/greeting", test_greeting);
    ADD("/qmp/qemu/execute", test_execute);
    ADD("/qmp/qemu/error", test_error);
    ADD("/qmp/qemu/pipelined", test_pipelined);
    ADD("/qmp/qemu/event", test_event);
    ADD("/qmp/qemu/builders", test_builders);
    ADD("/qmp/qemu/killed", test_killed);
    return g_test_run();
}
