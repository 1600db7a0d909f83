/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/quick-exit.c — preloaded into virsh on qemu:///embed: exit() waits for libvirt's
 * reconnection to QEMU, then flushes the output and leaves without running the exit-time
 * destructors, which crash it now and then. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Bounds the wait for a QEMU that never answers (stopped by a test): virsh then leaves as it
 * would have. */
#define RECONNECTION_WAIT_S 60

/* Whether a thread of this process is one of the embedded driver's reconnections. */
static int
reconnecting(void)
{
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *e;
    int found = 0;

    while (tasks && !found && (e = readdir(tasks))) {
        char path[300], comm[32] = "";
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        if ((f = fopen(path, "r"))) {
            found = fgets(comm, sizeof(comm), f) && strncmp(comm, "init-", 5) == 0;
            fclose(f);
        }
    }
    if (tasks)
        closedir(tasks);
    return found;
}

/* libvirt 9.0's embedded driver starts a thread per running domain in each process that opens
 * the root ("init-DOMAIN", qemuProcessReconnect), which asks QEMU a series of questions and is
 * never joined.  A process that leaves with one unanswered leaves QEMU to answer the next
 * process's driver, which takes that for a broken monitor and kills QEMU; virt-spicevmc waits
 * by taking the domain's job, which virsh does not do for commands that need no job (such as
 * domstate).  And libnuma's exit-time destructor frees what that thread reads: a process that
 * exits while it runs dies of SIGSEGV in libnuma (about 1 virsh domstate in 100 on a busy
 * machine).  virsh leaves through exit() once its command is done, and only its stdio buffers
 * are left to write. */
void
exit(int status)
{
    const struct timespec pause = { 0, 10 * 1000 * 1000 };

    for (int i = 0; i < RECONNECTION_WAIT_S * 100 && reconnecting(); i++)
        nanosleep(&pause, NULL);
    fflush(NULL);
    _exit(status);
}

/* For virsh alone: QEMU, to which libvirt hands LD_PRELOAD on, keeps its own exit. */
__attribute__((constructor)) static void
forget_preload(void)
{
    unsetenv("LD_PRELOAD");
}
