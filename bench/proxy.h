/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-bench's QMP proxy part: what going through spicevmc-qmp-proxy costs a QMP client. */
#pragma once

#include "testvm.h"

/* Start the spicevmc-qmp-proxy at @proxy on @vm's first monitor, time query-status through it
 * and directly on the second, identical monitor, and print the report lines.  The proxy is
 * killed before this returns, whatever happened; @vm's monitors must both be free. */
gboolean bench_proxy_run(TestVm *vm, const char *proxy, GError **error);
