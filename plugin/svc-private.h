/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libspicevmc internals shared between catalogue, inventory, planner and executor. */
#pragma once

#include "spicevmc.h"
#include "qmp.h"

G_BEGIN_DECLS

/* ---- built-in grammars (schemas.c) ----------------------------------- */

/* A file of schemas/ ("spicevmc-channel.rng"), as built into the library; NUL-terminated. */
GBytes *svc_schema_lookup(const char *name, GError **error);

/* ---- catalogue (catalogue.c) ----------------------------------------- */

/* libvirt's name for the type of controller whose bus @frontend goes on ("virtio-serial"). */
const char *svc_frontend_controller_type(SvcFrontend frontend);
/* The kind a channel not created by spicevmc most likely is, from what QEMU shows of it. */
const SvcKind *svc_kind_infer(const char *backend, const char *driver, const char *port_name);
/* The guest port name a channel of @kind gets when none is given (NULL: not virtio-serial). */
const char *svc_kind_default_port_name(const SvcKind *kind, const char *spice_name);
/* @port_name, or NULL when it is the one the kind gives by default (and need not be written). */
const char *svc_kind_explicit_port_name(const SvcKind *kind, const char *spice_name,
                                        const char *port_name);

/* ---- channels (channel.c) -------------------------------------------- */

/* Whether @spec describes @ch: kind, and every name and address the spec gives. */
gboolean svc_channel_matches(const SvcChannel *ch, const SvcSpec *spec);
/* The channel @spec asks for, as far as the spec alone tells (no address). */
SvcChannel *svc_channel_from_spec(const SvcSpec *spec);
/* The channel of @channels whose device id is @id, or NULL. */
SvcChannel *svc_channels_find(GPtrArray *channels, const char *id);
/* The kind whose fixed SPICE name is @name, else the catch-all of @backend. */
const SvcKind *svc_kind_for_spice_name(SvcBackend backend, const char *name);

/* ---- names (names.c) ------------------------------------------------- */

/* spicevmc's chardev ids carry the channel's whole identity, because query-chardev shows
 * neither the spicevmc subtype nor the spiceport fqdn and reading device properties one
 * qom-get at a time is far too slow for a VM with hundreds of channels. */
char *svc_chardev_id_encode(const SvcChannel *ch);
/* A channel with ours = TRUE, or NULL when @label is not one of spicevmc's chardev ids. */
SvcChannel *svc_chardev_id_decode(const char *label);

/* ---- QEMU's replies, type-checked (reply.c) -------------------------- */

/* virtio-serial's max_ports as QEMU takes it (VIRTIO_QUEUE_MAX / 2 - 1): a port map is this
 * many bytes, so a peer's number must not size it. */
#define SVC_MAX_PORTS 511
/* USB ports a hub can number. */
#define SVC_MAX_USB_PORTS 255

/* SVC_ERROR_UNEXPECTED, "unexpected reply to @command: <problem>: <@value as JSON>". */
gboolean svc_reply_unexpected(GError **error, const char *command, json_object *value,
                              const char *format, ...) G_GNUC_PRINTF(4, 5);
/* Whether @value (@what: "the list") has @type; else the error. */
gboolean svc_reply_expect(json_object *value, json_type type, const char *command,
                          const char *what, GError **error);
/* Member @key of the object @obj, of @type, in *@out (NULL when absent and not @required). */
gboolean svc_reply_member(json_object *obj, const char *key, json_type type, gboolean required,
                          const char *command, json_object **out, GError **error);
/* The same for the "data" of QEMU's event @event: "unexpected @event event: …". */
gboolean svc_event_member(json_object *data, const char *event, const char *key, json_type type,
                          gboolean required, json_object **out, GError **error);
/* @value, an integer from @min to @max, in *@out. */
gboolean svc_reply_uint(json_object *value, guint min, guint max, const char *command,
                        const char *what, guint *out, GError **error);
/* query-chardev's and qom-list's replies as QEMU's schema has them: an array of objects with
 * their members of the right types, so that the code reading them may take that for granted.
 * @command: "qom-list of PATH". */
gboolean svc_reply_check_chardevs(json_object *list, GError **error);
gboolean svc_reply_check_properties(json_object *list, const char *command, GError **error);

/* ---- address allocation (alloc.c): pure, unit tested without QEMU ---- */

