/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-proxy-bounds.c — spicevmc-qmp-proxy against hostile and unlucky clients: each one
 * bounded (what it sends ahead, what it leaves unread, how many there are), none holding up
 * another, and the proxy never stopped by its own log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>

#include "proxy-common.h"

/* The proxy's bounds, as spicevmc-qmp-proxy(8) states them. */
#define OUT_PAUSE (64 * 1024)
#define INPUT_FREE (1024 * 1024)
#define READ_AHEAD (64 * 1024)

static const char *
desc_of(json_object *reply)
{
    return json_object_get_string(json_object_object_get(json_object_object_get(reply, "error"),
                                                         "desc"));
}

static GSocket *
raw_socket(Raw *r)
{
    return g_socket_connection_get_socket(r->conn);
}

/* Write what the socket takes now, without waiting; how much that was. */
static gsize
raw_push(Raw *r, const char *data, gsize len)
{
    int fd = g_socket_get_fd(raw_socket(r));
    gsize done = 0;

    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        g_assert_cmpint(n, >, 0);
        done += n;
    }
    return done;
}

/* The ids of QEMU's objects whose id starts with @prefix. */
static guint
count_objects(QmpClient *inspect, const char *prefix)
{
    g_autoptr(json_object) list = testvm_exec(inspect, qmp_cmd_qom_list("/objects"));
    guint n = 0;

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);

        n += g_str_has_prefix(json_object_get_string(json_object_object_get(entry, "name")),
                              prefix);
    }
    return n;
}

/* ---- one client's backlog holds up no other ----------------------------------- */

static char *
object_add(const char *id, guint pad)
{
    g_autofree char *identity = g_strnfill(pad, 'x');

    return g_strdup_printf("{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
                           "\"authz-simple\", \"id\": \"%s\", \"identity\": \"%s\"}}\n", id,
                           identity);
}

/* A client that sends a megabyte of commands and reads nothing: once its unread replies pass
 * the bound, the proxy takes no more of its commands and stops reading it (its writes block),
 * so QEMU runs no more of them; another client is served all the while; and once the first
 * reads, it gets every reply, in order. */
static void
test_non_reading_client(Proxied *f, gconstpointer data)
{
    enum { SCHEMAS = 3, OBJECTS = 1000 };
    g_auto(Raw) slow = { NULL };
    g_auto(Raw) fast = { NULL };
    g_autoptr(GString) backlog = g_string_new(NULL);
    g_autoptr(json_object) schema = NULL;
    g_autofree char *wmem = NULL;
    gsize schema_len, written, kernel, bound;
    guint replies = 0;

    raw_open(&slow, f->path, TRUE);
    raw_open(&fast, f->path, TRUE);
    schema = raw_exchange(&fast, "{\"execute\": \"query-qmp-schema\"}", -1);
    schema_len = strlen(json_object_to_json_string_ext(schema, JSON_C_TO_STRING_PLAIN));
    for (guint i = 0; i < SCHEMAS; i++)
        g_string_append(backlog, "{\"execute\": \"query-qmp-schema\"}\n");
    for (guint i = 0; i < OBJECTS; i++) {
        g_autofree char *id = g_strdup_printf("slow%u", i);
        g_autofree char *line = object_add(id, 1000);

        g_string_append(backlog, line);
    }
    written = raw_push(&slow, backlog->str, backlog->len);

    for (guint i = 0; i < 10; i++) {
        g_autoptr(json_object) added = raw_exchange(&fast, "{\"execute\": \"spicevmc-add\", "
                                                           "\"arguments\": {\"kind\": \"serial\"}}", -1);
        g_autoptr(json_object) removed = raw_exchange(&fast, "{\"execute\": \"spicevmc-remove\", "
                                                             "\"arguments\": {\"all\": true}}", -1);

        g_assert_nonnull(json_object_object_get(added, "return"));
        g_assert_nonnull(json_object_object_get(removed, "return"));
    }
    /* More than the socket buffers hold: the proxy stopped reading it. */
    written += raw_push(&slow, backlog->str + written, backlog->len - written);
    g_assert_cmpuint(written, <, backlog->len);
    /* Replies the kernel and the proxy hold for it: no more of its commands ran than fit. */
    g_assert_true(g_file_get_contents("/proc/sys/net/core/wmem_default", &wmem, NULL, NULL));
    kernel = 2 * g_ascii_strtoull(wmem, NULL, 10);
    bound = kernel + OUT_PAUSE > SCHEMAS * schema_len
                ? (kernel + OUT_PAUSE - SCHEMAS * schema_len) / 16 + 1 : 1;
    if (bound >= OBJECTS) {
        g_test_skip("the kernel's socket buffers hold all the replies");
        return;
    }
    g_assert_cmpuint(count_objects(f->inspect, "slow"), <=, bound);

    /* It reads at last: every reply, in order, and QEMU ran every command.  A reply is waited
     * for only when a whole command of it is sent and not answered. */
    while (replies < SCHEMAS + OBJECTS) {
        gsize commands = 0;

        written += raw_push(&slow, backlog->str + written, backlog->len - written);
        for (const char *p = backlog->str; (p = memchr(p, '\n', backlog->str + written - p)); p++)
            commands++;
        if (replies < commands) {
            g_autoptr(json_object) reply = raw_read(&slow);

            g_assert_nonnull(json_object_object_get(reply, "return"));
            replies++;
        } else {
            struct pollfd pfd = { g_socket_get_fd(raw_socket(&slow)), POLLOUT, 0 };

            g_assert_cmpint(poll(&pfd, 1, READ_TIMEOUT_S * 1000), ==, 1);
        }
    }
    g_assert_cmpuint(count_objects(f->inspect, "slow"), ==, OBJECTS);
}

