/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spicevmc-bench's QMP proxy part: query-status straight to one of QEMU's monitors and through
 * spicevmc-qmp-proxy on the other, one at a time and pipelined. */
#include "config.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"
#include "stats.h"

#define TIMEOUT_MS 30000
#define READ_SIZE (64 * 1024)

/* One at a time: the sides take turns by blocks, each going first in every other block, so a
 * QEMU that slows down (or warms up) as it ages favours neither. */
#define WARMUP 200
#define ROUND_TRIPS 2000
#define BLOCK 200
/* Pipelined: this many commands kept in flight, as a busy client would. */
#define PIPELINE_N 5000
#define PIPELINE_DEPTH 64
#define PIPELINE_RUNS 5

#define P50_RATIO_MAX 1.10

/* As QmpClient writes commands. */
#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

typedef struct {
    GArray *direct_us, *proxy_us;         /* us, one per timed round trip */
    GArray *direct_rate, *proxy_rate;     /* commands/s, one per pipelined run */
    double proxy_cpu_us;                  /* the proxy's CPU time over its pipelined runs */
    char *proxy_hwm;
} Results;

static void
results_clear(Results *res)
{
    g_clear_pointer(&res->direct_us, g_array_unref);
    g_clear_pointer(&res->proxy_us, g_array_unref);
    g_clear_pointer(&res->direct_rate, g_array_unref);
    g_clear_pointer(&res->proxy_rate, g_array_unref);
    g_clear_pointer(&res->proxy_hwm, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Results, results_clear)

/* Finer than g_get_monotonic_time(): a round trip is tens of us. */
static gint64
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

/* ---- the proxy process ------------------------------------------------ */

typedef struct {
    GSubprocess *process;
    char *path;               /* its listening socket */
} Proxy;

static void
proxy_stop(Proxy *p)
{
    if (!p)
        return;
    if (p->process) {
        g_subprocess_force_exit(p->process);
        g_subprocess_wait(p->process, NULL, NULL);
        g_object_unref(p->process);
    }
    if (p->path)
        unlink(p->path);
    g_free(p->path);
    g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Proxy, proxy_stop)

static GPid
proxy_pid(Proxy *p)
{
    const char *id = g_subprocess_get_identifier(p->process);

    return id ? (GPid)g_ascii_strtoll(id, NULL, 10) : 0;
}

static Proxy *
proxy_start(TestVm *vm, const char *program, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(Proxy) p = g_new0(Proxy, 1);
    g_autoptr(GSocket) listener = NULL;

    /* Listening before the proxy starts: clients can connect at once. */
    p->path = g_build_filename(vm->dir, "proxy.sock", NULL);
    listener = testvm_listen_unix(p->path);
    g_subprocess_launcher_take_fd(launcher, dup(g_socket_get_fd(listener)), 3);
    g_subprocess_launcher_set_child_setup(launcher, testvm_die_with_parent, NULL, NULL);
    p->process = g_subprocess_launcher_spawn(launcher, error, program,
                                             "--upstream", vm->qmp_path, "--listen-fd", "3",
                                             "--schema", SPICEVMC_SOURCE_SCHEMA, NULL);
    if (!p->process)
        return NULL;
    return g_steal_pointer(&p);
}

/* User plus system time, from /proc/PID/stat (fields 14 and 15, after the command name). */
static double
cpu_us(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *after_name;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(after_name = strrchr(text, ')')))
        return 0;
    fields = g_strsplit(after_name + 2, " ", 0);
    if (g_strv_length(fields) < 13)
        return 0;
    return (g_ascii_strtod(fields[11], NULL) + g_ascii_strtod(fields[12], NULL)) * 1e6 /
           sysconf(_SC_CLK_TCK);
}

/* ---- one at a time: the library's own client on both sides ------------ */

static gboolean
round_trips(QmpClient *client, guint n, GArray *us, GError **error)
{
    g_autoptr(json_object) cmd = qmp_cmd_query_status();

    for (guint i = 0; i < n; i++) {
        gint64 start = now_ns();
        g_autoptr(json_object) ret = qmp_client_execute(client, cmd, error);
        double took = (now_ns() - start) / 1000.0;

        if (!ret)
            return FALSE;
        if (us)
            g_array_append_val(us, took);
    }
    return TRUE;
}

