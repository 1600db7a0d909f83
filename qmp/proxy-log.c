/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp/proxy-log.c — the proxy's log: one line a message, a repeated line said once per
 * interval, never blocking on a standard error nobody reads. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy.h"

/* The same line again within this is counted, not written. */
#define REPEAT_INTERVAL_US (5 * G_USEC_PER_SEC)
/* Lines of any text per interval; past it they are counted, not written. */
#define LINES_PER_INTERVAL 50
/* Shorter than PIPE_BUF, so that a line goes whole into a pipe or not at all. */
#define LINE_MAX_BYTES 1024
#define SEEN_MAX 256

typedef struct {
    gint64 written;           /* when it was last written */
    guint repeated;           /* times since, not written */
} Seen;

static struct {
    GMutex lock;
    char *prgname;
    int fd;
    gboolean is_socket;
    GHashTable *seen;         /* text -> Seen */
    gint64 window;            /* start of the interval LINES_PER_INTERVAL counts in */
    guint lines;
    guint dropped;            /* lines not written since the last written */
} log_state = { .fd = -1 };

/* Standard error without ever blocking: a pipe or a terminal reopened non-blocking (a file
 * description of our own, so whoever shares fd 2 is unaffected), a socket (journald) written
 * with MSG_DONTWAIT; a regular file does not block. */
static void
open_stderr(void)
{
    struct stat st;
    int fd;

    log_state.fd = STDERR_FILENO;
    if (fstat(STDERR_FILENO, &st) < 0)
        return;
    log_state.is_socket = S_ISSOCK(st.st_mode);
    if ((S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) &&
        (fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) >= 0)
        log_state.fd = fd;
}

static gboolean
write_line(const char *line, gsize len)
{
    ssize_t n;

    do {
        n = log_state.is_socket ? send(log_state.fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL)
                                : write(log_state.fd, line, len);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len;
}

/* Under the lock: the line, with what was held back before it said first. */
static void
emit(const char *text, guint repeated)
{
    g_autoptr(GString) line = g_string_new(NULL);

    if (log_state.dropped)
        g_string_append_printf(line, "%s: %u log lines were not written (too many, or standard "
                                     "error was full)\n", log_state.prgname, log_state.dropped);
    g_string_append_printf(line, "%s: %s", log_state.prgname, text);
    if (line->len > LINE_MAX_BYTES - 64)
        g_string_truncate(line, LINE_MAX_BYTES - 64);
    if (repeated)
        g_string_append_printf(line, " (%u more times since it was last written)", repeated);
    g_string_append_c(line, '\n');
    if (write_line(line->str, line->len))
        log_state.dropped = 0;
    else
        log_state.dropped++;
}

static gboolean
window_full(gint64 now)
{
    if (now - log_state.window >= REPEAT_INTERVAL_US) {
        log_state.window = now;
        log_state.lines = 0;
    }
    return ++log_state.lines > LINES_PER_INTERVAL;
}

static void
log_text(const char *text)
{
    gint64 now = g_get_monotonic_time();
    Seen *seen;
    guint repeated = 0;

    g_mutex_lock(&log_state.lock);
    seen = g_hash_table_lookup(log_state.seen, text);
    if (seen && now - seen->written < REPEAT_INTERVAL_US) {
        seen->repeated++;
    } else if (window_full(now)) {
        log_state.dropped++;
    } else {
        if (!seen) {
            if (g_hash_table_size(log_state.seen) >= SEEN_MAX)
                g_hash_table_remove_all(log_state.seen);
            seen = g_new0(Seen, 1);
            g_hash_table_insert(log_state.seen, g_strdup(text), seen);
        }
        repeated = seen->repeated;
        seen->repeated = 0;
        seen->written = now;
        emit(text, repeated);
    }
    g_mutex_unlock(&log_state.lock);
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *domain = NULL, *message = NULL;
    g_autofree char *text = NULL;

    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
        else if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    if (!message || g_log_writer_default_would_drop(level, domain))
        return G_LOG_WRITER_HANDLED;
    text = g_strdup_printf("%s%s", level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL) ? "error: "
                                   : level & G_LOG_LEVEL_WARNING                     ? "warning: "
                                                                                     : "",
                           message);
    log_text(text);
    return G_LOG_WRITER_HANDLED;
}

void
qmp_proxy_log_install(const char *prgname)
{
    if (log_state.seen)
        return;
    log_state.prgname = g_strdup(prgname);
    log_state.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    open_stderr();
    g_log_set_writer_func(writer, NULL, NULL);
}

void
qmp_proxy_log_error(const char *format, ...)
{
    g_autofree char *message = NULL;
    g_autofree char *line = NULL;
    va_list args;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    if (!log_state.seen) {
        g_printerr("%s: error: %s\n", g_get_prgname(), message);
        return;
    }
    line = g_strdup_printf("error: %s", message);
    g_mutex_lock(&log_state.lock);
    emit(line, 0);
    g_mutex_unlock(&log_state.lock);
}
