/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qemu: QEMU for a libvirt domain's <emulator>, with spicevmc's QMP proxy between
 * libvirt's monitor socket and QEMU, so that virsh qemu-monitor-command can use spicevmc's
 * commands.  QEMU keeps the pid libvirt started; every other invocation runs QEMU unchanged. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/qmp-service.h"
#include "svc-private.h"

/* libvirt lets QEMU log on stderr into the domain's log; so does the proxy. */
#define PREFIX "spicevmc-qemu: "

/* The options of a QEMU "-chardev"/"-mon" value, split on commas (",," is an escaped comma
 * and stays in its option as written). */
static GPtrArray *
split_options(const char *value)
{
    GPtrArray *opts = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) opt = g_string_new(NULL);

    for (const char *p = value;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append(opt, ",,");
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(opts, g_strdup(opt->str));
            g_string_truncate(opt, 0);
            if (!*p)
                return opts;
        } else {
            g_string_append_c(opt, *p);
        }
    }
}

static const char *
option(GPtrArray *opts, const char *key)
{
    gsize len = strlen(key);

    for (guint i = 0; i < opts->len; i++) {
        const char *o = opts->pdata[i];

        if (strncmp(o, key, len) == 0 && o[len] == '=')
            return o + len + 1;
    }
    return NULL;
}

/* The id of the chardev of the QMP monitor: "-mon chardev=ID,…,mode=control". */
static const char *
monitor_chardev(char **argv, GPtrArray **opts)
{
    for (int i = 1; argv[i] && argv[i + 1]; i++) {
        if (strcmp(argv[i], "-mon") != 0)
            continue;
        *opts = split_options(argv[i + 1]);
        if (g_strcmp0(option(*opts, "mode"), "control") == 0 && option(*opts, "chardev"))
            return option(*opts, "chardev");
        g_clear_pointer(opts, g_ptr_array_unref);
    }
    return NULL;
}

/* libvirt's "-chardev socket,id=ID,fd=N,server=on,wait=off": a socket it listens on and
 * connects to.  Returns the index of the value in @argv, or -1. */
static int
listening_chardev(char **argv, const char *id, int *fd)
{
    for (int i = 1; argv[i] && argv[i + 1]; i++) {
        g_autoptr(GPtrArray) opts = NULL;
        const char *text;
        gint64 n;

        if (strcmp(argv[i], "-chardev") != 0 || !g_str_has_prefix(argv[i + 1], "socket,"))
            continue;
        opts = split_options(argv[i + 1]);
        if (g_strcmp0(option(opts, "id"), id) != 0)
            continue;
        text = option(opts, "fd");
        if (!text || g_strcmp0(option(opts, "server"), "on") != 0 ||
            !g_ascii_string_to_signed(text, 10, 3, G_MAXINT, &n, NULL))
            return -1;
        *fd = (int)n;
        return i + 1;
    }
    return -1;
}

/* The same chardev on a connected socket: no server, nothing to wait for. */
static char *
connected_chardev(const char *value)
{
    g_autoptr(GPtrArray) opts = split_options(value);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();

    for (guint i = 0; i < opts->len; i++) {
        const char *o = opts->pdata[i];

        if (!g_str_has_prefix(o, "server=") && !g_str_has_prefix(o, "wait=") &&
            strcmp(o, "server") != 0 && strcmp(o, "wait") != 0)
            g_ptr_array_add(kept, opts->pdata[i]);
    }
    g_ptr_array_add(kept, NULL);
    return g_strjoinv(",", (char **)kept->pdata);
}

/* ---- the proxy, in a process of its own -------------------------------- */

