/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of QMP framing: QEMU-like traffic cut, merged and broken in every way a socket can. */
#include "config.h"

#include <string.h>

#include "qmp.h"

/* What QEMU 7.2 sends on a fresh monitor: greeting, replies and an event, each line ended by
 * CRLF. */
static const char traffic[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
    "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
    "{\"return\": {}, \"id\": 1}\r\n"
    "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, "
    "\"event\": \"DEVICE_DELETED\", "
    "\"data\": {\"path\": \"/machine/peripheral/channel0/virtio-backend\"}}\r\n"
    "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}, "
    "\"id\": 2}\r\n"
    "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'nope' not found\"}, "
    "\"id\": 3}\r\n";

static GPtrArray *
new_messages(void)
{
    return g_ptr_array_new_with_free_func(qmp_json_free);
}

static const char *
member_string(json_object *obj, const char *path0, const char *path1)
{
    json_object *value = json_object_object_get(obj, path0);

    if (path1)
        value = json_object_object_get(value, path1);
    return json_object_get_string(value);
}

/* Feed @len bytes of @data in pieces of @chunk bytes, asserting that none fails. */
static void
feed_in_chunks(QmpParser *parser, const char *data, gsize len, gsize chunk, GPtrArray *messages)
{
    for (gsize pos = 0; pos < len; pos += chunk) {
        g_autoptr(GError) error = NULL;

        g_assert_true(qmp_parser_feed(parser, data + pos, MIN(chunk, len - pos), messages,
                                      &error));
        g_assert_no_error(error);
    }
}

static void
assert_traffic(GPtrArray *messages)
{
    g_assert_cmpuint(messages->len, ==, 5);
    g_assert_cmpint(json_object_get_int(json_object_object_get(json_object_object_get(
        json_object_object_get(json_object_object_get(messages->pdata[0], "QMP"), "version"),
        "qemu"), "major")), ==, 7);
    g_assert_cmpint(json_object_get_int(json_object_object_get(messages->pdata[1], "id")), ==, 1);
    g_assert_cmpstr(member_string(messages->pdata[2], "event", NULL), ==, "DEVICE_DELETED");
    g_assert_cmpstr(member_string(messages->pdata[2], "data", "path"), ==,
                    "/machine/peripheral/channel0/virtio-backend");
    g_assert_cmpstr(member_string(messages->pdata[3], "return", "status"), ==, "paused");
    g_assert_cmpstr(member_string(messages->pdata[4], "error", "desc"), ==,
                    "Device 'nope' not found");
}

static void
test_whole(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();

    feed_in_chunks(parser, traffic, strlen(traffic), strlen(traffic), messages);
    assert_traffic(messages);
    g_assert_false(qmp_parser_in_message(parser));
}

static void
test_byte_by_byte(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();

    feed_in_chunks(parser, traffic, strlen(traffic), 1, messages);
    assert_traffic(messages);
    g_assert_false(qmp_parser_in_message(parser));
}

static void
test_any_chunk_size(void)
{
    for (gsize chunk = 2; chunk <= strlen(traffic); chunk++) {
        g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
        g_autoptr(GPtrArray) messages = new_messages();

        feed_in_chunks(parser, traffic, strlen(traffic), chunk, messages);
        assert_traffic(messages);
    }
}

static void
test_merged(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();
    const char *data = "{\"return\": {}, \"id\": 7}{\"event\": \"RESUME\"}{\"return\": [], \"id\": 8}"
                       "{\"return\": 1";

    feed_in_chunks(parser, data, strlen(data), strlen(data), messages);
    g_assert_cmpuint(messages->len, ==, 3);
    g_assert_cmpstr(member_string(messages->pdata[1], "event", NULL), ==, "RESUME");
    g_assert_true(qmp_parser_in_message(parser));
    feed_in_chunks(parser, "2, \"id\": 9}", 11, 11, messages);
    g_assert_cmpuint(messages->len, ==, 4);
    g_assert_cmpint(json_object_get_int(json_object_object_get(messages->pdata[3], "return")),
                    ==, 12);
}

static void
test_crlf(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();
    const char *data = "\r\n  {\"return\": {}, \"id\": 1}\r\n\r\n\t{\"event\": \"STOP\"}\n \r\n";

    feed_in_chunks(parser, data, strlen(data), strlen(data), messages);
    g_assert_cmpuint(messages->len, ==, 2);
    g_assert_false(qmp_parser_in_message(parser));

    /* Whitespace alone is no message, wherever it is cut. */
    feed_in_chunks(parser, "\r", 1, 1, messages);
    feed_in_chunks(parser, "\n", 1, 1, messages);
    g_assert_false(qmp_parser_in_message(parser));
    g_assert_cmpuint(messages->len, ==, 2);
}

static void
test_split_utf8(void)
{
    /* Two, three and four byte sequences: é, €, 😀. */
    const char *desc = "Device 'caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80' not found";
    g_autofree char *data = g_strdup_printf("{\"error\": {\"class\": \"DeviceNotFound\", "
                                            "\"desc\": \"%s\"}, \"id\": 3}\r\n", desc);

    /* Cut at every byte, in particular inside each multi-byte sequence. */
    for (gsize cut = 1; cut < strlen(data); cut++) {
        g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
        g_autoptr(GPtrArray) messages = new_messages();

        feed_in_chunks(parser, data, cut, 1, messages);
        feed_in_chunks(parser, data + cut, strlen(data) - cut, strlen(data), messages);
        g_assert_cmpuint(messages->len, ==, 1);
        g_assert_cmpstr(member_string(messages->pdata[0], "error", "desc"), ==, desc);
    }
}

/* A read that ends in a byte no UTF-8 sequence starts with, or in a lead byte that the next
 * read does not continue, is refused then, not once more bytes have come: framing does not
 * depend on how reads cut the bytes.  (Found by fuzz/fuzz-framing; its input is in
 * fuzz/corpus/framing/split-invalid-utf8.) */
static void
test_split_invalid_utf8(void)
{
    const struct {
        const char *first;
        const char *second;
    } cases[] = {
        { "{\"return\": \"\xfa", NULL },              /* no sequence starts with FA */
        { "{\"return\": \"\xff", NULL },
        { "{\"return\": \"\xf0", "x\r\n" },          /* F0 needs three more, not 'x' */
        { "{\"return\": \"\xe2\x82", "\"}\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
        g_autoptr(GPtrArray) messages = new_messages();
        g_autoptr(GError) error = NULL;
        gboolean ok = qmp_parser_feed(parser, cases[i].first, strlen(cases[i].first), messages,
                                      &error);

        if (cases[i].second) {
            g_assert_true(ok);
            ok = qmp_parser_feed(parser, cases[i].second, strlen(cases[i].second), messages,
                                 &error);
        }
        g_assert_false(ok);
        g_assert_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL);
        g_assert_false(qmp_parser_in_message(parser));
    }
}

/* A message followed at once by a byte from 0x80 is a message, then an error, as when a read
 * ends between them; json-c refused both together.  (Found by fuzz/fuzz-framing; its input is
 * fuzz/corpus/framing/value-then-non-ascii.) */
static void
test_message_then_non_ascii(void)
{
    const char *data = "{\"return\": {}, \"id\": 1}\xc3\xa9\r\n{\"return\": {}, \"id\": 2}\r\n";
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(QmpParser) resync = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GPtrArray) resynced = new_messages();
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GError) error = NULL;

    g_assert_false(qmp_parser_feed(parser, data, strlen(data), messages, &error));
    g_assert_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL);
    g_assert_cmpuint(messages->len, ==, 1);
    g_assert_cmpint(json_object_get_int(json_object_object_get(messages->pdata[0], "id")), ==, 1);

    qmp_parser_feed_each(resync, data, strlen(data), resynced, errors);
    g_assert_cmpuint(resynced->len, ==, 2);
    g_assert_cmpuint(errors->len, ==, 1);
}