/* The kernel's record (sock_diag) of the unix socket with inode @ino, showing @show: its
 * attribute @type copied to @out, which is @len bytes. */
static void
unix_diag_get(guint32 ino, guint32 show, unsigned short type, void *out, gsize len)
{
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } request = {
        .nlh = { .nlmsg_len = sizeof(request), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST },
        /* An exact lookup by inode: no cookie to check. */
        .req = { .sdiag_family = AF_UNIX, .udiag_states = ~0U, .udiag_ino = ino,
                 .udiag_show = show, .udiag_cookie = { ~0U, ~0U } },
    };
    union {
        struct nlmsghdr nlh;
        char bytes[8192];
    } reply;
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    struct unix_diag_msg *diag;
    struct rtattr *attr;
    ssize_t n;
    int left;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(send(fd, &request, sizeof(request), 0), ==, sizeof(request));
    n = recv(fd, &reply, sizeof(reply), 0);
    close(fd);
    g_assert_true(n >= (ssize_t)sizeof(reply.nlh) && NLMSG_OK(&reply.nlh, (gsize)n));
    if (reply.nlh.nlmsg_type == NLMSG_ERROR)
        g_error("sock_diag on inode %u: %s", ino,
                g_strerror(-((struct nlmsgerr *)NLMSG_DATA(&reply.nlh))->error));
    g_assert_cmpuint(reply.nlh.nlmsg_type, ==, SOCK_DIAG_BY_FAMILY);
    diag = NLMSG_DATA(&reply.nlh);
    g_assert_cmpuint(diag->udiag_ino, ==, ino);
    left = reply.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*diag));
    for (attr = (struct rtattr *)(diag + 1); RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
        if (attr->rta_type == type) {
            g_assert_cmpuint(RTA_PAYLOAD(attr), >=, len);
            memcpy(out, RTA_DATA(attr), len);
            return;
        }
    }
    g_error("sock_diag on inode %u: no attribute %u", ino, type);
}

/* The bytes @r sent that the proxy has not read, as the kernel counts them in the proxy's
 * socket (SIOCOUTQ on ours would count the kernel's buffers, not bytes). */
static gsize
raw_unread_by_proxy(Raw *r)
{
    struct stat st;
    guint32 peer;
    struct unix_diag_rqlen queues;

    g_assert_cmpint(fstat(g_socket_get_fd(raw_socket(r)), &st), ==, 0);
    unix_diag_get(st.st_ino, UDIAG_SHOW_PEER, UNIX_DIAG_PEER, &peer, sizeof(peer));
    unix_diag_get(peer, UDIAG_SHOW_RQLEN, UNIX_DIAG_RQLEN, &queues, sizeof(queues));
    return queues.udiag_rqueue;
}

/* The proxy reads a client 64 KiB ahead of the command it is at, and no further: what the
 * client sends beyond stays in the proxy's socket, counted by the kernel.  QEMU is stopped, so
 * the client's first command stays at QEMU. */
