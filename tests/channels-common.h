/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared helpers for the tests that drive libspicevmc against a real QEMU. */
#pragma once

#include "svc-private.h"
#include "testvm.h"

typedef struct {
    TestVm *vm;
    SvcVm *svc;               /* the code under test, on the VM's first monitor */
    QmpClient *inspect;       /* the test's own view of QEMU, on the second monitor */
} Fixture;

/* Start a VM with extra QEMU arguments and connect both monitors. */
void fixture_start(Fixture *f, guint max_ports, const char *const *extra);
void fixture_stop(Fixture *f);

/* Parse each text as a spec and add them all in one batch. */
gboolean add_specs(SvcVm *svc, const char *const *texts, GPtrArray **added, GError **error);

/* Everything a change could touch: chardevs, devices, objects — to prove "nothing changed". */
char *vm_snapshot(QmpClient *inspect);

/* The QOM type of device @id, or NULL. */
char *device_type(QmpClient *inspect, const char *id);
