/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/guest.c — drive the test guest over its ttyS0: boot or accept it, run commands with
 * deadlines, wait for its virtio ports, pass bytes through them (guest.h). */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "guest.h"
#include "guest-private.h"

/* What the guest may write that no command has taken yet (its console is quiet). */
#define OUTPUT_MAX (1024 * 1024)
/* How much of it an error quotes. */
#define TAIL_MAX 2048
/* QEMU connects the guest's line first thing; a QEMU that has not after this never will. */
#define CONNECT_TIMEOUT_S 60

struct _Guest {
    GSocket *socket;          /* QEMU's end of the guest's ttyS0 */
    GSource *source;          /* reading it; NULL once it ended */
    GString *out;             /* what the guest wrote and no command has consumed */
    char *ended;              /* why reading ended: EOF, an error, too much output */
    GHashTable *commands;     /* id → command line, until finished */
    guint last_id;
};

static gboolean
on_readable(GSocket *socket, GIOCondition condition, gpointer data)
{
    Guest *g = data;
    g_autoptr(GError) error = NULL;
    char buf[4096];
    gssize n = g_socket_receive_with_blocking(socket, buf, sizeof(buf), FALSE, NULL, &error);

    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
    if (n < 0)
        g->ended = g_strdup_printf("reading its line failed: %s", error->message);
    else if (n == 0)
        g->ended = g_strdup("its line closed (QEMU exited?)");
    else if (g->out->len + n > OUTPUT_MAX)
        g->ended = g_strdup_printf("it wrote more than %d bytes that no command took",
                                   OUTPUT_MAX);
    else {
        g_string_append_len(g->out, buf, n);
        return G_SOURCE_CONTINUE;
    }
    g_clear_pointer(&g->source, g_source_unref);
    return G_SOURCE_REMOVE;
}

static Guest *
guest_new(GSocket *socket)
{
    Guest *g = g_new0(Guest, 1);

    g->socket = g_object_ref(socket);
    /* Bounds the blocking sends; reads never block. */
    g_socket_set_timeout(socket, GUEST_COMMAND_TIMEOUT_S);
    g->out = g_string_new(NULL);
    g->commands = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    g->source = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(g->source, G_SOURCE_FUNC(on_readable), g, NULL);
    g_source_attach(g->source, NULL);
    return g;
}

void
guest_free(Guest *g)
{
    if (!g)
        return;
    if (g->source) {
        g_source_destroy(g->source);
        g_source_unref(g->source);
    }
    g_socket_close(g->socket, NULL);
    g_object_unref(g->socket);
    g_string_free(g->out, TRUE);
    g_free(g->ended);
    g_hash_table_unref(g->commands);
    g_free(g);
}

/* The end of what the guest wrote, readable in one line. */
static char *
tail(Guest *g)
{
    gsize from = g->out->len > TAIL_MAX ? g->out->len - TAIL_MAX : 0;
    g_autofree char *text = g_strndup(g->out->str + from, g->out->len - from);

    return g_strescape(text, NULL);
}

typedef gboolean (*GuestCheck)(Guest *g, gconstpointer data);

static gboolean
expire(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Run the default main context until @check holds, the line ends or @timeout_s pass. */
static gboolean
wait_for(Guest *g, GuestCheck check, gconstpointer data, guint timeout_s, const char *what,
         GError **error)
{
    gboolean expired = FALSE;
    guint timer;
    g_autofree char *seen = NULL;

    if (check(g, data))
        return TRUE;
    timer = g_timeout_add_seconds(timeout_s, expire, &expired);
    while (!check(g, data) && g->source && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(timer);
    if (check(g, data))
        return TRUE;
    seen = tail(g);
    if (expired)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                    "no %s from the guest within %u s; it last wrote \"%s\"", what, timeout_s,
                    seen);
    else
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                    "no %s from the guest: %s; it last wrote \"%s\"", what, g->ended, seen);
    return FALSE;
}

static gboolean
is_ready(Guest *g, gconstpointer data)
{
    return strstr(g->out->str, GUEST_READY "\n") != NULL;
}

