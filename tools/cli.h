/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt-spicevmc's parts: the options every command sees, the VM it works on, the commands. */
#pragma once

#include "spicevmc.h"
#include "qmp.h"            /* json_object cleanups */

typedef struct {
    char *qmp;
    char *uri;
    char *domain;
    double timeout;
    gboolean quiet;
    gboolean live;
    gboolean config;
    gboolean persistent;
    gboolean current;
    gboolean json;
    gboolean xml;
    gboolean all;
    gboolean dry_run;
    char *id;
    char *fqdn;
    char *port_name;
    char *bus;
    char *nr;
    char *wrapper;
} Options;

/* A QEMU reached directly over QMP, or a libvirt domain. */
typedef struct {
    SvcVm *vm;
    SvcDomain *domain;
    SvcAffect affect;
} Target;

void target_clear(Target *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Target, target_clear)
gboolean target_open(Options *o, Target *t, GError **error);
/* The libvirt event loop and error handling the library leaves to its application. */
void cli_libvirt_init(void);

typedef gboolean (*CommandFunc)(Options *o, char **args, GError **error);

gboolean cmd_kinds(Options *o, char **args, GError **error);
gboolean cmd_list(Options *o, char **args, GError **error);
gboolean cmd_add(Options *o, char **args, GError **error);
gboolean cmd_remove(Options *o, char **args, GError **error);
gboolean cmd_attach(Options *o, char **args, GError **error);
gboolean cmd_detach(Options *o, char **args, GError **error);
gboolean cmd_xml(Options *o, char **args, GError **error);
gboolean cmd_restore(Options *o, char **args, GError **error);
gboolean cmd_enable(Options *o, char **args, GError **error);
gboolean cmd_disable(Options *o, char **args, GError **error);
gboolean cmd_help(Options *o, char **args, GError **error);

/* The help of a command (virt-spicevmc help CMD), from the command table; NULL when there is
 * no such command. */
char *command_help(const char *name);
