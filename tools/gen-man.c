/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/gen-man.c — virt-spicevmc(1) from its template, the sections from the command tables. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* gen-man TEMPLATE: the template on standard output, its line "@SECTIONS@" replaced. */
int
main(int argc, char **argv)
{
    g_autofree char *text = NULL;
    g_autofree char *sections = cli_manual_sections();
    g_autoptr(GError) error = NULL;
    const char *at;

    if (argc != 2 || !g_file_get_contents(argv[1], &text, NULL, &error)) {
        fprintf(stderr, "gen-man: %s\n", error ? error->message : "usage: gen-man TEMPLATE");
        return 1;
    }
    if (!(at = strstr(text, "@SECTIONS@\n"))) {
        fprintf(stderr, "gen-man: %s has no @SECTIONS@ line\n", argv[1]);
        return 1;
    }
    printf("%.*s%s%s", (int)(at - text), text, sections, at + strlen("@SECTIONS@\n"));
    return 0;
}