/* Waits for the ready line and drops the boot before it. */
static gboolean
wait_ready(Guest *g, GError **error)
{
    if (!wait_for(g, is_ready, NULL, GUEST_BOOT_TIMEOUT_S, "boot", error))
        return FALSE;
    g_string_erase(g->out, 0,
                   strstr(g->out->str, GUEST_READY "\n") - g->out->str + strlen(GUEST_READY "\n"));
    return TRUE;
}

Guest *
guest_accept(GSocket *listener, GError **error)
{
    g_autoptr(GSocket) socket = NULL;
    g_autoptr(Guest) g = NULL;
    gint64 start;

    /* QEMU connects as it starts, before the guest runs. */
    g_socket_set_timeout(listener, CONNECT_TIMEOUT_S);
    socket = g_socket_accept(listener, NULL, error);
    if (!socket) {
        g_prefix_error(error, "QEMU did not connect the guest's serial line: ");
        return NULL;
    }
    g = guest_new(socket);
    start = g_get_monotonic_time();
    if (!wait_ready(g, error))
        return NULL;
    g_test_message("the guest serves commands %.1f s after QEMU connected its line",
                   (g_get_monotonic_time() - start) / 1e6);
    return g_steal_pointer(&g);
}

Guest *
guest_boot(const GuestImage *image, const char *const *extra, TestVm **vm, GError **error)
{
    static guint serial;
    g_autofree char *path = g_strdup_printf("%s/ttyS0-%d-%u.sock", image->dir, (int)getpid(),
                                            ++serial);
    g_autofree char *chardev = g_strdup_printf("socket,id=guest-ttyS0,path=%s", path);
    g_autoptr(GSocket) listener = testvm_listen_unix(path);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    Guest *g;

    g_ptr_array_add(argv, (gpointer)"-chardev");
    g_ptr_array_add(argv, chardev);
    g_ptr_array_add(argv, (gpointer)"-serial");
    g_ptr_array_add(argv, (gpointer)"chardev:guest-ttyS0");
    for (guint i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    *vm = testvm_start_boot(&image->boot, (const char *const *)argv->pdata);
    g = guest_accept(listener, error);
    g_unlink(path);
    if (!g) {
        g_autofree char *log_path = g_build_filename((*vm)->dir, "qemu.log", NULL);
        g_autofree char *log = NULL;

        if (g_file_get_contents(log_path, &log, NULL, NULL) && *g_strstrip(log))
            g_prefix_error(error, "QEMU said \"%s\"; ", log);
    }
    return g;
}

static gboolean
send_all(Guest *g, const char *data, gsize len, GError **error)
{
    while (len) {
        gssize n = g_socket_send_with_blocking(g->socket, data, len, TRUE, NULL, error);

        if (n < 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

static guint
start_va(Guest *g, GError **error, const char *format, va_list ap)
{
    g_autofree char *command = g_strdup_vprintf(format, ap);
    g_autofree char *line = NULL;
    guint id = ++g->last_id;

    /* The guest reads one line per command. */
    g_assert_null(strchr(command, '\n'));
    line = g_strdup_printf("%u %s\n", id, command);
    if (!send_all(g, line, strlen(line), error)) {
        g_prefix_error(error, "cannot send '%s' to the guest: ", command);
        return 0;
    }
    g_hash_table_insert(g->commands, GUINT_TO_POINTER(id), g_steal_pointer(&command));
    return id;
}

guint
guest_start(Guest *g, GError **error, const char *format, ...)
{
    va_list ap;
    guint id;

    va_start(ap, format);
    id = start_va(g, error, format, ap);
    va_end(ap);
    return id;
}

/* Where command @id's answer is in the output: [begin, end) is what it wrote, the answer
 * runs from @from to @to, and @status is its exit status. */
typedef struct {
    gsize from, begin, end, to;
    int status;
} Answer;

static gboolean
find_answer(Guest *g, guint id, Answer *a)
{
    g_autofree char *begin = g_strdup_printf(GUEST_BEGIN " %u\n", id);
    g_autofree char *end = g_strdup_printf("\n" GUEST_END " %u ", id);
    const char *b = strstr(g->out->str, begin);
    const char *e = b ? strstr(b, end) : NULL;
    const char *nl = e ? strchr(e + strlen(end), '\n') : NULL;
    char *rest = NULL;

    if (!nl)
        return FALSE;
    a->from = b - g->out->str;
    a->begin = a->from + strlen(begin);
    a->end = e - g->out->str;
    a->to = nl + 1 - g->out->str;
    a->status = (int)g_ascii_strtoll(e + strlen(end), &rest, 10);
    g_assert_true(rest == nl);
    return TRUE;
}

static gboolean
has_answer(Guest *g, gconstpointer data)
{
    Answer a;

    return find_answer(g, GPOINTER_TO_UINT(data), &a);
}

char *
guest_finish(Guest *g, guint id, GError **error)
{
    const char *command = g_hash_table_lookup(g->commands, GUINT_TO_POINTER(id));
    g_autofree char *what = g_strdup_printf("end of '%s'", command);
    g_autofree char *output = NULL;
    Answer a;

    g_assert_nonnull(command);
    if (!wait_for(g, has_answer, GUINT_TO_POINTER(id), GUEST_COMMAND_TIMEOUT_S, what, error))
        return NULL;
    find_answer(g, id, &a);
    output = g_strndup(g->out->str + a.begin, a.end - a.begin);
    g_string_erase(g->out, a.from, a.to - a.from);
    if (a.status != 0) {
        g_autofree char *shown = g_strescape(output, NULL);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "'%s' exited with status %d in the guest: \"%s\"", command, a.status, shown);
        g_hash_table_remove(g->commands, GUINT_TO_POINTER(id));
        return NULL;
    }
    g_hash_table_remove(g->commands, GUINT_TO_POINTER(id));
    return g_steal_pointer(&output);
}

char *
guest_run(Guest *g, GError **error, const char *format, ...)
{
    va_list ap;
    guint id;

    va_start(ap, format);
    id = start_va(g, error, format, ap);
    va_end(ap);
    return id ? guest_finish(g, id, error) : NULL;
}

char *
guest_wait_port(Guest *g, const char *name, GError **error)
{
    g_autofree char *quoted = g_shell_quote(name);
    g_autofree char *out = guest_run(g, error, "wait_port %s present %d", quoted,
                                     GUEST_PORT_TIMEOUT_S);

    return out ? g_strdup(g_strstrip(out)) : NULL;
}

gboolean
guest_wait_port_gone(Guest *g, const char *name, GError **error)
{
    g_autofree char *quoted = g_shell_quote(name);
    g_autofree char *out = guest_run(g, error, "wait_port %s absent %d", quoted,
                                     GUEST_PORT_TIMEOUT_S);

    return out != NULL;
}

guint
guest_exchange_start(Guest *g, const char *dev, GError **error)
{
    g_autofree char *quoted = g_shell_quote(dev);

    return guest_start(g, error, "exchange %s %d", quoted, GUEST_PORT_TIMEOUT_S);
}

GBytes *
guest_exchange_finish(Guest *g, guint id, GError **error)
{
    g_autofree char *out = guest_finish(g, id, error);
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    g_auto(GStrv) words = NULL;

    if (!out)
        return NULL;
    /* od -An -tx1: two hex digits a byte, blank-separated. */
    words = g_strsplit_set(g_strstrip(out), " \n", -1);
    for (guint i = 0; words[i]; i++) {
        guint8 byte;

        if (!*words[i])
            continue;
        if (strlen(words[i]) != 2 || !g_ascii_isxdigit(words[i][0]) ||
            !g_ascii_isxdigit(words[i][1])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "the guest's exchange printed '%s' among its bytes", words[i]);
            return NULL;
        }
        byte = g_ascii_xdigit_value(words[i][0]) << 4 | g_ascii_xdigit_value(words[i][1]);
        g_byte_array_append(bytes, &byte, 1);
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}
