#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Generate the build system; pass any arguments on to configure.
set -e
srcdir=$(dirname "$0")
autoreconf --force --install --warnings=all "$srcdir"
if [ -z "$NOCONFIGURE" ]; then
    exec "$srcdir/configure" "$@"
fi
