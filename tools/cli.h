/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt-spicevmc's parts: the options every command sees, the VM it works on, the commands. */
#pragma once

#include "spicevmc.h"
#include "qmp.h"            /* json_object cleanups */
#include "svc-private.h"    /* svc_timeout_ms() */

/* libspicevmc's functions on libvirt domains.  virt-spicevmc links no libvirt, so that a
 * command on --qmp starts without loading it (most of its start-up time); it runs
 * virt-spicevmc-libvirt, which has them, for a command on a domain. */
typedef struct _Options Options;

typedef struct {
    SvcDomain *(*open)(const char *uri, const char *name, guint timeout_ms, GError **error);
    void (*free)(SvcDomain *d);
    gboolean (*is_running)(SvcDomain *d);
    GPtrArray *(*list)(SvcDomain *d, GError **error);
    /* @listed: what list() gave. */
    char *(*list_xml)(SvcDomain *d, GPtrArray *listed, const char *const *ids, GError **error);
    gboolean (*add)(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                    GPtrArray **added, GError **error);
    gboolean (*remove)(SvcDomain *d, const char *const *ids, SvcAffect affect,
                       GPtrArray **removed, GError **error);
    gboolean (*remove_specs)(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                             GPtrArray **removed, GError **error);
    SvcDryRun *(*dry_run_add)(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                              GError **error);
    SvcDryRun *(*dry_run_remove)(SvcDomain *d, const char *const *ids, SvcAffect affect,
                                 GError **error);
    SvcDryRun *(*dry_run_remove_specs)(SvcDomain *d, SvcSpec *const *specs, guint n,
                                       SvcAffect affect, GError **error);
    gboolean (*restore)(SvcDomain *d, GPtrArray **added, GError **error);
    gboolean (*enable_wrapper)(SvcDomain *d, const char *wrapper, const char *qemu,
                               gboolean *changed, GError **error);
    gboolean (*disable_wrapper)(SvcDomain *d, const char *wrapper, const char *qemu,
                                gboolean *changed, GError **error);
    gboolean (*runs_wrapper)(SvcDomain *d, const char *wrapper);
    gboolean (*sync)(SvcDomain *d, GPtrArray **changes, GError **error);
    /* The running domains with a persistent definition at @uri, by name. */
    GStrv (*sync_domains)(const char *uri, GError **error);
    /* sync --follow: until SIGTERM or SIGINT (TRUE), or a failure to start (FALSE). */
    gboolean (*follow)(Options *o, char **domains, GError **error);
    SvcWatch *(*watch)(SvcDomain *d, GError **error);
} CliDomainApi;

struct _Options {
    char *qmp;
    char *uri;
    char *domain;
    double timeout;           /* --timeout, seconds */
    guint timeout_ms;         /* the same, checked */
    gboolean quiet;
    gboolean version;
    gboolean live;
    gboolean config;
    gboolean persistent;
    gboolean current;
    gboolean json;
    gboolean xml;
    gboolean all;
    gboolean dry_run;
    gboolean follow;
    char *id;
    char *fqdn;
    char *port_name;
    char *bus;
    char *nr;
    char *wrapper;
    const CliDomainApi *api;  /* NULL: no libvirt in this program */
};

/* A QEMU reached directly over QMP, or a libvirt domain through @api. */
typedef struct {
    SvcVm *vm;
    SvcDomain *domain;
    const CliDomainApi *api;
    SvcAffect affect;
} Target;

void target_clear(Target *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Target, target_clear)
gboolean target_open(Options *o, Target *t, GError **error);

/* virt-spicevmc's main, for a program with libspicevmc's domain functions (@api) or without
 * (NULL: commands on a domain run virt-spicevmc-libvirt). */
int cli_main(int argc, char **argv, const CliDomainApi *api);

typedef enum {
    OPT_CHANNEL = 1 << 0,     /* --id, --fqdn, --port-name: one channel's names */
    OPT_PLACE = 1 << 1,       /* --bus, --nr: where it goes */
    OPT_AFFECT = 1 << 2,      /* --live, --config, --persistent, --current, as virsh */
    OPT_JSON = 1 << 3,
    OPT_XML = 1 << 4,
    OPT_ALL = 1 << 5,
    OPT_DRY_RUN = 1 << 6,
    OPT_WRAPPER = 1 << 7,
    OPT_FOLLOW = 1 << 8,
} OptionGroup;

typedef struct {
    OptionGroup group;
    const char *name;
    GOptionArg arg;
    size_t offset;            /* in Options */
    const char *help;
    const char *arg_name;
} CliOption;

/* What a command works on. */
typedef enum {
    SCOPE_NONE = 0,           /* nothing: it describes */
    SCOPE_QMP = 1 << 0,       /* a QEMU over --qmp */
    SCOPE_DOMAIN = 1 << 1,    /* a libvirt domain */
} Scope;

typedef gboolean (*CommandFunc)(Options *o, char **args, GError **error);

typedef struct {
    const char *name;
    CommandFunc func;
    guint options;            /* OptionGroup */
    Scope scope;
    const char *args;
    const char *summary;
} CliCommand;

/* The tables (virt-spicevmc.c), read by completion and the manual too (docs.c). */
extern const CliCommand cli_commands[];
extern const guint cli_n_commands;
extern const CliOption cli_options[];
extern const guint cli_n_options;
/* The global options' rows, their values in @o. */
GOptionEntry *cli_global_entries(Options *o);

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
gboolean cmd_watch(Options *o, char **args, GError **error);
gboolean cmd_help(Options *o, char **args, GError **error);
gboolean cmd_complete(Options *o, char **args, GError **error);

/* The GLOBAL OPTIONS, COMMANDS and KINDS sections of virt-spicevmc(1), as troff. */
char *cli_manual_sections(void);
gboolean cmd_sync(Options *o, char **args, GError **error);
/* What sync did to one channel of @domain, in words (to escape for printing). */
char *sync_change_line(const char *domain, const SvcSyncChange *c);

/* The help of a command (virt-spicevmc help CMD), from the command table; NULL when there is
 * no such command. */
char *command_help(const char *name);
