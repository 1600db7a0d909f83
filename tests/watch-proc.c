/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/watch-proc.c — a watch running beside a test (watch-proc.h). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib-unix.h>

#include "run.h"
#include "testvm.h"
#include "watch-proc.h"

/* What a watch may print that the test has not read: far more than any test makes it say. */
#define OUTPUT_MAX (4 * 1024 * 1024)

struct _WatchProc {
    GSubprocess *proc;
    int out;                  /* its standard output */
    GString *pending;         /* read, not a whole line yet */
    GString *seen;            /* every line read, for the failure messages */
    gboolean eof;
    gint64 started;
    gint64 arrival;           /* of the last line */
};

static WatchProc *
spawn(const char *const *args, gboolean valgrind, gboolean json)
{
    const char *prefix = valgrind ? g_getenv("SPICEVMC_TEST_VALGRIND") : NULL;
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_auto(GStrv) vector = NULL;
    g_autoptr(GError) error = NULL;
    WatchProc *w = g_new0(WatchProc, 1);

    if (prefix) {
        g_auto(GStrv) words = NULL;

        g_assert_true(g_shell_parse_argv(prefix, NULL, &words, &error));
        g_strv_builder_addv(argv, (const char **)words);
    }
    g_strv_builder_add(argv, testvm_cli_path());
    g_strv_builder_addv(argv, (const char **)args);
    g_strv_builder_add(argv, "watch");
    if (json)
        g_strv_builder_add(argv, "--json");
    vector = g_strv_builder_end(argv);
    /* The tests choose the URI themselves. */
    g_subprocess_launcher_unsetenv(launcher, "LIBVIRT_DEFAULT_URI");
    g_subprocess_launcher_set_child_setup(launcher, testvm_die_with_parent, NULL, NULL);
    w->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)vector, &error);
    g_assert_no_error(error);
    w->out = g_unix_input_stream_get_fd(
        G_UNIX_INPUT_STREAM(g_subprocess_get_stdout_pipe(w->proc)));
    w->pending = g_string_new(NULL);
    w->seen = g_string_new(NULL);
    w->started = g_get_monotonic_time();
    return w;
}

WatchProc *
watch_proc_start(const char *const *args, gboolean valgrind)
{
    return spawn(args, valgrind, TRUE);
}

WatchProc *
watch_proc_start_text(const char *const *args)
{
    return spawn(args, FALSE, FALSE);
}

void
watch_proc_free(WatchProc *w)
{
    if (!w)
        return;
    if (g_subprocess_get_identifier(w->proc)) {
        g_subprocess_force_exit(w->proc);
        g_subprocess_wait(w->proc, NULL, NULL);
    }
    g_object_unref(w->proc);
    g_string_free(w->pending, TRUE);
    g_string_free(w->seen, TRUE);
    g_free(w);
}

static gboolean
on_readable(gint fd, GIOCondition condition, gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static gboolean
on_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Read what is there, waiting until @deadline for something: FALSE once it passed.  Waiting
 * runs the default main context, so a SPICE client there keeps working meanwhile. */
static gboolean
read_some(WatchProc *w, gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    gboolean readable = FALSE, late = FALSE;
    guint fd_source, timer;
    char buf[4096];
    ssize_t n;

    if (left <= 0)
        return FALSE;
    fd_source = g_unix_fd_add(w->out, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, &readable);
    timer = g_timeout_add((guint)((left + 999) / 1000), on_deadline, &late);
    while (!readable && !late)
        g_main_context_iteration(NULL, TRUE);
    if (!readable)
        g_source_remove(fd_source);
    if (!late)
        g_source_remove(timer);
    if (!readable)
        return TRUE;
    n = read(w->out, buf, sizeof(buf));
    g_assert_cmpint(n, >=, 0);
    if (n == 0)
        w->eof = TRUE;
    g_string_append_len(w->pending, buf, n);
    g_assert_cmpuint(w->pending->len, <=, OUTPUT_MAX);
    return TRUE;
}

char *
watch_proc_next_line(WatchProc *w)
{
    gint64 deadline = g_get_monotonic_time() + WATCH_TIMEOUT_S * G_USEC_PER_SEC;
    char *end, *line;

    while (!(end = memchr(w->pending->str, '\n', w->pending->len))) {
        if (w->eof) {
            g_assert_cmpstr(w->pending->str, ==, "");
            return NULL;
        }
        if (!read_some(w, deadline))
            g_error("the watch printed nothing for %d s; it printed before:\n%s",
                    WATCH_TIMEOUT_S, w->seen->str);
    }
    line = g_strndup(w->pending->str, end - w->pending->str);
    w->arrival = g_get_monotonic_time();
    g_string_erase(w->pending, 0, end - w->pending->str + 1);
    g_string_append_printf(w->seen, "%s\n", line);
    return line;
}

json_object *
watch_proc_next(WatchProc *w)
{
    g_autofree char *line = watch_proc_next_line(w);
    json_object *obj = line ? json_tokener_parse(line) : NULL;

    if (line && !json_object_is_type(obj, json_type_object))
        g_error("the watch printed a line that is not a JSON object: %s", line);
    return obj;
}

void
watch_assert_time(json_object *line)
{
    const char *time = member_str(line, "time");
    g_autoptr(GDateTime) parsed = g_date_time_new_from_iso8601(time, NULL);

    g_assert_nonnull(parsed);
    g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                                       time, 0, 0));
}

