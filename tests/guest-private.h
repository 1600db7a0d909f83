/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/guest-private.h — the line protocol between guest.c and the /init of guest-image.c. */
#pragma once

/* The guest says READY once, then answers each "ID COMMAND" line with "BEGIN ID\n", the
 * command's output, and "\nEND ID STATUS\n".  Markers no command prints by accident. */
#define GUEST_READY "@@svc-guest-ready@@"
#define GUEST_BEGIN "@@svc-guest-begin"
#define GUEST_END "@@svc-guest-end"