static gboolean
measure_latency(TestVm *vm, Proxy *p, Results *res, GError **error)
{
    g_autoptr(QmpClient) direct = qmp_client_connect(vm->inspect_path, TIMEOUT_MS, error);
    g_autoptr(QmpClient) proxied = direct ? qmp_client_connect(p->path, TIMEOUT_MS, error) : NULL;

    if (!proxied || !round_trips(direct, WARMUP, NULL, error) ||
        !round_trips(proxied, WARMUP, NULL, error))
        return FALSE;
    for (guint b = 0; b < ROUND_TRIPS / BLOCK; b++) {
        gboolean direct_first = b % 2 == 0;

        if (!round_trips(direct_first ? direct : proxied, BLOCK,
                         direct_first ? res->direct_us : res->proxy_us, error) ||
            !round_trips(direct_first ? proxied : direct, BLOCK,
                         direct_first ? res->proxy_us : res->direct_us, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- pipelined: a raw client, the same code for both sockets ---------- */

typedef struct {
    GSocketConnection *conn;
    GSocket *sock;            /* conn's; blocking with a timeout, but while pipelining */
    QmpParser *parser;
    char *buf;
} Raw;

static void
raw_free(Raw *r)
{
    if (!r)
        return;
    g_clear_object(&r->conn);
    qmp_parser_free(r->parser);
    g_free(r->buf);
    g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Raw, raw_free)

/* What has arrived, as whole messages appended to @messages; nothing yet is no error. */
static gboolean
receive(Raw *r, GPtrArray *messages, GError **error)
{
    g_autoptr(GError) local = NULL;
    gssize n = g_socket_receive(r->sock, r->buf, READ_SIZE, NULL, &local);

    if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
    if (n < 0) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (n == 0) {
        g_set_error_literal(error, QMP_ERROR, QMP_ERROR_CLOSED, "the monitor hung up");
        return FALSE;
    }
    return qmp_parser_feed(r->parser, r->buf, n, messages, error);
}

static json_object *
read_one(Raw *r, GError **error)
{
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);

    while (messages->len == 0) {
        if (!receive(r, messages, error))
            return NULL;
    }
    return g_ptr_array_steal_index(messages, 0);
}

static gboolean
send_message(Raw *r, json_object *msg, GError **error)
{
    g_autofree char *text = g_strdup_printf("%s\n", json_object_to_json_string_ext(
                                                        msg, PLAIN));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(r->conn));

    return g_output_stream_write_all(out, text, strlen(text), NULL, NULL, error);
}

/* Negotiated as QmpClient does it, read-ahead (oob) included when offered, so the pipelined
 * client finds QEMU in the same mode as the one-at-a-time one. */
static gboolean
negotiate(Raw *r, GError **error)
{
    g_autoptr(json_object) greeting = read_one(r, error);
    g_autoptr(json_object) cmd = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(json_object) ret = NULL;

    if (!greeting)
        return FALSE;
    cmd = qmp_cmd_capabilities(qmp_greeting_offers_oob(greeting));
    if (!send_message(r, cmd, error) || !(reply = read_one(r, error)))
        return FALSE;
    ret = qmp_reply_take_return(reply, error);
    return ret != NULL;
}

static Raw *
raw_connect(const char *path, GError **error)
{
    g_autoptr(GSocketClient) connector = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = qmp_unix_address_new(path, error);
    g_autoptr(Raw) r = NULL;

    if (!addr)
        return NULL;
    r = g_new0(Raw, 1);
    r->parser = qmp_parser_new(QMP_MAX_MESSAGE);
    r->buf = g_malloc(READ_SIZE);
    if (!(r->conn = g_socket_client_connect(connector, G_SOCKET_CONNECTABLE(addr), NULL, error)))
        return NULL;
    r->sock = g_socket_connection_get_socket(r->conn);
    g_socket_set_timeout(r->sock, TIMEOUT_MS / 1000);
    if (!negotiate(r, error)) {
        g_prefix_error(error, "QMP socket '%s': ", path);
        return NULL;
    }
    return g_steal_pointer(&r);
}

/* All the commands of a run, serialized before the clock starts. */
typedef struct {
    GByteArray *text;
    GArray *ends;             /* gsize: where command i ends in text */
} Batch;

static void
batch_clear(Batch *b)
{
    g_clear_pointer(&b->text, g_byte_array_unref);
    g_clear_pointer(&b->ends, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Batch, batch_clear)

/* Ids from 1, so each reply can be checked to come back to its command, in order. */
static void
batch_init(Batch *b, guint n)
{
    b->text = g_byte_array_new();
    b->ends = g_array_sized_new(FALSE, FALSE, sizeof(gsize), n);
    for (guint i = 0; i < n; i++) {
        g_autoptr(json_object) cmd = qmp_cmd_query_status();
        const char *text;
        gsize end;

        json_object_object_add(cmd, "id", json_object_new_int64(i + 1));
        text = json_object_to_json_string_ext(cmd, PLAIN);
        g_byte_array_append(b->text, (const guint8 *)text, strlen(text));
        g_byte_array_append(b->text, (const guint8 *)"\n", 1);
        end = b->text->len;
        g_array_append_val(b->ends, end);
    }
}

static gboolean
count_replies(GPtrArray *messages, guint *answered, GError **error)
{
    for (guint i = 0; i < messages->len; i++) {
        json_object *msg = messages->pdata[i];
        json_object *id = json_object_object_get(msg, "id");

        if (json_object_object_get_ex(msg, "event", NULL))
            continue;
        if (!json_object_object_get_ex(msg, "return", NULL) ||
            json_object_get_int64(id) != *answered + 1) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "reply %u to a pipelined query-status is not its answer: %s",
                        *answered + 1, json_object_to_json_string(msg));
            return FALSE;
        }
        (*answered)++;
    }
    return TRUE;
}

static gboolean
wait_ready(Raw *r, GIOCondition cond, GError **error)
{
    return g_socket_condition_timed_wait(r->sock, cond, TIMEOUT_MS * G_GINT64_CONSTANT(1000),
                                         NULL, error);
}

/* Never more than PIPELINE_DEPTH commands sent and not answered. */
static gboolean
pipeline(Raw *r, const Batch *b, GArray *rates, GError **error)
{
    guint n = b->ends->len, answered = 0;
    gsize written = 0;
    gint64 start = now_ns();
    double rate;

    while (answered < n) {
        gsize allowed = g_array_index(b->ends, gsize, MIN(n, answered + PIPELINE_DEPTH) - 1);
        g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
        gssize sent = 0;

        if (!wait_ready(r, written < allowed ? G_IO_IN | G_IO_OUT : G_IO_IN, error))
            return FALSE;
        /* A failed send shows as the hang-up the read below reports. */
        if (written < allowed &&
            (sent = g_socket_send(r->sock, (const char *)b->text->data + written,
                                  allowed - written, NULL, NULL)) > 0)
            written += sent;
        if (!receive(r, messages, error) || !count_replies(messages, &answered, error))
            return FALSE;
    }
    rate = n / ((now_ns() - start) / 1e9);
    g_array_append_val(rates, rate);
    return TRUE;
}

static gboolean
pipelined_run(const char *path, const Batch *b, GArray *rates, GError **error)
{
    g_autoptr(Raw) r = raw_connect(path, error);

    if (!r)
        return FALSE;
    g_socket_set_blocking(r->sock, FALSE);
    if (!pipeline(r, b, rates, error)) {
        g_prefix_error(error, "QMP socket '%s': ", path);
        return FALSE;
    }
    return TRUE;
}

/* A fresh connection each run: QEMU's monitor takes one client at a time, and the one-at-a-time
 * clients are gone by now. */
static gboolean
measure_throughput(TestVm *vm, Proxy *p, Results *res, GError **error)
{
    g_auto(Batch) b = { NULL };
    GPid pid = proxy_pid(p);

    batch_init(&b, PIPELINE_N);
    for (guint run = 0; run < PIPELINE_RUNS; run++) {
        gboolean direct_first = run % 2 == 0;
        double cpu_before;

        if (direct_first && !pipelined_run(vm->inspect_path, &b, res->direct_rate, error))
            return FALSE;
        cpu_before = cpu_us(pid);
        if (!pipelined_run(p->path, &b, res->proxy_rate, error))
            return FALSE;
        res->proxy_cpu_us += cpu_us(pid) - cpu_before;
        if (!direct_first && !pipelined_run(vm->inspect_path, &b, res->direct_rate, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- report ------------------------------------------------------------ */

static void
report(Results *res)
{
    double d50 = stats_percentile(res->direct_us, 50), d99 = stats_percentile(res->direct_us, 99);
    double p50 = stats_percentile(res->proxy_us, 50), p99 = stats_percentile(res->proxy_us, 99);
    double drate = stats_median(res->direct_rate), prate = stats_median(res->proxy_rate);

    g_print("proxy    query-status, %u one at a time: direct p50 %5.1f us  p99 %5.1f us   "
            "proxy p50 %5.1f us  p99 %5.1f us   ratio p50 %.2f  p99 %.2f  (target p50 <= %.2f)  "
            "%s\n", res->proxy_us->len, d50, d99, p50, p99, p50 / d50, p99 / d99, P50_RATIO_MAX,
            stats_verdict(p50 / d50 <= P50_RATIO_MAX));
    g_print("proxy    query-status, %u pipelined %u deep: direct %6.0f /s   proxy %6.0f /s   "
            "ratio %.2f  (median of %u, no target)\n", PIPELINE_N, PIPELINE_DEPTH, drate, prate,
            prate / drate, PIPELINE_RUNS);
    g_print("memory   proxy VmHWM %s; proxy CPU %.1f us per pipelined command\n", res->proxy_hwm,
            res->proxy_cpu_us / (PIPELINE_RUNS * PIPELINE_N));
}

gboolean
bench_proxy_run(TestVm *vm, const char *proxy, GError **error)
{
    g_autoptr(Proxy) p = proxy_start(vm, proxy, error);
    g_auto(Results) res = { NULL };

    if (!p)
        return FALSE;
    res.direct_us = g_array_new(FALSE, FALSE, sizeof(double));
    res.proxy_us = g_array_new(FALSE, FALSE, sizeof(double));
    res.direct_rate = g_array_new(FALSE, FALSE, sizeof(double));
    res.proxy_rate = g_array_new(FALSE, FALSE, sizeof(double));
    if (!measure_latency(vm, p, &res, error) || !measure_throughput(vm, p, &res, error))
        return FALSE;
    res.proxy_hwm = stats_proc_status(proxy_pid(p), "VmHWM");
    report(&res);
    return TRUE;
}
