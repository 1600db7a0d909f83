/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/run.h — a program run to its end within a deadline: what it wrote, and how it ended. */
#pragma once

#include <gio/gio.h>

/* A program still running after this is killed and the test fails: whatever it was to do, it
 * would not have done it.  Generous, for a machine that is busy with other work. */
#define RUN_TIMEOUT_S 120

typedef struct {
    char *out;
    char *err;
    int status;               /* exit status; -1 when killed by a signal */
    int signal;               /* the signal that killed it; 0 when it exited */
    char *command;            /* its argv, quoted as for a shell, for messages */
} Run;

typedef struct {
    const char *input;        /* its standard input; NULL: none (empty) */
    /* Changes to the environment, NULL-terminated: "NAME=VALUE" sets, "NAME" unsets. */
    const char *const *env;
} RunOptions;

/* Run @argv (NULL-terminated; argv[0] found in PATH when it has no '/') to its end.  @o may
 * be NULL.  Output that is not UTF-8 fails the test. */
void run_argv(Run *r, const char *const *argv, const RunOptions *o);
void run_clear(Run *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Run, run_clear)

/* "exit status N" or "killed by signal N (SIGNAME)". */
char *run_how(const Run *r);
/* Say on stderr (the test's log) what ran, how it ended and what it wrote on stderr: for a
 * failed assertion about @r, which GLib prints without any of that. */
void run_explain(const Run *r);
/* Exit status 0 and nothing on stderr; otherwise fails, naming the command and how it ended. */
void run_assert_ok(const Run *r);
/* What bad input gets (README): exit status 1, nothing on stdout, and one line on stderr with
 * no other control character, starting with @prefix and saying @fragment; otherwise fails
 * showing all of it. */
void run_assert_error_line(const Run *r, const char *prefix, const char *fragment);
/* @argv started with the test's stdin, stdout and stderr, in a process group of its own that
 * dies with the test. */
GSubprocess *run_spawn(const char *const *argv);
/* Wait for @proc to end; after @timeout_s, kill it (with its process group when it leads one,
 * as one from run_spawn() does) and wait for that.  FALSE when killed. */
gboolean run_wait(GSubprocess *proc, guint timeout_s);
/* @r's command (@argv, as @proc ran it), and how @proc, which has ended, ended. */
void run_ended(Run *r, GSubprocess *proc, const char *const *argv);

/* Whether @proc has not ended yet. */
gboolean run_is_running(GSubprocess *proc);
/* Wait until @proc has a thread whose name starts with @prefix (libvirt names its threads):
 * FALSE when @proc ended first; the test fails after @timeout_s. */
gboolean run_wait_thread(GSubprocess *proc, const char *prefix, guint timeout_s);
/* Wait for process @pid, ours or not, to end, until @deadline (g_get_monotonic_time());
 * FALSE when it has not. */
gboolean run_wait_pid_gone(int pid, gint64 deadline);

/* How many processes, ours or not, have a command line that contains @needle. */
guint run_count_processes(const char *needle);
/* Wait until no process has a command line that contains @needle, for @timeout_s at most, by
 * waiting for each to end (pidfd); how many are left. */
guint run_wait_processes_gone(const char *needle, guint timeout_s);
/* Kill every process, ours or not, whose command line contains @needle, or (@needle NULL)
 * that is in process group @pgid, and wait until none is left, @timeout_s at most (which
 * fails the test); how many there were. */
guint run_kill_processes(const char *needle, int pgid, guint timeout_s);
