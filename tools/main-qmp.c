/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/main-qmp.c — virt-spicevmc: the CLI without libvirt, which runs virt-spicevmc-libvirt for
 * a command on a domain. */
#include "config.h"

#include "cli.h"

int
main(int argc, char **argv)
{
    return cli_main(argc, argv, NULL);
}
