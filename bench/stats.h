/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bench's figures share: order statistics, a process's memory. */
#pragma once

#include <glib.h>

/* Of an array of doubles, left as it is. */
double stats_median(GArray *values);
double stats_minimum(GArray *values);
/* Nearest rank: the smallest value at least @pct per cent of @values are no greater than. */
double stats_percentile(GArray *values, guint pct);

/* A line of /proc/PID/status, such as "VmHWM" ("12345 kB"), or "unknown". */
char *stats_proc_status(GPid pid, const char *field);
