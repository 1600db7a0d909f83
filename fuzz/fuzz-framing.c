/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-framing.c — QMP framing: the same bytes give the same messages however the reads
 * cut them, under a small size limit or the real one, in both modes. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "qmp.h"

/* Small enough for the fuzzer to cross it. */
#define SMALL_LIMIT 256

int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
    g_autoptr(QmpParser) parser = qmp_parser_new(SMALL_LIMIT);
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);

    qmp_parser_feed(parser, "{}", 2, messages, NULL);
    return 0;
}

/* The size of the next piece a read cuts, from @seed. */
static gsize
next_piece(guint32 *seed, gsize left)
{
    *seed = *seed * 1103515245 + 12345;
    return MIN(left, (gsize)(*seed >> 16) % 9 + 1);
}

/* Feed @data in pieces whose sizes come from @seed; FALSE at the first error. */
static gboolean
feed_in_pieces(QmpParser *parser, const char *data, gsize len, guint32 seed,
               GPtrArray *messages, GError **error)
{
    for (gsize at = 0, piece; at < len; at += piece) {
        piece = next_piece(&seed, len - at);
        if (!qmp_parser_feed(parser, data + at, piece, messages, error))
            return FALSE;
    }
    return TRUE;
}

/* The same in resync mode, which never stops. */
static void
resync_in_pieces(QmpParser *parser, const char *data, gsize len, guint32 seed,
                 GPtrArray *messages, GPtrArray *errors)
{
    for (gsize at = 0, piece; at < len; at += piece) {
        piece = next_piece(&seed, len - at);
        qmp_parser_feed_each(parser, data + at, piece, messages, errors);
    }
}

static void
check_messages(GPtrArray *messages)
{
    for (guint i = 0; i < messages->len; i++) {
        if (!json_object_is_type(messages->pdata[i], json_type_object))
            fuzz_fail("a QMP message that is not an object");
    }
}

static gboolean
same_messages(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len)
        return FALSE;
    /* As text: json_object_equal() finds NaN, which json-c reads, unequal to itself. */
    for (guint i = 0; i < a->len; i++) {
        if (strcmp(json_object_to_json_string(a->pdata[i]),
                   json_object_to_json_string(b->pdata[i])) != 0)
            return FALSE;
    }
    return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    g_autoptr(QmpParser) whole = NULL;
    g_autoptr(QmpParser) pieces = NULL;
    g_autoptr(QmpParser) resync_whole = NULL;
    g_autoptr(QmpParser) resync_pieces = NULL;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) cut = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) all_resync = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) cut_resync = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) all_errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GPtrArray) cut_errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize limit;
    guint32 seed;
    gboolean ok;

    /* The first two bytes choose the size limit and how reads cut the rest. */
    if (size < 2)
        return 0;
    limit = bytes[0] & 1 ? SMALL_LIMIT : QMP_MAX_MESSAGE;
    seed = bytes[1];
    /* The rest, and the newline a peer ends its line with: json-c decides some broken tokens
     * (a second '-' at the end of a read) only once they end. */
    size -= 2;
    data = g_malloc(size + 1);
    memcpy(data, bytes + 2, size);
    data[size++] = '\n';

    whole = qmp_parser_new(limit);
    ok = qmp_parser_feed(whole, data, size, all, &error);
    if (!ok == !error)
        fuzz_fail("qmp_parser_feed() and its error disagree");
    check_messages(all);
    g_clear_error(&error);

    /* Framing is a property of the bytes, not of the reads. */
    pieces = qmp_parser_new(limit);
    if (feed_in_pieces(pieces, data, size, seed, cut, &error) != ok ||
        (ok && (!same_messages(all, cut) ||
                qmp_parser_in_message(whole) != qmp_parser_in_message(pieces))))
        fuzz_fail("reads cut differently give different messages");
    g_clear_error(&error);

    /* Resync mode never stops: the same messages however reads cut the bytes, and an error
     * for broken bytes either way.  How many errors a broken line that holds no message gives
     * may differ: json-c takes the whitespace after a value that is not an object, and the
     * byte after it, into the same error when they come in one read. */
    resync_whole = qmp_parser_new(limit);
    qmp_parser_feed_each(resync_whole, data, size, all_resync, all_errors);
    check_messages(all_resync);
    if (ok && (all_errors->len || !same_messages(all, all_resync)))
        fuzz_fail("resync mode differs on bytes without an error");
    resync_pieces = qmp_parser_new(limit);
    resync_in_pieces(resync_pieces, data, size, seed, cut_resync, cut_errors);
    if (!same_messages(all_resync, cut_resync) || !all_errors->len != !cut_errors->len)
        fuzz_fail("in resync mode, reads cut differently give different messages or errors");
    for (guint i = 0; i < all_errors->len; i++)
        fuzz_check_message(((GError *)all_errors->pdata[i])->message);
    return 0;
}
