/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bench's figures share: order statistics, a process's memory. */
#include "config.h"

#include <string.h>

#include "stats.h"

static int
compare_doubles(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static GArray *
sorted_copy(GArray *values)
{
    GArray *sorted = g_array_copy(values);

    g_array_sort(sorted, compare_doubles);
    return sorted;
}

double
stats_median(GArray *values)
{
    g_autoptr(GArray) sorted = sorted_copy(values);

    if (sorted->len % 2)
        return g_array_index(sorted, double, sorted->len / 2);
    return (g_array_index(sorted, double, sorted->len / 2 - 1) +
            g_array_index(sorted, double, sorted->len / 2)) / 2;
}

double
stats_minimum(GArray *values)
{
    double m = G_MAXDOUBLE;

    for (guint i = 0; i < values->len; i++)
        m = MIN(m, g_array_index(values, double, i));
    return m;
}

double
stats_percentile(GArray *values, guint pct)
{
    g_autoptr(GArray) sorted = sorted_copy(values);
    guint rank = (pct * sorted->len + 99) / 100;

    return g_array_index(sorted, double, CLAMP(rank, 1, sorted->len) - 1);
}

/* The kernel's view of a process, rather than what it says of itself. */
char *
stats_proc_status(GPid pid, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    g_autofree char *text = NULL;
    const char *value;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(value = strstr(text, key)))
        return g_strdup("unknown");
    value += strlen(key);
    value += strspn(value, " \t");
    return g_strndup(value, strcspn(value, "\n"));
}
