/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QAPI schemas in QEMU's schema language: argument checks and introspection for added commands. */
#pragma once

#include "qmp.h"

G_BEGIN_DECLS

typedef struct _QapiSchema QapiSchema;

/* Read and check a schema of 'enum', 'struct', 'command' and 'event' expressions: the @len bytes of
 * @text (which has a NUL after them), or the file at @path.  Errors are QMP_ERROR_SCHEMA and
 * start with "NAME:LINE: ", naming the expression at fault. */
QapiSchema *qapi_schema_parse(const char *name, const char *text, gsize len, GError **error);
QapiSchema *qapi_schema_load(const char *path, GError **error);
void qapi_schema_free(QapiSchema *schema);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QapiSchema, qapi_schema_free)

gboolean qapi_schema_has_command(QapiSchema *schema, const char *name);
gboolean qapi_schema_has_event(QapiSchema *schema, const char *name);

/* Check the "arguments" of @command (which must be one of the schema's) as QEMU 7.2's QMP
 * dispatcher does, in the same order: members in schema order, nested values depth first,
 * unexpected members last.  On FALSE, QMP_ERROR_ARGUMENT with QEMU's own "desc", for a
 * GenericError reply.  @args NULL means no "arguments".  QEMU refuses an "arguments" that is
 * not an object ("QMP input member 'arguments' must be an object") before it looks the command
 * up, so the caller should too; "arguments": null included, which json-c also gives as NULL.
 * Given such @args anyway, this answers the same. */
gboolean qapi_schema_check_arguments(QapiSchema *schema, const char *command, json_object *args,
                                     GError **error);

/* Check the "data" of @event (one of the schema's; NULL: none) as a client reading it with the
 * schema would: the same checks and words as for a command's arguments. */
gboolean qapi_schema_check_event(QapiSchema *schema, const char *event, json_object *data,
                                 GError **error);

/* The schema's commands as query-commands lists them: [{"name": …}, …] (new reference). */
json_object *qapi_schema_commands(QapiSchema *schema);

/* The schema's commands and events and every type they use, as query-qmp-schema's SchemaInfo
 * entries, built-in types included: a list that stands on its own (new reference). */
json_object *qapi_schema_introspect(QapiSchema *schema);

/* query-qmp-schema's reply from QEMU (@qemu_reply, borrowed) with the schema's entries added:
 * the types QEMU already lists (built-ins, arrays of built-ins, the empty object) are used
 * rather than repeated, and a QEMU entry named like one of ours gives way to it.  Every name
 * appears once.  Returns a new array sharing QEMU's entries, which must not be modified. */
json_object *qapi_schema_merge_introspection(QapiSchema *schema, json_object *qemu_reply);

G_END_DECLS
