/* Text output for virt-spicevmc: virsh-style tables. */
#pragma once

#include <stdio.h>

#include "spicevmc.h"

typedef struct _Table Table;

Table *table_new(const char *const *headers);
void table_free(Table *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)
/* Add a row of as many cells as there are headers; a NULL cell prints as "-". */
void table_add(Table *table, const char *const *cells);
void table_print(Table *table, FILE *out);

void print_json(json_object *obj);
/* A table of channels; @domain adds who manages each and whether it comes back. */
void print_channels(GPtrArray *channels, gboolean domain);
void print_added(GPtrArray *added);
void print_removed(GPtrArray *removed);
void print_removed_channels(GPtrArray *removed);
