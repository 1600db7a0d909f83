/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/quick-exit.c — preloaded into virsh on qemu:///embed: exit() flushes the output and
 * leaves without running the exit-time destructors, which crash it now and then. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* libvirt 9.0's embedded driver starts a thread per running domain in each process that opens
 * the root ("init-DOMAIN", qemuProcessReconnect) and never joins it; libnuma's exit-time
 * destructor frees what that thread reads, and a process that exits while it runs dies of
 * SIGSEGV in libnuma (about 1 virsh domstate in 100 on a busy machine).  virsh leaves through
 * exit() once its command is done, and only its stdio buffers are left to write. */
void
exit(int status)
{
    fflush(NULL);
    _exit(status);
}

/* For virsh alone: QEMU, to which libvirt hands LD_PRELOAD on, keeps its own exit. */
__attribute__((constructor)) static void
forget_preload(void)
{
    unsetenv("LD_PRELOAD");
}
