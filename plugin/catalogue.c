/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What each kind of SPICE channel is made of, and the limits spice-server puts on them. */
#include "config.h"

#include "svc-private.h"

#define SERIAL_PREFIX "org.qemu.console.serial."

static const SvcKind kinds[] = {
    /* kind         backend                spice name                  numbered  frontend               guest port name        class                max */
    { "vdagent",   SVC_BACKEND_SPICEVMC,  "vdagent",                  FALSE,    SVC_FRONT_SERIALPORT,  "com.redhat.spice.0",  SVC_CLASS_AGENT,     1,
      "guest agent: clipboard, resolution, mouse mode (needs spice-vdagent in the guest)" },
    { "usbredir",  SVC_BACKEND_SPICEVMC,  "usbredir",                 FALSE,    SVC_FRONT_USB_REDIR,   NULL,                  SVC_CLASS_USBREDIR,  0,
      "one USB device redirected from the client" },
    { "smartcard", SVC_BACKEND_SPICEVMC,  "smartcard",                FALSE,    SVC_FRONT_CCID_CARD,   NULL,                  SVC_CLASS_SMARTCARD, 0,
      "the client's smartcard reader, behind a usb-ccid (one per QEMU process)" },
    { "webdav",    SVC_BACKEND_SPICEPORT, "org.spice-space.webdav.0", FALSE,    SVC_FRONT_SERIALPORT,  NULL,                  SVC_CLASS_WEBDAV,    1,
      "folder sharing (needs spice-webdavd in the guest)" },
    { "serial",    SVC_BACKEND_SPICEPORT, SERIAL_PREFIX,              TRUE,     SVC_FRONT_CONSOLE,     NULL,                  SVC_CLASS_PORT,      0,
      "a serial console: /dev/hvcN in the guest, a terminal in the client" },
    { "stream",    SVC_BACKEND_SPICEPORT, "org.spice-space.stream.0", FALSE,    SVC_FRONT_SERIALPORT,  NULL,                  SVC_CLASS_STREAM,    1,
      "video stream from a guest streaming agent" },
    { "port",      SVC_BACKEND_SPICEPORT, NULL,                       FALSE,    SVC_FRONT_SERIALPORT,  NULL,                  SVC_CLASS_PORT,      0,
      "a named SPICE port (--fqdn NAME), raw bytes both ways" },
};

static const struct {
    const char *driver;
    gboolean virtio_serial;
    const char *controller;   /* libvirt's controller type for the bus */
} frontends[] = {
    [SVC_FRONT_SERIALPORT] = { "virtserialport", TRUE, "virtio-serial" },
    [SVC_FRONT_CONSOLE] = { "virtconsole", TRUE, "virtio-serial" },
    [SVC_FRONT_USB_REDIR] = { "usb-redir", FALSE, "usb" },
    [SVC_FRONT_CCID_CARD] = { "ccid-card-passthru", FALSE, "ccid" },
};

/* spice-server gives each char device a channel id from a 256-entry table per channel type
 * (reds_get_free_channel_id) and drops the device without telling QEMU when none is left;
 * it takes one agent only, and one smartcard reader (a second aborts QEMU). */
static const struct {
    const char *name;
    guint limit;
} classes[] = {
    [SVC_CLASS_AGENT] = { "agent", 1 },
    [SVC_CLASS_USBREDIR] = { "usbredir", 256 },
    [SVC_CLASS_SMARTCARD] = { "smartcard", 1 },
    [SVC_CLASS_WEBDAV] = { "webdav", 256 },
    [SVC_CLASS_STREAM] = { "stream", 256 },
    [SVC_CLASS_PORT] = { "port", 256 },
};

G_STATIC_ASSERT(G_N_ELEMENTS(kinds) <= G_SIZEOF_MEMBER(SvcInventory, kind_count) / sizeof(guint));

const SvcKind *
svc_kinds(guint *n_kinds)
{
    *n_kinds = G_N_ELEMENTS(kinds);
    return kinds;
}

const SvcKind *
svc_kind_lookup(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (g_strcmp0(kinds[i].name, name) == 0)
            return &kinds[i];
    }
    return NULL;
}

const char *
svc_frontend_driver(SvcFrontend frontend)
{
    return frontends[frontend].driver;
}

const char *
svc_frontend_controller_type(SvcFrontend frontend)
{
    return frontends[frontend].controller;
}

gboolean
svc_frontend_is_virtio_serial(SvcFrontend frontend)
{
    return frontends[frontend].virtio_serial;
}

guint
svc_class_limit(SvcClass spice_class)
{
    return classes[spice_class].limit;
}

const char *
svc_class_name(SvcClass spice_class)
{
    return classes[spice_class].name;
}

const char *
svc_kind_default_port_name(const SvcKind *kind, const char *spice_name)
{
    if (!svc_frontend_is_virtio_serial(kind->frontend))
        return NULL;
    return kind->port_name ? kind->port_name : spice_name;
}

const char *
svc_kind_explicit_port_name(const SvcKind *kind, const char *spice_name, const char *port_name)
{
    return g_strcmp0(port_name, svc_kind_default_port_name(kind, spice_name)) != 0 ? port_name
                                                                                  : NULL;
}

static const SvcKind *
kind_for_frontend(SvcBackend backend, SvcFrontend frontend)
{
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (kinds[i].backend == backend && kinds[i].frontend == frontend)
            return &kinds[i];
    }
    return NULL;
}

const SvcKind *
svc_kind_infer(const char *backend, const char *driver, const char *port_name)
{
    const SvcKind *named;

    if (g_strcmp0(backend, "spicevmc") == 0) {
        /* The frontend tells the subtype: a virtio port only makes sense for the agent. */
        if (g_strcmp0(driver, "virtserialport") == 0 || g_strcmp0(driver, "virtconsole") == 0)
            return svc_kind_lookup("vdagent");
        for (guint f = 0; f < G_N_ELEMENTS(frontends); f++) {
            if (g_strcmp0(frontends[f].driver, driver) == 0)
                return kind_for_frontend(SVC_BACKEND_SPICEVMC, f);
        }
        return NULL;
    }
    if (g_strcmp0(backend, "spiceport") != 0)
        return NULL;
    /* spice-server keys on the SPICE name, which QEMU does not show; guests and clients
     * conventionally give the guest port the same name.  A kind that takes any name ("port")
     * is no evidence. */
    named = svc_kind_for_spice_name(SVC_BACKEND_SPICEPORT, port_name);
    if (named && named->spice_name)
        return named;
    if (g_strcmp0(driver, "virtconsole") == 0 ||
        (port_name && g_str_has_prefix(port_name, SERIAL_PREFIX)))
        return svc_kind_lookup("serial");
    return svc_kind_lookup("port");
}

const SvcKind *
svc_kind_for_spice_name(SvcBackend backend, const char *name)
{
    const SvcKind *fallback = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (kinds[i].backend != backend)
            continue;
        if (!kinds[i].numbered && g_strcmp0(kinds[i].spice_name, name) == 0)
            return &kinds[i];
        if (!kinds[i].spice_name)
            fallback = &kinds[i];
    }
    return fallback;
}
