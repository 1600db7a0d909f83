/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp/address.c — where a QMP monitor is: unix socket paths, checked, and HOST:PORT. */
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
