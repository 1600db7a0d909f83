/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP framing: cut a byte stream into JSON objects with json-c's incremental tokener. */
#include "config.h"

#include <string.h>

#include "qmp.h"

G_DEFINE_QUARK(qmp-error-quark, qmp_error)

/* QMP replies nest a few levels; the limit only stops a runaway peer, and is above json-c's
 * default of 32 so that no deep but legitimate qom-get value is refused. */
#define PARSER_DEPTH 64

struct _QmpParser {
    struct json_tokener *tok;
    gsize max_message;
    gboolean in_message;
    gsize consumed;           /* bytes of the current message given to the tokener */
    /* json-c rejects a UTF-8 sequence split across two parse calls when validating, so an
     * incomplete sequence at the end of a feed waits here for the rest of its bytes. */
    char carry[4];
    gsize carry_len;
    gboolean recovering;      /* after an error: skipping to the end of the line */
};

QmpParser *
qmp_parser_new(gsize max_message)
{
    QmpParser *parser;

    g_return_val_if_fail(max_message > 0, NULL);
    parser = g_new0(QmpParser, 1);
    parser->tok = json_tokener_new_ex(PARSER_DEPTH);
    /* Strict, so that what QEMU would reject is not silently accepted; trailing characters
     * are the next message. */
    json_tokener_set_flags(parser->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                        JSON_TOKENER_VALIDATE_UTF8);
    parser->max_message = max_message;
    return parser;
}

void
qmp_parser_free(QmpParser *parser)
{
    if (!parser)
        return;
    json_tokener_free(parser->tok);
    g_free(parser);
}

gboolean
qmp_parser_in_message(const QmpParser *parser)
{
    return parser->in_message || parser->carry_len > 0;
}

static void
reset(QmpParser *parser)
{
    json_tokener_reset(parser->tok);
    parser->in_message = FALSE;
    parser->consumed = 0;
    parser->carry_len = 0;
}

static gboolean
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes in the UTF-8 sequence that @lead starts (1 for ASCII and stray bytes; F8–FF start
 * none, and go to the tokener to be refused at once). */
static gsize
utf8_length(guchar lead)
{
    return lead >= 0xF8 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

static gboolean
is_continuation(guchar c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of a UTF-8 sequence cut off at the end of @data, 0 when the last one is whole. */
static gsize
incomplete_utf8_tail(const char *data, gsize len)
{
    for (gsize back = 1; back <= MIN(len, 3); back++) {
        guchar c = data[len - back];

        if (!is_continuation(c))
            return utf8_length(c) > back ? back : 0;
    }
    return 0;
}

static gboolean
too_big(QmpParser *parser, GError **error)
{
    g_set_error(error, QMP_ERROR, QMP_ERROR_TOO_BIG,
                "a QMP message is larger than the limit of %" G_GSIZE_FORMAT " bytes",
                parser->max_message);
    reset(parser);
    parser->recovering = TRUE;
    return FALSE;
}

/* The tokener finished a value: keep it if it is an object. */
static gboolean
complete(QmpParser *parser, json_object *value, GPtrArray *messages, GError **error)
{
    if (!json_object_is_type(value, json_type_object)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "a QMP message must be a JSON object, not %s",
                    json_type_to_name(json_object_get_type(value)));
        json_object_put(value);
        reset(parser);
        return FALSE;
    }
    g_ptr_array_add(messages, value);
    json_tokener_reset(parser->tok);
    parser->in_message = FALSE;
    parser->consumed = 0;
    return TRUE;
}

/* The bytes of @data up to the first place a value can end ('"', '}', ']') before a byte from
 * 0x80.  Having finished a value, json-c looks at the next byte before returning it, and
 * refuses the value when that byte is not UTF-8 on its own ("{...}\xc3\xa9" is refused whole,
 * "{...}" then "\xc3\xa9" is a message and an error).  Cut there, a message never depends on
 * what follows it; only there, because each call of the tokener costs a locale of its own
 * (json-c 0.16 makes one per call: cutting at every quote made a list of 250 channels cost
 * five times as much to parse). */
static gsize
segment(const char *data, gsize len)
{
    for (gsize i = 0; i + 1 < len; i++) {
        if ((data[i] == '"' || data[i] == '}' || data[i] == ']') && (guchar)data[i + 1] >= 0x80)
            return i + 1;
    }
    return len;
}

/* Give up to @len bytes of one message to the tokener; *used says how many it took. */
static gboolean
tokenize(QmpParser *parser, const char *data, gsize len, gsize *used,
         GPtrArray *messages, GError **error)
{
    gsize room = parser->max_message - parser->consumed;
    json_object *value;
    enum json_tokener_error jerr;

    /* Never hand json-c more than the limit allows, so it never buffers more than that. */
    value = json_tokener_parse_ex(parser->tok, data,
                                  (int)MIN(segment(data, MIN(len, room)), G_MAXINT));
    jerr = json_tokener_get_error(parser->tok);
    *used = json_tokener_get_parse_end(parser->tok);
    parser->consumed += *used;

    if (jerr == json_tokener_continue)
        return parser->consumed < parser->max_message ? TRUE : too_big(parser, error);
    if (jerr != json_tokener_success) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_PROTOCOL, "malformed QMP message: %s",
                    json_tokener_error_desc(jerr));
        reset(parser);
        /* The rest of the broken message is not a message (see qmp_parser_feed_resync()). */
        parser->recovering = TRUE;
        return FALSE;
    }
    return complete(parser, value, messages, error);
}

