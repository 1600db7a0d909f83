/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/guest.h — a real Linux guest for tests: the distribution's kernel and a busybox
 * initramfs built per test run, driven by commands on its first serial line (ttyS0). */
#pragma once

#include <gio/gio.h>

#include "testvm.h"

/* Under TCG on a loaded 2-core machine a boot takes 10 s and more; only a bug waits this long. */
#define GUEST_BOOT_TIMEOUT_S 240
/* A command, and a port appearing or going inside the guest (it takes ~0.1 s when idle). */
#define GUEST_COMMAND_TIMEOUT_S 120
#define GUEST_PORT_TIMEOUT_S 60
/* What guest_exchange_*() writes and reads: bytes 0, 1, …, 255. */
#define GUEST_PATTERN_LEN 256

/* The kernel, with its modules virtio_pci and virtio_console, and the initramfs. */
typedef struct {
    char *dir;                /* the run's temp dir: initrd.cpio, vmlinuz linked to the kernel */
    char *kernel;
    char *initrd;
    TestVmBoot boot;          /* for testvm_start_boot() and libvirt_env_boot_domain_xml() */
    gboolean owned;           /* made by this process, which removes it */
} GuestImage;

/* This test run's image: the one $SVC_TEST_GUEST_IMAGE names (a parent's, for the cases it
 * runs in subprocesses), else built now in a temp dir that the variable then names — so call
 * it before any thread starts.  NULL with @why_not when the kernel, busybox-static or cpio is
 * missing (the caller skips, saying why), or with @error when building failed. */
GuestImage *guest_image_get(char **why_not, GError **error);
void guest_image_free(GuestImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestImage, guest_image_free)

/* Bytes 0…255, what flows each way in guest_exchange_*(). */
GBytes *guest_pattern(void);

typedef struct _Guest Guest;

/* Boot @image on a testvm QEMU (testvm_start_boot(), plus @extra) and wait until the guest
 * serves commands.  @vm receives the QEMU even when the guest fails to come up. */
Guest *guest_boot(const GuestImage *image, const char *const *extra, TestVm **vm, GError **error);
/* Wait for the guest whose ttyS0 QEMU connects to @listener (libvirt: a <serial type='unix'>
 * with <source mode='connect'>) and until it serves commands. */
Guest *guest_accept(GSocket *listener, GError **error);
void guest_free(Guest *guest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Guest, guest_free)

/* Run a shell command line (busybox sh, no newline) in the guest: its output (stdout and
 * stderr), or NULL with @error when it exits non-zero or does not end in time.  Waiting runs
 * the default main context, so a SPICE client there keeps working meanwhile. */
char *guest_run(Guest *guest, GError **error, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* The same in two steps: send it (0 and @error when the line is broken), then wait for it.
 * The guest runs commands one at a time, in order. */
guint guest_start(Guest *guest, GError **error, const char *format, ...) G_GNUC_PRINTF(3, 4);
char *guest_finish(Guest *guest, guint id, GError **error);

/* Wait until the guest has a virtio port named @name under /sys/class/virtio-ports: its /dev
 * node (/dev/vportNpM; a console port is read and written as /dev/hvcN instead). */
char *guest_wait_port(Guest *guest, const char *name, GError **error);
/* Wait until the guest has no virtio port named @name any more. */
gboolean guest_wait_port_gone(Guest *guest, const char *name, GError **error);

/* Have the guest open @dev (a port, or a console made raw), write the pattern to it, then
 * read GUEST_PATTERN_LEN bytes from it; the finish gives what it read. */
guint guest_exchange_start(Guest *guest, const char *dev, GError **error);
GBytes *guest_exchange_finish(Guest *guest, guint id, GError **error);
