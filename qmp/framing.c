/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP framing: cut a byte stream into JSON objects with json-c's incremental tokener, within
 * the limits QEMU's own JSON parser sets on a message. */
#include "config.h"

#include <string.h>

#include "qmp.h"

G_DEFINE_QUARK(qmp-error-quark, qmp_error)

/* QEMU's tokens as its lexer (qobject/json-lexer.c) cuts them, counted for its streamer's
 * limits (qobject/json-streamer.c): whitespace is no token, a string is one from quote to
 * quote, a number or a keyword is one up to the next delimiter, each of {}[],: is one. */
typedef enum { LEX_BETWEEN, LEX_STRING, LEX_ESCAPE, LEX_WORD } LexState;

typedef struct {
    LexState state;
    guint depth;
    gsize tokens;             /* finished tokens of the message */
    gsize token_bytes;        /* their bytes */
    gsize current;            /* bytes of the token being read */
} Lex;

struct _QmpParser {
    struct json_tokener *tok;
    Lex lex;
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
    /* The nesting limit is the lexer's below; json-c's own must never be the one that bites. */
    parser->tok = json_tokener_new_ex(QMP_MAX_NESTING + 1);
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

gsize
qmp_parser_pending(const QmpParser *parser)
{
    return parser->consumed + parser->carry_len;
}

static void
reset(QmpParser *parser)
{
    json_tokener_reset(parser->tok);
    memset(&parser->lex, 0, sizeof(parser->lex));
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

/* ---- QEMU's limits ------------------------------------------------------- */

/* QEMU checks a token against its limits once the lexer has it whole, size first, then count,
 * then nesting; the size is checked here as the token grows, so that a token that can only
 * end over the limit is refused before it is buffered. */
static const char *
lex_token_fits(const Lex *lex, gsize len)
{
    if (lex->token_bytes + len + 1 > QMP_MAX_TOKEN_BYTES)
        return "JSON token size limit exceeded";
    return NULL;
}

static const char *
lex_token_ends(Lex *lex, gsize len, int nesting)
{
    const char *over = lex_token_fits(lex, len);

    if (over)
        return over;
    if (lex->tokens + 1 > QMP_MAX_TOKENS)
        return "JSON token count limit exceeded";
    if (lex->depth + nesting > QMP_MAX_NESTING)
        return "JSON nesting depth limit exceeded";
    lex->tokens++;
    lex->token_bytes += len;
    lex->depth += nesting;
    lex->current = 0;
    return NULL;
}

/* How many of @len bytes may go to the tokener: all of them, or up to the end of the message
 * (its closing bracket), or up to the byte where the message breaks one of QEMU's limits
 * (*over says which). */
static gsize
lex_scan(Lex *lex, const char *data, gsize len, const char **over)
{
    for (gsize i = 0; i < len; i++) {
        char c = data[i];

        if (lex->state == LEX_STRING || lex->state == LEX_ESCAPE) {
            lex->current++;
            if (lex->state == LEX_ESCAPE)
                lex->state = LEX_STRING;
            else if (c == '\\')
                lex->state = LEX_ESCAPE;
            else if (c == '"' && (*over = lex_token_ends(lex, lex->current, 0)))
                return i;
            else if (c == '"')
                lex->state = LEX_BETWEEN;
            if (lex->state != LEX_BETWEEN && (*over = lex_token_fits(lex, lex->current)))
                return i;
            continue;
        }
        if (lex->state == LEX_WORD && (is_space(c) || strchr("{}[],:\"", c))) {
            if ((*over = lex_token_ends(lex, lex->current, 0)))
                return i;
            lex->state = LEX_BETWEEN;
        }
        if (is_space(c))
            continue;
        if (c == '"') {
            lex->state = LEX_STRING;
            lex->current = 1;
        } else if (strchr("{}[],:", c)) {
            int nesting = (c == '{' || c == '[') ? 1 : (c == '}' || c == ']') && lex->depth ? -1 : 0;

            if ((*over = lex_token_ends(lex, 1, nesting)))
                return i;
            if (nesting < 0 && lex->depth == 0)
                return i + 1;
        } else {
            lex->state = LEX_WORD;
            if ((*over = lex_token_fits(lex, ++lex->current)))
                return i;
        }
    }
    return len;
}

/* ---- messages ----------------------------------------------------------- */

static gboolean
refuse(QmpParser *parser, int code, const char *message, GError **error)
{
    g_set_error_literal(error, QMP_ERROR, code, message);
    reset(parser);
    /* The rest of the broken message is not a message (see qmp_parser_feed_one()). */
    parser->recovering = TRUE;
    return FALSE;
}

static gboolean
too_big(QmpParser *parser, GError **error)
{
    g_autofree char *message = g_strdup_printf("a QMP message is larger than the limit of "
                                               "%" G_GSIZE_FORMAT " bytes", parser->max_message);

    return refuse(parser, QMP_ERROR_TOO_BIG, message, error);
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
    reset(parser);
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
    const char *over = NULL;
    gsize room = parser->max_message - parser->consumed;
    /* Never hand json-c more than the limits allow, so it never buffers more than that; and
     * never a value's end with a byte it would refuse after it (segment()). */
    gsize allowed = lex_scan(&parser->lex, data, MIN(segment(data, MIN(len, room)), G_MAXINT),
                             &over);
    json_object *value;
    enum json_tokener_error jerr;

    if (allowed == 0 && over) {
        *used = 0;
        return refuse(parser, QMP_ERROR_TOO_BIG, over, error);
    }
    value = json_tokener_parse_ex(parser->tok, data, (int)allowed);
    jerr = json_tokener_get_error(parser->tok);
    *used = json_tokener_get_parse_end(parser->tok);
    parser->consumed += *used;

    if (jerr == json_tokener_continue && over)
        return refuse(parser, QMP_ERROR_TOO_BIG, over, error);
    if (jerr == json_tokener_continue)
        return parser->consumed < parser->max_message ? TRUE : too_big(parser, error);
    if (jerr != json_tokener_success) {
        g_autofree char *message = g_strdup_printf("malformed QMP message: %s",
                                                   json_tokener_error_desc(jerr));

        return refuse(parser, QMP_ERROR_PROTOCOL, message, error);
    }
    return complete(parser, value, messages, error);
}

/* Feed whole bytes (no incomplete UTF-8 sequence at the end) to the tokener, with @one only
 * up to the end of the first message; *used is how far it got, also on an error. */
static gboolean
feed_whole(QmpParser *parser, const char *data, gsize len, gboolean one, GPtrArray *messages,
           gsize *used, GError **error)
{
    gsize pos = 0;

    while (pos < len) {
        guint before = messages->len;
        gsize took;

        if (!parser->in_message) {
            if (is_space(data[pos])) {
                pos++;
                continue;
            }
            parser->in_message = TRUE;
        }
        if (!tokenize(parser, data + pos, len - pos, &took, messages, error)) {
            *used = pos + took;
            return FALSE;
        }
        pos += took;
        if (one && messages->len > before)
            break;
    }
    *used = pos;
    return TRUE;
}

/* As qmp_parser_feed(); *used is how much of @data was taken (all of it unless @one stopped
 * at the end of a message; on an error, up to the byte that ended the message). */
static gboolean
feed(QmpParser *parser, const char *data, gsize len, gboolean one, GPtrArray *messages,
     gsize *used, GError **error)
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
        if (take < need && len == 0) {
            *used = take;
            return TRUE;
        }
        /* A sequence is never the end of a message: this cannot complete one.  Cut short by
         * a byte that cannot continue it, the tokener refuses it now, as it would have with
         * the bytes in one read. */
        if (!feed_whole(parser, parser->carry, parser->carry_len, FALSE, messages, &at, error)) {
            *used = take;
            return FALSE;
        }
        parser->carry_len = 0;
    }

