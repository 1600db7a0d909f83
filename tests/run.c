/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/run.c — a program run to its end within a deadline: what it wrote, and how it ended. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "run.h"

void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
    g_free(r->command);
}

static char *
quote_argv(const char *const *argv)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; argv[i]; i++) {
        gboolean plain = argv[i][0] != '\0' &&
                         strspn(argv[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_./:=,+@%") == strlen(argv[i]);
        g_autofree char *quoted = plain ? g_strdup(argv[i]) : g_shell_quote(argv[i]);

        g_string_append_printf(s, "%s%s", i ? " " : "", quoted);
    }
    return g_string_free(s, FALSE);
}

char *
run_how(const Run *r)
{
    if (r->signal)
        return g_strdup_printf("killed by signal %d (SIG%s)", r->signal, sigabbrev_np(r->signal));
    return g_strdup_printf("exit status %d", r->status);
}

void
run_explain(const Run *r)
{
    g_autofree char *how = run_how(r);
    g_auto(GStrv) lines = g_strsplit(r->err ? r->err : "", "\n", -1);

    g_printerr("# %s: %s\n", r->command, how);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] || lines[i + 1])
            g_printerr("#   stderr: %s\n", lines[i]);
    }
}

void
run_assert_ok(const Run *r)
{
    if (r->status != 0 || g_strcmp0(r->err, "") != 0)
        run_explain(r);
    g_assert_cmpstr(r->err, ==, "");
    g_assert_cmpint(r->status, ==, 0);
}

/* How long what a killed program forked may keep its stdout open. */
#define KILLED_TIMEOUT_S 10
/* How often a program's end is looked for where there is no pidfd (valgrind). */
#define POLL_MS 20

/* The program dies with the test, so that none outlives a test that is killed; in a process
 * group of its own, so that what it forked goes with it when the test kills it. */
static void
die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
}

/* Its input comes from a file, not a pipe: a program may leave without reading it all. */
static int
input_fd(const char *input)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("svc-run-XXXXXX", &path, &error);

    gsize len = input ? strlen(input) : 0;

    g_assert_no_error(error);
    g_unlink(path);
    g_assert_cmpint(write(fd, input ? input : "", len), ==, (gssize)len);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    return fd;
}

static char **
environment(const RunOptions *o)
{
    char **env = g_get_environ();

    for (guint i = 0; o && o->env && o->env[i]; i++) {
        const char *eq = strchr(o->env[i], '=');
        g_autofree char *name = eq ? g_strndup(o->env[i], eq - o->env[i]) : g_strdup(o->env[i]);

        env = eq ? g_environ_setenv(env, name, eq + 1, TRUE) : g_environ_unsetenv(env, name);
    }
    return env;
}

/* Read what is there on @fd into @out; FALSE at its end. */
static gboolean
read_some(int fd, GString *out)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && errno == EINTR)
        return TRUE;
    g_assert_cmpint(n, >=, 0);
    g_string_append_len(out, buf, n);
    return n > 0;
}

static char *
utf8(GString *s, const char *what, const Run *r)
{
    if (!g_utf8_validate(s->str, s->len, NULL))
        g_error("%s wrote on its %s what is not UTF-8", r->command, what);
    return g_strndup(s->str, s->len);
}

