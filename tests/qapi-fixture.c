/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the QAPI schema tests (qapi-fixture.h). */
#include "config.h"

#include "qapi-fixture.h"

void
qapi_fixture_setup(QapiFixture *f, gconstpointer data)
{
    f->schema = qapi_schema_load(QAPI_SCHEMA_FILE, &f->error);
    g_assert_no_error(f->error);
    f->dir = g_dir_make_tmp("spicevmc-qapi-XXXXXX", &f->error);
    g_assert_no_error(f->error);
}

void
qapi_fixture_setup_qemu(QapiFixture *f, gconstpointer data)
{
    qapi_fixture_setup(f, data);
    f->vm = testvm_start(0, NULL);
    f->qmp = testvm_qmp(f->vm);
}

void
qapi_fixture_teardown(QapiFixture *f, gconstpointer data)
{
    g_clear_pointer(&f->qmp, qmp_client_free);
    g_clear_pointer(&f->vm, testvm_free);
    g_clear_pointer(&f->schema, qapi_schema_free);
    if (f->dir)
        testvm_remove_tree(f->dir);
    g_free(f->dir);
    g_clear_error(&f->error);
}

QapiSchema *
qapi_fixture_write_schema(QapiFixture *f, const char *text, char **path_out)
{
    g_autofree char *path = g_build_filename(f->dir, "schema.json", NULL);
    QapiSchema *schema;

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    schema = qapi_schema_load(path, &f->error);
    if (path_out)
        *path_out = g_steal_pointer(&path);
    return schema;
}
