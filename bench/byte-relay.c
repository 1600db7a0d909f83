/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/byte-relay.c — the floor for any process between a QMP client and QEMU: a poll() loop
 * copying bytes both ways, each client paired with the next of the monitors it is given.
 * Usage: byte-relay LISTEN_FD MONITOR_PATH... */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 64

static int
connect_to(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror(path);
        exit(1);
    }
    return fd;
}

/* Everything, however many writes it takes. */
static int
write_all(int fd, const char *buf, ssize_t len)
{
    for (ssize_t done = 0, n; done < len; done += n) {
        if ((n = write(fd, buf + done, len - done)) <= 0)
            return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct pollfd fds[MAX_FDS] = { { atoi(argv[1]), POLLIN, 0 } };
    int peer[MAX_FDS];        /* fds[i] copies to peer[i] */
    int n = 1, next = 2;
    static char buf[64 * 1024];

    if (argc < 3) {
        fprintf(stderr, "usage: byte-relay LISTEN_FD MONITOR_PATH...\n");
        return 2;
    }
    for (;;) {
        if (poll(fds, n, -1) < 0)
            return 1;
        for (int i = 1; i < n; i++) {
            ssize_t len;

            if (!fds[i].revents)
                continue;
            len = read(fds[i].fd, buf, sizeof(buf));
            if (len <= 0 || write_all(peer[i], buf, len) < 0)
                return 0;     /* one side left: the bench is done with this relay */
        }
        if ((fds[0].revents & POLLIN) && n + 2 <= MAX_FDS && next < argc) {
            int client = accept4(fds[0].fd, NULL, NULL, SOCK_CLOEXEC);
            int monitor = connect_to(argv[next++]);

            fds[n] = (struct pollfd){ client, POLLIN, 0 };
            peer[n++] = monitor;
            fds[n] = (struct pollfd){ monitor, POLLIN, 0 };
            peer[n++] = client;
        }
    }
}