static void
assert_rejected(gsize max_message, const char *data, gsize len, int code)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(max_message);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GError) error = NULL;
    const char *good = "{\"return\": {}, \"id\": 5}";
    g_autofree char *escaped = g_strescape(data, NULL);

    g_test_message("feeding %s", escaped);
    g_assert_false(qmp_parser_feed(parser, data, len, messages, &error));
    g_assert_error(error, QMP_ERROR, code);
    g_assert_false(qmp_parser_in_message(parser));

    /* The parser was reset: the next message is read as if nothing had happened. */
    g_ptr_array_set_size(messages, 0);
    feed_in_chunks(parser, good, strlen(good), strlen(good), messages);
    g_assert_cmpuint(messages->len, ==, 1);
}

static void
test_not_object(void)
{
    const char *values[] = { "[{\"return\": {}}]", "\"QMP\"", "42\r\n", "null\n", "true " };

    for (guint i = 0; i < G_N_ELEMENTS(values); i++)
        assert_rejected(QMP_MAX_MESSAGE, values[i], strlen(values[i]), QMP_ERROR_PROTOCOL);
}

static void
test_malformed(void)
{
    const char *values[] = {
        "{\"return\": }",
        "{\"return\" {}}",
        "{\"return\": {},}",
        "{\"return\": {}, \"id\": 1]",
        "QEMU 7.2.0 monitor - type 'help' for more information\r\n",
        "{\"error\": {\"desc\": \"caf\xc3\"}}",             /* a UTF-8 sequence cut short */
        "{\"return\": {}, \"id\": 1}\r\n}",
    };
    const char nul[] = "{\"return\": \"a\0b\"}";

    for (guint i = 0; i < G_N_ELEMENTS(values); i++)
        assert_rejected(QMP_MAX_MESSAGE, values[i], strlen(values[i]), QMP_ERROR_PROTOCOL);
    assert_rejected(QMP_MAX_MESSAGE, nul, sizeof(nul) - 1, QMP_ERROR_PROTOCOL);
}