static void
test_read_ahead(Proxied *f, gconstpointer data)
{
    static const char command[] = "{\"execute\": \"query-status\"}\n";
    const gsize first = strlen(command);
    g_auto(Raw) slow = { NULL };
    g_auto(Raw) other = { NULL };
    g_autoptr(GString) backlog = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + READ_TIMEOUT_S * G_USEC_PER_SEC;
    gsize sent, read;

    raw_open(&slow, f->path, TRUE);
    raw_open(&other, f->path, TRUE);
    while (backlog->len < 4 * READ_AHEAD)
        g_string_append(backlog, command);
    g_assert_cmpint(kill(f->vm->pid, SIGSTOP), ==, 0);
    sent = raw_push(&slow, backlog->str, backlog->len);
    g_assert_cmpuint(sent, >, first + READ_AHEAD);
    /* The first command, without its newline, and 64 KiB after it. */
    while ((read = sent - raw_unread_by_proxy(&slow)) < first - 1 + READ_AHEAD) {
        if (g_get_monotonic_time() > deadline)
            g_error("the proxy read %" G_GSIZE_FORMAT " bytes ahead in %d s", read,
                    READ_TIMEOUT_S);
        g_usleep(1000);
    }
    /* Two turns of the proxy's loop, in each of which it would read @slow if it still did
     * (GLib dispatches every ready source of a priority in the same turn): each answer to
     * @other is the proxy's own, since QEMU is stopped. */
    for (guint i = 0; i < 2; i++) {
        g_autoptr(json_object) error = raw_exchange(&other, "[]", -1);

        g_assert_cmpstr(desc_of(error), ==, "QMP input must be a JSON object");
    }
    read = sent - raw_unread_by_proxy(&slow);
    g_assert_cmpuint(read, <=, first + READ_AHEAD);

    g_assert_cmpint(kill(f->vm->pid, SIGCONT), ==, 0);
    for (guint i = 0; i < 2; i++) {
        g_autoptr(json_object) status = raw_read(&slow);

        g_assert_nonnull(json_object_object_get(status, "return"));
    }
}

/* However many commands one client has sent, another's waits behind at most one of them.
 * QEMU is stopped while both send, so that the order QEMU runs them in says what the proxy
 * did: the first client reads an object the second one deletes, and its replies tell how many
 * of its reads QEMU ran before the delete. */
static void
test_one_command_ahead(Proxied *f, gconstpointer data)
{
    enum { N = 500 };
    g_auto(Raw) busy = { NULL };
    g_auto(Raw) other = { NULL };
    g_autoptr(GString) batch = g_string_new(NULL);
    g_autoptr(json_object) marker = json_tokener_parse(
        "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"authz-simple\", "
        "\"id\": \"marker\", \"identity\": \"x\"}}");
    g_autoptr(json_object) deleted = NULL;
    guint before = 0;

    json_object_put(testvm_exec(f->inspect, json_object_get(marker)));
    raw_open(&busy, f->path, TRUE);
    raw_open(&other, f->path, TRUE);
    for (guint i = 0; i < N; i++)
        g_string_append_printf(batch, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": "
                                      "\"/objects/marker\", \"property\": \"identity\"}, "
                                      "\"id\": %u}\n", i);
    g_assert_cmpint(kill(f->vm->pid, SIGSTOP), ==, 0);
    raw_send(&busy, batch->str, -1);
    raw_wait_taken(&busy);
    raw_send(&other, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"marker\"}}", -1);
    raw_wait_taken(&other);
    g_assert_cmpint(kill(f->vm->pid, SIGCONT), ==, 0);
    deleted = raw_read(&other);
    g_assert_nonnull(json_object_object_get(deleted, "return"));
    for (guint i = 0; i < N; i++) {
        g_autoptr(json_object) reply = raw_read(&busy);

        g_assert_cmpint(json_object_get_int(json_object_object_get(reply, "id")), ==, i);
        if (json_object_object_get(reply, "return"))
            g_assert_cmpuint(before++, ==, i);
    }
    g_assert_cmpuint(before, <=, 1);
}

/* Until @r has seen @n events named @name (counted in r->events, which this empties). */
static void
raw_wait_events(Raw *r, const char *name, guint n)
{
    guint seen = 0;

    for (;;) {
        for (guint i = 0; i < r->events->len; i++)
            seen += g_str_equal(r->events->pdata[i], name);
        g_ptr_array_set_size(r->events, 0);
        if (seen >= n)
            return;
        /* Each reply read brings the events before it; QEMU is asked something harmless. */
        json_object_put(raw_exchange(r, "{\"execute\": \"query-status\"}", -1));
    }
}

/* Events are never held back: a client that leaves them unread past the bound is dropped, and
 * the others go on.  Each round adds and deletes virtio-serial ports with 3000-byte ids, whose
 * DEVICE_DELETED events take 6 KiB each. */
