/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/libvirt-views.h — every view of a libvirt domain taken together: spicevmc's list,
 * QEMU's chardevs and devices, libvirt's live XML and definition, spicevmc's two metadata
 * records in both; to compare before and after, or to find no channel of spicevmc's. */
#pragma once

#include "libvirt-cli.h"

/* spicevmc's records in a domain's <metadata> (README): the channels it added through
 * passthrough, and those libvirt cannot keep in the definition (a smartcard) for restore. */
#define ADDED_NS "urn:spicevmc:added:1"
#define RESTORE_NS "urn:spicevmc:1"
#define QUERY_CHARDEV "{\"execute\":\"query-chardev\"}"
#define QOM_LIST_DEVICES "{\"execute\":\"qom-list\"," \
                         "\"arguments\":{\"path\":\"/machine/peripheral\"}}"
#define QOM_LIST_OBJECTS "{\"execute\":\"qom-list\",\"arguments\":{\"path\":\"/objects\"}}"

typedef struct {
    gboolean running;
    json_object *list;        /* virt-spicevmc list --json */
    json_object *chardevs;    /* QEMU: query-chardev (running only) */
    json_object *devices;     /* QEMU: the devices with ids (running only) */
    char *qemu;               /* QEMU's chardevs, devices and objects (testvm_snapshot) */
    char *xml;                /* virsh dumpxml (running only) */
    char *inactive;           /* virsh dumpxml --inactive (persistent only) */
    char *added[2];           /* virsh metadata of ADDED_NS: --live (running), --config */
    char *restore[2];         /* the same of RESTORE_NS */
} Views;

void views_clear(Views *v);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Views, views_clear)
/* Every view of the domain as it is now. */
void views_load(Views *v, Fixture *f);
/* Each view of @after is the same as that of @before; fails naming the first that is not. */
void views_assert_same(const Views *before, const Views *after);
/* No channel of spicevmc's in any view: nothing listed, no chardev, device or alias of
 * spicevmc's in QEMU or in libvirt's XML, both records empty. */
void views_assert_clean(Fixture *f);
/* A channel libvirt plugged: QEMU names its chardev "char" + alias. */
void views_assert_libvirt_channel(const Views *v, json_object *ch, const char *element);
/* A channel added through passthrough: QEMU has it, libvirt's XML does not, the record does. */
void views_assert_passthrough_channel(const Views *v, json_object *ch);

/* virsh domstate says it runs (paused included). */
gboolean domain_running(Fixture *f);