void
run_argv(Run *r, const char *const *argv, const RunOptions *o)
{
    g_auto(GStrv) env = environment(o);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) err = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + RUN_TIMEOUT_S * G_USEC_PER_SEC;
    struct pollfd p[3] = { { .events = POLLIN }, { .events = POLLIN }, { .events = POLLIN } };
    int in = input_fd(o ? o->input : NULL);
    gboolean late = FALSE, polled, reaped = FALSE;
    GPid pid;
    int status;

    r->command = quote_argv(argv);
    /* Not reaped by GLib: its pid stays ours until waitpid(), to kill its group by. */
    g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)env,
                                     G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                     die_with_parent, NULL, in, -1, -1, NULL, NULL, 0, &pid,
                                     NULL, &p[0].fd, &p[1].fd, &error);
    close(in);
    g_assert_no_error(error);
    /* valgrind 3.19 knows no pidfd_open(): under it, the program's end is polled for. */
    p[2].fd = pidfd_open(pid, 0);
    g_assert_true(p[2].fd >= 0 || errno == ENOSYS);
    polled = p[2].fd < 0;
    /* Until both pipes end and it has ended. */
    while (p[0].fd >= 0 || p[1].fd >= 0 || p[2].fd >= 0 || (polled && !reaped)) {
        gint64 left = deadline - g_get_monotonic_time();
        int wait_ms = (int)MIN(left / 1000 + 1, G_MAXINT);

        if (left <= 0 && late) {
            /* Something outside its process group holds its stdout: enough. */
            for (guint i = 0; i < 2; i++) {
                if (p[i].fd >= 0)
                    close(p[i].fd);
                p[i].fd = -1;
            }
            continue;
        }
        if (left <= 0) {
            /* Its children too: one still holding its stdout would keep this going. */
            late = TRUE;
            kill(-pid, SIGKILL);
            if (!reaped)
                kill(pid, SIGKILL);
            deadline = g_get_monotonic_time() + KILLED_TIMEOUT_S * G_USEC_PER_SEC;
            continue;
        }
        if (poll(p, 3, polled && !reaped ? MIN(wait_ms, POLL_MS) : wait_ms) < 0) {
            g_assert_cmpint(errno, ==, EINTR);
            continue;
        }
        if (polled && !reaped && waitpid(pid, &status, WNOHANG) == pid)
            reaped = TRUE;
        for (guint i = 0; i < 2; i++) {
            if (p[i].fd >= 0 && p[i].revents && !read_some(p[i].fd, i ? err : out)) {
                close(p[i].fd);
                p[i].fd = -1;
            }
        }
        if (p[2].fd >= 0 && p[2].revents) {
            close(p[2].fd);
            p[2].fd = -1;
        }
    }
    while (!reaped && waitpid(pid, &status, 0) < 0)
        g_assert_cmpint(errno, ==, EINTR);
    r->out = utf8(out, "stdout", r);
    r->err = utf8(err, "stderr", r);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (late) {
        g_printerr("# %s: still running after %d s, killed\n", r->command, RUN_TIMEOUT_S);
        run_explain(r);
        g_error("%s was still running after %d s", r->command, RUN_TIMEOUT_S);
    }
}

GSubprocess *
run_spawn(const char *const *argv)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GError) error = NULL;
    GSubprocess *proc;

    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
    proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
    g_assert_no_error(error);
    return proc;
}

