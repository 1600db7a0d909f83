/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/sync-follower.c — `virt-spicevmc sync --follow` under test (sync-follower.h). */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "sync-follower.h"
#include "testvm.h"

#define PREFIX "virt-spicevmc: "

struct _SyncFollower {
    GSubprocess *proc;
    GThread *reader;
    GAsyncQueue *lines;       /* char *; "" once stderr ended */
    GString *seen;            /* every line, for messages */
    char *command;
};

/* Lines as they come, to the test's thread. */
static gpointer
read_lines(gpointer data)
{
    SyncFollower *s = data;
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(
        g_subprocess_get_stderr_pipe(s->proc));
    char *line;

    while ((line = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL)))
        g_async_queue_push(s->lines, line);
    g_async_queue_push(s->lines, g_strdup(""));
    return NULL;
}

static void
fail(SyncFollower *s, const char *fragment, const char *why)
{
    g_printerr("# %s %s waiting for '%s'; it printed:\n%s", s->command, why, fragment,
               s->seen->str);
    g_assert_not_reached();
}

SyncFollower *
sync_follower_spawn(const char *uri, const char *lock_dir, const char *const *args)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    const char *valgrind = g_getenv("SPICEVMC_TEST_VALGRIND");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) prefix = NULL;
    g_autoptr(GError) error = NULL;
    SyncFollower *s = g_new0(SyncFollower, 1);

    /* Under tests/valgrind-test, under valgrind too: the program with libvirt itself, which
     * virt-spicevmc would exec out of valgrind's sight. */
    if (valgrind) {
        g_assert_true(g_shell_parse_argv(valgrind, NULL, &prefix, &error));
        for (guint i = 0; prefix[i]; i++)
            g_ptr_array_add(argv, prefix[i]);
        g_ptr_array_add(argv, (gpointer)VIRT_SPICEVMC_LIBVIRT);
    } else {
        g_ptr_array_add(argv, (gpointer)testvm_cli_path());
    }
    g_ptr_array_add(argv, (gpointer)"-c");
    g_ptr_array_add(argv, (gpointer)uri);
    g_ptr_array_add(argv, (gpointer)"sync");
    g_ptr_array_add(argv, (gpointer)"--follow");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    s->command = g_strjoinv(" ", (char **)argv->pdata);
    g_subprocess_launcher_unsetenv(launcher, "LIBVIRT_DEFAULT_URI");
    g_subprocess_launcher_unsetenv(launcher, "LIBVIRT_LOG_OUTPUTS");
    g_subprocess_launcher_setenv(launcher, "SPICEVMC_RUNTIME_DIR", lock_dir, TRUE);
    g_subprocess_launcher_set_child_setup(launcher, testvm_die_with_parent, NULL, NULL);
    s->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    s->lines = g_async_queue_new_full(g_free);
    s->seen = g_string_new(NULL);
    s->reader = g_thread_new("follower-stderr", read_lines, s);
    return s;
}

SyncFollower *
sync_follower_start(const char *uri, const char *lock_dir, const char *const *args)
{
    SyncFollower *s = sync_follower_spawn(uri, lock_dir, args);

    g_free(sync_follower_wait(s, PREFIX "following "));
    return s;
}

int
sync_follower_wait_exit(SyncFollower *s)
{
    gint64 deadline = g_get_monotonic_time() + FOLLOW_TIMEOUT_S * G_USEC_PER_SEC;
    g_autoptr(GError) error = NULL;

    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        g_autofree char *line = left > 0 ? g_async_queue_timeout_pop(s->lines, left) : NULL;

        if (!line)
            fail(s, "(its exit)", "timed out");
        if (!*line)
            break;
        g_string_append_printf(s->seen, "%s\n", line);
    }
    g_subprocess_wait(s->proc, NULL, &error);
    g_assert_no_error(error);
    g_thread_join(g_steal_pointer(&s->reader));
    return g_subprocess_get_if_exited(s->proc) ? g_subprocess_get_exit_status(s->proc) : -1;
}

char *
sync_follower_wait(SyncFollower *s, const char *fragment)
{
    gint64 deadline = g_get_monotonic_time() + FOLLOW_TIMEOUT_S * G_USEC_PER_SEC;

    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        char *line = left > 0 ? g_async_queue_timeout_pop(s->lines, left) : NULL;

        if (!line)
            fail(s, fragment, "timed out");
        if (!*line) {
            g_async_queue_push_front(s->lines, line);
            fail(s, fragment, "exited");
        }
        g_string_append_printf(s->seen, "%s\n", line);
        if (!g_str_has_prefix(line, PREFIX))
            fail(s, fragment, "printed a line not its own");
        if (strstr(line, fragment))
            return line;
        g_free(line);
    }
}

void
sync_follower_wait_all(SyncFollower *s, const char *const *fragments)
{
    g_autoptr(GPtrArray) left = g_ptr_array_new();
    g_autofree char *joined = g_strjoinv("', '", (char **)fragments);

    for (guint i = 0; fragments[i]; i++)
        g_ptr_array_add(left, (gpointer)fragments[i]);
    while (left->len) {
        /* Any line of its own: each is checked against what is left. */
        g_autofree char *line = sync_follower_wait(s, PREFIX);
        guint found = left->len;

        for (guint i = 0; i < left->len; i++) {
            if (strstr(line, left->pdata[i]))
                found = i;
        }
        if (found < left->len)
            g_ptr_array_remove_index(left, found);
    }
}

const char *
sync_follower_pid(SyncFollower *s)
{
    return g_subprocess_get_identifier(s->proc);
}

GSubprocess *
sync_follower_process(SyncFollower *s)
{
    return s->proc;
}

const char *
sync_follower_output(SyncFollower *s)
{
    char *line;

    /* What came already, without waiting. */
    while ((line = g_async_queue_try_pop(s->lines))) {
        if (!*line) {
            g_async_queue_push_front(s->lines, line);
            break;
        }
        g_string_append_printf(s->seen, "%s\n", line);
        g_free(line);
    }
    return s->seen->str;
}

void
sync_follower_stop(SyncFollower *s, int signum)
{
    g_autoptr(GError) error = NULL;

    g_subprocess_send_signal(s->proc, signum);
    g_subprocess_wait(s->proc, NULL, &error);
    g_assert_no_error(error);
    g_thread_join(g_steal_pointer(&s->reader));
    sync_follower_output(s);
    if (!g_subprocess_get_if_exited(s->proc) || g_subprocess_get_exit_status(s->proc) != 0) {
        g_printerr("# %s did not exit 0 on %s; it printed:\n%s", s->command,
                   g_strsignal(signum), s->seen->str);
        g_assert_true(g_subprocess_get_if_exited(s->proc));
        g_assert_cmpint(g_subprocess_get_exit_status(s->proc), ==, 0);
    }
}

void
sync_follower_free(SyncFollower *s)
{
    if (!s)
        return;
    if (s->reader) {
        g_subprocess_force_exit(s->proc);
        g_thread_join(s->reader);
    }
    g_object_unref(s->proc);
    g_async_queue_unref(s->lines);
    g_string_free(s->seen, TRUE);
    g_free(s->command);
    g_free(s);
}

gboolean
sync_line_timed(const char *line)
{
    return g_regex_match_simple(", in [0-9]+ ms$", line, 0, 0);
}
