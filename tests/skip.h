/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/skip.h — a test that cannot run for want of something it needs. */
#pragma once

/* What every missing-dependency skip says first. */
#define SKIP_MISSING "missing dependency: "

/* Skip because @why (what to install or start) is missing; in CI (CI=true), which installs
 * and starts everything (.ci/deps, .ci/libvirtd), fail instead: a test that does not run
 * there hides whatever it would have found.  A skip by design (a program not run under
 * valgrind) is g_test_skip(), and stays a skip. */
void skip_missing(const char *why);
