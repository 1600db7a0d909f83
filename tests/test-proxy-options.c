/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-proxy-options.c — spicevmc-qmp-proxy's options, one row each: what it serves with
 * good ones, and one line, exit status 1 and no socket left behind with bad ones. */
#include "config.h"

#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "proxy-common.h"

typedef struct {
    Proxied *f;
    char *listen;             /* @LISTEN */
    int fd;                   /* @FD: a connection to QEMU's monitor, or -1 */
    GSocket *other;           /* a socket the row made at @LISTEN beforehand */
} Ctx;

typedef void (*Prepare)(Ctx *ctx);
typedef void (*Check)(Ctx *ctx, QmpClient *client);

typedef struct {
    const char *name;
    const char *args[12];     /* @UPSTREAM, @LISTEN, @FD, @SCHEMA, @DIR are replaced */
    Prepare prepare;
    /* NULL: the proxy must serve; then @check.  Otherwise its one line on standard error. */
    const char *error;
    Check check;
} Row;

/* ---- what rows prepare and check ------------------------------------------- */

static void
connect_fd(Ctx *ctx)
{
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(ctx->f->vm->qmp_path);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr),
                                                                NULL, &error);

    g_assert_no_error(error);
    ctx->fd = dup(g_socket_get_fd(g_socket_connection_get_socket(conn)));
}

/* A socket left behind by a proxy that died: bound, nobody listening. */
static void
stale_socket(Ctx *ctx)
{
    g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_DEFAULT, NULL);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(ctx->listen);

    g_assert_true(g_socket_bind(sock, addr, FALSE, NULL));
}

static void
live_socket(Ctx *ctx)
{
    ctx->other = testvm_listen_unix(ctx->listen);
}

/* QEMU's monitor, taken by another client first. */
static void
hold_monitor(Ctx *ctx)
{
    connect_fd(ctx);
}