static void
test_unread_events_dropped(Proxied *f, gconstpointer data)
{
    enum { PORTS = 30, ROUNDS = 100 };
    ProxySpec spec = { .capture_log = TRUE };
    g_auto(Raw) deaf = { NULL };
    g_auto(Raw) busy = { NULL };
    g_autofree char *pad = g_strnfill(3000, 'p');
    g_autofree char *line = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) status = NULL;
    gsize events = 0;
    guint rounds = 0;

    proxied_start(f, &spec);
    raw_open(&deaf, f->path, TRUE);
    raw_open(&busy, f->path, TRUE);
    while (proxied_log_count(f, "dropping QMP client 1:") == 0) {
        g_assert_cmpuint(++rounds, <, ROUNDS);
        for (guint i = 0; i < PORTS; i++) {
            g_autofree char *add = g_strdup_printf(
                "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtserialport\", "
                "\"bus\": \"vs0.0\", \"id\": \"r%u-%u-%s\"}}", rounds, i, pad);

            raw_send(&busy, add, -1);
        }
        for (guint i = 0; i < PORTS; i++)
            json_object_put(raw_read(&busy));
        for (guint i = 0; i < PORTS; i++) {
            g_autofree char *del = g_strdup_printf(
                "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"r%u-%u-%s\"}}", rounds,
                i, pad);
            g_autoptr(json_object) deleted = raw_exchange(&busy, del, -1);

            g_assert_nonnull(json_object_object_get(deleted, "return"));
        }
        raw_wait_events(&busy, "DEVICE_DELETED", PORTS);
        proxied_log_drain(f);
    }
    line = proxied_log_wait(f, "dropping QMP client 1:");
    g_assert_cmpstr(line, ==, "spicevmc-qmp-proxy: dropping QMP client 1: it leaves more than "
                              "1024 KiB unread");
    /* What the kernel held for it, then the end. */
    for (;;) {
        g_autofree char *event = g_data_input_stream_read_line_utf8(deaf.in, NULL, NULL, &error);

        g_assert_no_error(error);
        if (!event)
            break;
        events++;
    }
    g_assert_cmpuint(events, <, rounds * PORTS);
    status = raw_exchange(&busy, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));
}

/* ---- unfinished messages -------------------------------------------------- */

/* Clients that start a large message and never finish it: each is read only so far (one at a
 * time past the first megabyte), so the proxy's memory stays bounded, and others are served.
 * Once they are gone, a large message is taken whole. */
static void
test_unfinished_messages(Proxied *f, gconstpointer data)
{
    enum { CLIENTS = 16, EACH = 8 * 1024 * 1024 };
    const gsize bound = 128 * 1024 * 1024;
    Raw hogs[CLIENTS] = { { NULL } };
    gsize sent[CLIENTS] = { 0 };
    g_auto(Raw) good = { NULL };
    g_autofree char *filler = g_strnfill(64 * 1024, 'x');
    /* Answered by the proxy itself: QEMU reads its monitor a byte at a time. */
    const char *start = "{\"execute\": \"query-spicevmc\", \"arguments\": {\"x\": \"";
    g_autoptr(json_object) status = NULL;
    g_autoptr(GString) big = g_string_new(start);
    g_autoptr(json_object) refused = NULL;
    gboolean moved = TRUE;

    raw_open(&good, f->path, TRUE);
    for (guint i = 0; i < CLIENTS; i++) {
        raw_open(&hogs[i], f->path, TRUE);
        sent[i] = raw_push(&hogs[i], start, strlen(start));
        g_assert_cmpuint(sent[i], ==, strlen(start));
    }
    /* Round after round, until no hog can send more (its writes block) or each sent it all. */
    while (moved) {
        struct pollfd pfds[CLIENTS];
        guint n = 0;

        for (guint i = 0; i < CLIENTS; i++) {
            if (sent[i] < EACH)
                pfds[n++] = (struct pollfd){ g_socket_get_fd(raw_socket(&hogs[i])), POLLOUT, 0 };
        }
        /* A second without room anywhere: the proxy reads none of them any more. */
        if (!n || poll(pfds, n, 1000) <= 0)
            break;
        moved = FALSE;
        for (guint i = 0; i < CLIENTS; i++) {
            gsize pushed = sent[i] < EACH ? raw_push(&hogs[i], filler,
                                                     MIN(64 * 1024, EACH - sent[i])) : 0;

            sent[i] += pushed;
            moved |= pushed > 0;
        }
        g_assert_cmpuint(proxied_memory(f, "VmRSS:"), <, bound);
    }
    status = raw_exchange(&good, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));
    g_assert_cmpuint(proxied_memory(f, "VmHWM:"), <, bound);

    for (guint i = 0; i < CLIENTS; i++)
        raw_close(&hogs[i]);
    for (gsize len = big->len; len < 4 * INPUT_FREE; len += 64 * 1024)
        g_string_append(big, filler);
    g_string_append(big, "\"}}");
    refused = raw_exchange(&good, big->str, -1);
    g_assert_cmpstr(desc_of(refused), ==, "Parameter 'x' is unexpected");
}

