/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-qmp-proxy passing file descriptors to a real QEMU as libvirt does (getfd, add-fd):
 * each fd reaches QEMU with the command it came with, and no fd is kept once a client is gone. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "proxy-common.h"

#define NO_FD_DESC "No file descriptor supplied via SCM_RIGHTS"
/* More than the kernel buffers on a unix socket (about 200 KiB). */
#define LONG_SIZE (384 * 1024)

/* ---- pipes, whose ends are the fds sent ---------------------------------- */

typedef struct {
    int fds[2];               /* read end, write end */
} Pipe;

static void
pipe_close(Pipe *p)
{
    for (guint i = 0; i < 2; i++) {
        if (p->fds[i] >= 0)
            close(p->fds[i]);
        p->fds[i] = -1;
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Pipe, pipe_close)

static void
pipe_open(Pipe *p)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_unix_open_pipe(p->fds, FD_CLOEXEC, &error));
    g_assert_no_error(error);
}

static void
assert_return(json_object *reply)
{
    if (!json_object_object_get(reply, "return"))
        g_error("QEMU did not return: %s", json_object_to_json_string(reply));
}

static void
assert_error(json_object *reply, const char *klass, const char *desc)
{
    json_object *error = json_object_object_get(reply, "error");

    g_assert_cmpstr(json_object_get_string(json_object_object_get(error, "class")), ==, klass);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(error, "desc")), ==, desc);
}

/* QEMU's fd @qemu_fd is the file @ours is: they share an inode. */
static gboolean
same_file(GPid qemu, gint64 qemu_fd, int ours)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd/%" G_GINT64_FORMAT, qemu, qemu_fd);
    struct stat theirs, mine;

    return stat(path, &theirs) == 0 && fstat(ours, &mine) == 0 &&
           theirs.st_dev == mine.st_dev && theirs.st_ino == mine.st_ino;
}

/* The fd QEMU's query-fdsets lists with @opaque, or -1. */
static gint64
fdset_fd(QmpClient *inspect, const char *opaque)
{
    json_object *cmd = json_tokener_parse("{\"execute\": \"query-fdsets\"}");
    g_autoptr(json_object) sets = testvm_exec(inspect, cmd);

    for (size_t i = 0; i < json_object_array_length(sets); i++) {
        json_object *fds = json_object_object_get(json_object_array_get_idx(sets, i), "fds");

        for (size_t j = 0; j < json_object_array_length(fds); j++) {
            json_object *fd = json_object_array_get_idx(fds, j);

            if (g_strcmp0(json_object_get_string(json_object_object_get(fd, "opaque")),
                          opaque) == 0)
                return json_object_get_int64(json_object_object_get(fd, "fd"));
        }
    }
    return -1;
}

/* ---- tests -------------------------------------------------------------- */

/* getfd takes the fd sent with it, closefd knows it by name; without an fd QEMU refuses. */
static void
test_getfd(Proxied *f, gconstpointer data)
{
    g_auto(Raw) p = { NULL };
    g_auto(Pipe) pp = { { -1, -1 } };
    g_autoptr(json_object) got = NULL;
    g_autoptr(json_object) closed = NULL;
    g_autoptr(json_object) none = NULL;

    pipe_open(&pp);
    raw_open(&p, f->path, TRUE);
    got = raw_exchange(&p, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}",
                        pp.fds[0]);
    assert_return(got);
    closed = raw_exchange(&p, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}",
                           -1);
    assert_return(closed);
    none = raw_exchange(&p, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"y\"}}", -1);
    assert_error(none, "GenericError", NO_FD_DESC);
}

/* add-fd puts the very fd sent into an fdset that QEMU lists. */
static void
test_add_fd(Proxied *f, gconstpointer data)
{
    g_auto(Raw) p = { NULL };
    g_auto(Pipe) pp = { { -1, -1 } };
    g_autoptr(json_object) added = NULL;
    json_object *ret;
    gint64 fd;

    pipe_open(&pp);
    raw_open(&p, f->path, TRUE);
    added = raw_exchange(&p, "{\"execute\": \"add-fd\", \"arguments\": {\"opaque\": \"tap0\"}}",
                          pp.fds[0]);
    assert_return(added);
    ret = json_object_object_get(added, "return");
    g_assert_nonnull(json_object_object_get(ret, "fdset-id"));
    fd = fdset_fd(f->inspect, "tap0");
    g_assert_cmpint(fd, ==, json_object_get_int64(json_object_object_get(ret, "fd")));
    g_assert_true(same_file(f->vm->pid, fd, pp.fds[0]));
}

/* A command the proxy answers itself leaves the fd for the next command that goes to QEMU. */
static void
test_own_command_keeps_fds(Proxied *f, gconstpointer data)
{
    g_auto(Raw) p = { NULL };
    g_auto(Pipe) pp = { { -1, -1 } };
    g_autoptr(json_object) list = NULL;
    g_autoptr(json_object) got = NULL;
    g_autoptr(json_object) closed = NULL;

    pipe_open(&pp);
    raw_open(&p, f->path, TRUE);
    list = raw_exchange(&p, "{\"execute\": \"query-spicevmc\"}", pp.fds[0]);
    assert_return(list);
    got = raw_exchange(&p, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"kept\"}}", -1);
    assert_return(got);
    closed = raw_exchange(&p, "{\"execute\": \"closefd\", "
                               "\"arguments\": {\"fdname\": \"kept\"}}", -1);
    assert_return(closed);
}

