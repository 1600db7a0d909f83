/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd units of spicevmc-qmp-proxy: systemd's own checker accepts them, and the proxy
 * serves the socket systemd hands it (systemd-socket-activate does as systemd does). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "skip.h"
#include "testvm.h"

#define UNIT "spicevmc-qmp-proxy@"
#define TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_S 30

/* The built units, with ExecStart pointing into the build tree, and an instance of each: what
 * systemctl would load for VM "vm1". */
static char *
units_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("spicevmc-units-XXXXXX", &error);
    const char *const suffixes[] = { "socket", "service" };

    g_assert_no_error(error);
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *name = g_strdup_printf(UNIT ".%s", suffixes[i]);
        g_autofree char *built = g_build_filename(UNITS_DIR, name, NULL);
        g_autofree char *copy = g_build_filename(dir, name, NULL);
        g_autofree char *instance = g_strdup_printf("%s/" UNIT "vm1.%s", dir, suffixes[i]);
        g_autofree char *text = NULL;
        g_autoptr(GRegex) exec = g_regex_new("^ExecStart=\\S+", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *edited = NULL;

        g_assert_true(g_file_get_contents(built, &text, NULL, &error));
        g_assert_no_error(error);
        edited = g_regex_replace_literal(exec, text, -1, 0, "ExecStart=" SPICEVMC_PROXY, 0,
                                         &error);
        g_assert_no_error(error);
        g_assert_true(g_file_set_contents(copy, edited, -1, &error));
        g_assert_no_error(error);
        g_assert_cmpint(symlink(name, instance), ==, 0);
    }
    return dir;
}

static void
test_verify(void)
{
    g_autofree char *dir = units_dir();
    g_autofree char *socket = g_strdup_printf("%s/" UNIT "vm1.socket", dir);
    g_autofree char *service = g_strdup_printf("%s/" UNIT "vm1.service", dir);
    const char *argv[] = { "systemd-analyze", "verify", "--man=no", socket, service, NULL };
    g_autofree char *analyze = g_find_program_in_path("systemd-analyze");
    g_auto(Run) r = { NULL };

    if (!analyze) {
        skip_missing("no systemd-analyze (package systemd)");
        testvm_remove_tree(dir);
        return;
    }
    run_argv(&r, argv, NULL);
    testvm_remove_tree(dir);
    run_assert_ok(&r);
}

/* A client, once systemd-socket-activate has made the socket. */
static QmpClient *
connect_when_there(const char *path)
{
    gint64 deadline = g_get_monotonic_time() + CONNECT_TIMEOUT_S * G_USEC_PER_SEC;

    for (;;) {
        g_autoptr(GError) error = NULL;
        QmpClient *c = qmp_client_connect(path, TIMEOUT_MS, &error);

        if (c || g_get_monotonic_time() > deadline) {
            g_assert_no_error(error);
            return c;
        }
        g_usleep(20 * 1000);
    }
}

static void
test_socket_activation(void)
{
    g_autoptr(TestVm) vm = NULL;
    g_autoptr(GSubprocess) activator = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autoptr(QmpClient) c = NULL;
    g_autoptr(json_object) ret = NULL;
    g_autofree char *activate = g_find_program_in_path("systemd-socket-activate");

    if (!activate) {
        skip_missing("no systemd-socket-activate (package systemd)");
        return;
    }
    vm = testvm_start(0, NULL);
    path = g_build_filename(vm->dir, "activated.qmp", NULL);
    activator = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                 "systemd-socket-activate", "--listen", path, SPICEVMC_PROXY,
                                 "--upstream", vm->qmp_path, NULL);
    g_assert_no_error(error);
    c = connect_when_there(path);
    ret = testvm_exec(c, json_tokener_parse("{\"execute\": \"query-spicevmc\"}"));
    g_assert_cmpstr(json_object_to_json_string(ret), ==, "[ ]");
    g_subprocess_force_exit(activator);
    g_subprocess_wait(activator, NULL, NULL);
}

/* spicevmc-qmp-proxy(8) tells where to put a VM's UPSTREAM: where the built unit reads it. */
static void
test_env_file(void)
{
    g_autofree char *unit = NULL;
    g_autofree char *man = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GRegex) env = g_regex_new("^EnvironmentFile=-(\\S+)%i\\.conf$", G_REGEX_MULTILINE,
                                        0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *told = NULL;

    g_assert_true(g_file_get_contents(UNITS_DIR "/" UNIT ".service", &unit, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(MAN_PAGE, &man, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_regex_match(env, unit, 0, &match));
    dir = g_match_info_fetch(match, 1);
    told = g_strdup_printf("echo UPSTREAM=/run/vm1/qmp.sock > %svm1.conf", dir);
    g_assert_nonnull(strstr(man, told));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/systemd/verify", test_verify);
    g_test_add_func("/systemd/env-file", test_env_file);
    g_test_add_func("/systemd/socket-activation", test_socket_activation);
    return g_test_run();
}