/* ---- how many clients, and file descriptors ------------------------------- */

static gboolean
readable(Raw *r)
{
    return g_socket_condition_check(raw_socket(r), G_IO_IN) & G_IO_IN;
}

static void
connect_only(Raw *r, const char *path)
{
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) error = NULL;

    r->events = g_ptr_array_new_with_free_func(g_free);
    r->conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL, &error);
    g_assert_no_error(error);
    g_socket_set_timeout(raw_socket(r), READ_TIMEOUT_S);
    r->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(r->conn)));
    r->out = g_io_stream_get_output_stream(G_IO_STREAM(r->conn));
}

/* At most --max-clients at once (@data: its value, NULL for the default, which the README and
 * the manual say is 64): the next client waits in the listener's queue (no greeting), as a
 * second client of QEMU's monitor does, until one of them leaves. */
static void
test_max_clients(Proxied *f, gconstpointer data)
{
    const char *max = data;
    const char *const args[] = { "--max-clients", max, NULL };
    ProxySpec spec = { .args = max ? args : NULL, .capture_log = TRUE };
    guint n = max ? (guint)g_ascii_strtoull(max, NULL, 10) : 64;
    g_autofree Raw *served = g_new0(Raw, n);
    g_autofree char *expected = g_strdup_printf("spicevmc-qmp-proxy: %u QMP clients are "
                                                "connected, the most allowed: the next waits "
                                                "until one leaves", n);
    g_auto(Raw) waiting = { NULL };
    g_autofree char *line = NULL;
    g_autoptr(json_object) greeting = NULL;
    g_autoptr(json_object) status = NULL;

    proxied_start(f, &spec);
    for (guint i = 0; i < n; i++)
        raw_open(&served[i], f->path, TRUE);
    line = proxied_log_wait(f, "QMP clients are connected");
    g_assert_cmpstr(line, ==, expected);
    connect_only(&waiting, f->path);
    status = raw_exchange(&served[n - 1], "{\"execute\": \"query-status\"}", -1);
    g_assert_false(readable(&waiting));
    raw_close(&served[0]);
    greeting = raw_read(&waiting);
    g_assert_nonnull(json_object_object_get(greeting, "QMP"));
    for (guint i = 1; i < n; i++)
        raw_close(&served[i]);
}

/* Out of file descriptors, the proxy neither spins on its listener nor floods its log: it
 * rests between tries (a handful in the 5 s its log holds a repeated line back), serves the
 * clients it has meanwhile, and takes the next one as soon as others leave. */
