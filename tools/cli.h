/* virt-spicevmc's parts: the options every command sees, the VM it works on, the commands. */
#pragma once

#include "spicevmc.h"
#include "svc-private.h"

typedef struct {
    char *qmp;
    char *uri;
    char *domain;
    double timeout;           /* --timeout, seconds */
    guint timeout_ms;         /* the same, checked */
    gboolean live;
    gboolean config;
    gboolean persistent;
    gboolean json;
    gboolean xml;
    gboolean all;
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