static void
check_mode(Ctx *ctx, mode_t want)
{
    struct stat st;

    g_assert_cmpint(stat(ctx->listen, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, want);
}

static void
check_served(Ctx *ctx, QmpClient *client)
{
    g_autoptr(json_object) status = testvm_exec(client, qmp_cmd_query_status());

    g_assert_nonnull(json_object_object_get(status, "status"));
    check_mode(ctx, 0600);
}

static void
check_0660(Ctx *ctx, QmpClient *client)
{
    check_mode(ctx, 0660);
}

static void
check_group(Ctx *ctx, QmpClient *client)
{
    struct group *gr = getgrnam("nogroup");
    struct stat st;

    g_assert_cmpint(stat(ctx->listen, &st), ==, 0);
    g_assert_cmpint(st.st_gid, ==, gr->gr_gid);
}

static void
check_schema(Ctx *ctx, QmpClient *client)
{
    g_autoptr(json_object) commands = testvm_exec(client, qmp_cmd_query_commands());
    gboolean found = FALSE;

    for (size_t i = 0; i < json_object_array_length(commands); i++) {
        json_object *name = json_object_object_get(json_object_array_get_idx(commands, i), "name");

        found |= g_strcmp0(json_object_get_string(name), "spicevmc-add") == 0;
    }
    g_assert_true(found);
}

/* ---- the table -------------------------------------------------------------- */

#define UP "--upstream", "@UPSTREAM"
#define LISTEN "--listen", "@LISTEN"

static const Row rows[] = {
    { "defaults", { UP, LISTEN }, NULL, NULL, check_served },
    { "upstream-fd", { "--upstream-fd", "@FD", LISTEN }, connect_fd, NULL, check_served },
    { "mode", { UP, LISTEN, "--mode", "0660" }, NULL, NULL, check_0660 },
    { "group", { UP, LISTEN, "--group", "nogroup" }, NULL, NULL, check_group },
    { "schema", { UP, LISTEN, "--schema", "@SCHEMA" }, NULL, NULL, check_schema },
    { "max-clients", { UP, LISTEN, "--max-clients", "3" }, NULL, NULL, check_served },
    { "stale-socket", { UP, LISTEN }, stale_socket, NULL, check_served },
    { "live-socket", { UP, LISTEN }, live_socket,
      "cannot listen on '@LISTEN': Error binding to address (GUnixSocketAddress): "
      "Address already in use" },
    { "timeout", { UP, LISTEN, "--timeout", "0.5" }, hold_monitor,
      "QEMU's monitor at @UPSTREAM did not greet within 500 ms: another client may hold it" },
    { "timeout-zero", { UP, LISTEN, "--timeout", "0" }, NULL,
      "invalid --timeout 0: expected seconds, from 0.001 (1 ms) to 86400 (a day)" },
    { "timeout-not-a-number", { UP, LISTEN, "--timeout", "soon" }, NULL,
      "Cannot parse double value “soon” for --timeout" },
    { "max-clients-zero", { UP, LISTEN, "--max-clients", "0" }, NULL,
      "invalid --max-clients 0: expected 1 to 65536" },
    { "mode-not-octal", { UP, LISTEN, "--mode", "0999" }, NULL,
      "invalid --mode '0999': expected an octal mode such as 0660" },
    { "group-unknown", { UP, LISTEN, "--group", "no-such-group" }, NULL,
      "cannot listen on '@LISTEN': cannot give it to group 'no-such-group'" },
    { "schema-missing", { UP, LISTEN, "--schema", "@DIR/none.json" }, NULL,
      "cannot read the QAPI schema '@DIR/none.json': Failed to open file “@DIR/none.json”: "
      "No such file or directory" },
    { "upstream-missing", { "--upstream", "@DIR/none.sock", LISTEN }, NULL,
      "cannot connect to QEMU's monitor '@DIR/none.sock': No such file or directory" },
    { "upstream-fd-closed", { "--upstream-fd", "99", LISTEN }, NULL,
      "--upstream-fd 99: Bad file descriptor" },
    { "upstream-fd-not-socket", { "--upstream-fd", "2", LISTEN }, NULL,
      "--upstream-fd 2: not a socket" },
    { "no-upstream", { LISTEN }, NULL, "--upstream QMP_SOCKET is required: QEMU's QMP monitor" },
    { "no-listen", { UP }, NULL, "--listen PATH is required (or socket activation)" },
    { "unknown-option", { UP, LISTEN, "--bogus" }, NULL, "Unknown option --bogus" },
    { "argument", { UP, LISTEN, "extra" }, NULL, "unexpected argument 'extra'" },
};

static char *
expand(Ctx *ctx, const char *text)
{
    g_autofree char *fd = g_strdup_printf("%d", ctx->fd);
    const char *from[] = { "@UPSTREAM", "@LISTEN", "@FD", "@SCHEMA", "@DIR" };
    const char *to[] = { ctx->f->vm->qmp_path, ctx->listen, fd, SPICEVMC_SOURCE_SCHEMA,
                         ctx->f->vm->dir };
    char *out = g_strdup(text);

    for (guint i = 0; i < G_N_ELEMENTS(from); i++) {
        g_auto(GStrv) parts = g_strsplit(out, from[i], -1);

        g_free(out);
        out = g_strjoinv(to[i], parts);
    }
    return out;
}

/* The proxy's socket, once it is up. */
static QmpClient *
client_when_up(Ctx *ctx)
{
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;
    g_autoptr(GError) error = NULL;
    QmpClient *client;

    while (!(client = qmp_client_connect(ctx->listen, READ_TIMEOUT_S * 1000, &error))) {
        g_assert_true(g_error_matches(error, QMP_ERROR, QMP_ERROR_CONNECT));
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_clear_error(&error);
        g_usleep(1000);
    }
    return client;
}

static void
run_row(Proxied *f, const Row *row)
{
    Ctx ctx = { f, g_build_filename(f->vm->dir, "own.sock", NULL), -1, NULL };
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    ProxySpec spec = { .own_upstream = TRUE, .own_listener = TRUE, .capture_log = TRUE };
    g_autofree char *want = NULL;
    g_autofree char *line = NULL;

    g_test_message("row %s", row->name);
    if (row->prepare)
        row->prepare(&ctx);
    for (guint i = 0; row->args[i]; i++)
        g_ptr_array_add(args, expand(&ctx, row->args[i]));
    g_ptr_array_add(args, NULL);
    spec.args = (const char *const *)args->pdata;
    spec.keep_fd = ctx.fd;
    proxied_start(f, &spec);
    if (row->error) {
        g_autofree char *expanded = expand(&ctx, row->error);

        want = g_strdup_printf("spicevmc-qmp-proxy: error: %s", expanded);
        proxied_wait_exit(f);
        g_assert_cmpint(g_subprocess_get_exit_status(f->proxy), ==, 1);
        line = proxied_log_wait(f, "spicevmc-qmp-proxy:");
        g_assert_cmpstr(line, ==, want);
        proxied_log_drain(f);
        g_assert_cmpuint(proxied_log_count(f, "spicevmc-qmp-proxy:"), ==, 1);
        /* No socket left behind, and one that was not the proxy's left alone. */
        g_assert_cmpint(g_file_test(ctx.listen, G_FILE_TEST_EXISTS), ==, ctx.other != NULL);
    } else {
        g_autoptr(QmpClient) client = client_when_up(&ctx);

        row->check(&ctx, client);
        g_clear_pointer(&client, qmp_client_free);
        proxied_stop(f);
        g_assert_false(g_file_test(ctx.listen, G_FILE_TEST_EXISTS));
    }
    g_clear_object(&f->proxy);
    if (f->log_fd >= 0)
        close(f->log_fd);
    f->log_fd = -1;
    g_string_truncate(f->log, 0);
    if (ctx.fd >= 0)
        close(ctx.fd);
    g_clear_object(&ctx.other);
    unlink(ctx.listen);
    g_free(ctx.listen);
}

static void
test_row(Proxied *f, gconstpointer data)
{
    run_row(f, data);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *path = g_strdup_printf("/proxy-options/%s", rows[i].name);

        ADD_PROXIED_VM(path, &rows[i], test_row);
    }
    return g_test_run();
}