typedef struct {
    char *name;               /* bus name, "vs0.0" */
    guint max_ports;          /* valid port numbers are 1 .. max_ports - 1 */
    guint8 *used;             /* one byte per port number */
} SvcPortMap;

SvcPortMap *svc_port_map_new(const char *name, guint max_ports);
void svc_port_map_free(SvcPortMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcPortMap, svc_port_map_free)
gboolean svc_port_map_valid(const SvcPortMap *map, guint nr);
gboolean svc_port_map_is_free(const SvcPortMap *map, guint nr);
void svc_port_map_take(SvcPortMap *map, guint nr);
/* The lowest free port number >= 1, or 0 when the bus is full. */
guint svc_port_map_first_free(const SvcPortMap *map);
/* The highest free port number, or 0 when the bus is full. */
guint svc_port_map_last_free(const SvcPortMap *map);
guint svc_port_map_count_used(const SvcPortMap *map);

/* "@prefix@N" for the lowest N >= @start not in @taken. */
char *svc_first_free_name(GHashTable *taken, const char *prefix, guint start);

/* ---- inventory (inventory.c): what the VM has ------------------------ */

typedef struct {
    char *id;                 /* usb-ccid device id */
    char *bus;                /* its ccid bus */
    gboolean has_card;
} SvcCcid;

typedef struct {
    GPtrArray *channels;      /* SvcChannel, every SPICE chardev */
    GPtrArray *serial_buses;  /* SvcPortMap, virtio-serial buses in discovery order */
    GPtrArray *usb_buses;     /* char *, USB bus names */
    GPtrArray *ccids;         /* SvcCcid */
    GHashTable *device_ids;   /* id -> QOM type, every device under /machine/peripheral */
    GHashTable *taken_ids;    /* ids a new device must not get: devices and channels */
    GHashTable *chardev_ids;  /* every chardev label */
    GHashTable *port_names;   /* guest port name -> device id, every virtio-serial port */
    GHashTable *spice_names;  /* SPICE port name -> channel id, every spiceport known */
    gboolean smartcard_used;  /* this QEMU process has had a smartcard reader */
    char *id_prefix;          /* placement, from the VM (svc_vm_set_placement()) */
    gboolean from_top;
    GHashTable *usb_ports;    /* USB bus name -> its number of USB 2 root ports, when known */
    guint kind_count[16];     /* channels per catalogue kind (index in svc_kinds()) */
    guint class_count[SVC_CLASS_LAST];
} SvcInventory;

/* An empty inventory, for building one by hand in tests. */
SvcInventory *svc_inventory_new(void);
/* @need_buses: also find the buses new frontends could go on (costs a second round trip). */
SvcInventory *svc_inventory_load(SvcVm *vm, gboolean need_buses, GError **error);
/* For a watcher: what the first round trip shows (the SPICE chardevs, the devices) as one
 * string; unless it is *@signature, the whole inventory in *@inv.  *@signature is updated.
 * The first round alone costs one round trip, however many channels there are. */
gboolean svc_inventory_load_changed(SvcVm *vm, char **signature, SvcInventory **inv,
                                    GError **error);
void svc_inventory_free(SvcInventory *inv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcInventory, svc_inventory_free)
SvcPortMap *svc_inventory_find_serial_bus(SvcInventory *inv, const char *name);
SvcCcid *svc_inventory_find_ccid(SvcInventory *inv, const char *bus);
SvcChannel *svc_inventory_find_channel(SvcInventory *inv, const char *id);
/* The bus of libvirt's controller @index for @frontend's kind of bus, or NULL; and back
 * (-1 when the bus has no index libvirt would give it). */
const char *svc_inventory_bus_of_controller(SvcInventory *inv, SvcFrontend frontend, int index);
int svc_inventory_controller_of_bus(SvcInventory *inv, SvcFrontend frontend, const char *bus);
/* Record a channel about to be added so later plans see its names and addresses. */
void svc_inventory_claim(SvcInventory *inv, const SvcChannel *ch);

/* ---- planning (plan.c): pure, from an inventory and a spec ----------- */

/* A channel to create, with the usb-ccid to create first when @new_ccid. */
typedef struct {
    const SvcSpec *spec;      /* what was asked (borrowed) */
    SvcChannel *channel;
    gboolean new_ccid;        /* channel->controller is a usb-ccid to add first */
    char *ccid_usb_bus;       /* the USB bus for it */
    guint ccid_usb_port;      /* its root port there; 0: QEMU picks */
    gboolean mark_smartcard;  /* add SVC_SMARTCARD_MARKER before the card */
} SvcPlanned;

