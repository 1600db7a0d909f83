/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP command builders: the only place the names and argument shapes of QEMU commands live. */
#include "config.h"

#include "qmp.h"

/* {"execute": NAME, "arguments": ARGS}; takes ARGS, which may be NULL. */
static json_object *
command(const char *name, json_object *args)
{
    json_object *cmd = json_object_new_object();

    json_object_object_add(cmd, "execute", json_object_new_string(name));
    if (args)
        json_object_object_add(cmd, "arguments", args);
    return cmd;
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

json_object *
qmp_cmd_capabilities(gboolean oob)
{
    json_object *args = NULL;

    if (oob) {
        json_object *enable = json_object_new_array();

        json_object_array_add(enable, json_object_new_string("oob"));
        args = json_object_new_object();
        json_object_object_add(args, "enable", enable);
    }
    return command("qmp_capabilities", args);
}

json_object *
qmp_cmd_query_chardev(void)
{
    return command("query-chardev", NULL);
}

json_object *
qmp_cmd_query_status(void)
{
    return command("query-status", NULL);
}

json_object *
qmp_cmd_query_spice(void)
{
    return command("query-spice", NULL);
}

json_object *
qmp_cmd_query_commands(void)
{
    return command("query-commands", NULL);
}

json_object *
qmp_cmd_query_qmp_schema(void)
{
    return command("query-qmp-schema", NULL);
}

json_object *
qmp_cmd_qom_list(const char *path)
{
    json_object *args = json_object_new_object();

    add_string(args, "path", path);
    return command("qom-list", args);
}

json_object *
qmp_cmd_qom_get(const char *path, const char *property)
{
    json_object *args = json_object_new_object();

    add_string(args, "path", path);
    add_string(args, "property", property);
    return command("qom-get", args);
}

/* chardev-add with a ChardevBackend {"type": TYPE, "data": DATA}; takes DATA. */
static json_object *
chardev_add(const char *id, const char *type, json_object *data)
{
    json_object *backend = json_object_new_object();
    json_object *args = json_object_new_object();

    add_string(backend, "type", type);
    json_object_object_add(backend, "data", data);
    add_string(args, "id", id);
    json_object_object_add(args, "backend", backend);
    return command("chardev-add", args);
}

json_object *
qmp_cmd_chardev_add_spicevmc(const char *id, const char *subtype)
{
    json_object *data = json_object_new_object();

    add_string(data, "type", subtype);
    return chardev_add(id, "spicevmc", data);
}

json_object *
qmp_cmd_chardev_add_spiceport(const char *id, const char *fqdn)
{
    json_object *data = json_object_new_object();

    add_string(data, "fqdn", fqdn);
    return chardev_add(id, "spiceport", data);
}

json_object *
qmp_cmd_chardev_remove(const char *id)
{
    json_object *args = json_object_new_object();

    add_string(args, "id", id);
    return command("chardev-remove", args);
}

/* The arguments every device_add has; device properties are added to them. */
static json_object *
device_args(const char *driver, const char *id, const char *bus)
{
    json_object *args = json_object_new_object();

    add_string(args, "driver", driver);
    add_string(args, "id", id);
    if (bus)
        add_string(args, "bus", bus);
    return args;
}

json_object *
qmp_cmd_device_add(const char *driver, const char *id, const char *bus)
{
    return command("device_add", device_args(driver, id, bus));
}

json_object *
qmp_cmd_device_add_usb(const char *driver, const char *id, const char *bus, guint port)
{
    json_object *args = device_args(driver, id, bus);

    if (port) {
        g_autofree char *text = g_strdup_printf("%u", port);

        /* A USB port is a path ("1", "2.3"), a string in QEMU's schema. */
        add_string(args, "port", text);
    }
    return command("device_add", args);
}

json_object *
qmp_cmd_device_add_chardev(const char *driver, const char *id, const char *bus,
                           const char *chardev)
{
    json_object *args = device_args(driver, id, bus);

    add_string(args, "chardev", chardev);
    return command("device_add", args);
}

json_object *
qmp_cmd_device_add_virtio_port(const char *driver, const char *id, const char *bus,
                               guint nr, const char *chardev, const char *name)
{
    json_object *args = device_args(driver, id, bus);

    /* A number, as the property is a uint32; QEMU 7.2 also takes "3" only because its
     * device_add still goes through QemuOpts, which sees every value as a string. */
    json_object_object_add(args, "nr", json_object_new_int64(nr));
    add_string(args, "chardev", chardev);
    add_string(args, "name", name);
    return command("device_add", args);
}

json_object *
qmp_cmd_device_del(const char *id)
{
    json_object *args = json_object_new_object();

    add_string(args, "id", id);
    return command("device_del", args);
}

json_object *
qmp_cmd_object_add_authz_simple(const char *id, const char *identity)
{
    json_object *args = json_object_new_object();

    add_string(args, "qom-type", "authz-simple");
    add_string(args, "id", id);
    add_string(args, "identity", identity);
    return command("object-add", args);
}
