/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/proxy-clients.h — the bench's QMP clients (proxy-clients.c). */
#pragma once

#include "qmp.h"

#define BENCH_TIMEOUT_MS 30000
#define BENCH_MAX_CLIENTS 8

gint64 bench_now_ns(void);

/* @count clients at once, @n query-status round trips each, one at a time; their times (us)
 * appended to @us (may be NULL). */
gboolean bench_turns(QmpClient **clients, guint count, guint n, GArray *us, GError **error);

/* A client of its own, at the byte level, negotiated as QmpClient does it. */
typedef struct _BenchRaw BenchRaw;

BenchRaw *bench_raw_connect(const char *path, GError **error);
void bench_raw_free(BenchRaw *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BenchRaw, bench_raw_free)
/* @n query-status with at most @depth in flight; the rate (commands/s) appended to @rates. */
gboolean bench_pipeline(BenchRaw *r, guint n, guint depth, GArray *rates, GError **error);
/* @n query-status, @depth always in flight; each one's time (us) appended to @us. */
gboolean bench_in_flight(BenchRaw *r, guint n, guint depth, GArray *us, GError **error);
