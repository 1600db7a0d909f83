/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc: add, list and remove SPICE channels on a running QEMU.
 *
 * #include <spicevmc/spicevmc.h>, pkg-config spicevmc; LGPL-2.1-or-later.
 *
 * ABI: every function is exported under the version node SPICEVMC_0.1.  SvcKind, SvcSpec,
 * SvcChannel and SvcEvent are made by the library (svc_kinds(), svc_spec_new(), svc_list(),
 * svc_watch_next(), …) and freed by it: later versions may add members at their end, so never
 * allocate, embed or copy them by value.  SvcReply and SvcTransportOps are filled in by transports written outside the
 * library: their layout is fixed within SPICEVMC_0.1.
 *
 * Process-wide state is the application's.  Before svc_domain_open() it registers a libvirt
 * event loop (virEventRegisterDefaultImpl() and a thread that runs virEventRunDefaultImpl(), or
 * its own, such as libvirt-glib's gvir_event_register()) and runs it in a thread other than the
 * one that calls svc_domain_*(), which wait for libvirt's events.  The library sets no libvirt
 * or libxml2 error handler but on the connections and parser contexts it makes itself.
 *
 * Threads: one SvcVm or SvcDomain is used by one thread at a time; different ones may be used
 * by different threads at once. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define SVC_ERROR svc_error_quark()
GQuark svc_error_quark(void);

typedef enum {
    SVC_ERROR_INVALID,        /* a name, number or option is malformed */
    SVC_ERROR_UNKNOWN_KIND,   /* no such channel kind in the catalogue */
    SVC_ERROR_NAME_IN_USE,    /* id, guest port name or SPICE name already taken */
    SVC_ERROR_CAPACITY,       /* a limit of QEMU or spice-server would be exceeded */
    SVC_ERROR_NO_BUS,         /* no (or no such) bus to put the frontend on */
    SVC_ERROR_NOT_FOUND,      /* no such channel */
    SVC_ERROR_NOT_OURS,       /* the channel was not created by spicevmc */
    SVC_ERROR_QEMU,           /* QEMU refused a command */
    SVC_ERROR_TIMEOUT,        /* QEMU did not confirm a removal in time */
    SVC_ERROR_TRANSPORT,      /* the connection to QEMU failed */
    SVC_ERROR_LIBVIRT,        /* libvirt refused or failed */
    SVC_ERROR_STATE,          /* the domain is not in a state for this */
    SVC_ERROR_UNEXPECTED,     /* QEMU's reply has a type or value its schema does not allow */
    SVC_ERROR_CANCELLED,      /* svc_watch_cancel() ended the wait */
} SvcErrorCode;

/* ---- catalogue ------------------------------------------------------- */

typedef enum {
    SVC_BACKEND_SPICEVMC,     /* chardev backend "spicevmc", subtype = SPICE name */
    SVC_BACKEND_SPICEPORT,    /* chardev backend "spiceport", fqdn = SPICE name */
} SvcBackend;

typedef enum {
    SVC_FRONT_SERIALPORT,     /* virtserialport on a virtio-serial bus */
    SVC_FRONT_CONSOLE,        /* virtconsole on a virtio-serial bus */
    SVC_FRONT_USB_REDIR,      /* usb-redir on a USB bus */
    SVC_FRONT_CCID_CARD,      /* ccid-card-passthru on a usb-ccid's bus */
} SvcFrontend;

/* The spice-server channel type a chardev becomes; limits are per class. */
typedef enum {
    SVC_CLASS_AGENT,
    SVC_CLASS_USBREDIR,
    SVC_CLASS_SMARTCARD,
    SVC_CLASS_WEBDAV,
    SVC_CLASS_STREAM,
    SVC_CLASS_PORT,
    SVC_CLASS_LAST,
} SvcClass;

typedef struct {
    const char *name;         /* the kind users type: "webdav" */
    SvcBackend backend;
    const char *spice_name;   /* subtype or fqdn; a prefix when numbered; NULL: user-given */
    gboolean numbered;        /* spice_name is a prefix, the lowest free number follows */
    SvcFrontend frontend;
    const char *port_name;    /* default guest port name; NULL: the SPICE name (or none) */
    SvcClass spice_class;
    guint max;                /* channels of this kind per VM; 0: only the class limit */
    const char *summary;
} SvcKind;

const SvcKind *svc_kind_lookup(const char *name);
const SvcKind *svc_kinds(guint *n_kinds);
const char *svc_frontend_driver(SvcFrontend frontend);
gboolean svc_frontend_is_virtio_serial(SvcFrontend frontend);
guint svc_class_limit(SvcClass spice_class);
const char *svc_class_name(SvcClass spice_class);

/* ---- names ----------------------------------------------------------- */

gboolean svc_check_id(const char *what, const char *id, GError **error);
gboolean svc_check_port_name(const char *what, const char *name, GError **error);

/* ---- what the user asks for ------------------------------------------ */

typedef struct {
    const SvcKind *kind;
    char *id;                 /* frontend device id; NULL: pick one */
    char *fqdn;               /* SPICE port name (spiceport kinds); NULL: the kind's */
    char *port_name;          /* guest port name (virtio-serial kinds); NULL: default */
    char *bus;                /* bus for the frontend; NULL: pick one */
    int controller;           /* else libvirt's index of the controller with the bus; -1: none */
    guint nr;                 /* virtio-serial port number; 0: pick one */
    char *origin;             /* where the request was written ("a.xml:3"), for messages */
} SvcSpec;

SvcSpec *svc_spec_new(const char *kind, GError **error);
void svc_spec_free(SvcSpec *spec);
gboolean svc_spec_set(SvcSpec *spec, const char *key, const char *value, GError **error);
SvcSpec *svc_spec_parse(const char *text, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcSpec, svc_spec_free)

/* ---- one channel as found on the VM ---------------------------------- */

typedef enum {
    SVC_STATE_OK,
    SVC_STATE_NO_DEVICE,      /* the chardev is there, its frontend is not (a removal that
                                 timed out, or a device_del done by hand) */
    SVC_STATE_GONE,           /* recorded for the domain, but QEMU no longer has it */
    SVC_STATE_CONFIG,         /* in the persistent definition only */
} SvcState;

typedef struct {
    char *id;                 /* frontend device id or QOM path; chardev id when no device */
    char *chardev;
    const SvcKind *kind;      /* NULL when it could not be inferred */
    char *spice_name;         /* NULL when unknown */
    char *driver;             /* frontend QOM type; NULL without device */
    char *bus;
    guint nr;                 /* virtio-serial port number, 0 otherwise */
    char *port_name;          /* guest port name, virtio-serial only */
    char *controller;         /* a usb-ccid that goes with this smartcard */
    gboolean guest_open;      /* QEMU's frontend-open for the chardev */
    gboolean ours;            /* created by spicevmc: the identity is exact */
    gboolean libvirt;         /* in the libvirt domain's XML: libvirt manages it */
    gboolean persistent;      /* comes back when the domain restarts */
    SvcState state;
    char *reason;             /* why a channel of the definition is not live (svc_domain_sync()
                                 could not add it); NULL: none known */
} SvcChannel;

void svc_channel_free(SvcChannel *ch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcChannel, svc_channel_free)
SvcChannel *svc_channel_copy(const SvcChannel *ch);
json_object *svc_channel_to_json(const SvcChannel *ch);
const char *svc_state_name(SvcState state);

/* ---- transport: the only way the library talks to QEMU --------------- */

typedef struct {
    json_object *ret;         /* the "return" member, NULL on error */
    GError *error;            /* QEMU's error, SVC_ERROR_QEMU */
} SvcReply;

typedef struct {
    /* Execute @n QMP commands ({"execute":…,"arguments":…}) in order, pipelined where the
     * transport can.  FALSE only when the transport failed; QEMU's own errors are reported in
     * replies[i].error.  Events received from here on are what wait_deleted() considers. */
    gboolean (*run)(gpointer impl, json_object *const *cmds, guint n, SvcReply *replies,
                    GError **error);
    /* Remove from @pending (a set of device ids) each device QEMU reports as deleted since the
     * last run(), waiting for more until @pending is empty or the monotonic @deadline passes.
     * FALSE only when the transport failed. */
    gboolean (*wait_deleted)(gpointer impl, GHashTable *pending, gint64 deadline,
                             GError **error);
    /* Bound every later wait for QEMU by @timeout_ms (optional). */
    void (*set_timeout)(gpointer impl, guint timeout_ms);
    void (*free)(gpointer impl);
} SvcTransportOps;

typedef struct _SvcVm SvcVm;

SvcVm *svc_vm_new(const SvcTransportOps *ops, gpointer impl);
SvcVm *svc_vm_connect_qmp(const char *address, guint timeout_ms, GError **error);
void svc_vm_free(SvcVm *vm);
void svc_vm_set_timeout(SvcVm *vm, guint timeout_ms);
/* Where new channels go when the spec does not say: device ids "@id_prefix KIND N" (the kind
 * alone when NULL), and the lowest free virtio-serial port — or, with @from_top, the highest,
 * and the last USB root port for a usb-ccid, to stay clear of what a manager such as libvirt
 * allocates from the bottom without knowing about them. */
void svc_vm_set_placement(SvcVm *vm, const char *id_prefix, gboolean from_top);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcVm, svc_vm_free)