static json_object *
wait_for(WatchProc *w, const char *event, const char *key, const char *value)
{
    for (;;) {
        json_object *obj = watch_proc_next(w);

        if (!obj)
            g_error("the watch ended before '%s' (%s %s); it printed:\n%s", event,
                    key ? key : "", value ? value : "", w->seen->str);
        if (g_strcmp0(json_object_get_string(member_opt(obj, "event")), event) == 0 &&
            (!value || g_strcmp0(json_object_get_string(member_opt(obj, key)), value) == 0))
            return obj;
        json_object_put(obj);
    }
}

json_object *
watch_proc_wait(WatchProc *w, const char *event, const char *id)
{
    return wait_for(w, event, "id", id);
}

json_object *
watch_proc_wait_client(WatchProc *w, const char *event, const char *channel)
{
    return wait_for(w, event, "spice-channel", channel);
}

gint64
watch_proc_last_arrival(WatchProc *w)
{
    return w->arrival;
}

void
watch_proc_signal(WatchProc *w, int signum)
{
    g_subprocess_send_signal(w->proc, signum);
}

int
watch_proc_wait_exit(WatchProc *w, char **err)
{
    GInputStream *stderr_pipe = g_subprocess_get_stderr_pipe(w->proc);
    g_autoptr(GError) error = NULL;
    char buf[4096];
    gsize n = 0;

    if (!run_wait(w->proc, WATCH_TIMEOUT_S))
        g_error("the watch was still running %d s later; it printed:\n%s", WATCH_TIMEOUT_S,
                w->seen->str);
    /* A line or two: it has exited, so this is all there is. */
    g_assert_true(g_input_stream_read_all(stderr_pipe, buf, sizeof(buf) - 1, &n, NULL, &error));
    g_assert_no_error(error);
    buf[n] = '\0';
    if (err)
        *err = g_strdup(buf);
    return g_subprocess_get_if_exited(w->proc) ? g_subprocess_get_exit_status(w->proc) : -1;
}

void
watch_proc_assert_exit(WatchProc *w, int status)
{
    g_autoptr(json_object) more = watch_proc_next(w);
    g_autofree char *err = NULL;

    g_assert_null(more);
    g_assert_cmpint(watch_proc_wait_exit(w, &err), ==, status);
    if (status == 0) {
        g_assert_cmpstr(err, ==, "");
        return;
    }
    g_assert_true(g_str_has_prefix(err, "virt-spicevmc: error: "));
    g_assert_cmpstr(strchr(err, '\n'), ==, "\n");
}

WatchProc *
watch_proc_start_watching(const char *const *args, gboolean valgrind, json_object **first)
{
    WatchProc *w = watch_proc_start(args, valgrind);
    json_object *line = watch_proc_next(w);

    if (!line) {
        g_autofree char *err = NULL;
        int status = watch_proc_wait_exit(w, &err);

        g_error("the watch ended at once, exit status %d: %s", status, err);
    }
    g_assert_cmpstr(member_str(line, "event"), ==, "watching");
    watch_assert_time(line);
    if (first)
        *first = line;
    else
        json_object_put(line);
    return w;
}
