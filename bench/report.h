/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/report.h — the bench's figures: each against its floor, with its goal and the noise
 * measured in the same run; printed as a table and written as JSON. */
#pragma once

#include <glib.h>

typedef enum {
    GOAL_NONE,
    GOAL_AT_MOST,             /* the ratio (or the value, without a floor) at most the goal */
    GOAL_AT_LEAST,
} GoalKind;

typedef struct _Report Report;

Report *report_new(void);
void report_free(Report *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Report, report_free)

/* A figure measured in rounds, each round timing @values[i] against @floors[i] taken beside
 * it: the median of each, the median of the per-round ratios, and as noise the median
 * absolute deviation of those ratios relative to their median. */
void report_ratio(Report *r, const char *section, const char *name, const char *unit,
                  GArray *values, GArray *floors, const char *floor_name, GoalKind kind,
                  double goal);
/* A figure whose ratio and relative noise were measured elsewhere (from blocks of one run). */
void report_figure(Report *r, const char *section, const char *name, const char *unit,
                   double value, double floor, const char *floor_name, double ratio,
                   double noise, GoalKind kind, double goal);
/* A figure with no floor (a peak RSS, a latency): its median, its goal, its noise. */
void report_value(Report *r, const char *section, const char *name, const char *unit,
                  GArray *values, GoalKind kind, double goal);

void report_print(Report *r);
gboolean report_write_json(Report *r, const char *path, GError **error);
/* FALSE when a figure misses its goal by more than its noise. */
gboolean report_all_met(Report *r);
