/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/relay.c — a unix socket relay the test can take away and give back (relay.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"

struct _Relay {
    char *path;
    char *upstream;
    GThread *thread;
    int wake[2];              /* a byte here: stop */
    int listen_fd;
};

static int
unix_socket(const char *path, gboolean listening)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    if (listening) {
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(fd, 16), ==, 0);
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Bytes from @from to @to; FALSE when either side is done. */
static gboolean
copy(int from, int to)
{
    char buf[65536];
    ssize_t n = read(from, buf, sizeof(buf));

    for (ssize_t done = 0; n > 0 && done < n;) {
        ssize_t w = write(to, buf + done, n - done);

        if (w <= 0)
            return FALSE;
        done += w;
    }
    return n > 0;
}

/* One thread for every connection there is, until the relay stops: a poll() over the
 * listener, the wake pipe and both ends of each pair. */
static gpointer
run(gpointer data)
{
    Relay *r = data;
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));   /* pairs */
    gboolean running = TRUE;

    while (running) {
        /* The pairs polled: a connection accepted below is polled from the next turn. */
        guint polled = fds->len;
        g_autofree struct pollfd *p = g_new0(struct pollfd, polled + 2);

        p[0] = (struct pollfd){ .fd = r->wake[0], .events = POLLIN };
        p[1] = (struct pollfd){ .fd = r->listen_fd, .events = POLLIN };
        for (guint i = 0; i < polled; i++)
            p[i + 2] = (struct pollfd){ .fd = g_array_index(fds, int, i), .events = POLLIN };
        if (poll(p, polled + 2, -1) < 0) {
            g_assert_cmpint(errno, ==, EINTR);
            continue;
        }
        running = !(p[0].revents & POLLIN);
        if (running && (p[1].revents & POLLIN)) {
            int client = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            int server = client >= 0 ? unix_socket(r->upstream, FALSE) : -1;

            if (server >= 0) {
                g_array_append_val(fds, client);
                g_array_append_val(fds, server);
            } else if (client >= 0) {
                close(client);
            }
        }
        for (guint i = 0; running && i < polled; i += 2) {
            int a = g_array_index(fds, int, i), b = g_array_index(fds, int, i + 1);
            gboolean ok = TRUE;

            if (p[i + 2].revents)
                ok = copy(a, b);
            if (ok && p[i + 3].revents)
                ok = copy(b, a);
            if (!ok) {
                close(a);
                close(b);
                g_array_remove_range(fds, i, 2);
                break;      /* the poll set changed */
            }
        }
    }
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    return NULL;
}

void
relay_start(Relay *r)
{
    g_assert_null(r->thread);
    unlink(r->path);
    r->listen_fd = unix_socket(r->path, TRUE);
    g_assert_cmpint(pipe2(r->wake, O_CLOEXEC), ==, 0);
    r->thread = g_thread_new("relay", run, r);
}

void
relay_stop(Relay *r)
{
    if (!r->thread)
        return;
    g_assert_cmpint(write(r->wake[1], "x", 1), ==, 1);
    g_thread_join(g_steal_pointer(&r->thread));
    close(r->listen_fd);
    unlink(r->path);
    close(r->wake[0]);
    close(r->wake[1]);
}

Relay *
relay_new(const char *path, const char *upstream)
{
    Relay *r = g_new0(Relay, 1);

    r->path = g_strdup(path);
    r->upstream = g_strdup(upstream);
    relay_start(r);
    return r;
}

void
relay_free(Relay *r)
{
    if (!r)
        return;
    relay_stop(r);
    g_free(r->path);
    g_free(r->upstream);
    g_free(r);
}
