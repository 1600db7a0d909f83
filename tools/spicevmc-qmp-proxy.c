/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qmp-proxy: QEMU's QMP monitor to any number of clients, plus spicevmc-add,
 * spicevmc-remove and query-spicevmc, which libspicevmc runs over QEMU's connection. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/qmp-service.h"
#include "svc-private.h"

typedef struct {
    char *upstream;
    int upstream_fd;
    char *listen;
    int listen_fd;
    char *mode;
    char *group;
    char *schema;
    double timeout;           /* --timeout, seconds */
    guint timeout_ms;         /* the same, checked */
    int max_clients;
    char *made;               /* the socket --listen made, removed on the way out */
} Options;

#define MAX_CLIENTS_MAX 65536

/* ---- sockets ---------------------------------------------------------- */

/* "cannot listen on '/x': " before @error's message, the path escaped. */
static void
prefix_path(GError **error, const char *what, const char *path)
{
    g_autofree char *shown = qmp_escape(path);

    g_prefix_error(error, "%s '%s': ", what, shown);
}

/* GLib warns on its own about an fd that is not a socket: checked first, for one line. */
static GSocket *
socket_from_fd(const char *option, int fd, GError **error)
{
    struct stat st;
    GSocket *sock;

    if (fstat(fd, &st) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s %d: %s", option, fd,
                    g_strerror(errno));
        return NULL;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s %d: not a socket",
                    option, fd);
        return NULL;
    }
    if (!(sock = g_socket_new_from_fd(fd, error)))
        g_prefix_error(error, "%s %d: ", option, fd);
    return sock;
}

static GSocket *
connect_upstream(Options *o, GError **error)
{
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocket) sock = NULL;

    if (o->upstream_fd >= 0)
        return socket_from_fd("--upstream-fd", o->upstream_fd, error);
    if (!o->upstream) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "--upstream QMP_SOCKET is required: QEMU's QMP monitor");
        return NULL;
    }
    addr = qmp_unix_address_new(o->upstream, error);
    sock = addr ? g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, error)
                : NULL;
    if (!sock || !g_socket_connect(sock, addr, NULL, error)) {
        prefix_path(error, "cannot connect to QEMU's monitor", o->upstream);
        return NULL;
    }
    return g_steal_pointer(&sock);
}

static gboolean
is_listening(GSocketAddress *addr, const char *path)
{
    g_autoptr(GSocket) probe = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_DEFAULT, NULL);
    struct stat st;

    return stat(path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
           (probe && g_socket_connect(probe, addr, NULL, NULL));
}

/* The socket is made with the mode asked for (0600 by default), never wider for a moment; once
 * made, it goes again on every way out (options_clear()). */
static GSocket *
listen_path(Options *o, GError **error)
{
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocket) sock = NULL;
    guint64 mode = 0600;
    mode_t old;
    gboolean bound;

    if (o->mode && !g_ascii_string_to_unsigned(o->mode, 8, 0, 0777, &mode, NULL)) {
        g_autofree char *shown = qmp_escape(o->mode);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "invalid --mode '%s': expected an octal mode such as 0660", shown);
        return NULL;
    }
    if (!(addr = qmp_unix_address_new(o->listen, error))) {
        prefix_path(error, "cannot listen on", o->listen);
        return NULL;
    }
    if (!(sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_DEFAULT, error)))
        return NULL;
    /* A socket left by an earlier proxy that died; a live one would refuse to be replaced. */
    if (g_file_test(o->listen, G_FILE_TEST_EXISTS) && !is_listening(addr, o->listen))
        unlink(o->listen);
    old = umask(0177);
    bound = g_socket_bind(sock, addr, TRUE, error);
    umask(old);
    if (!bound) {
        prefix_path(error, "cannot listen on", o->listen);
        return NULL;
    }
    o->made = g_strdup(o->listen);
    if (chmod(o->listen, mode) < 0) {
        int saved = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot set its mode: %s",
                    g_strerror(saved));
        prefix_path(error, "cannot listen on", o->listen);
        return NULL;
    }
    if (o->group) {
        struct group *gr = getgrnam(o->group);

        if (!gr || chown(o->listen, -1, gr->gr_gid) < 0) {
            g_autofree char *shown = qmp_escape(o->group);

            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "cannot give it to group '%s'", shown);
            prefix_path(error, "cannot listen on", o->listen);
            return NULL;
        }
    }
    if (!g_socket_listen(sock, error))
        return NULL;
    return g_steal_pointer(&sock);
}

/* --listen PATH, --listen-fd N, or the socket systemd activated us with. */
static GSocket *
open_listener(Options *o, GError **error)
{
    const char *pid = g_getenv("LISTEN_PID");
    const char *fds = g_getenv("LISTEN_FDS");

    if (o->listen_fd >= 0)
        return socket_from_fd("--listen-fd", o->listen_fd, error);
    if (!o->listen && pid && fds && g_ascii_strtoll(pid, NULL, 10) == getpid() &&
        g_ascii_strtoll(fds, NULL, 10) >= 1)
        return g_socket_new_from_fd(3, error);
    if (!o->listen) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "--listen PATH is required (or socket activation)");
        return NULL;
    }
    return listen_path(o, error);
}

