/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/cli-libvirt.h — what virt-spicevmc-libvirt's files share: libvirt set up for the
 * library as its application, and sync's use of libvirt itself (sync-follow.c). */
#pragma once

#include "cli.h"

/* Before each connection to @uri: once per process, libvirt's and libxml2's printing off
 * (every error is one line from the command that met it) and libvirt's event loop registered;
 * and an embedded driver's URI noted, for the way out of the process.  FALSE when libvirt
 * could not initialize. */
gboolean cli_libvirt_connecting(const char *uri, GError **error);
/* After the first connection is open: libvirt's event loop starts in its thread. */
void cli_libvirt_connected(void);

/* The running domains with a persistent definition at @uri, by name. */
GStrv cli_sync_domains(const char *uri, GError **error);
/* sync --follow of @domains (NULL: every domain), until SIGTERM or SIGINT. */
gboolean cli_follow(Options *o, char **domains, GError **error);
