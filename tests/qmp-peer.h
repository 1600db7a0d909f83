/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scripted QMP peer for tests: plays QEMU from a script, in a thread, on one connection.
 * For the cases real QEMU cannot produce on demand; every command it is sent is checked
 * against the schema of the real QEMU (query-qmp-schema), so the scripts cannot drift from
 * what QEMU would accept. */
#pragma once

#include <gio/gio.h>

#include "qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
                 "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
typedef struct _Peer Peer;
typedef void (*Script)(Peer *peer);

/* The scripted QEMU: one connection, served by a thread that runs the script. */
struct _Peer {
    char *dir;
    char *address;            /* what the client connects to */
    GSocket *listener;
    GSocket *conn;            /* the accepted connection, blocking */
    QmpParser *parser;
    GQueue received;          /* commands read but not yet expected */
    gint64 last_id;
    Script script;
    gconstpointer data;       /* for the script (peer_start_with_data()) */
    GThread *thread;
};

/* Ask the real QEMU for its schema once, before any peer starts. */
void peer_load_schema(void);

Peer *peer_start(Script script, gboolean tcp);
Peer *peer_start_with_data(Script script, gboolean tcp, gconstpointer data);
void peer_free(Peer *peer);
/* Send @len bytes; FALSE when the client has hung up. */
gboolean peer_send_len(Peer *peer, const char *data, gsize len);
void peer_send(Peer *peer, const char *text);
/* The next command the client sent, which must be @name; returns it whole, or its id. */
json_object *peer_expect_command(Peer *peer, const char *name);
/* The next command the client sent, whatever it is and whatever its id (QMP allows any), or
 * NULL once the client has hung up. */
json_object *peer_next_command(Peer *peer);
gint64 peer_expect(Peer *peer, const char *name);
char *reply_text(gint64 id, const char *value);
void peer_reply(Peer *peer, gint64 id, const char *value);
char *event_text(const char *name);
/* Send the greeting and accept the capabilities negotiation. */
void peer_greet(Peer *peer);

/* ---- the fixture of the client tests: a QmpClient against a scripted peer ---- */

#define TIMEOUT_MS 5000       /* for tests that expect an answer: only a bug hits it */
#define SHORT_TIMEOUT_MS 200  /* for tests that expect a timeout */

typedef struct {
    Peer *peer;
    QmpClient *client;
    GPtrArray *events;        /* names of the events dispatched, in order */
    GError *error;
} PeerFixture;

/* @data is the Script (NULL: no peer). */
void peer_fixture_setup(PeerFixture *f, gconstpointer data);
void peer_fixture_teardown(PeerFixture *f, gconstpointer data);
/* Connect f->client to the peer; the events it dispatches go to f->events. */
void peer_fixture_connect(PeerFixture *f);
/* @n qom-get commands with a path PEER_LONG_PATH_LEN long, and their freeing. */
#define PEER_LONG_PATH_LEN 400
json_object **peer_long_commands(guint n);
void peer_free_commands(json_object **cmds, guint n);

#define ADD_PEER(path, script, test)                                                           \
    g_test_add(path, PeerFixture, (gconstpointer)(script), peer_fixture_setup, test,           \
               peer_fixture_teardown)