/* ---- main ------------------------------------------------------------- */

/* Whatever the way out, a socket the proxy made goes with it. */
static void
options_clear(Options *o)
{
    if (o->made)
        unlink(o->made);
    g_free(o->made);
    g_free(o->upstream);
    g_free(o->listen);
    g_free(o->mode);
    g_free(o->group);
    g_free(o->schema);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

/* One line, whatever the message holds. */
static int
fail(GError *error)
{
    g_autofree char *message = qmp_escape_message(error->message);

    qmp_proxy_log_error("%s", message);
    return 1;
}

/* Every path, the timeout and the bounds are checked before QEMU's monitor is taken or a
 * socket file made. */
static gboolean
check_options(Options *o, GError **error)
{
    if (!svc_timeout_ms("--timeout", o->timeout, &o->timeout_ms, error))
        return FALSE;
    if (o->upstream && !qmp_check_unix_path(o->upstream, error)) {
        prefix_path(error, "invalid --upstream", o->upstream);
        return FALSE;
    }
    if (o->listen && !qmp_check_unix_path(o->listen, error)) {
        prefix_path(error, "invalid --listen", o->listen);
        return FALSE;
    }
    if (o->max_clients < 1 || o->max_clients > MAX_CLIENTS_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "invalid --max-clients %d: expected 1 to %d", o->max_clients,
                    MAX_CLIENTS_MAX);
        return FALSE;
    }
    return TRUE;
}

/* How the greeting timeout names QEMU's monitor. */
static char *
upstream_name(Options *o)
{
    return o->upstream_fd >= 0 ? g_strdup_printf("fd %d", o->upstream_fd)
                               : g_strdup(o->upstream);
}

int
main(int argc, char **argv)
{
    g_auto(Options) o = { .upstream_fd = -1, .listen_fd = -1,
                          .timeout = SVC_DEFAULT_TIMEOUT_MS / 1000.0,
                          .max_clients = QMP_PROXY_DEFAULT_MAX_CLIENTS };
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        { "upstream", 'u', 0, G_OPTION_ARG_FILENAME, &o.upstream,
          "QEMU's QMP monitor socket", "PATH" },
        { "upstream-fd", 0, 0, G_OPTION_ARG_INT, &o.upstream_fd,
          "QEMU's QMP monitor, connected, on file descriptor N", "N" },
        { "listen", 'l', 0, G_OPTION_ARG_FILENAME, &o.listen,
          "Unix socket to serve clients on", "PATH" },
        { "listen-fd", 0, 0, G_OPTION_ARG_INT, &o.listen_fd,
          "A listening socket to serve clients on, on file descriptor N", "N" },
        { "mode", 'm', 0, G_OPTION_ARG_STRING, &o.mode, "Mode of the socket (default 0600)",
          "MODE" },
        { "group", 'g', 0, G_OPTION_ARG_STRING, &o.group, "Group of the socket", "GROUP" },
        { "schema", 0, 0, G_OPTION_ARG_FILENAME, &o.schema,
          "The QAPI schema of the commands (default: the built-in one)", "FILE" },
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &o.timeout,
          "Seconds to wait for QEMU: its greeting, each reply to spicevmc's commands, the "
          "confirmation of a removal (default " G_STRINGIFY(SVC_DEFAULT_TIMEOUT_S) ")", "SECONDS" },
        { "max-clients", 0, 0, G_OPTION_ARG_INT, &o.max_clients,
          "Clients served at once; the next wait until one leaves (default "
          G_STRINGIFY(QMP_PROXY_DEFAULT_MAX_CLIENTS) ")", "N" },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) upstream = NULL;
    g_autoptr(GSocket) listener = NULL;
    g_autoptr(QapiSchema) schema = NULL;
    g_autofree char *name = NULL;
    SvcQmpServeOptions serve = { 0 };

    /* A stop signal while the socket is being made must not leave it behind. */
    svc_qmp_block_stop_signals();
    setlocale(LC_ALL, "");
    g_set_prgname("spicevmc-qmp-proxy");
    qmp_proxy_log_install(g_get_prgname());
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_summary(context, "QEMU's QMP monitor for many clients, with spicevmc's "
                                          "commands added.");
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return fail(error);
    if (version) {
        printf("spicevmc-qmp-proxy (spicevmc) %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (!check_options(&o, &error))
        return fail(error);
    if (argc > 1) {
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "unexpected argument '%s'", argv[1]);
        return fail(error);
    }
    if (!(schema = (o.schema ? qapi_schema_load(o.schema, &error) : svc_qmp_schema(&error))) ||
        !(upstream = connect_upstream(&o, &error)) || !(listener = open_listener(&o, &error)))
        return fail(error);

    name = upstream_name(&o);
    serve.timeout_ms = o.timeout_ms;
    serve.max_clients = o.max_clients;
    serve.upstream = name;
    if (!svc_qmp_serve(upstream, listener, schema, &serve, &error))
        return fail(error);
    return 0;
}