static void
test_malformed_keeps_earlier(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GError) error = NULL;
    const char *data = "{\"event\": \"STOP\"}\r\n{\"return\": ]}\r\n{\"event\": \"RESUME\"}\r\n";

    g_assert_false(qmp_parser_feed(parser, data, strlen(data), messages, &error));
    g_assert_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL);
    g_assert_cmpuint(messages->len, ==, 1);
    g_assert_cmpstr(member_string(messages->pdata[0], "event", NULL), ==, "STOP");
}

static void
test_too_big(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(32);
    g_autoptr(GPtrArray) messages = new_messages();
    const char *fits = "{\"return\": \"0123456789abcdefgh\"}";           /* exactly 32 bytes */
    g_autofree char *padded = g_strdup_printf("\r\n%*s%s\r\n", 100, "", fits);
    const char *over = "{\"return\": \"0123456789abcdefghi\"}";

    g_assert_cmpuint(strlen(fits), ==, 32);
    /* Whitespace around a message does not count. */
    feed_in_chunks(parser, padded, strlen(padded), 1, messages);
    feed_in_chunks(parser, padded, strlen(padded), strlen(padded), messages);
    g_assert_cmpuint(messages->len, ==, 2);
    assert_rejected(32, over, strlen(over), QMP_ERROR_TOO_BIG);
}

static void
test_too_big_streamed(void)
{
    const gsize max = 64 * 1024, chunk = 1000;
    g_autoptr(QmpParser) parser = qmp_parser_new(max);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GError) error = NULL;
    g_autofree char *filler = g_malloc(chunk);
    gsize fed = 0;

    memset(filler, 'x', chunk);
    g_assert_true(qmp_parser_feed(parser, "{\"return\": \"", 12, messages, &error));
    fed += 12;
    /* A message that never ends must fail as soon as it passes the limit. */
    while (qmp_parser_feed(parser, filler, chunk, messages, &error)) {
        fed += chunk;
        g_assert_cmpuint(fed, <=, max);
    }
    g_assert_error(error, QMP_ERROR, QMP_ERROR_TOO_BIG);
    g_assert_cmpuint(fed + chunk, >, max);
    g_assert_cmpuint(messages->len, ==, 0);
}

static void
test_in_message(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GError) error = NULL;

    g_assert_false(qmp_parser_in_message(parser));
    feed_in_chunks(parser, " \r\n", 3, 3, messages);
    g_assert_false(qmp_parser_in_message(parser));
    feed_in_chunks(parser, "{\"ret", 5, 5, messages);
    g_assert_true(qmp_parser_in_message(parser));
    feed_in_chunks(parser, "urn\": {}}\r\n{", 12, 12, messages);
    g_assert_cmpuint(messages->len, ==, 1);
    g_assert_true(qmp_parser_in_message(parser));
    feed_in_chunks(parser, "\"event\": \"\xc3", 11, 11, messages);
    g_assert_true(qmp_parser_in_message(parser));
    feed_in_chunks(parser, "\xa9\"}", 3, 3, messages);
    g_assert_false(qmp_parser_in_message(parser));
    g_assert_cmpuint(messages->len, ==, 2);

    /* An error drops the partial message. */
    feed_in_chunks(parser, "{\"return\": ", 11, 11, messages);
    g_assert_false(qmp_parser_feed(parser, "}", 1, messages, &error));
    g_assert_false(qmp_parser_in_message(parser));
}