/* Feed whole bytes (no incomplete UTF-8 sequence at the end) to the tokener; on an error, *stop
 * is where in @data the tokener gave up. */
static gboolean
feed_whole(QmpParser *parser, const char *data, gsize len, GPtrArray *messages, gsize *stop,
           GError **error)
{
    gsize pos = 0;

    while (pos < len) {
        gsize used;

        if (!parser->in_message) {
            if (is_space(data[pos])) {
                pos++;
                continue;
            }
            parser->in_message = TRUE;
        }
        if (!tokenize(parser, data + pos, len - pos, &used, messages, error)) {
            *stop = pos + used;
            return FALSE;
        }
        pos += used;
    }
    return TRUE;
}

/* As qmp_parser_feed(); on an error, *stop is the offset in @data of the byte that ended the
 * message. */
static gboolean
feed(QmpParser *parser, const char *data, gsize len, GPtrArray *messages, gsize *stop,
     GError **error)
{
    gsize hold, take = 0, at = 0;

    if (parser->carry_len > 0) {
        gsize need = utf8_length(parser->carry[0]) - parser->carry_len;

        /* Only continuation bytes complete it; any other byte shows it broken, and the
         * tokener says so now, as it would have with the bytes in one read. */
        while (take < MIN(need, len) && is_continuation(data[take]))
            take++;
        memcpy(parser->carry + parser->carry_len, data, take);
        parser->carry_len += take;
        data += take;
        len -= take;
        if (take < need && len == 0)
            return TRUE;
        if (!feed_whole(parser, parser->carry, parser->carry_len, messages, &at, error)) {
            *stop = take > 0 ? take - 1 : 0;
            return FALSE;
        }
        parser->carry_len = 0;
    }

    hold = incomplete_utf8_tail(data, len);
    if (!feed_whole(parser, data, len - hold, messages, &at, error)) {
        *stop = take + at;
        return FALSE;
    }
    memcpy(parser->carry, data + len - hold, hold);
    parser->carry_len = hold;
    return TRUE;
}

gboolean
qmp_parser_feed(QmpParser *parser, const char *data, gsize len,
                GPtrArray *messages, GError **error)
{
    gsize stop;

    return feed(parser, data, len, messages, &stop, error);
}

void
qmp_parser_feed_resync(QmpParser *parser, const char *data, gsize len, GPtrArray *messages,
                       GPtrArray *errors)
{
    gsize pos = 0;

    while (pos < len) {
        GError *error = NULL;
        const char *eol;
        gsize stop = 0;

        /* The rest of a broken message's line is not a message: QMP clients send one a line,
         * and QEMU answers a broken line once.  A whole value that is not an object needs no
         * such skipping. */
        if (parser->recovering) {
            if (!(eol = memchr(data + pos, '\n', len - pos)))
                return;
            parser->recovering = FALSE;
            pos = eol - data + 1;
            continue;
        }
        if (feed(parser, data + pos, len - pos, messages, &stop, &error))
            return;
        g_ptr_array_add(errors, error);
        pos += stop;
    }
}
