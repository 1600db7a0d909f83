/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/sync.h — virt-spicevmc sync --follow: from defineXML to the channel live, and what
 * following definitions costs. */
#pragma once

#include "report.h"

/* With a libvirtd at qemu:///system (else the figures are left out, saying so). */
gboolean bench_sync_run(Report *report, GError **error);