/* Feed @data one message at a time, as a proxy does, collecting messages and errors. */
static void
feed_each(QmpParser *parser, const char *data, gsize len, GPtrArray *messages, GPtrArray *errors)
{
    for (gsize pos = 0; pos < len;) {
        json_object *message = NULL;
        GError *error = NULL;
        gsize used = qmp_parser_feed_one(parser, data + pos, len - pos, &message, &error);

        g_assert_true(used > 0 || message || error);
        g_assert_true(!(message && error));
        if (message)
            g_ptr_array_add(messages, message);
        if (error)
            g_ptr_array_add(errors, error);
        pos += used;
    }
}

/* A proxy's parser: a broken line gets one error and the next line is read as usual. */
static void
test_resync(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(1024);
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    const char *first = "{\"execute\": \"a\"}\n{\"execute\": oops, \"x\": 1}\n[1, 2]\n";
    const char *second = "{\"execute\": \"b\"}\n{\"execute\": \"c\"";
    const char *third = "}\n";

    feed_each(parser, first, strlen(first), messages, errors);
    feed_each(parser, second, strlen(second), messages, errors);
    feed_each(parser, third, strlen(third), messages, errors);
    g_assert_cmpuint(errors->len, ==, 2);
    g_assert_error((GError *)errors->pdata[0], QMP_ERROR, QMP_ERROR_PROTOCOL);
    g_assert_cmpuint(messages->len, ==, 3);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(messages->pdata[1], "execute")),
                    ==, "b");
    g_assert_cmpstr(json_object_get_string(json_object_object_get(messages->pdata[2], "execute")),
                    ==, "c");
}

/* One message at a time: the bytes after it are left for later, and what is unfinished is
 * counted. */
