/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin/dry-run.c — what a change would do, step by step, for --dry-run. */
#include "config.h"

#include "svc-private.h"

static void
step_free(SvcStep *step)
{
    if (!step)
        return;
    g_free(step->what);
    g_ptr_array_unref(step->ids);
    g_free(step->xml);
    if (step->commands)
        json_object_put(step->commands);
    g_free(step);
}

SvcDryRun *
svc_dry_run_new(void)
{
    SvcDryRun *run = g_new0(SvcDryRun, 1);

    run->channels = g_ptr_array_new_with_free_func((GDestroyNotify)svc_channel_free);
    run->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    return run;
}

void
svc_dry_run_free(SvcDryRun *run)
{
    if (!run)
        return;
    g_ptr_array_unref(run->channels);
    g_ptr_array_unref(run->steps);
    g_free(run);
}

SvcStep *
svc_dry_run_add_step(SvcDryRun *run, const char *what)
{
    SvcStep *step = g_new0(SvcStep, 1);

    step->what = g_strdup(what);
    step->ids = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(run->steps, step);
    return step;
}
