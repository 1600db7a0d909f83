/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp/address.c — where a QMP monitor is (unix socket paths, checked, and HOST:PORT), and
 * reaching it, also while another client holds it. */
#include "config.h"

#include <string.h>
#include <sys/un.h>

#include <gio/gunixsocketaddress.h>

#include "qmp.h"

/* GLib cuts a longer path to fit sun_path without a word, and the socket reached or made is
 * then another one: the one at the first 107 bytes. */
#define UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)

gboolean
qmp_check_unix_path(const char *path, GError **error)
{
    gsize len = strlen(path);

    if (len == 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "a unix socket path must not be empty");
        return FALSE;
    }
    if (len <= UNIX_PATH_MAX)
        return TRUE;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                "the path is %" G_GSIZE_FORMAT " bytes long, more than the %" G_GSIZE_FORMAT
                " a unix socket path can have (use a shorter one, or a symlink to its directory)",
                len, (gsize)UNIX_PATH_MAX);
    return FALSE;
}

GSocketAddress *
qmp_unix_address_new(const char *path, GError **error)
{
    if (!qmp_check_unix_path(path, error))
        return NULL;
    return g_unix_socket_address_new(path);
}

static GSocketConnectable *
parse_host_port(const char *host_port, GError **error)
{
    g_autoptr(GSocketConnectable) target = g_network_address_parse(host_port, 0, error);

    /* Without a port GIO would take 0, and the connection would be refused for no clear
     * reason. */
    if (target && g_network_address_get_port(G_NETWORK_ADDRESS(target)) == 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "a TCP address needs a port (HOST:PORT)");
        return NULL;
    }
    return g_steal_pointer(&target);
}

GSocketConnectable *
qmp_address_parse(const char *address, GError **error)
{
    const char *path = address;

    if (g_str_has_prefix(address, "tcp:"))
        return parse_host_port(address + strlen("tcp:"), error);
    if (g_str_has_prefix(address, "unix:"))
        path = address + strlen("unix:");
    else if (!strchr(address, '/') && strchr(address, ':'))
        return parse_host_port(address, error);
    return G_SOCKET_CONNECTABLE(qmp_unix_address_new(path, error));
}

/* GIO nests prefixes that vary between versions ("Could not connect: No such file or
 * directory"); the reason is the last part, and our message names the address already. */
static const char *
reason(const char *message)
{
    const char *last = g_strrstr(message, ": ");

    return last ? last + 2 : message;
}

/* Longest pause between two tries at a monitor whose queue is full. */
#define BUSY_RETRY_MAX_US (50 * 1000)

/* QEMU serves one client per monitor and leaves a few more in the listening socket's queue;
 * once that is full, connect() fails with EAGAIN.  Try again as the queue empties, until
 * @deadline. */
static GSocketConnection *
connect_unix(const char *shown, GSocketAddress *addr, gint64 deadline, GError **error)
{
    gulong pause = 1000;

    for (gboolean told = FALSE;; told = TRUE) {
        g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                               G_SOCKET_PROTOCOL_DEFAULT, error);
        g_autoptr(GError) local = NULL;
        gint64 left;

        if (!sock)
            return NULL;
        if (g_socket_connect(sock, addr, NULL, &local))
            return g_socket_connection_factory_create_connection(sock);
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_CONNECT,
                        "cannot connect to QMP socket '%s': %s", shown, local->message);
            return NULL;
        }
        if ((left = deadline - g_get_monotonic_time()) <= 0) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                        "cannot connect to QMP socket '%s' in time: another client holds the "
                        "monitor and others are waiting for it (QEMU serves one client at a "
                        "time)", shown);
            return NULL;
        }
        if (!told)
            g_debug("QMP socket '%s' is busy: waiting for the client that holds it", shown);
        g_usleep(MIN((gint64)pause, left));
        pause = MIN(pause * 2, BUSY_RETRY_MAX_US);
    }
}

GSocketConnection *
qmp_address_connect(const char *address, gint64 deadline, GError **error)
{
    g_autoptr(GSocketClient) connector = g_socket_client_new();
    g_autoptr(GSocketConnectable) target = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *shown = qmp_escape(address);
    GSocketConnection *conn;
    gint64 left = deadline - g_get_monotonic_time();

    if (!(target = qmp_address_parse(address, &local))) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_CONNECT, "cannot connect to QMP socket '%s': %s",
                    shown, local->message);
        return NULL;
    }
    if (G_IS_UNIX_SOCKET_ADDRESS(target))
        return connect_unix(shown, G_SOCKET_ADDRESS(target), deadline, error);
    /* Bounds a TCP connect to an unresponsive host; GIO counts whole seconds. */
    g_socket_client_set_timeout(connector, MAX((left + 999999) / 1000000, 1));
    /* A monitor is never reached through the desktop's HTTP or SOCKS proxy. */
    g_socket_client_set_enable_proxy(connector, FALSE);
    if (!(conn = g_socket_client_connect(connector, target, NULL, &local)))
        g_set_error(error, QMP_ERROR, QMP_ERROR_CONNECT, "cannot connect to QMP socket '%s': %s",
                    shown, reason(local->message));
    return conn;
}
