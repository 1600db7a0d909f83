/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared helpers for the tests that drive libspicevmc against a real QEMU. */
#include "config.h"

#include <string.h>

#include "channels-common.h"

void
fixture_start(Fixture *f, guint max_ports, const char *const *extra)
{
    g_autoptr(GError) error = NULL;

    f->vm = testvm_start(max_ports, extra);
    f->inspect = testvm_qmp(f->vm);
    f->svc = svc_vm_connect_qmp(f->vm->qmp_path, 10000, &error);
    g_assert_no_error(error);
}

void
fixture_stop(Fixture *f)
{
    g_clear_pointer(&f->svc, svc_vm_free);
    g_clear_pointer(&f->inspect, qmp_client_free);
    g_clear_pointer(&f->vm, testvm_free);
}

gboolean
add_specs(SvcVm *svc, const char *const *texts, GPtrArray **added, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify)svc_spec_free);

    for (guint i = 0; texts[i]; i++) {
        SvcSpec *spec = svc_spec_parse(texts[i], error);

        if (!spec)
            return FALSE;
        g_ptr_array_add(specs, spec);
    }
    return svc_add(svc, (SvcSpec *const *)specs->pdata, specs->len, added, error);
}

char *
vm_snapshot(QmpClient *inspect)
{
    g_autoptr(json_object) chardevs = testvm_exec(inspect, qmp_cmd_query_chardev());
    g_autoptr(json_object) devices = testvm_exec(inspect, qmp_cmd_qom_list("/machine/peripheral"));
    g_autoptr(json_object) objects = testvm_exec(inspect, qmp_cmd_qom_list("/objects"));

    return testvm_snapshot(chardevs, devices, objects);
}

char *
device_type(QmpClient *inspect, const char *id)
{
    g_autoptr(json_object) devices = testvm_exec(inspect, qmp_cmd_qom_list("/machine/peripheral"));
    const char *type;

    if (!has_entry(devices, "name", id))
        return NULL;
    /* "child<TYPE>" */
    type = member_str(find_entry(devices, "name", id), "type");
    g_assert_true(g_str_has_prefix(type, "child<") && g_str_has_suffix(type, ">"));
    return g_strndup(type + 6, strlen(type) - 7);
}