/* A client that leaves with an fd no command took: the proxy closes it.  Once no one holds the
 * read end of the pipe, its write end polls POLLERR. */
static void
test_unused_fd_closed(Proxied *f, gconstpointer data)
{
    g_auto(Pipe) pp = { { -1, -1 } };
    struct pollfd pfd = { .events = 0 };

    pipe_open(&pp);
    {
        g_auto(Raw) p = { NULL };
        g_autoptr(json_object) list = NULL;

        raw_open(&p, f->path, TRUE);
        list = raw_exchange(&p, "{\"execute\": \"query-spicevmc\"}", pp.fds[0]);
        assert_return(list);
    }
    close(pp.fds[0]);
    pp.fds[0] = -1;
    pfd.fd = pp.fds[1];
    g_assert_cmpint(poll(&pfd, 1, 30000), ==, 1);
    g_assert_true(pfd.revents & POLLERR);
}

/* A command longer than a socket holds, which QEMU (reading its monitor a byte at a time)
 * takes in many pieces; it fails for its unexpected member. */
static char *
long_command(void)
{
    g_autofree char *filler = g_strnfill(LONG_SIZE, 'x');

    return g_strdup_printf("{\"execute\": \"query-status\", "
                           "\"arguments\": {\"filler\": \"%s\"}}", filler);
}

/* The fds sent right behind a long command: they may come in the read that ends the long one
 * and go to QEMU with its first piece, where they wait for the getfd behind it. */
static void
test_after_long_command(Proxied *f, gconstpointer data)
{
    g_auto(Raw) p = { NULL };
    g_auto(Pipe) pp = { { -1, -1 } };
    g_autofree char *line = long_command();
    g_autoptr(json_object) refused = NULL;
    g_autoptr(json_object) got = NULL;
    g_autoptr(json_object) closed = NULL;

    pipe_open(&pp);
    raw_open(&p, f->path, TRUE);
    raw_send(&p, line, -1);
    raw_send(&p, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}",
              pp.fds[0]);
    refused = raw_read(&p);
    assert_error(refused, "GenericError", "Parameter 'filler' is unexpected");
    got = raw_read(&p);
    assert_return(got);
    closed = raw_exchange(&p, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}",
                           -1);
    assert_return(closed);
}

/* Another client's fds while a long command is still on its way to QEMU: they go with the
 * first byte of their own command, not with the long one's bytes before it. */
static void
test_behind_long_command(Proxied *f, gconstpointer data)
{
    g_auto(Raw) slow = { NULL };
    g_auto(Raw) p = { NULL };
    g_auto(Pipe) pp = { { -1, -1 } };
    g_autofree char *line = long_command();
    g_autoptr(json_object) got = NULL;
    g_autoptr(json_object) refused = NULL;
    g_autoptr(json_object) closed = NULL;

    pipe_open(&pp);
    raw_open(&slow, f->path, TRUE);
    raw_open(&p, f->path, TRUE);
    raw_send(&slow, line, -1);
    /* Read by the proxy, so sent on to QEMU, which takes it in many pieces. */
    raw_wait_taken(&slow);
    got = raw_exchange(&p, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}",
                        pp.fds[0]);
    assert_return(got);
    refused = raw_read(&slow);
    assert_error(refused, "GenericError", "Parameter 'filler' is unexpected");
    closed = raw_exchange(&p, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}",
                           -1);
    assert_return(closed);
}

/* Clients passing fds at once: QEMU keeps only the fds of its last read that had some, and
 * reads ahead of the command it runs, yet each client must get its own fd, never another's
 * nor none. */
static void
test_concurrent(Proxied *f, gconstpointer data)
{
    enum { ROUNDS = 4, N = 8 };

    for (guint round = 0; round < ROUNDS; round++) {
        Raw peers[N] = { { NULL } };
        Pipe pipes[N];

        for (guint i = 0; i < N; i++) {
            pipes[i] = (Pipe){ { -1, -1 } };
            pipe_open(&pipes[i]);
            raw_open(&peers[i], f->path, TRUE);
        }
        for (guint i = 0; i < N; i++) {
            g_autofree char *line = g_strdup_printf("{\"execute\": \"add-fd\", \"arguments\": "
                                                    "{\"opaque\": \"r%u-c%u\"}}", round, i);

            raw_send(&peers[i], line, pipes[i].fds[0]);
        }
        for (guint i = 0; i < N; i++) {
            g_autoptr(json_object) reply = raw_read(&peers[i]);

            assert_return(reply);
        }
        for (guint i = 0; i < N; i++) {
            g_autofree char *opaque = g_strdup_printf("r%u-c%u", round, i);
            gint64 fd = fdset_fd(f->inspect, opaque);

            g_assert_true(same_file(f->vm->pid, fd, pipes[i].fds[0]));
            raw_close(&peers[i]);
            pipe_close(&pipes[i]);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/proxy-fds/getfd", NULL, test_getfd);
    ADD_PROXIED("/proxy-fds/add-fd", NULL, test_add_fd);
    ADD_PROXIED("/proxy-fds/own-command-keeps-fds", NULL, test_own_command_keeps_fds);
    ADD_PROXIED("/proxy-fds/unused-fd-closed", NULL, test_unused_fd_closed);
    ADD_PROXIED("/proxy-fds/after-long-command", NULL, test_after_long_command);
    ADD_PROXIED("/proxy-fds/behind-long-command", NULL, test_behind_long_command);
    ADD_PROXIED("/proxy-fds/concurrent", NULL, test_concurrent);
    return g_test_run();
}