    hold = incomplete_utf8_tail(data, len);
    if (!feed_whole(parser, data, len - hold, one, messages, &at, error)) {
        *used = take + at;
        return FALSE;
    }
    if (at == len - hold) {
        memcpy(parser->carry, data + at, hold);
        parser->carry_len = hold;
        at = len;
    }
    *used = take + at;
    return TRUE;
}

gboolean
qmp_parser_feed(QmpParser *parser, const char *data, gsize len,
                GPtrArray *messages, GError **error)
{
    gsize used;

    return feed(parser, data, len, FALSE, messages, &used, error);
}

gsize
qmp_parser_feed_one(QmpParser *parser, const char *data, gsize len, json_object **message,
                    GError **error)
{
    g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(qmp_json_free);
    const char *eol;
    gsize used;

    /* The rest of a broken message's line is not a message: QMP clients send one a line, and
     * QEMU answers a broken line once.  A whole value that is not an object needs no such
     * skipping. */
    if (parser->recovering) {
        if (!(eol = memchr(data, '\n', len)))
            return len;
        parser->recovering = FALSE;
        return eol - data + 1;
    }
    feed(parser, data, len, TRUE, messages, &used, error);
    if (messages->len)
        *message = g_ptr_array_steal_index(messages, 0);
    return used;
}

void
qmp_parser_feed_each(QmpParser *parser, const char *data, gsize len, GPtrArray *messages,
                     GPtrArray *errors)
{
    while (len > 0) {
        json_object *message = NULL;
        GError *error = NULL;
        gsize used = qmp_parser_feed_one(parser, data, len, &message, &error);

        if (message)
            g_ptr_array_add(messages, message);
        if (error)
            g_ptr_array_add(errors, error);
        if (used == 0 && !message && !error)
            break;
        data += used;
        len -= used;
    }
}
