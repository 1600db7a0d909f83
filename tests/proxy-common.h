/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the proxy tests: a real QEMU and spicevmc-qmp-proxy in front of it. */
#pragma once

#include "testvm.h"

typedef struct {
    TestVm *vm;
    QmpClient *inspect;       /* QEMU's second monitor, for what QEMU itself says */
    GSubprocess *proxy;
    char *path;               /* the proxy's socket */
    int log_fd;               /* the proxy's standard error, when captured; else -1 */
    GString *log;             /* what was read of it */
} Proxied;

/* How a test starts the proxy, beyond the fixture's default. */
typedef struct {
    const char *const *args;  /* more options */
    gboolean own_upstream;    /* no --upstream: @args says */
    gboolean own_listener;    /* no --listen-fd 3: @args says */
    gboolean capture_log;     /* standard error to f->log_fd, or to @stderr_fd when > 0 */
    int stderr_fd;
    guint nofile;             /* RLIMIT_NOFILE, when not 0 */
    int keep_fd;              /* an fd (> 2) the proxy gets under the same number */
} ProxySpec;

/* Every blocking read of a test gives up (and fails the test) after this. */
#define READ_TIMEOUT_S 60

/* The proxy under test: the one built, or $SPICEVMC_TEST_PROXY (to see a test fail against
 * another build). */
const char *proxied_program(void);
/* The proxy gets a socket already listening, so clients can connect at once. */
void proxied_setup(Proxied *f, gconstpointer data);
/* Only QEMU: the test starts the proxy with proxied_start(). */
void proxied_setup_vm(Proxied *f, gconstpointer data);
void proxied_start(Proxied *f, const ProxySpec *spec);
GPid proxied_pid(Proxied *f);
/* A line of the proxy's /proc/PID/status ("VmRSS:", "VmHWM:") in bytes; 0 where it says nothing
 * of the proxy's own (under valgrind, or built with ASan, whose quarantine holds what is
 * freed). */
gsize proxied_memory(Proxied *f, const char *field);
/* The first line the proxy logs that contains @contains, waiting for it (READ_TIMEOUT_S). */
char *proxied_log_wait(Proxied *f, const char *contains);
/* What it logged so far, read; and how many lines contain @contains. */
void proxied_log_drain(Proxied *f);
guint proxied_log_count(Proxied *f, const char *contains);
/* Until the proxy exits by itself (the test fails after STOP_TIMEOUT_S). */
void proxied_wait_exit(Proxied *f);
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
/* Until the proxy has read everything this client sent (and so taken the commands in it). */
void raw_wait_taken(Raw *r);

#define ADD_PROXIED(path, data, test)                                                          \
    g_test_add(path, Proxied, data, proxied_setup, test, proxied_teardown)
#define ADD_PROXIED_VM(path, data, test)                                                       \
    g_test_add(path, Proxied, data, proxied_setup_vm, test, proxied_teardown)
