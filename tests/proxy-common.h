/* The fixture of the proxy tests: a real QEMU and spicevmc-qmp-proxy in front of it. */
#pragma once

#include "testvm.h"

typedef struct {
    TestVm *vm;
    QmpClient *inspect;       /* QEMU's second monitor, for what QEMU itself says */
    GSubprocess *proxy;
    char *path;               /* the proxy's socket */
} Proxied;

/* The proxy under test: the one built, or $SPICEVMC_TEST_PROXY (to see a test fail against
 * another build). */
const char *proxied_program(void);
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

/* A client of the proxy, or of QEMU's monitor, at the byte level. */
typedef struct {
    GSocketConnection *conn;
    GDataInputStream *in;
    GOutputStream *out;
    GPtrArray *events;        /* names of the events read past, in order */
} Raw;

/* Connected to @path, the greeting read, and with @negotiate qmp_capabilities done. */
void raw_open(Raw *r, const char *path, gboolean negotiate);
void raw_close(Raw *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Raw, raw_close)
/* One command; with @fd >= 0, the fd goes by SCM_RIGHTS with its first bytes, as libvirt sends
 * it. */
void raw_send(Raw *r, const char *line, int fd);
/* The next message that is not an event. */
json_object *raw_read(Raw *r);
json_object *raw_exchange(Raw *r, const char *line, int fd);

#define ADD_PROXIED(path, data, test)                                                          \
    g_test_add(path, Proxied, data, proxied_setup, test, proxied_teardown)