static void
test_one_at_a_time(void)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(QMP_MAX_MESSAGE);
    const char *data = "  {\"execute\": \"a\"}\r\n{\"execute\": \"b\"}\n{\"exec";
    g_autoptr(json_object) a = NULL;
    g_autoptr(json_object) b = NULL;
    json_object *none = NULL;
    g_autoptr(GError) error = NULL;
    gsize first, second, rest;

    first = qmp_parser_feed_one(parser, data, strlen(data), &a, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(first, ==, strlen("  {\"execute\": \"a\"}"));
    g_assert_cmpstr(member_string(a, "execute", NULL), ==, "a");
    g_assert_cmpuint(qmp_parser_pending(parser), ==, 0);
    second = qmp_parser_feed_one(parser, data + first, strlen(data) - first, &b, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(member_string(b, "execute", NULL), ==, "b");
    rest = strlen(data) - first - second;
    g_assert_cmpuint(qmp_parser_feed_one(parser, data + first + second, rest, &none, &error), ==,
                     rest);
    g_assert_null(none);
    g_assert_no_error(error);
    g_assert_cmpuint(qmp_parser_pending(parser), ==, strlen("{\"exec"));
}

/* "[[…[]…]]" nested @depth deep, as the "id" of a command: QEMU counts the object too. */
static char *
nested(guint depth)
{
    GString *s = g_string_new("{\"execute\": \"query-status\", \"id\": ");

    for (guint i = 1; i < depth; i++)
        g_string_append_c(s, '[');
    for (guint i = 1; i < depth; i++)
        g_string_append_c(s, ']');
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

static void
assert_limit(const char *data, gsize len, const char *desc)
{
    g_autoptr(QmpParser) parser = qmp_parser_new(G_MAXSIZE);
    g_autoptr(GPtrArray) messages = new_messages();
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);

    feed_each(parser, data, len, messages, errors);
    if (!desc) {
        if (errors->len)
            g_error("refused: %s", ((GError *)errors->pdata[0])->message);
        g_assert_cmpuint(messages->len, ==, 1);
        return;
    }
    g_assert_cmpuint(messages->len, ==, 0);
    g_assert_cmpuint(errors->len, ==, 1);
    g_assert_error((GError *)errors->pdata[0], QMP_ERROR, QMP_ERROR_TOO_BIG);
    g_assert_cmpstr(((GError *)errors->pdata[0])->message, ==, desc);
}

/* QEMU 7.2 takes 1024 levels and refuses 1025 (seen, and test-proxy checks it against QEMU):
 * so does the parser, in QEMU's words. */
static void
test_nesting(void)
{
    g_autofree char *deepest = nested(QMP_MAX_NESTING);
    g_autofree char *deeper = nested(QMP_MAX_NESTING + 1);

    assert_limit(deepest, strlen(deepest), NULL);
    assert_limit(deeper, strlen(deeper), "JSON nesting depth limit exceeded");
}

/* {"id": [0,0,…]} with @n tokens in all: "{ "id" : [ 0 ] }" is 7, a further ",0" adds 2 and
 * a last ",[]" 3. */
static char *
tokens(gsize n)
{
    gboolean odd = n % 2 == 1;
    gsize zeros = (n - (odd ? 7 : 10)) / 2 + 1;
    GString *s = g_string_sized_new(zeros * 2 + 16);

    g_string_append(s, "{\"id\": [0");
    for (gsize i = 1; i < zeros; i++)
        g_string_append(s, ",0");
    g_string_append(s, odd ? "]}\n" : ",[]]}\n");
    return g_string_free(s, FALSE);
}

/* QEMU's limits, which the README gives, as numbers: 2 Mi tokens, 64 MiB of tokens. */
#define QEMU_TOKENS (2 * 1024 * 1024)
#define QEMU_TOKEN_BYTES (64 * 1024 * 1024)

static void
test_token_count(void)
{
    g_autofree char *most = tokens(QEMU_TOKENS);
    g_autofree char *more = tokens(QEMU_TOKENS + 1);

    assert_limit(most, strlen(most), NULL);
    assert_limit(more, strlen(more), "JSON token count limit exceeded");
}

/* {"id": "xxx…"} whose tokens take @n bytes in all, whitespace between them not counted. */
static char *
token_bytes(gsize n)
{
    /* {, "id", :, the quotes and } take 9 bytes. */
    gsize xs = n - 9;
    char *s = g_malloc(xs + 32);
    gsize len;

    len = g_snprintf(s, 32, "{   \"id\" :   \"");
    memset(s + len, 'x', xs);
    strcpy(s + len + xs, "\"   }\n");
    return s;
}

static void
test_token_size(void)
{
    g_autofree char *most = token_bytes(QEMU_TOKEN_BYTES - 1);
    g_autofree char *more = token_bytes(QEMU_TOKEN_BYTES);
    g_autoptr(QmpParser) parser = qmp_parser_new(G_MAXSIZE);
    g_autoptr(GError) error = NULL;
    g_autofree char *filler = g_malloc(65536);
    const char *start = "{\"id\": \"";
    json_object *none = NULL;
    gsize fed;

    assert_limit(most, strlen(most), NULL);
    assert_limit(more, strlen(more), "JSON token size limit exceeded");
    /* A string that can only end over the limit is refused as soon as it gets there, not
     * buffered to its end. */
    memset(filler, 'x', 65536);
    fed = qmp_parser_feed_one(parser, start, strlen(start), &none, &error);
    while (!error) {
        fed += qmp_parser_feed_one(parser, filler, 65536, &none, &error);
        g_assert_null(none);
        g_assert_cmpuint(fed, <=, QEMU_TOKEN_BYTES + 65536);
    }
    g_assert_cmpstr(error->message, ==, "JSON token size limit exceeded");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/framing/whole", test_whole);
    g_test_add_func("/qmp/framing/byte-by-byte", test_byte_by_byte);
    g_test_add_func("/qmp/framing/any-chunk-size", test_any_chunk_size);
    g_test_add_func("/qmp/framing/merged", test_merged);
    g_test_add_func("/qmp/framing/crlf", test_crlf);
    g_test_add_func("/qmp/framing/split-utf8", test_split_utf8);
    g_test_add_func("/qmp/framing/split-invalid-utf8", test_split_invalid_utf8);
    g_test_add_func("/qmp/framing/message-then-non-ascii", test_message_then_non_ascii);
    g_test_add_func("/qmp/framing/not-object", test_not_object);
    g_test_add_func("/qmp/framing/malformed", test_malformed);
    g_test_add_func("/qmp/framing/malformed-keeps-earlier", test_malformed_keeps_earlier);
    g_test_add_func("/qmp/framing/too-big", test_too_big);
    g_test_add_func("/qmp/framing/too-big-streamed", test_too_big_streamed);
    g_test_add_func("/qmp/framing/in-message", test_in_message);
    g_test_add_func("/qmp/framing/resync", test_resync);
    g_test_add_func("/qmp/framing/one-at-a-time", test_one_at_a_time);
    g_test_add_func("/qmp/framing/qemu-limits/nesting", test_nesting);
    g_test_add_func("/qmp/framing/qemu-limits/token-count", test_token_count);
    g_test_add_func("/qmp/framing/qemu-limits/token-size", test_token_size);
    return g_test_run();
}
