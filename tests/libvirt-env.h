/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixtures for libvirt: an embedded driver's root in a temp dir, and domain XML. */
#pragma once

#include <glib.h>

#include "testvm.h"

/* A temp dir set up as the root of qemu:///embed (etc/qemu.conf as the brief says). */
char *libvirt_env_embed_root(void);
/* "qemu:///embed?root=ROOT". */
char *libvirt_env_embed_uri(const char *root);
/* Remove the root and everything under it; its domains must be gone. */
void libvirt_env_remove_root(const char *root);
/* A q35 TCG domain with a virtio-serial and a qemu-xhci controller and SPICE on the unix
 * socket @spice_path, run by @emulator (NULL: QEMU). */
char *libvirt_env_domain_xml(const char *name, const char *spice_path, const char *emulator);
/* The same domain, running QEMU, booting @boot, its ttyS0 connected to the unix socket
 * @serial_path (which must be listening when the domain starts); it stops where the guest
 * would reboot. */
char *libvirt_env_boot_domain_xml(const char *name, const char *spice_path, const TestVmBoot *boot,
                                  const char *serial_path);
/* Register libvirt's default event loop and run it in a thread, as an application of
 * libspicevmc must before opening a domain; once per process. */
void libvirt_env_event_loop(void);