static gboolean
on_late(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static void
on_waited(GObject *source, GAsyncResult *result, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    *(gboolean *)data = TRUE;
}

gboolean
run_wait(GSubprocess *proc, guint timeout_s)
{
    g_autoptr(GMainContext) context = g_main_context_new();
    g_autoptr(GSource) deadline = g_timeout_source_new_seconds(timeout_s);
    gboolean late = FALSE, ended = FALSE, killed;
    /* A case's child runs for a while: it has not been reaped yet. */
    const char *id = g_subprocess_get_identifier(proc);
    int pid = id ? atoi(id) : 0;

    g_main_context_push_thread_default(context);
    g_subprocess_wait_async(proc, NULL, on_waited, &ended);
    g_source_set_callback(deadline, on_late, &late, NULL);
    g_source_attach(deadline, context);
    while (!ended && !late)
        g_main_context_iteration(context, TRUE);
    killed = !ended;
    /* Its process group, or (a program not spawned by run_spawn()) itself alone. */
    if (killed && pid && kill(-pid, SIGKILL) < 0)
        g_subprocess_force_exit(proc);
    while (!ended)
        g_main_context_iteration(context, TRUE);
    g_source_destroy(deadline);
    g_main_context_pop_thread_default(context);
    return !killed;
}

void
run_ended(Run *r, GSubprocess *proc, const char *const *argv)
{
    r->command = quote_argv(argv);
    r->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    r->signal = g_subprocess_get_if_signaled(proc) ? g_subprocess_get_term_sig(proc) : 0;
}

static gboolean
is_one_line(const char *s)
{
    gsize len = strlen(s);

    if (len == 0 || s[len - 1] != '\n')
        return FALSE;
    for (gsize i = 0; i + 1 < len; i++) {
        if ((guchar)s[i] < 0x20 || s[i] == 0x7f)
            return FALSE;
    }
    return TRUE;
}

void
run_assert_error_line(const Run *r, const char *prefix, const char *fragment)
{
    if (r->status != 1 || g_strcmp0(r->out, "") != 0 || !g_str_has_prefix(r->err, prefix) ||
        !is_one_line(r->err) || !strstr(r->err, fragment)) {
        run_explain(r);
        g_printerr("#   stdout: %s\n", r->out);
        g_printerr("# expected: exit status 1, nothing on stdout, one line on stderr starting "
                   "with '%s' and saying '%s'\n", prefix, fragment);
    }
    g_assert_cmpint(r->status, ==, 1);
    g_assert_cmpstr(r->out, ==, "");
    g_assert_true(g_str_has_prefix(r->err, prefix));
    g_assert_true(is_one_line(r->err));
    if (!strstr(r->err, fragment))
        g_assert_cmpstr(r->err, ==, fragment);
}

/* What /proc/PID/stat says of process @pid; FALSE when it is gone. */
typedef struct {
    char state;               /* R, S, D, T, Z… */
    int pgrp;
    unsigned flags;           /* PF_* */
} ProcessStat;

/* The kernel's PF_KTHREAD (include/linux/sched.h). */
#define PF_KTHREAD 0x00200000

static gboolean
process_stat(int pid, ProcessStat *st)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    const char *end;

    /* "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS …", COMM may hold anything. */
    if (!g_file_get_contents(path, &text, NULL, NULL) || !(end = strrchr(text, ')')))
        return FALSE;
    return sscanf(end + 1, " %c %*d %d %*d %*d %*d %u", &st->state, &st->pgrp,
                  &st->flags) == 3;
}

/* Running, or stopped: not gone, nor a zombie. */
static gboolean
is_running(int pid)
{
    ProcessStat st;

    return process_stat(pid, &st) && st.state != 'Z';
}

/* How long a process may show no command line while it runs execve(). */
#define EXEC_TIMEOUT_MS 2000

/* The pids of the processes, ours or not, whose command line (its arguments joined by
 * spaces) contains @needle, or (@needle NULL) that are in process group @pgid; *@unsure when
 * one had no command line to read. */
static GArray *
scan_processes(const char *needle, int pgid, gboolean *unsure)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;

    g_assert_nonnull(proc);
    *unsure = FALSE;
    while ((name = g_dir_read_name(proc))) {
        g_autofree char *path = g_build_filename("/proc", name, "cmdline", NULL);
        g_autofree char *text = NULL;
        int pid = atoi(name);
        ProcessStat st;
        gsize len;

        if (!g_ascii_isdigit(name[0]) || pid == getpid() || !process_stat(pid, &st) ||
            st.state == 'Z' || (st.flags & PF_KTHREAD))
            continue;
        if (!needle) {
            if (st.pgrp == pgid)
                g_array_append_val(pids, pid);
            continue;
        }
        if (!g_file_get_contents(path, &text, &len, NULL))
            continue;
        if (len == 0) {
            *unsure = *unsure || is_running(pid);
            continue;
        }
        for (gsize i = 0; i + 1 < len; i++)
            text[i] = text[i] ? text[i] : ' ';
        if (strstr(text, needle))
            g_array_append_val(pids, pid);
    }
    return pids;
}

