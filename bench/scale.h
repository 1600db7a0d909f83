/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/scale.h — add, list and remove at N channels, and a cold start, against their floors. */
#pragma once

#include "report.h"
#include "testvm.h"

/* FALSE, and why, unless @vm has no SPICE chardev and no virtio-serial port, as QEMU says. */
gboolean bench_check_empty(TestVm *vm, GError **error);

/* virt-spicevmc add, list --json and remove --all at N = 1 … 250, each against floor-qmp. */
gboolean bench_scale_run(TestVm *vm, Report *report, GError **error);

/* Cold start of virt-spicevmc kinds and --qmp list --json against floor-qmp list, their peak
 * RSS; with a libvirtd at qemu:///system, -c URI DOMAIN list against virsh. */
gboolean bench_startup_run(TestVm *vm, Report *report, GError **error);