/* ---- operations ------------------------------------------------------ */

/* The SPICE channels on the VM, ours and others, in a stable order. */
GPtrArray *svc_list(SvcVm *vm, GError **error);

/* What svc_add() would add (names and addresses decided against the live VM), changing
 * nothing; the same errors. */
GPtrArray *svc_plan(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error);

/* Add every channel in @specs, or none: on failure the VM is left as it was.  On success
 * @added (if not NULL) receives the new channels, in the order of @specs. */
gboolean svc_add(SvcVm *vm, SvcSpec *const *specs, guint n, GPtrArray **added, GError **error);

/* Remove the channels with these ids (NULL-terminated), or every channel spicevmc created when
 * @ids is NULL.  Nothing is touched unless every id names a channel of ours.  The devices are
 * deleted at once and their DEVICE_DELETED awaited, then their chardevs removed.  Channels QEMU
 * does not confirm in time are named in a SVC_ERROR_TIMEOUT error (a later removal of them
 * finishes the job); @removed (if not NULL) receives the ids of the channels that are gone. */
gboolean svc_remove(SvcVm *vm, const char *const *ids, GPtrArray **removed, GError **error);

/* ---- dry runs: what a change would do, changing nothing --------------- */

/* One step of a change. */
typedef struct {
    char *what;               /* who does it: "QMP", "libvirt attach-device --live", … */
    GPtrArray *ids;           /* char *: the channels it concerns */
    char *xml;                /* the device XML (or metadata) it gives libvirt; NULL: none */
    json_object *commands;    /* the QMP commands it sends, in order; NULL: none */
} SvcStep;

