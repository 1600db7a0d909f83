/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz/fuzz-framing.c — QMP framing: the same bytes give the same messages however the reads
 * cut them, under a small size limit or the real one, in both modes. */
#include "config.h"

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

/* Feed @data in pieces whose sizes come from @seed; FALSE at the first error. */
static gboolean
feed_in_pieces(QmpParser *parser, const char *data, gsize len, guint32 seed,
               GPtrArray *messages, GError **error)
{
    for (gsize at = 0; at < len;) {
        gsize piece;

        seed = seed * 1103515245 + 12345;
        piece = MIN(len - at, (gsize)(seed >> 16) % 9 + 1);
        if (!qmp_parser_feed(parser, data + at, piece, messages, error))
            return FALSE;
        at += piece;
    }
    return TRUE;
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
    for (guint i = 0; i < a->len; i++) {
        if (!json_object_equal(a->pdata[i], b->pdata[i]))
            return FALSE;
    }
    return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    g_autoptr(QmpParser) whole = NULL;
    g_autoptr(QmpParser) pieces = NULL;
    g_autoptr(QmpParser) resync = NULL;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) cut = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) again = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GError) error = NULL;
    const char *data = (const char *)bytes;
    gsize limit;
    guint32 seed;
    gboolean ok;

    /* The first two bytes choose the size limit and how reads cut the rest. */
    if (size < 2)
        return 0;
    limit = data[0] & 1 ? SMALL_LIMIT : QMP_MAX_MESSAGE;
    seed = (guchar)data[1];
    data += 2;
    size -= 2;

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

    /* Resync mode never stops: every message of a clean feed, and one error per broken one. */
    resync = qmp_parser_new(limit);
    qmp_parser_feed_resync(resync, data, size, again, errors);
    check_messages(again);
    if (ok && (errors->len || !same_messages(all, again)))
        fuzz_fail("resync mode differs on bytes without an error");
    for (guint i = 0; i < errors->len; i++)
        fuzz_check_message(((GError *)errors->pdata[i])->message);
    return 0;
}
