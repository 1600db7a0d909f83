/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/test-proxy-soak.c — spicevmc-qmp-proxy for a while under well-behaved clients adding and
 * removing channels and hostile ones (not reading, garbage, huge messages, leaving mid-command):
 * its memory stays bounded, every well-behaved command is answered, and QEMU ends up with
 * exactly the channels the clients were told were added. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy-common.h"

/* How long the clients run, and the bounds checked at the end (generous: this is about
 * liveness and leaks on a loaded machine, not speed). */
#define SOAK_S 20
#define LATENCY_BOUND_S 20
#define RSS_BOUND (128 * 1024 * 1024)
#define GOOD_CLIENTS 4
/* Channels a well-behaved client keeps at most, and adds of clients that leave at most. */
#define KEEP_MAX 8
#define GONE_MAX 32
/* Hostile clients come back this often: often enough to be many, not so often that they take
 * a shared CI machine for themselves. */
#define PACE_MS 5

typedef struct {
    Proxied *f;
    gint64 end;
    GMutex lock;
    gint gone_adds;           /* atomic */
    guint hostile_rounds;     /* atomic */
} Soak;

typedef struct {
    Soak *soak;
    guint index;
    GPtrArray *kept;          /* ids this client was told were added, not yet removed */
    guint commands;
    gint64 worst_us;
} Good;

static gboolean
running(Soak *soak)
{
    return g_get_monotonic_time() < soak->end;
}

static json_object *
timed_exchange(Good *g, Raw *r, const char *line)
{
    gint64 start = g_get_monotonic_time();
    json_object *reply = raw_exchange(r, line, -1);

    g->worst_us = MAX(g->worst_us, g_get_monotonic_time() - start);
    g->commands++;
    return reply;
}

static void
assert_return(const char *line, json_object *reply)
{
    if (!json_object_object_get(reply, "return"))
        g_error("%s: %s", line, json_object_to_json_string(reply));
}

/* ---- the well-behaved ------------------------------------------------------- */

static gpointer
good_client(gpointer data)
{
    Good *g = data;
    g_auto(Raw) r = { NULL };

    raw_open(&r, g->soak->f->path, TRUE);
    for (guint n = 0; running(g->soak); n++) {
        g_autofree char *line = NULL;
        g_autoptr(json_object) reply = NULL;

        if (n % 3 == 2) {
            reply = timed_exchange(g, &r, "{\"execute\": \"query-status\"}");
            assert_return("query-status", reply);
        } else if (g->kept->len < KEEP_MAX && (n % 3 == 0 || !g->kept->len)) {
            json_object *added;

            line = g_strdup_printf("{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": "
                                   "\"port\", \"fqdn\": \"org.soak.c%u.%u\", \"id\": "
                                   "\"good%u-%u\"}}", g->index, n, g->index, n);
            reply = timed_exchange(g, &r, line);
            assert_return(line, reply);
            added = json_object_object_get(reply, "return");
            g_assert_cmpuint(json_object_array_length(added), ==, 1);
            g_ptr_array_add(g->kept, g_strdup(json_object_get_string(json_object_object_get(
                                         json_object_array_get_idx(added, 0), "id"))));
        } else {
            g_autofree char *id = g_ptr_array_steal_index(g->kept, n % g->kept->len);

            line = g_strdup_printf("{\"execute\": \"spicevmc-remove\", \"arguments\": "
                                   "{\"id\": \"%s\"}}", id);
            reply = timed_exchange(g, &r, line);
            assert_return(line, reply);
        }
    }
    return NULL;
}

/* ---- the hostile -------------------------------------------------------------- */

static gsize
push(Raw *r, const char *data, gsize len)
{
    int fd = g_socket_get_fd(g_socket_connection_get_socket(r->conn));
    ssize_t n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    return n > 0 ? n : 0;
}