typedef struct {
    GPtrArray *channels;      /* SvcChannel: what would be added, or removed */
    GPtrArray *steps;         /* SvcStep, in the order they would run */
} SvcDryRun;

SvcDryRun *svc_dry_run_new(void);
void svc_dry_run_free(SvcDryRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcDryRun, svc_dry_run_free)
/* A new, empty step at the end of @run. */
SvcStep *svc_dry_run_add_step(SvcDryRun *run, const char *what);
/* What svc_add(), svc_remove() and svc_remove_specs() would do, decided against the live VM
 * with the same checks and errors, changing nothing. */
SvcDryRun *svc_dry_run_add(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error);
SvcDryRun *svc_dry_run_remove(SvcVm *vm, const char *const *ids, GError **error);
SvcDryRun *svc_dry_run_remove_specs(SvcVm *vm, SvcSpec *const *specs, guint n, GError **error);

/* ---- libvirt device XML ---------------------------------------------- */

/* Device XML for a batch of channels is a few KiB; anything much larger is not one. */
#define SVC_XML_MAX_SIZE (1024 * 1024)

/* The specs described by device XML (one device or a <devices> batch), after checking it
 * against schemas/spicevmc-channel.rng; each spec's origin is "FILENAME:LINE". */
GPtrArray *svc_xml_parse_specs(const char *data, gsize len, const char *filename,
                               GError **error);
