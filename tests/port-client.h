/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/port-client.h — a spice-gtk client that finds SPICE ports by name and passes bytes
 * through them, the way a SPICE client application does. */
#pragma once

#include <spice-client.h>

/* A client sees a port within milliseconds; this leaves room for valgrind and a busy machine. */
#define PORT_CLIENT_TIMEOUT_S 60

typedef struct _PortClient PortClient;

/* A session on the SPICE unix socket @path; every port channel the server announces is
 * connected, and what it receives kept.  Waiting runs the default main context. */
PortClient *port_client_connect(const char *path);
void port_client_free(PortClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PortClient, port_client_free)

/* The connected port channel named @name (owned by the client), once there is one. */
SpicePortChannel *port_client_wait_port(PortClient *c, const char *name, GError **error);
/* The first @len bytes @port received, once they are there. */
GBytes *port_client_wait_data(PortClient *c, SpicePortChannel *port, gsize len, GError **error);
/* Write @data to @port once the guest has opened it (spice-gtk refuses before: "The port is
 * not opened"), and wait until it is sent. */
gboolean port_client_write(PortClient *c, SpicePortChannel *port, GBytes *data, GError **error);