/* Sends commands whose replies it never reads, for as long as the proxy takes them. */
static gpointer
non_reader(gpointer data)
{
    Soak *soak = data;
    g_auto(Raw) r = { NULL };
    g_autoptr(GString) flood = g_string_new(NULL);
    gsize sent = 0;

    raw_open(&r, soak->f->path, TRUE);
    for (guint i = 0; i < 2000; i++)
        g_string_append(flood, i % 2 ? "{\"execute\": \"query-qmp-schema\"}\n"
                                     : "{\"execute\": \"query-spicevmc\"}\n");
    while (running(soak)) {
        struct pollfd pfd = { g_socket_get_fd(g_socket_connection_get_socket(r.conn)), POLLOUT,
                              0 };

        if (sent < flood->len && poll(&pfd, 1, 100) == 1)
            sent += push(&r, flood->str + sent, flood->len - sent);
        else
            poll(NULL, 0, 100);
        g_atomic_int_inc(&soak->hostile_rounds);
    }
    return NULL;
}

/* Random bytes, lines nested too deep, broken UTF-8, half messages; reads what it is sent. */
static gpointer
garbage(gpointer data)
{
    Soak *soak = data;
    g_autoptr(GRand) rand = g_rand_new_with_seed(12);

    while (running(soak)) {
        g_auto(Raw) r = { NULL };
        g_autoptr(GString) junk = g_string_new(NULL);
        char buf[4096];
        int fd;

        raw_open(&r, soak->f->path, g_rand_boolean(rand));
        fd = g_socket_get_fd(g_socket_connection_get_socket(r.conn));
        for (guint i = 0; i < 64; i++)
            g_string_append_c(junk, (char)g_rand_int_range(rand, 1, 256));
        g_string_append(junk, "\n{\"execute\": \"query-status\", \"id\": \"\xc3\x28\"}\n");
        for (guint i = 0; i < QMP_MAX_NESTING + 1; i++)
            g_string_append_c(junk, '[');
        g_string_append(junk, "\n{\"execute\": \"qom-get\", \"arguments\": {\"path\": ");
        push(&r, junk->str, junk->len);
        while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
            ;
        g_atomic_int_inc(&soak->hostile_rounds);
        poll(NULL, 0, PACE_MS);
    }
    return NULL;
}

/* Messages of several megabytes: some whole (the proxy answers them), some cut off. */
static gpointer
huge(gpointer data)
{
    Soak *soak = data;
    g_autofree char *filler = g_strnfill(3 * 1024 * 1024, 'h');
    g_autofree char *whole = g_strdup_printf("{\"execute\": \"query-spicevmc\", \"arguments\": "
                                             "{\"x\": \"%s\"}}", filler);

    for (guint n = 0; running(soak); n++) {
        g_auto(Raw) r = { NULL };

        raw_open(&r, soak->f->path, TRUE);
        if (n % 2) {
            g_autoptr(json_object) refused = raw_exchange(&r, whole, -1);

            g_assert_nonnull(json_object_object_get(refused, "error"));
        } else {
            g_autoptr(GError) error = NULL;

            g_output_stream_write_all(r.out, whole, strlen(whole) / 2, NULL, NULL, &error);
        }
        g_atomic_int_inc(&soak->hostile_rounds);
        poll(NULL, 0, 20 * PACE_MS);
    }
    return NULL;
}

/* Sends a command and leaves without waiting for it: an add, a removal, a query. */
static gpointer
leaver(gpointer data)
{
    Soak *soak = data;

    for (guint n = 0; running(soak); n++) {
        g_auto(Raw) r = { NULL };
        g_autofree char *line = NULL;

        raw_open(&r, soak->f->path, TRUE);
        if (n % 8 == 0 && g_atomic_int_add(&soak->gone_adds, 1) < GONE_MAX)
            line = g_strdup_printf("{\"execute\": \"spicevmc-add\", \"arguments\": {\"kind\": "
                                   "\"port\", \"fqdn\": \"org.soak.gone.%u\", \"id\": "
                                   "\"gone%u\"}}", n, n);
        else if (n % 2)
            line = g_strdup("{\"execute\": \"spicevmc-remove\", \"arguments\": "
                            "{\"id\": \"nothing\"}}");
        else
            line = g_strdup("{\"execute\": \"query-spicevmc\"}");
        raw_send(&r, line, -1);
        g_atomic_int_inc(&soak->hostile_rounds);
        poll(NULL, 0, PACE_MS);
    }
    return NULL;
}

