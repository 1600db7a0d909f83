/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the end-to-end libvirt tests: each case in a child process, on a domain of
 * the embedded driver or of libvirtd, with virsh and virt-spicevmc run as a user runs them. */
#pragma once

#include "qmp.h"
#include "testvm.h"

#define SYSTEM_URI "qemu:///system"
#define REMOTE_URI "qemu+unix:///system"

/* The domain the parent makes before the case, and destroys after it.  DOMAIN_BY_CASE: the
 * case creates a transient one itself, named f->name (e.g. once it listens on a socket the
 * domain connects to); the parent still destroys it. */
typedef enum {
    DOMAIN_NONE, DOMAIN_DEFINED, DOMAIN_RUNNING, DOMAIN_TRANSIENT, DOMAIN_BY_CASE
} DomainSetup;

typedef struct _Fixture Fixture;
typedef struct {
    const char *path;
    gboolean system;
    DomainSetup domain;
    void (*body)(Fixture *f, const char *arg);
    const char *arg;
    const char *emulator;     /* of the domain; NULL: QEMU */
    const char *devices;      /* more of the domain's <devices>, as XML; NULL: none */
    /* What the case needs that may be missing: why it cannot run, or NULL when it can. */
    const char *(*missing)(void);
} Case;

struct _Fixture {
    const Case *c;
    const char *uri;
    char *dir;                /* spice socket, domain and device XML, virsh's log */
    char *name;               /* of the domain */
    gboolean made;            /* by this process, which undoes it */
};

/* virsh -c URI ARG…, or virt-spicevmc [-c URI] ARG…, up to the first NULL ARG.  With @r NULL,
 * asserts success and returns stdout.  virsh on qemu:///embed runs with tests/quick-exit.c
 * preloaded (it says why). */
char *run(Run *r, gboolean is_virsh, const char *uri, ...);
#define virsh(r, uri, ...) run(r, TRUE, uri, __VA_ARGS__, NULL)
#define cli(r, uri, ...) run(r, FALSE, uri, __VA_ARGS__, NULL)
#define virsh_ok(uri, ...) run(NULL, TRUE, uri, __VA_ARGS__, NULL)
#define cli_ok(uri, ...) run(NULL, FALSE, uri, __VA_ARGS__, NULL)
/* virt-spicevmc [-c URI] ARG… with @input on its stdin; asserts success, returns stdout.  The
 * ARGs end with NULL. */
char *cli_input_ok(const char *uri, const char *input, ...) G_GNUC_NULL_TERMINATED;

/* Success prints nothing on stderr; the assertion shows what was printed instead. */
#define assert_ok(r) run_assert_ok(r)
/* strstr that fails showing both strings. */
void assert_contains(const char *haystack, const char *needle);
/* @text (what a program wrote on stderr) has no report of a sanitizer's or valgrind's. */
void assert_no_report(const char *text);
/* The CLI's contract for errors: status 1, nothing on stdout, exactly one line on stderr,
 * "virt-spicevmc: error: …", containing @fragment. */
void assert_one_error(Run *r, const char *fragment);

/* virsh qemu-monitor-command: QEMU's "return". */
json_object *qemu(Fixture *f, const char *cmd);
/* virsh metadata of namespace @ns: the record, or "" when libvirt has none. */
char *virsh_metadata(Fixture *f, const char *ns, gboolean config);
/* <ELEMENT …>…<alias name='ALIAS'/> in libvirt's XML; element NULL: any. */
gboolean has_alias_in(const char *xml, const char *element, const char *alias);
/* virt-spicevmc list --json: JSON alone on stdout, and the passthrough warning on stderr
 * exactly when a channel went through passthrough. */
json_object *list_json(Fixture *f, const char *uri);
/* list --xml [@id]: the XML alone on stdout (returned), and on stderr the passthrough warning,
 * exactly when @warned: the README promises it in every output mode. */
char *list_xml(Fixture *f, const char *id, gboolean warned);
/* virsh destroy: the domain stops.  domain_restart(): then start --paused, a new QEMU from the
 * definition. */
void domain_destroy(Fixture *f);
void domain_restart(Fixture *f);
/* The pid of the domain's QEMU, from libvirt's pid file. */
int domain_qemu_pid(Fixture *f);
/* The domain's QEMU log, as libvirt keeps it. */
char *domain_log_path(Fixture *f);

/* g_test_init(), and @cases added, their domains named after their index; more tests may be
 * added before libvirt_cli_run() runs them all. */
void libvirt_cli_init(int *argc, char ***argv, const Case *cases, guint n_cases);
int libvirt_cli_run(void);