/* Device XML for a channel of @spec: libvirt's stock form where libvirt has one. */
char *svc_xml_for_spec(const SvcSpec *spec, GError **error);
typedef enum {
    SVC_XML_FORMATTED = 1 << 0,   /* indented, one element a line */
    SVC_XML_BATCH = 1 << 1,       /* a <devices> batch even for one channel */
} SvcXmlFlags;

/* Channels as device XML, libvirt's forms where it has them, names and user aliases without
 * addresses: one channel as its element (what virsh attach-device takes), several as a
 * <devices> batch. */
char *svc_xml_for_channels(GPtrArray *channels, SvcXmlFlags flags);
/* Device XML for the channels @specs ask for: one element, or a <devices> batch of several. */
char *svc_xml_for_specs(SvcSpec *const *specs, guint n, GError **error);
/* For attach: libvirt's own aliases ("channel0", as virsh dumpxml shows them) name a device
 * that exists, and a new one gets a name of its own, as libvirt's attach-device does; the
 * user aliases ("ua-…") stay. */
void svc_xml_specs_for_attach(GPtrArray *specs);
/* The VM's channels added by spicevmc (those with @ids, in that order, when not NULL) as
 * device XML that svc_xml_parse_specs() takes back: a <devices> batch, or the one element. */
char *svc_xml_list(SvcVm *vm, const char *const *ids, GError **error);
/* Remove the channels device XML describes, each matched by alias, else by its kind, names
 * and address; every spec must match exactly one channel of ours. */
gboolean svc_remove_specs(SvcVm *vm, SvcSpec *const *specs, guint n, GPtrArray **removed,
                          GError **error);

/* ---- QMP commands (schemas/spicevmc.json) ----------------------------- */

/* spicevmc-add, spicevmc-remove and query-spicevmc on @vm, their arguments checked against
 * the schema already; the "return" value, or NULL and the error. */
json_object *svc_qmp_add(SvcVm *vm, json_object *args, GError **error);
json_object *svc_qmp_remove(SvcVm *vm, json_object *args, GError **error);
json_object *svc_qmp_query(SvcVm *vm, GError **error);

/* ---- following changes as they happen ---------------------------------- */

typedef enum {
    SVC_EVENT_WATCHING,           /* the first: the channels there are, in @channels */
    SVC_EVENT_CHANNEL_ADDED,      /* @channel appeared (QEMU has no event for it: seen by
                                     listing the channels, at most every 500 ms) */
    SVC_EVENT_CHANNEL_REMOVED,    /* @channel's frontend went: DEVICE_DELETED, at once */
    SVC_EVENT_PORT_OPENED,        /* the guest opened @channel's port (VSERPORT_CHANGE) */
    SVC_EVENT_PORT_CLOSED,
    SVC_EVENT_CLIENT_CONNECTED,   /* a SPICE client opened a connection (SPICE_CONNECTED);
                                     QEMU knows its channel type only once it is linked */
    SVC_EVENT_CLIENT_INITIALIZED, /* it linked a channel (SPICE_INITIALIZED) */
    SVC_EVENT_CLIENT_DISCONNECTED,  /* a channel went (SPICE_DISCONNECTED) */
    SVC_EVENT_EVENTS_LOST,        /* @lost events were dropped: the reader fell behind */
    SVC_EVENT_ENDED,              /* the last: the VM or libvirt went away, @reason says */
} SvcEventType;

