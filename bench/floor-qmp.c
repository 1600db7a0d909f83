/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/floor-qmp.c — the floor for a QMP command-line tool: libc only, nothing but the bytes QEMU
 * needs, one command at a time.
 *
 *   floor-qmp SOCKET list        negotiate; query-chardev and qom-list of the devices (what
 *                                says which channels exist); print the replies
 *   floor-qmp SOCKET add N       N spiceport chardevs, each with its virtserialport on vs0.0
 *   floor-qmp SOCKET remove N    each port: device_del, wait for DEVICE_DELETED, chardev-remove;
 *                                print the milliseconds spent waiting for the events
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int sock = -1;
static char buf[1 << 20];
static size_t have;
/* The DEVICE_DELETED awaited, which may come before device_del's own reply. */
static char deleted_needle[128];
static int deleted_seen;

static void
die(const char *what)
{
    fprintf(stderr, "floor-qmp: %s: %s\n", what, errno ? strerror(errno) : "unexpected reply");
    exit(1);
}

/* The next message QEMU sends, which ends with a newline; NUL-terminated in buf. */
static char *
next_message(void)
{
    static size_t used;
    char *end;

    memmove(buf, buf + used, have - used);
    have -= used;
    used = 0;
    while (!(end = memchr(buf, '\n', have))) {
        ssize_t n = read(sock, buf + have, sizeof(buf) - 1 - have);

        if (n <= 0)
            die("read");
        have += n;
    }
    *end = '\0';
    used = end + 1 - buf;
    return buf;
}

static void
send_text(const char *text)
{
    size_t len = strlen(text);

    if (write(sock, text, len) != (ssize_t)len)
        die("write");
}

/* Send a command and return its reply; events on the way are skipped. */
static char *
execute(const char *cmd)
{
    char *msg;

    send_text(cmd);
    while ((msg = next_message()) && strstr(msg, "\"event\"") && !strstr(msg, "\"return\""))
        deleted_seen |= deleted_needle[0] && strstr(msg, deleted_needle) != NULL;
    if (!strstr(msg, "\"return\""))
        die(cmd);
    return msg;
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The milliseconds it waited. */
static double
wait_deleted(void)
{
    double start = now_ms();

    while (!deleted_seen)
        deleted_seen = strstr(next_message(), deleted_needle) != NULL;
    deleted_needle[0] = '\0';
    return now_ms() - start;
}

int
main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char cmd[512];
    int n = argc > 3 ? atoi(argv[3]) : 0;

    if (argc < 3 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "usage: floor-qmp SOCKET list|add N|remove N\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        die("connect");
    next_message();   /* the greeting */
    execute("{\"execute\":\"qmp_capabilities\"}\n");
    if (strcmp(argv[2], "list") == 0) {
        puts(execute("{\"execute\":\"query-chardev\"}\n"));
        puts(execute("{\"execute\":\"qom-list\",\"arguments\":"
                     "{\"path\":\"/machine/peripheral\"}}\n"));
    } else if (strcmp(argv[2], "add") == 0) {
        for (int i = 0; i < n; i++) {
            snprintf(cmd, sizeof(cmd),
                     "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"char-port%d\","
                     "\"backend\":{\"type\":\"spiceport\",\"data\":{\"fqdn\":"
                     "\"org.bench.port.%d\"}}}}\n", i, i);
            execute(cmd);
            snprintf(cmd, sizeof(cmd),
                     "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtserialport\","
                     "\"id\":\"port%d\",\"bus\":\"vs0.0\",\"nr\":%d,\"chardev\":\"char-port%d\","
                     "\"name\":\"org.bench.port.%d\"}}\n", i, i + 1, i, i);
            execute(cmd);
        }
    } else if (strcmp(argv[2], "remove") == 0) {
        double waited = 0;

        for (int i = 0; i < n; i++) {
            char id[32];

            snprintf(id, sizeof(id), "port%d", i);
            snprintf(deleted_needle, sizeof(deleted_needle), "\"device\": \"%s\"", id);
            deleted_seen = 0;
            snprintf(cmd, sizeof(cmd), "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"%s\"}}\n",
                     id);
            execute(cmd);
            waited += wait_deleted();
            snprintf(cmd, sizeof(cmd),
                     "{\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"char-port%d\"}}\n", i);
            execute(cmd);
        }
        printf("%.3f\n", waited);
    } else {
        fprintf(stderr, "floor-qmp: unknown command '%s'\n", argv[2]);
        return 2;
    }
    return 0;
}
