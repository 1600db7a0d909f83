/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/watch-proc.h — a `virt-spicevmc … watch --json` running beside a test (or the bench):
 * its lines read as they come, each wait with a deadline, its end and exit status. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "json-read.h"

/* A watch prints a line within ~500 ms of a change; only a bug waits this long. */
#define WATCH_TIMEOUT_S 60

typedef struct _WatchProc WatchProc;

/* virt-spicevmc @args… watch --json (NULL-terminated @args, before "watch"); under
 * $SPICEVMC_TEST_VALGRIND too when @valgrind. */
WatchProc *watch_proc_start(const char *const *args, gboolean valgrind);
/* The same without --json, its lines as people read them (watch_proc_next_line()). */
WatchProc *watch_proc_start_text(const char *const *args);
/* Kills it if it still runs. */
void watch_proc_free(WatchProc *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WatchProc, watch_proc_free)

/* The next line as printed, without its newline; NULL at the end of its output.  The test
 * fails after WATCH_TIMEOUT_S without one. */
char *watch_proc_next_line(WatchProc *w);
/* The next line, parsed (a new reference); NULL at the end of its output.  The test fails
 * after WATCH_TIMEOUT_S without one, or on a line that is not one JSON object. */
json_object *watch_proc_next(WatchProc *w);
/* The next line whose "event" is @event and, unless NULL, whose "id" is @id, passing others
 * by; the test fails if the output ends or nothing comes in time. */
json_object *watch_proc_wait(WatchProc *w, const char *event, const char *id);
/* The same, for a client event of SPICE channel @channel ("main"). */
json_object *watch_proc_wait_client(WatchProc *w, const char *event, const char *channel);
/* When the line just read arrived: monotonic µs (for the bench). */
gint64 watch_proc_last_arrival(WatchProc *w);

/* Send @signum. */
void watch_proc_signal(WatchProc *w, int signum);
/* Until it exits (the test fails after WATCH_TIMEOUT_S): its exit status, -1 when a signal
 * killed it; *@err (optional) what it wrote on standard error. */
int watch_proc_wait_exit(WatchProc *w, char **err);

/* A line's "time" is ISO 8601 in UTC, to the microsecond. */
void watch_assert_time(json_object *line);
/* The last line was read: the output ends, and the watch exits with @status, 0 with nothing on
 * standard error, or 1 with one error line. */
void watch_proc_assert_exit(WatchProc *w, int status);
/* Started with @args, its first line read and checked: what there was when it began. */
WatchProc *watch_proc_start_watching(const char *const *args, gboolean valgrind,
                                     json_object **first);