static void
test_out_of_fds(Proxied *f, gconstpointer data)
{
    /* Fewer fds than the default --max-clients needs. */
    ProxySpec spec = { .capture_log = TRUE, .nofile = 48 };
    g_autoptr(GPtrArray) clients = g_ptr_array_new();
    g_autofree char *repeated = NULL;
    g_autoptr(json_object) status = NULL;
    g_autoptr(json_object) greeting = NULL;
    g_auto(Raw) waiting = { NULL };
    guint64 more;
    const char *at;

    if (g_getenv("SPICEVMC_TEST_VALGRIND")) {
        /* It keeps fds of its own below the limit, and closes a connection accepted past them:
         * every try takes a waiting client away, so there is nothing to retry.  The sanitizer
         * build runs it. */
        g_test_skip("not under valgrind, which takes a connection with each failed accept");
        return;
    }
    proxied_start(f, &spec);
    for (;;) {
        Raw *r = g_new0(Raw, 1);
        struct pollfd pfds[2];

        connect_only(r, f->path);
        g_ptr_array_add(clients, r);
        g_assert_cmpuint(clients->len, <, 100);
        pfds[0] = (struct pollfd){ g_socket_get_fd(raw_socket(r)), POLLIN, 0 };
        pfds[1] = (struct pollfd){ f->log_fd, POLLIN, 0 };
        /* Greeted, or the proxy says it cannot take it. */
        g_assert_cmpint(poll(pfds, 2, READ_TIMEOUT_S * 1000), >, 0);
        if ((pfds[0].revents & POLLIN) && !(pfds[1].revents & POLLIN)) {
            g_autoptr(json_object) hello = raw_read(r);
            g_autoptr(json_object) ok = raw_exchange(r, "{\"execute\": \"qmp_capabilities\"}", -1);

            continue;
        }
        break;
    }
    g_free(proxied_log_wait(f, "cannot accept a QMP client"));
    connect_only(&waiting, f->path);
    status = raw_exchange(clients->pdata[0], "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));
    repeated = proxied_log_wait(f, "more times since it was last written");
    g_assert_nonnull(strstr(repeated, "Too many open files ("));
    at = strstr(repeated, "(") + 1;
    more = g_ascii_strtoull(at, NULL, 10);
    g_assert_cmpuint(more, <, 100);
    g_assert_cmpuint(proxied_log_count(f, "cannot accept a QMP client"), ==, 2);

    for (guint i = 0; i < clients->len; i++) {
        raw_close(clients->pdata[i]);
        g_free(clients->pdata[i]);
    }
    greeting = raw_read(&waiting);
    g_assert_nonnull(json_object_object_get(greeting, "QMP"));
}

/* Standard error a full pipe that nobody reads: the proxy drops what it cannot write rather
 * than wait, goes on serving, and says later how many lines it dropped. */
static void
test_log_never_blocks(Proxied *f, gconstpointer data)
{
    static const char *const args[] = { "--max-clients", "1", NULL };
    g_autoptr(GError) error = NULL;
    int pipe[2];
    ProxySpec spec = { .args = args, .capture_log = TRUE };
    g_auto(Raw) a = { NULL };
    g_autoptr(json_object) status = NULL;
    g_autofree char *filler = g_strnfill(4096, 'f');
    g_autofree char *line = NULL;

    g_assert_true(g_unix_open_pipe(pipe, FD_CLOEXEC, &error));
    g_assert_no_error(error);
    g_assert_true(g_unix_set_fd_nonblocking(pipe[1], TRUE, &error));
    while (write(pipe[1], filler, 4096) > 0)
        ;
    g_assert_cmpint(errno, ==, EAGAIN);
    g_assert_true(g_unix_set_fd_nonblocking(pipe[1], FALSE, &error));
    spec.stderr_fd = pipe[1];
    f->log_fd = pipe[0];
    proxied_start(f, &spec);
    close(pipe[1]);
    /* At the most clients: a line the proxy cannot write. */
    raw_open(&a, f->path, TRUE);
    status = raw_exchange(&a, "{\"execute\": \"query-status\"}", -1);
    g_assert_nonnull(json_object_object_get(status, "return"));

    /* Read, the pipe takes the next line, and the count of those dropped before it. */
    g_assert_true(g_unix_set_fd_nonblocking(f->log_fd, TRUE, &error));
    while (read(f->log_fd, filler, 4096) > 0)
        ;
    testvm_kill(f->vm);
    line = proxied_log_wait(f, "log lines were not written");
    g_assert_cmpstr(line, ==, "spicevmc-qmp-proxy: 1 log lines were not written (too many, or "
                              "standard error was full)");
    g_free(proxied_log_wait(f, "error: QEMU's monitor closed the connection"));
    proxied_wait_exit(f);
    g_clear_object(&f->proxy);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/proxy-bounds/non-reading-client", NULL, test_non_reading_client);
    ADD_PROXIED("/proxy-bounds/one-command-ahead", NULL, test_one_command_ahead);
    ADD_PROXIED("/proxy-bounds/read-ahead", NULL, test_read_ahead);
    ADD_PROXIED_VM("/proxy-bounds/unread-events-dropped", NULL, test_unread_events_dropped);
    ADD_PROXIED("/proxy-bounds/unfinished-messages", NULL, test_unfinished_messages);
    ADD_PROXIED_VM("/proxy-bounds/max-clients", "2", test_max_clients);
    ADD_PROXIED_VM("/proxy-bounds/max-clients-default", NULL, test_max_clients);
    ADD_PROXIED_VM("/proxy-bounds/out-of-fds", NULL, test_out_of_fds);
    ADD_PROXIED_VM("/proxy-bounds/log-never-blocks", NULL, test_log_never_blocks);
    return g_test_run();
}
