/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixtures for libvirt: an embedded driver's root in a temp dir, and domain XML. */
#pragma once

#include <glib.h>

#include "testvm.h"

/* A temp dir set up as the root of qemu:///embed (etc/qemu.conf as the brief says). */
char *libvirt_env_embed_root(void);
/* Keep the calling thread, and so every process it starts from now on, on the CPU it runs on.
 * libvirt 9.0's embedded driver trusts its cache of QEMU's capabilities only in a process
 * that reads the host CPUID the probing one read, and CPUID's topology leaf (0x1f) holds the
 * x2APIC id of the CPU that asks: on any other CPU it probes QEMU again (~4 s each time, most
 * of a libvirt test's time).  The QEMUs libvirt starts get every CPU back (libvirt resets their
 * affinity).  Only speed depends on it: where the CPU cannot be known, nothing changes. */
void libvirt_env_pin_cpu(void);
/* "qemu:///embed?root=ROOT". */
char *libvirt_env_embed_uri(const char *root);
/* Wait until no process runs the embedded driver in @root (libvirt allows one at a time: it
 * holds a lock on run/qemu/driver.pid), @timeout_s at most; the pid of the one that still
 * does, or 0. */
int libvirt_env_root_wait_free(const char *root, guint timeout_s);
/* Remove the root and everything under it, after killing any QEMU still running there. */
void libvirt_env_remove_root(const char *root);
/* A q35 TCG domain with a virtio-serial and a qemu-xhci controller and SPICE on the unix
 * socket @spice_path, run by @emulator (NULL: QEMU). */
char *libvirt_env_domain_xml(const char *name, const char *spice_path, const char *emulator);
/* The same domain, running QEMU, booting @boot, its ttyS0 connected to the unix socket
 * @serial_path (which must be listening when the domain starts); it stops where the guest
 * would reboot. */
char *libvirt_env_boot_domain_xml(const char *name, const char *spice_path, const TestVmBoot *boot,
                                  const char *serial_path);
/* Register libvirt's default event loop, as an application of libspicevmc must before
 * opening a domain; libvirt_env_event_loop() then runs it in a thread (registering it first
 * when needed).  Each does it once per process.  The thread is best started once the
 * connections are open: qemu:///embed runs dmidecode as it opens, and GCC 12's
 * AddressSanitizer does not take its allocator's locks across fork(), so the child of a fork
 * made while that thread starts up (and allocates) can wait forever for one of them. */
void libvirt_env_event_register(void);
void libvirt_env_event_loop(void);