typedef struct {
    SvcEventType type;
    gint64 time;              /* µs since the epoch: the event's timestamp, else when seen */
    char *id;                 /* the device the event names, when it names one */
    SvcChannel *channel;      /* the channel concerned, as it was last seen; or NULL */
    GPtrArray *channels;      /* SVC_EVENT_WATCHING: SvcChannel */
    char *source;             /* what told: the QEMU event ("DEVICE_DELETED"), a libvirt event
                                 ("libvirt:device-added"), or "inventory" */
    json_object *data;        /* the "data" of that QEMU event, as QEMU sent it; or NULL */
    int spice_channel_type;   /* client events: SPICE's channel type (1: main), or -1 */
    int spice_channel_id;     /* and its id, or -1 */
    gint64 connection_id;     /* and the client session's id (any value), with a type */
    guint lost;               /* SVC_EVENT_EVENTS_LOST */
    char *reason;             /* SVC_EVENT_ENDED */
} SvcEvent;

void svc_event_free(SvcEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcEvent, svc_event_free)
/* "channel-added", … as JSON names the type. */
const char *svc_event_type_name(SvcEventType type);
/* SPICE's name of a channel type ("main", "port", …), or NULL for one it does not have. */
const char *svc_spice_channel_name(int type);
/* The event as one JSON object: {"time": ISO 8601 UTC, "event": name, …} (README.md and
 * virt-spicevmc(1) describe its members). */
json_object *svc_event_to_json(const SvcEvent *event);

typedef struct _SvcWatch SvcWatch;

/* Follow @vm's SPICE channels (borrowed: it outlives the watch; it must come from
 * svc_vm_connect_qmp(), whose transport receives QEMU's events).  On a QEMU monitor of its own
 * the watch holds the monitor: QEMU serves one client at a time. */
SvcWatch *svc_watch_new(SvcVm *vm, GError **error);
/* The next event, waiting for it: SVC_EVENT_WATCHING first, SVC_EVENT_ENDED last; NULL after
 * that (SVC_ERROR_STATE), or on a failure (the VM did not answer) or svc_watch_cancel()
 * (SVC_ERROR_CANCELLED). */
SvcEvent *svc_watch_next(SvcWatch *watch, GError **error);
/* From any thread: svc_watch_next() returns, now or when next called, with SVC_ERROR_CANCELLED. */
void svc_watch_cancel(SvcWatch *watch);
void svc_watch_free(SvcWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcWatch, svc_watch_free)

/* ---- libvirt domains -------------------------------------------------- */

typedef struct _SvcDomain SvcDomain;

/* Which definition a change affects; neither: the live one when running, else the
 * persistent one, as virsh does. */
typedef enum {
    SVC_AFFECT_CURRENT = 0,
    SVC_AFFECT_LIVE = 1 << 0,
    SVC_AFFECT_CONFIG = 1 << 1,
} SvcAffect;

/* Open domain @name on libvirt @uri (NULL: libvirt's default, LIBVIRT_DEFAULT_URI first); as
 * virsh does, @name may be the domain's id, its UUID or its name.  Drivers other than QEMU's
 * are refused (they cannot pass QMP through). */
SvcDomain *svc_domain_open(const char *uri, const char *name, guint timeout_ms, GError **error);
void svc_domain_free(SvcDomain *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcDomain, svc_domain_free)
/* The live QEMU of the domain, through libvirt's QMP passthrough. */
gboolean svc_domain_is_running(SvcDomain *d);
SvcVm *svc_domain_get_vm(SvcDomain *d, GError **error);

/* As svc_add(); libvirt does what it can hot-plug or keep in the persistent definition, the
 * rest goes through QMP passthrough and is recorded in the domain's metadata.  Device ids are
 * libvirt user aliases ("ua-…"). */
gboolean svc_domain_add(SvcDomain *d, SvcSpec *const *specs, guint n, SvcAffect affect,
                        GPtrArray **added, GError **error);
/* Remove the channels with these ids (NULL: every channel in the scope @affect names), or
 * that device XML describes (each by its alias, else the first of its kind, names and address
 * not taken yet, as virsh detach-device picks), from the running domain, its definition or
 * both; a request that matches nothing in any scope asked refuses the whole batch.  @removed
 * receives the channels taken away: state SVC_STATE_OK when from the running domain,
 * SVC_STATE_CONFIG when only from the definition; persistent when from the definition too. */
gboolean svc_domain_remove(SvcDomain *d, const char *const *ids, SvcAffect affect,
                           GPtrArray **removed, GError **error);
