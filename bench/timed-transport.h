/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A transport that times every exchange of another, to split the library's time between QEMU
 * round trips and its own work. */
#pragma once

#include "spicevmc.h"

typedef struct {
    SvcVm *inner;             /* the real transport */
    GString *log;             /* one line per exchange since the last reset */
    gint64 in_transport;      /* µs spent in exchanges */
    gsize sent;               /* bytes of commands sent */
} TimedTransport;

/* A VM whose exchanges go through @inner (taken) and are timed in *@timed. */
SvcVm *timed_vm_new(SvcVm *inner, TimedTransport **timed);
void timed_transport_reset(TimedTransport *t);
/* The bytes of @cmd on the wire, as the QMP client writes it. */
gsize command_bytes(json_object *cmd);
