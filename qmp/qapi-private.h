/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the QAPI schema's reader, argument checker and introspector share; not installed. */
#pragma once

#include "qapi.h"

G_BEGIN_DECLS

typedef enum {
    CHECK_STR, CHECK_INT, CHECK_UINT, CHECK_BOOL, CHECK_NUMBER, CHECK_ANY, CHECK_NULL
} Check;

typedef struct {
    const char *name;
    const char *introspected;   /* QEMU's introspection folds every integer type into "int" */
    const char *json_type;
    Check check;
    guint bits;                 /* the range of an integer type */
} Builtin;

typedef enum { META_ENUM, META_STRUCT, META_COMMAND, META_EVENT } Meta;

typedef struct {
    char *name;
    char *type;                 /* a type's name; of the elements when @array */
    gboolean array;
    gboolean optional;
} Member;

typedef struct {
    Meta meta;
    char *name;
    int line;
    GStrv values;               /* enum */
    GPtrArray *members;         /* struct: Member */
    gboolean implicit;          /* struct: a command's or an event's inline 'data' */
    char *arg_type;             /* command, event: a struct, NULL without arguments or data */
    char *ret_type;             /* command: NULL without 'returns' */
    gboolean ret_array;
    gboolean allow_oob;
} Entity;

struct _QapiSchema {
    char *path;
    GPtrArray *entities;        /* Entity, in the file's order */
    GHashTable *by_name;        /* name → Entity (borrowed) */
};

G_GNUC_INTERNAL const Builtin *qapi_find_builtin(const char *name);
G_GNUC_INTERNAL const Entity *qapi_find_entity(QapiSchema *schema, const char *name, Meta meta);

G_END_DECLS
