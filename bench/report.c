/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/report.c — the bench's figures as a table and as JSON, each with its verdict. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include <json-c/json.h>

#include "report.h"
#include "stats.h"

typedef struct {
    char *section;
    char *name;
    char *unit;
    double value;             /* median */
    double floor;             /* median of the floor, or NAN */
    char *floor_name;
    double ratio;             /* median of per-round ratios, or NAN */
    GoalKind kind;
    double goal;
    double noise;             /* relative */
} Figure;

struct _Report {
    GPtrArray *figures;
};

static void
figure_free(Figure *f)
{
    g_free(f->section);
    g_free(f->name);
    g_free(f->unit);
    g_free(f->floor_name);
    g_free(f);
}

Report *
report_new(void)
{
    Report *r = g_new0(Report, 1);

    r->figures = g_ptr_array_new_with_free_func((GDestroyNotify)figure_free);
    return r;
}

void
report_free(Report *r)
{
    if (!r)
        return;
    g_ptr_array_unref(r->figures);
    g_free(r);
}

/* Median absolute deviation, relative to the median. */
static double
relative_noise(GArray *values)
{
    double median = stats_median(values);
    g_autoptr(GArray) dev = g_array_sized_new(FALSE, FALSE, sizeof(double), values->len);

    for (guint i = 0; i < values->len; i++) {
        double d = fabs(g_array_index(values, double, i) - median);

        g_array_append_val(dev, d);
    }
    return median > 0 ? stats_median(dev) / median : 0;
}

static Figure *
figure_new(Report *r, const char *section, const char *name, const char *unit, GoalKind kind,
           double goal)
{
    Figure *f = g_new0(Figure, 1);

    f->section = g_strdup(section);
    f->name = g_strdup(name);
    f->unit = g_strdup(unit);
    f->kind = kind;
    f->goal = goal;
    f->floor = NAN;
    f->ratio = NAN;
    g_ptr_array_add(r->figures, f);
    return f;
}

void
report_ratio(Report *r, const char *section, const char *name, const char *unit,
             GArray *values, GArray *floors, const char *floor_name, GoalKind kind, double goal)
{
    Figure *f = figure_new(r, section, name, unit, kind, goal);
    g_autoptr(GArray) ratios = g_array_new(FALSE, FALSE, sizeof(double));

    g_assert(values->len == floors->len && values->len > 0);
    for (guint i = 0; i < values->len; i++) {
        double ratio = g_array_index(values, double, i) / g_array_index(floors, double, i);

        g_array_append_val(ratios, ratio);
    }
    f->value = stats_median(values);
    f->floor = stats_median(floors);
    f->floor_name = g_strdup(floor_name);
    f->ratio = stats_median(ratios);
    f->noise = relative_noise(ratios);
}

void
report_figure(Report *r, const char *section, const char *name, const char *unit, double value,
              double floor, const char *floor_name, double ratio, double noise, GoalKind kind,
              double goal)
{
    Figure *f = figure_new(r, section, name, unit, kind, goal);

    f->value = value;
    f->floor = floor;
    f->floor_name = g_strdup(floor_name);
    f->ratio = ratio;
    f->noise = noise;
}

void
report_value(Report *r, const char *section, const char *name, const char *unit,
             GArray *values, GoalKind kind, double goal)
{
    Figure *f = figure_new(r, section, name, unit, kind, goal);

    f->value = stats_median(values);
    f->noise = relative_noise(values);
}

/* What the goal is compared with: the ratio, or the value when there is no floor. */
static double
measured(const Figure *f)
{
    return isnan(f->ratio) ? f->value : f->ratio;
}

static const char *
verdict(const Figure *f)
{
    double m = measured(f);

    switch (f->kind) {
    case GOAL_NONE:
        return "";
    case GOAL_AT_MOST:
        return m <= f->goal ? "met" : m <= f->goal * (1 + f->noise) ? "missed, within noise"
                                                                    : "MISSED";
    case GOAL_AT_LEAST:
        return m >= f->goal ? "met" : m >= f->goal / (1 + f->noise) ? "missed, within noise"
                                                                    : "MISSED";
    }
    g_assert_not_reached();
}

gboolean
report_all_met(Report *r)
{
    for (guint i = 0; i < r->figures->len; i++) {
        if (g_str_equal(verdict(r->figures->pdata[i]), "MISSED"))
            return FALSE;
    }
    return TRUE;
}

static char *
goal_text(const Figure *f)
{
    const char *op = f->kind == GOAL_AT_MOST ? "<=" : ">=";

    if (f->kind == GOAL_NONE)
        return g_strdup("");
    return isnan(f->ratio) ? g_strdup_printf("%s %g %s", op, f->goal, f->unit)
                           : g_strdup_printf("%s %gx", op, f->goal);
}

void
report_print(Report *r)
{
    const char *section = NULL;

    g_print("\n%-11s %-26s %12s %12s %-13s %8s %7s  %-10s %s\n", "", "figure", "value", "floor",
            "(of)", "ratio", "noise", "goal", "verdict");
    for (guint i = 0; i < r->figures->len; i++) {
        const Figure *f = r->figures->pdata[i];
        g_autofree char *value = g_strdup_printf("%.2f %s", f->value, f->unit);
        g_autofree char *floor = isnan(f->floor) ? g_strdup("")
                                                 : g_strdup_printf("%.2f %s", f->floor, f->unit);
        g_autofree char *ratio = isnan(f->ratio) ? g_strdup("")
                                                 : g_strdup_printf("%.2fx", f->ratio);
        g_autofree char *goal = goal_text(f);

        g_print("%-11s %-26s %12s %12s %-13s %8s %6.1f%%  %-10s %s\n",
                g_strcmp0(section, f->section) ? f->section : "", f->name, value, floor,
                f->floor_name ? f->floor_name : "", ratio, f->noise * 100, goal, verdict(f));
        section = f->section;
    }
}

static void
add_number(json_object *obj, const char *key, double value)
{
    if (!isnan(value))
        json_object_object_add(obj, key, json_object_new_double(value));
}

gboolean
report_write_json(Report *r, const char *path, GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *date = g_date_time_format_iso8601(now);
    json_object *top = json_object_new_object();
    json_object *figures = json_object_new_array();
    gboolean ok;

    json_object_object_add(top, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(top, "date", json_object_new_string(date));
    for (guint i = 0; i < r->figures->len; i++) {
        const Figure *f = r->figures->pdata[i];
        g_autofree char *goal = goal_text(f);
        json_object *o = json_object_new_object();

        json_object_object_add(o, "section", json_object_new_string(f->section));
        json_object_object_add(o, "name", json_object_new_string(f->name));
        json_object_object_add(o, "unit", json_object_new_string(f->unit));
        add_number(o, "value", f->value);
        add_number(o, "floor", f->floor);
        if (f->floor_name)
            json_object_object_add(o, "floor_name", json_object_new_string(f->floor_name));
        add_number(o, "ratio", f->ratio);
        add_number(o, "noise", f->noise);
        if (f->kind != GOAL_NONE) {
            json_object_object_add(o, "goal", json_object_new_string(goal));
            json_object_object_add(o, "verdict", json_object_new_string(verdict(f)));
        }
        json_object_array_add(figures, o);
    }
    json_object_object_add(top, "figures", figures);
    ok = g_file_set_contents(path, json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY),
                             -1, error);
    json_object_put(top);
    return ok;
}
