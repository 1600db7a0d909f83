/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/private-libvirtd.h — a libvirtd of the test's own (a session daemon, run as nobody
 * when the test runs as root), which the test may stop and start again without disturbing the
 * machine's libvirtd and whoever uses it. */
#pragma once

#include <glib.h>

typedef struct {
    char *dir;                /* its HOME and XDG_RUNTIME_DIR, and the domains' files */
    char *socket;             /* where it listens */
    char *uri;                /* qemu+unix:///session?socket=… */
} PrivateLibvirtd;

/* Started in the empty directory @dir, and answering; NULL with @why_not when it cannot be
 * (no libvirtd, no setpriv). */
PrivateLibvirtd *private_libvirtd_start(const char *dir, char **why_not);
/* The one private_libvirtd_start() started in @dir (in another process, say). */
PrivateLibvirtd *private_libvirtd_find(const char *dir);
/* SIGTERM, and gone: the domains keep running, as when a system's libvirtd restarts. */
void private_libvirtd_stop(PrivateLibvirtd *p);
/* Stopped if running, started again on the same files, and answering. */
void private_libvirtd_restart(PrivateLibvirtd *p);
/* Every domain destroyed and undefined, the daemon stopped, its files and @dir removed; and
 * freed. */
void private_libvirtd_destroy(PrivateLibvirtd *p);
void private_libvirtd_free(PrivateLibvirtd *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrivateLibvirtd, private_libvirtd_free)
