/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/relay.h — a unix socket that relays each connection to another one, and that the test
 * can take away and give back: what a client of libvirtd sees of a restart, timed by the test. */
#pragma once

#include <glib.h>

typedef struct _Relay Relay;

/* Listening at @path, each connection relayed to the unix socket @upstream. */
Relay *relay_new(const char *path, const char *upstream);
/* Every connection cut, and nothing listens at the path any more (connect() is refused). */
void relay_stop(Relay *r);
/* Listening again. */
void relay_start(Relay *r);
void relay_free(Relay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Relay, relay_free)