static int
serve(int upstream_fd, int listen_fd)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QapiSchema) schema = NULL;
    g_autoptr(GSocket) upstream = NULL;
    g_autoptr(GSocket) listener = NULL;

    /* Told apart from QEMU in ps and in the domain's log. */
    prctl(PR_SET_NAME, "spicevmc-proxy");
    g_set_prgname("spicevmc-qemu");
    if ((schema = svc_qmp_schema(&error)) &&
        (upstream = g_socket_new_from_fd(upstream_fd, &error)))
        listener = g_socket_new_from_fd(listen_fd, &error);
    if (!listener) {
        fprintf(stderr, PREFIX "error: cannot serve the monitor: %s\n", error->message);
        return 1;
    }
    /* libvirt names devices itself and allocates ports from the bottom, blind to ours. */
    SvcQmpServeOptions options = { SVC_DEFAULT_TIMEOUT_MS, 0, "libvirt's monitor socket", "ua-",
                                   TRUE };

    if (!svc_qmp_serve(upstream, listener, schema, &options, &error)) {
        fprintf(stderr, PREFIX "error: %s\n", error->message);
        return 1;
    }
    return 0;
}

/* Of what libvirt passed QEMU (tap devices, disks…), the proxy holds nothing: when QEMU
 * goes, so does every reference to them. */
static void
keep_only(int a, int b)
{
    int low = MIN(a, b), high = MAX(a, b);

    close_range(3, low - 1, 0);
    close_range(low + 1, high - 1, 0);
    close_range(high + 1, ~0U, 0);
}

/* The proxy is a grandchild, so that QEMU never has a child of its own to reap. */
static gboolean
start_proxy(int upstream_fd, int listen_fd)
{
    pid_t child = fork();
    int status;

    if (child < 0)
        return FALSE;
    if (child == 0) {
        pid_t grandchild = fork();

        if (grandchild == 0) {
            keep_only(upstream_fd, listen_fd);
            _exit(serve(upstream_fd, listen_fd));
        }
        _exit(grandchild < 0);
    }
    return waitpid(child, &status, 0) == child && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static int
run_qemu(char **argv)
{
    argv[0] = (char *)SPICEVMC_QEMU;
    execv(SPICEVMC_QEMU, argv);
    fprintf(stderr, PREFIX "error: cannot run %s: %s\n", SPICEVMC_QEMU, g_strerror(errno));
    return 127;
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) mon = NULL;
    const char *id = monitor_chardev(argv, &mon);
    int listen_fd = -1;
    int at = id ? listening_chardev(argv, id, &listen_fd) : -1;
    int pair[2];

    /* Its own version first, then QEMU's, which is what it runs. */
    if (argc == 2 && (g_str_equal(argv[1], "--version") || g_str_equal(argv[1], "-version"))) {
        printf("spicevmc-qemu (spicevmc) %s, running %s:\n", PACKAGE_VERSION, SPICEVMC_QEMU);
        fflush(stdout);
    }
    if (!id)
        return run_qemu(argv);
    if (at < 0) {
        fprintf(stderr, PREFIX "warning: the monitor is not on a socket passed by libvirt; "
                               "running QEMU without spicevmc's commands\n");
        return run_qemu(argv);
    }
    /* Nothing of it is needed any more; the proxy's process would carry it for its life. */
    g_clear_pointer(&mon, g_ptr_array_unref);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        fprintf(stderr, PREFIX "error: cannot make the monitor's socket pair: %s\n",
                g_strerror(errno));
        return 1;
    }
    if (!start_proxy(pair[1], listen_fd)) {
        fprintf(stderr, PREFIX "error: cannot start spicevmc's QMP proxy\n");
        return 1;
    }
    /* QEMU gets its end of the pair under libvirt's descriptor number; the listening socket
     * is the proxy's alone. */
    close(pair[1]);
    if (dup2(pair[0], listen_fd) < 0) {
        fprintf(stderr, PREFIX "error: cannot pass the monitor to QEMU: %s\n", g_strerror(errno));
        return 1;
    }
    close(pair[0]);
    argv[at] = connected_chardev(argv[at]);
    return run_qemu(argv);
}