void svc_planned_free(SvcPlanned *p);
SvcSpec *svc_spec_copy(const SvcSpec *spec);
/* A spec asking for @ch again: its kind, id and names. */
SvcSpec *svc_spec_from_channel(const SvcChannel *ch);
/* "cannot add 'webdav' (a.xml:3): " before @error's message. */
void svc_spec_prefix_error(GError **error, const SvcSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcPlanned, svc_planned_free)
/* Decide names and addresses for @spec against @inv (and claim them in it). */
SvcPlanned *svc_plan_add(SvcInventory *inv, const SvcSpec *spec, GError **error);

/* spice-server 0.15 aborts QEMU when a second smartcard reader registers in the life of the
 * process (smartcard_init's assertion), even after the first was removed; QEMU cannot tell,
 * so spicevmc leaves this object behind once it has added a smartcard. */
#define SVC_SMARTCARD_MARKER "spicevmc-smartcard-used"

/* ---- QMP commands for a channel (plan.c) ----------------------------- */

json_object *svc_cmd_chardev_add(const SvcChannel *ch);
json_object *svc_cmd_frontend_add(const SvcChannel *ch);

/* ---- talking to QEMU (vm.c) ------------------------------------------ */

/* How long each wait for QEMU or libvirt lasts when nobody says (--timeout's default). */
#define SVC_DEFAULT_TIMEOUT_S 10
#define SVC_DEFAULT_TIMEOUT_MS (SVC_DEFAULT_TIMEOUT_S * 1000)

/* For the front ends: a timeout given in @seconds (a --timeout option) in milliseconds, from
 * 1 ms to a day, or SVC_ERROR_INVALID naming @option. */
gboolean svc_timeout_ms(const char *option, double seconds, guint *timeout_ms, GError **error);

/* Run @cmds (owned by the array) through the transport.  @replies gets one SvcReply per
 * command; free it with svc_replies_free(). */
gboolean svc_vm_run(SvcVm *vm, GPtrArray *cmds, SvcReply **replies, GError **error);
void svc_replies_free(SvcReply *replies, guint n);
gboolean svc_vm_wait_deleted(SvcVm *vm, GHashTable *pending, gint64 deadline, GError **error);
guint svc_vm_get_timeout(SvcVm *vm);
/* For transports: take out of @pending what @deleted holds. */
void svc_pending_drop(GHashTable *pending, GHashTable *deleted);
/* For transports: QEMU's reply @raw (borrowed) as @reply, its "return" or its error; a
 * DeviceNotFound, the one class callers act on, is SVC_ERROR_NOT_FOUND. */
void svc_reply_set(SvcReply *reply, json_object *raw);

/* ---- DEVICE_DELETED received on another thread (deletions.c) --------- */

typedef struct {
    GMutex lock;              /* also for what else the transport's threads share */
    GCond changed;
    GHashTable *deleted;      /* device ids QEMU reported deleted since the last reset */
    char *ended;              /* why no more will come (QEMU gone, domain stopped) */
} SvcDeletions;

void svc_deletions_init(SvcDeletions *d);
void svc_deletions_clear(SvcDeletions *d);
void svc_deletions_reset(SvcDeletions *d);
/* The "data" of a DEVICE_DELETED event. */
void svc_deletions_add(SvcDeletions *d, json_object *data);
void svc_deletions_end(SvcDeletions *d, const char *why);
/* Until every id of @pending is reported, the deadline passes (TRUE, what is left still in
 * @pending), or no more reports can come (FALSE). */
gboolean svc_deletions_wait(SvcDeletions *d, GHashTable *pending, gint64 deadline,
                            GError **error);
const char *svc_vm_get_id_prefix(SvcVm *vm);
gboolean svc_vm_get_from_top(SvcVm *vm);

/* ---- events as transports receive them (events.c) -------------------- */

/* One of QEMU's events, or one of libvirt's named "libvirt:…", as a transport received it. */
typedef struct {
    char *name;
    json_object *data;        /* its "data", or NULL */
    gint64 time;              /* µs since the epoch: the event's own timestamp, else its arrival */
} SvcRawEvent;

void svc_raw_event_free(SvcRawEvent *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvcRawEvent, svc_raw_event_free)

/* Events from a transport's thread (or its own reads) to a watcher: any thread may push, one
 * takes.  Bounded: past its @max events unread, the oldest are dropped and counted. */
