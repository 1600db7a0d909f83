/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text output for virt-spicevmc: virsh-style tables. */
#pragma once

#include <stdio.h>

#include "spicevmc.h"
#include "qmp.h"            /* json_object cleanups */

typedef struct _Table Table;

Table *table_new(const char *const *headers);
void table_free(Table *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)
/* Add a row of as many cells as there are headers; a NULL cell prints as "-". */
void table_add(Table *table, const char *const *cells);
void table_print(Table *table, FILE *out, gboolean header);

void print_json(json_object *obj);
/* The channels as list --json prints them. */
json_object *channels_json(GPtrArray *channels);
void print_channels_json(GPtrArray *channels);
/* A table of channels; @domain adds who manages each and whether it comes back. */
void print_channels(GPtrArray *channels, gboolean domain, gboolean quiet);
/* What a user of the channels should know, on stderr whatever is printed. */
void print_warnings(GPtrArray *channels, gboolean domain);
void print_added(GPtrArray *added);
/* Ids removed from a QEMU; channels removed from a domain (svc_domain_remove()). */
void print_removed_ids(GPtrArray *removed);
void print_removed(GPtrArray *removed);
void print_dry_run(SvcDryRun *run, gboolean json);
