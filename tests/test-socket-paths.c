/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-socket-paths.c — socket paths too long for sun_path are refused, never cut; the
 * proxy's other options are checked before a socket is taken or made. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testvm.h"

/* The longest path a unix socket takes, and the one that is a byte too long. */
#define PATH_MAX_LEN 107

/* Refused: exit status 1, nothing on stdout, one line on stderr naming the path and the limit. */
static void
assert_refused(const Run *r, const char *prefix, const char *path)
{
    run_assert_error_line(r, prefix, path);
    g_assert_nonnull(strstr(r->err, "more than the 107"));
}

/* A VM whose QMP socket is also reachable at a 107-byte path: the one GLib would reach
 * instead of any longer path that starts with it. */
typedef struct {
    TestVm *vm;
    char *short_path;         /* 107 bytes, a hard link to the VM's QMP socket */
    char *long_path;          /* short_path and more: 108 bytes and over */
} Paths;

static void
paths_setup(Paths *p, gconstpointer data)
{
    g_autofree char *name = NULL;

    p->vm = testvm_start(0, NULL);
    g_assert_cmpuint(strlen(p->vm->dir) + 1, <, PATH_MAX_LEN);
    name = g_strnfill(PATH_MAX_LEN - strlen(p->vm->dir) - 1, 'q');
    p->short_path = g_build_filename(p->vm->dir, name, NULL);
    g_assert_cmpuint(strlen(p->short_path), ==, PATH_MAX_LEN);
    p->long_path = g_strconcat(p->short_path, "-and-more.sock", NULL);
    g_assert_cmpint(link(p->vm->qmp_path, p->short_path), ==, 0);
}

static void
paths_teardown(Paths *p, gconstpointer data)
{
    g_clear_pointer(&p->vm, testvm_free);
    g_free(p->short_path);
    g_free(p->long_path);
}

static void
test_check(void)
{
    g_autofree char *fits = g_strnfill(PATH_MAX_LEN, 'a');
    g_autofree char *too_long = g_strnfill(PATH_MAX_LEN + 1, 'a');
    g_autofree char *unix_too_long = g_strconcat("unix:", too_long, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocketConnectable) target = NULL;

    g_assert_true(qmp_check_unix_path(fits, &error));
    g_assert_no_error(error);
    g_assert_false(qmp_check_unix_path(too_long, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
    g_assert_cmpstr(error->message, ==, "the path is 108 bytes long, more than the 107 a unix "
                                        "socket path can have (use a shorter one, or a symlink "
                                        "to its directory)");
    g_clear_error(&error);
    g_assert_false(qmp_check_unix_path("", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_null(addr = qmp_unix_address_new(too_long, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
    g_clear_error(&error);
    g_assert_null(target = qmp_address_parse(unix_too_long, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
}

/* Before: the client reached the VM at the first 107 bytes, and list showed it. */
static void
test_client(Paths *p, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) client = qmp_client_connect(p->long_path, 10000, &error);

    g_assert_null(client);
    g_assert_error(error, QMP_ERROR, QMP_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "more than the 107"));
}

static void
test_cli_qmp(Paths *p, gconstpointer data)
{
    g_autofree char *unix_address = g_strconcat("unix:", p->long_path, NULL);
    const char *addresses[] = { p->long_path, unix_address };

    for (guint i = 0; i < G_N_ELEMENTS(addresses); i++) {
        const char *argv[] = { testvm_cli_path(), "--qmp", addresses[i], "list", NULL };
        g_auto(Run) r = { NULL };

        run_argv(&r, argv, NULL);
        assert_refused(&r, "virt-spicevmc: error: cannot connect to QMP socket", p->long_path);
    }
}

/* Before: the proxy served the VM at the first 107 bytes. */
static void
test_proxy_upstream(Paths *p, gconstpointer data)
{
    g_autofree char *listen = g_build_filename(p->vm->dir, "proxy.sock", NULL);
    const char *argv[] = { SPICEVMC_PROXY, "--upstream", p->long_path, "--listen", listen, NULL };
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    assert_refused(&r, "spicevmc-qmp-proxy: error: invalid --upstream", p->long_path);
    g_assert_false(g_file_test(listen, G_FILE_TEST_EXISTS));
}

/* Before: the proxy made a socket at the first 107 bytes, then crashed on a chmod of the whole
 * path without a GError, and left that socket behind. */
static void
test_proxy_listen(Paths *p, gconstpointer data)
{
    const char *argv[] = { SPICEVMC_PROXY, "--upstream", p->vm->qmp_path, "--listen",
                           p->long_path, NULL };
    g_autofree char *cut = g_strndup(p->long_path, PATH_MAX_LEN);
    g_auto(Run) r = { NULL };

    /* Where the socket would be made: not the hard link of the fixture. */
    g_assert_cmpint(g_unlink(p->short_path), ==, 0);
    run_argv(&r, argv, NULL);
    assert_refused(&r, "spicevmc-qmp-proxy: error: invalid --listen", p->long_path);
    g_assert_false(g_file_test(cut, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(p->long_path, G_FILE_TEST_EXISTS));
}

/* A path with control characters is shown escaped, on one line (issue 12, item 12). */
static void
test_proxy_control_chars(void)
{
    const char *argv[] = { SPICEVMC_PROXY, "--upstream", "/nonexistent/a\nb\x1b", "--listen",
                           "/nonexistent/proxy.sock", NULL };
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    g_test_message("stderr: %s", r.err);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpstr(r.err, ==, "spicevmc-qmp-proxy: error: cannot connect to QEMU's monitor "
                               "'/nonexistent/a\\nb\\x1b': No such file or directory\n");
}

/* The proxy's other option that bounds a wait, checked with the paths before any socket. */
static void
test_proxy_timeout(void)
{
    const char *argv[] = { SPICEVMC_PROXY, "--upstream", "/nonexistent/qmp.sock", "--listen",
                           "/nonexistent/proxy.sock", "--timeout", "0.0001", NULL };
    g_auto(Run) r = { NULL };

    run_argv(&r, argv, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpstr(r.err, ==, "spicevmc-qmp-proxy: error: invalid --timeout 0.0001: expected "
                               "seconds, from 0.001 (1 ms) to 86400 (a day)\n");
}

#define ADD_PATHS(path, test) g_test_add(path, Paths, NULL, paths_setup, test, paths_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket-paths/check", test_check);
    ADD_PATHS("/socket-paths/client", test_client);
    ADD_PATHS("/socket-paths/cli-qmp", test_cli_qmp);
    ADD_PATHS("/socket-paths/proxy-upstream", test_proxy_upstream);
    ADD_PATHS("/socket-paths/proxy-listen", test_proxy_listen);
    g_test_add_func("/socket-paths/proxy-control-chars", test_proxy_control_chars);
    g_test_add_func("/socket-paths/proxy-timeout", test_proxy_timeout);
    return g_test_run();
}