typedef struct _SvcEventQueue SvcEventQueue;

SvcEventQueue *svc_event_queue_new(guint max);
SvcEventQueue *svc_event_queue_ref(SvcEventQueue *q);
void svc_event_queue_unref(SvcEventQueue *q);
/* @data is borrowed; @time 0: now. */
void svc_event_queue_push(SvcEventQueue *q, const char *name, json_object *data, gint64 time);
/* A QMP event message as QEMU sends it, its timestamp read when it has a valid one. */
void svc_event_queue_push_message(SvcEventQueue *q, json_object *message);
/* No more events will come, because of @why (the first reason given stays). */
void svc_event_queue_end(SvcEventQueue *q, const char *why);
/* Until an event is queued or the queue ended (TRUE), @deadline (monotonic) passes (TRUE), or
 * @cancellable is cancelled (FALSE, G_IO_ERROR_CANCELLED). */
gboolean svc_event_queue_wait(SvcEventQueue *q, gint64 deadline, GCancellable *cancellable,
                              GError **error);
/* The oldest event, or NULL when none is queued. */
SvcRawEvent *svc_event_queue_pop(SvcEventQueue *q);
/* How many events were dropped since the last call. */
guint svc_event_queue_take_lost(SvcEventQueue *q);
/* Why the queue ended (a copy), or NULL while it has not. */
char *svc_event_queue_ended(SvcEventQueue *q);
/* Whether an event @name whose data's @key is the string @value is queued. */
gboolean svc_event_queue_holds(SvcEventQueue *q, const char *name, const char *key,
                               const char *value);

/* Where a watcher's events come from: a transport that receives them feeds the queue. */
typedef struct {
    /* Receive events until one is queued, the queue ended or @deadline passes (TRUE), or
     * @cancellable is cancelled (FALSE, G_IO_ERROR_CANCELLED).  A transport that fails ends
     * the queue rather than return an error. */
    gboolean (*wait)(gpointer source, gint64 deadline, GCancellable *cancellable,
                     GError **error);
    /* Stop feeding the queue. */
    void (*free)(gpointer source);
} SvcEventSourceOps;

/* For a transport whose VM can be watched: start feeding @queue (referenced) and return the
 * source, its @ops set. */
typedef gpointer (*SvcEventSourceNew)(gpointer impl, SvcEventQueue *queue,
                                      const SvcEventSourceOps **ops);
void svc_vm_set_event_source(SvcVm *vm, SvcEventSourceNew func);
/* The VM's event source feeding @queue, or NULL when its transport receives no events. */
gpointer svc_vm_new_event_source(SvcVm *vm, SvcEventQueue *queue, const SvcEventSourceOps **ops);

/* ---- watching (watch.c) ---------------------------------------------- */

/* A watcher of @vm (borrowed) on an event source already feeding @queue; the watcher owns the
 * source.  For a transport's own watch (svc_domain_watch()). */
SvcWatch *svc_watch_new_on(SvcVm *vm, SvcEventQueue *queue, const SvcEventSourceOps *ops,
                           gpointer source, GError **error);
/* How many events a watcher holds unread before it drops the oldest. */
#define SVC_WATCH_QUEUE_MAX 4096

/* An event with no channel and no SPICE client (-1 each); @time 0: now (watch-event.c). */
SvcEvent *svc_event_new(SvcEventType type, gint64 time);

/* The SPICE channels clients have linked (watch-spice.c). */
typedef struct _SvcSpiceLinks SvcSpiceLinks;

SvcSpiceLinks *svc_spice_links_new(void);
void svc_spice_links_free(SvcSpiceLinks *l);
/* What QEMU lists linked now (query-spice). */
gboolean svc_spice_links_load(SvcSpiceLinks *l, SvcVm *vm, GError **error);
/* SPICE_CONNECTED, SPICE_INITIALIZED or SPICE_DISCONNECTED as an event naming the channel
 * where QEMU tells which it is. */
SvcEvent *svc_spice_links_event(SvcSpiceLinks *l, SvcVm *vm, const SvcRawEvent *raw,
                                GError **error);

/* ---- channels (channel.c) -------------------------------------------- */

/* The channel of @channels with id @id if @pick takes it, else NULL and an error that says
 * which is wrong. */
SvcChannel *svc_channels_pick(GPtrArray *channels, const char *id,
                              gboolean (*pick)(const SvcChannel *ch), GError **error);

G_END_DECLS