/* ---- the end ----------------------------------------------------------------- */

/* The ids of QEMU's user-created devices. */
static GHashTable *
peripherals(QmpClient *inspect)
{
    g_autoptr(json_object) list = testvm_exec(inspect,
                                              qmp_cmd_qom_list("/machine/peripheral"));
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);

        if (g_str_has_prefix(json_object_get_string(json_object_object_get(entry, "type")),
                             "child<"))
            g_hash_table_add(ids, g_strdup(json_object_get_string(
                                      json_object_object_get(entry, "name"))));
    }
    return ids;
}

static void
test_soak(Proxied *f, gconstpointer data)
{
    static const GThreadFunc hostile[] = { non_reader, garbage, huge, leaver };
    Soak soak = { f, g_get_monotonic_time() + SOAK_S * G_USEC_PER_SEC };
    Good goods[GOOD_CLIENTS];
    GThread *threads[GOOD_CLIENTS + G_N_ELEMENTS(hostile)];
    g_autoptr(GHashTable) devices = NULL;
    g_auto(Raw) last = { NULL };
    g_autoptr(json_object) settled = NULL;
    GHashTableIter iter;
    gpointer id;
    guint kept = 0, gone = 0, commands = 0;
    gsize peak;
    gint64 worst = 0;

    for (guint i = 0; i < GOOD_CLIENTS; i++) {
        goods[i] = (Good){ &soak, i, g_ptr_array_new_with_free_func(g_free), 0, 0 };
        threads[i] = g_thread_new("good", good_client, &goods[i]);
    }
    for (guint i = 0; i < G_N_ELEMENTS(hostile); i++)
        threads[GOOD_CLIENTS + i] = g_thread_new("hostile", hostile[i], &soak);
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        g_thread_join(threads[i]);

    /* Every well-behaved command was answered, none late. */
    for (guint i = 0; i < GOOD_CLIENTS; i++) {
        commands += goods[i].commands;
        worst = MAX(worst, goods[i].worst_us);
    }
    g_test_message("%u well-behaved commands, the slowest answered in %.3f s; %u hostile "
                   "rounds", commands, worst / 1e6, soak.hostile_rounds);
    g_assert_cmpuint(commands, >, 0);
    g_assert_cmpint(worst, <, LATENCY_BOUND_S * G_USEC_PER_SEC);

    /* The proxy's memory stayed bounded. */
    peak = proxied_memory(f, "VmHWM:");
    g_test_message("the proxy's peak resident memory: %zu KiB", peak / 1024);
    g_assert_cmpuint(peak, <, RSS_BOUND);

    /* QEMU has what the clients were told: every channel kept, and besides them only whole
     * channels of clients that left before they were told.  Our commands run one at a time:
     * once this one is answered, those of clients that left are done. */
    raw_open(&last, f->path, TRUE);
    settled = raw_exchange(&last, "{\"execute\": \"query-spicevmc\"}", -1);
    g_assert_nonnull(json_object_object_get(settled, "return"));
    devices = peripherals(f->inspect);
    for (guint i = 0; i < GOOD_CLIENTS; i++) {
        for (guint j = 0; j < goods[i].kept->len; j++) {
            if (!g_hash_table_remove(devices, goods[i].kept->pdata[j]))
                g_error("QEMU has no device '%s', which a client was told was added",
                        (char *)goods[i].kept->pdata[j]);
            kept++;
        }
        g_ptr_array_unref(goods[i].kept);
    }
    g_hash_table_remove(devices, "vs0");
    g_hash_table_remove(devices, "xhci0");
    g_hash_table_iter_init(&iter, devices);
    while (g_hash_table_iter_next(&iter, &id, NULL)) {
        if (!g_str_has_prefix(id, "gone"))
            g_error("QEMU has a device '%s' no client was told was added", (char *)id);
        gone++;
    }
    g_assert_cmpuint(testvm_count_spice_chardevs(f->inspect), ==, kept + gone);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_PROXIED("/proxy-soak", NULL, test_soak);
    return g_test_run();
}
