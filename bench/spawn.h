/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/spawn.h — a program run as users run it: its wall time from fork to exit, its peak RSS. */
#pragma once

#include <glib.h>

typedef struct {
    double ms;
    double rss_mib;
} Spawned;

/* Run @argv (standard output to /dev/null, or into *@out), and fail unless it exits 0. */
gboolean bench_spawn(const char *const *argv, char **out, Spawned *s, GError **error);
