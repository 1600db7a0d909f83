/* The fixture of the proxy tests: a real QEMU and spicevmc-qmp-proxy in front of it. */
#pragma once

#include "testvm.h"

typedef struct {
    TestVm *vm;
    QmpClient *inspect;       /* QEMU's second monitor, for what QEMU itself says */
    GSubprocess *proxy;
    char *path;               /* the proxy's socket */
} Proxied;

/* The proxy gets a socket already listening, so clients can connect at once. */
void proxied_setup(Proxied *f, gconstpointer data);
void proxied_teardown(Proxied *f, gconstpointer data);
/* SIGTERM, as systemd stops it; the proxy must exit 0 within STOP_TIMEOUT_S (the test fails
 * rather than hangs).  Once it has exited, again is harmless. */
#define STOP_TIMEOUT_S 60
void proxied_stop(Proxied *f);
/* The next line of @in that is not an event, parsed; the names of the events before it are
 * appended to @events (may be NULL). */
json_object *proxied_read_reply(GDataInputStream *in, GPtrArray *events);

#define ADD_PROXIED(path, data, test)                                                          \
    g_test_add(path, Proxied, data, proxied_setup, test, proxied_teardown)