gboolean svc_domain_remove_specs(SvcDomain *d, SvcSpec *const *specs, guint n,
                                 SvcAffect affect, GPtrArray **removed, GError **error);
/* What they would do, changing nothing. */
SvcDryRun *svc_domain_dry_run_add(SvcDomain *d, SvcSpec *const *specs, guint n,
                                  SvcAffect affect, GError **error);
SvcDryRun *svc_domain_dry_run_remove(SvcDomain *d, const char *const *ids, SvcAffect affect,
                                     GError **error);
SvcDryRun *svc_domain_dry_run_remove_specs(SvcDomain *d, SvcSpec *const *specs, guint n,
                                           SvcAffect affect, GError **error);
/* What libvirt's XML, spicevmc's metadata and the live QEMU say, merged. */
GPtrArray *svc_domain_list(SvcDomain *d, GError **error);
/* The channels of the running domain, or of the definition of one that is not (those with
 * @ids when not NULL), as device XML in libvirt's forms where it has them. */
char *svc_domain_list_xml(SvcDomain *d, const char *const *ids, GError **error);
/* Follow the running domain's SPICE channels (@d outlives the watch): QEMU's events through
 * libvirt, libvirt's device and lifecycle events, and the channels listed through QMP
 * passthrough (which libvirt taints custom-monitor).  The domain stopping or the connection to
 * libvirt closing ends it. */
SvcWatch *svc_domain_watch(SvcDomain *d, GError **error);
/* Add the channels the persistent definition asks for that libvirt cannot restore itself. */
gboolean svc_domain_restore(SvcDomain *d, GPtrArray **added, GError **error);

/* ---- a running domain made to match its definition -------------------- */

typedef enum {
    SVC_SYNC_LIVE,            /* in the definition, and live already: nothing done */
    SVC_SYNC_ADDED,           /* in the definition, added live */
    SVC_SYNC_REMOVED,         /* added live by sync, since gone from the definition: removed */
    SVC_SYNC_SKIPPED,         /* in the definition, cannot go live: the channel's reason says why */
} SvcSyncAction;

typedef struct {
    SvcSyncAction action;
    SvcChannel *channel;      /* as added or removed; as the definition has it when skipped */
} SvcSyncChange;

void svc_sync_change_free(SvcSyncChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcSyncChange, svc_sync_change_free)
const char *svc_sync_action_name(SvcSyncAction action);

/* Make the running domain's SPICE channels match its persistent definition: each SPICE device
 * of the definition that is not live is added live (by libvirt where it hot-plugs it, else
 * through QMP passthrough), each at once or, when that fails, one by one; a device that cannot
 * go live is skipped and the others still added.  Channels sync added on behalf of the
 * definition are recorded in the domain's live metadata and removed live when their device
 * leaves the definition; no other channel is removed.  Live channels and devices match by
 * alias, else by what they are (kind, SPICE and guest port names), as in svc_domain_list().
 * @changes (SvcSyncChange) receives what happened to each device; svc_domain_list() shows a
 * skipped device with its reason until the next sync.  FALSE when the domain is not running,
 * has no persistent definition, or libvirt or QEMU failed (a change made before stays). */
gboolean svc_domain_sync(SvcDomain *d, GPtrArray **changes, GError **error);

/* The domain's <emulator> switched to @wrapper (spicevmc-qemu, which runs @qemu and puts
 * spicevmc's QMP proxy on the monitor), or back to the emulator it replaced: in the persistent
 * definition, so from the domain's next start.  Enabling needs the domain's emulator to be
 * @qemu.  *@changed is FALSE when there was nothing to do. */
gboolean svc_domain_enable_wrapper(SvcDomain *d, const char *wrapper, const char *qemu,
                                   gboolean *changed, GError **error);
gboolean svc_domain_disable_wrapper(SvcDomain *d, const char *wrapper, const char *qemu,
                                    gboolean *changed, GError **error);
/* Whether the domain runs, started by @wrapper. */
gboolean svc_domain_runs_wrapper(SvcDomain *d, const char *wrapper);

G_END_DECLS
