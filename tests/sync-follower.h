/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/sync-follower.h — `virt-spicevmc sync --follow` run as a user runs it, its stderr read a
 * line at a time as it comes; and what the sync tests share besides. */
#pragma once

#include <gio/gio.h>

/* Only a bug makes a change wait this long (a busy 2-core machine included). */
#define FOLLOW_TIMEOUT_S 120

typedef struct _SyncFollower SyncFollower;

/* virt-spicevmc -c @uri sync --follow @args… (NULL-terminated), its lock in @lock_dir (as
 * $SPICEVMC_RUNTIME_DIR), dying with the test. */
SyncFollower *sync_follower_spawn(const char *uri, const char *lock_dir, const char *const *args);
/* The same, once it printed that it follows. */
SyncFollower *sync_follower_start(const char *uri, const char *lock_dir, const char *const *args);
/* Its exit status once it exited by itself (-1: killed by a signal); fails when it does not
 * within FOLLOW_TIMEOUT_S.  sync_follower_output() has what it printed. */
int sync_follower_wait_exit(SyncFollower *s);
/* The next line on its stderr that contains @fragment; the lines before it are passed over,
 * each checked to be one of its own ("virt-spicevmc: …").  Fails, showing every line it
 * printed, when none comes in FOLLOW_TIMEOUT_S or it exits. */
char *sync_follower_wait(SyncFollower *s, const char *fragment);
/* Lines that contain each of @fragments (NULL-terminated), in any order. */
void sync_follower_wait_all(SyncFollower *s, const char *const *fragments);
/* Its pid, as text. */
const char *sync_follower_pid(SyncFollower *s);
/* Its process, to signal or look into (run.h) while it runs. */
GSubprocess *sync_follower_process(SyncFollower *s);
/* Every line it printed so far, for assertions on what it did not say. */
const char *sync_follower_output(SyncFollower *s);
/* @signum (SIGTERM or SIGINT, as the README says), and wait: it must exit 0. */
void sync_follower_stop(SyncFollower *s, int signum);
void sync_follower_free(SyncFollower *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SyncFollower, sync_follower_free)

/* Whether @line reports a change as the follower logs them: "…, in N ms". */
gboolean sync_line_timed(const char *line);
