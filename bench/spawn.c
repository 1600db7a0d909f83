/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/spawn.c — a program run as users run it, timed from fork to exit, with its peak RSS. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "spawn.h"

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Plain fork and exec: GSubprocess's helper threads and pipes would be timed too. */
gboolean
bench_spawn(const char *const *argv, char **out, Spawned *s, GError **error)
{
    g_autofree char *path = NULL;
    struct rusage usage;
    int fd = -1, status;
    double start;
    pid_t pid;

    if (out) {
        fd = g_file_open_tmp("spicevmc-bench-XXXXXX", &path, error);
        if (fd < 0)
            return FALSE;
    }
    start = now_ms();
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(out ? fd : null, 1);
        dup2(null, 2);
        execv(argv[0], (char **)argv);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot run %s: %s",
                    argv[0], g_strerror(errno));
        return FALSE;
    }
    s->ms = now_ms() - start;
    s->rss_mib = usage.ru_maxrss / 1024.0;
    if (out) {
        close(fd);
        g_file_get_contents(path, out, NULL, NULL);
        g_unlink(path);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "'%s' failed (status %d)", cmd, status);
        return FALSE;
    }
    return TRUE;
}