/* The same, but a process with no command line to read, as the kernel shows one in the
 * middle of execve() until the new program's arguments are in place, is looked at again. */
static GArray *
find_processes(const char *needle, int pgid)
{
    gint64 deadline = g_get_monotonic_time() + EXEC_TIMEOUT_MS * 1000;

    for (;;) {
        gboolean unsure;
        GArray *pids = scan_processes(needle, pgid, &unsure);

        if (!unsure || g_get_monotonic_time() >= deadline)
            return pids;
        g_array_unref(pids);
        g_usleep(POLL_MS * 1000);
    }
}

gboolean
run_wait_pid_gone(int pid, gint64 deadline)
{
    struct pollfd p = { .events = POLLIN };
    int n;

    if ((p.fd = pidfd_open(pid, 0)) < 0) {
        /* Gone, or (ENOSYS) under valgrind: then polled for. */
        g_assert_true(errno == ESRCH || errno == ENOSYS);
        while (is_running(pid) && g_get_monotonic_time() < deadline)
            g_usleep(POLL_MS * 1000);
        return !is_running(pid);
    }
    do {
        gint64 left = deadline - g_get_monotonic_time();

        n = poll(&p, 1, left > 0 ? (int)MIN(left / 1000 + 1, G_MAXINT) : 0);
    } while (n < 0 && errno == EINTR);
    close(p.fd);
    return n > 0;
}

/* Wait until none of the processes find_processes(@needle, @pgid) finds is left, killing
 * them with @sig first unless it is 0, until @deadline; how many are left. */
static guint
processes_gone(const char *needle, int pgid, int sig, gint64 deadline)
{
    for (;;) {
        g_autoptr(GArray) pids = find_processes(needle, pgid);

        for (guint i = 0; sig && i < pids->len; i++)
            kill(g_array_index(pids, int, i), sig);
        if (!pids->len || g_get_monotonic_time() >= deadline)
            return pids->len;
        run_wait_pid_gone(g_array_index(pids, int, 0), deadline);
    }
}

guint
run_count_processes(const char *needle)
{
    g_autoptr(GArray) pids = find_processes(needle, 0);

    return pids->len;
}

guint
run_wait_processes_gone(const char *needle, guint timeout_s)
{
    return processes_gone(needle, 0, 0, g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC);
}

guint
run_kill_processes(const char *needle, int pgid, guint timeout_s)
{
    g_autoptr(GArray) pids = NULL;

    g_assert_true(needle || pgid > 0);
    pids = find_processes(needle, pgid);
    g_assert_cmpuint(processes_gone(needle, pgid, SIGKILL,
                                    g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC), ==, 0);
    return pids->len;
}

gboolean
run_is_running(GSubprocess *proc)
{
    const char *id = g_subprocess_get_identifier(proc);
    siginfo_t info = { 0 };

    /* Not reaped, and not waiting to be: GLib may reap it meanwhile (ECHILD). */
    return id && waitid(P_PID, atoi(id), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
}

/* Whether process @pid has a thread whose name starts with @prefix. */
static gboolean
has_thread(const char *pid, const char *prefix)
{
    g_autofree char *tasks = g_build_filename("/proc", pid, "task", NULL);
    g_autoptr(GDir) dir = g_dir_open(tasks, 0, NULL);
    const char *tid;

    while (dir && (tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(tasks, tid, "comm", NULL);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(path, &comm, NULL, NULL) && g_str_has_prefix(comm, prefix))
            return TRUE;
    }
    return FALSE;
}

gboolean
run_wait_thread(GSubprocess *proc, const char *prefix, guint timeout_s)
{
    const char *pid = g_subprocess_get_identifier(proc);
    gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

    while (run_is_running(proc) && !has_thread(pid, prefix)) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(POLL_MS * 1000);
    }
    return run_is_running(proc);
}
