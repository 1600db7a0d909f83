/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-bench's QMP proxy part: what going through spicevmc-qmp-proxy costs a QMP client. */
#pragma once

#include "report.h"
#include "testvm.h"

/* On a QEMU of its own with a monitor per client, time query-status round trips of 1 and 8
 * clients at once straight to QEMU, through bench/byte-relay and through the
 * spicevmc-qmp-proxy at @proxy, then pipelined; print the details and put the figures in
 * @report.  Everything it started is gone before it returns. */
gboolean bench_proxy_run(Report *report, const char *proxy, GError **error);
