/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixtures: a throwaway QEMU in a private temp dir, always killed. */
#pragma once

#include <glib.h>
#include "qmp.h"
#include "json-read.h"
#include "run.h"

typedef struct {
    char *dir;                /* private temp dir, removed by testvm_free() */
    char *qmp_path;           /* QMP unix socket */
    char *inspect_path;       /* the second QMP socket, the one testvm_qmp() connects to */
    char *spice_path;         /* SPICE unix socket */
    GPid pid;
} TestVm;

/* Start QEMU (TCG, paused, -nodefaults) with spice on a unix socket, a virtio-serial-pci
 * "vs0" (max_ports @max_ports, 0 for QEMU's default) and a qemu-xhci "xhci0", plus @extra
 * (NULL-terminated QEMU arguments, may be NULL).  The QMP socket is listening when this
 * returns; QEMU is killed with the test process. */
TestVm *testvm_start(guint max_ports, const char *const *extra);
/* The same without the virtio-serial and USB controllers. */
TestVm *testvm_start_bare(const char *const *extra);

/* A Linux kernel to boot, with its initramfs and command line. */
typedef struct {
    const char *kernel;
    const char *initrd;
    const char *cmdline;
} TestVmBoot;

/* Like testvm_start(0, @extra), but running: QEMU boots @boot instead of waiting paused, and
 * exits where the guest would reboot (a kernel panic ends the test, not loops it). */
TestVm *testvm_start_boot(const TestVmBoot *boot, const char *const *extra);
/* Kill QEMU (if still running), wait for it and remove the temp dir. */
void testvm_free(TestVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestVm, testvm_free)

/* Kill QEMU now and reap it (for tests of a VM that dies). */
void testvm_kill(TestVm *vm);

/* A negotiated QMP connection of the test's own, to ask QEMU what it has. */
QmpClient *testvm_qmp(TestVm *vm);
/* Run @cmd on @client, assert success, return its "return" value. */
json_object *testvm_exec(QmpClient *client, json_object *cmd);
/* How many chardevs QEMU reports whose backend is spicevmc or spiceport. */
guint testvm_count_spice_chardevs(QmpClient *client);
/* TRUE when QEMU has a chardev labelled @label / a device with id @id. */
gboolean testvm_has_chardev(QmpClient *client, const char *label);
gboolean testvm_has_device(QmpClient *client, const char *id);
/* Add a spiceport named @name as virtserialport @id on @bus at @nr behind chardev @chardev,
 * by hand, the way another program than spicevmc would. */
void testvm_add_port(QmpClient *client, const char *chardev, const char *id, const char *bus,
                     guint nr, const char *name);

/* What QEMU's query-chardev, qom-list /machine/peripheral and qom-list /objects replies
 * list, as sorted lines: what a change could touch, to prove that nothing changed. */
char *testvm_snapshot(json_object *chardevs, json_object *devices, json_object *objects);

/* A unix socket listening at @path, for a child to inherit. */
GSocket *testvm_listen_unix(const char *path);
/* A child setup function: the child gets SIGKILL when the test (or bench) dies, so QEMU or a
 * proxy never outlives one that crashes or is killed. */
void testvm_die_with_parent(gpointer data);

/* Remove @path and everything below it (symlinks themselves, not what they point to). */
void testvm_remove_tree(const char *path);

/* Path of the virt-spicevmc binary under test. */
const char *testvm_cli_path(void);
