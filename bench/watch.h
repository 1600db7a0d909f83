/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/watch.h — how long a change takes to reach `virt-spicevmc watch`. */
#pragma once

#include "report.h"

/* On a QEMU of its own behind spicevmc-qmp-proxy at @proxy, a watch of the proxy and another
 * client doing chardev-add + device_add, then device_del, by hand, ROUNDS times: from the
 * device_add (or device_del) sent to the watch's line read, median and worst; and a
 * spicevmc-add, which the proxy announces.  Everything it started is gone before it returns. */
gboolean bench_watch_run(const char *proxy, Report *report, GError **error);
