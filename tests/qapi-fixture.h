/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the QAPI schema tests: schemas/spicevmc.json loaded, a temp dir for schema
 * files a test writes, and for some tests a real QEMU to compare with. */
#pragma once

#include "qapi.h"
#include "testvm.h"

#define QAPI_SCHEMA_FILE SRCDIR "/schemas/spicevmc.json"

typedef struct {
    QapiSchema *schema;
    TestVm *vm;
    QmpClient *qmp;
    char *dir;                  /* for schema files written by the test */
    GError *error;
} QapiFixture;

void qapi_fixture_setup(QapiFixture *f, gconstpointer data);
/* The same, and a QEMU with f->qmp connected to it. */
void qapi_fixture_setup_qemu(QapiFixture *f, gconstpointer data);
void qapi_fixture_teardown(QapiFixture *f, gconstpointer data);
/* Load @text as a schema file written in f->dir (errors in f->error); its path in @path_out. */
QapiSchema *qapi_fixture_write_schema(QapiFixture *f, const char *text, char **path_out);

#define ADD_QAPI(path, test)                                                                    \
    g_test_add(path, QapiFixture, NULL, qapi_fixture_setup, test, qapi_fixture_teardown)
#define ADD_QAPI_QEMU(path, test)                                                               \
    g_test_add(path, QapiFixture, NULL, qapi_fixture_setup_qemu, test, qapi_fixture_teardown)
