/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text output for virt-spicevmc: virsh-style tables. */
#include "config.h"

#include "output.h"

struct _Table {
    guint columns;
    GPtrArray *rows;          /* GStrv, the first is the header */
};

Table *
table_new(const char *const *headers)
{
    Table *table = g_new0(Table, 1);

    table->columns = g_strv_length((char **)headers);
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    table_add(table, headers);
    return table;
}

void
table_free(Table *table)
{
    if (!table)
        return;
    g_ptr_array_unref(table->rows);
    g_free(table);
}

void
table_add(Table *table, const char *const *cells)
{
    char **row = g_new0(char *, table->columns + 1);

    for (guint i = 0; i < table->columns; i++)
        row[i] = g_strdup(cells[i] ? cells[i] : "-");
    g_ptr_array_add(table->rows, row);
}

void
table_print(Table *table, FILE *out, gboolean header)
{
    g_autofree guint *width = g_new0(guint, table->columns);
    guint total = 0;

    for (guint r = 0; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];

        for (guint c = 0; c < table->columns; c++)
            width[c] = MAX(width[c], g_utf8_strlen(row[c], -1));
    }
    for (guint c = 0; c < table->columns; c++)
        total += width[c] + 3;
    for (guint r = header ? 0 : 1; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];
        g_autoptr(GString) line = g_string_new(" ");

        for (guint c = 0; c < table->columns; c++) {
            g_string_append(line, row[c]);
            if (c + 1 < table->columns) {
                for (guint pad = g_utf8_strlen(row[c], -1); pad < width[c] + 3; pad++)
                    g_string_append_c(line, ' ');
            }
        }
        fprintf(out, "%s\n", line->str);
        if (r == 0) {
            for (guint i = 0; i < total; i++)
                fputc('-', out);
            fputc('\n', out);
        }
    }
}

void
print_json(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *
channels_json(GPtrArray *channels)
{
    json_object *arr = json_object_new_array();

    for (guint i = 0; channels && i < channels->len; i++)
        json_object_array_add(arr, svc_channel_to_json(channels->pdata[i]));
    return arr;
}

void
print_channels_json(GPtrArray *channels)
{
    g_autoptr(json_object) arr = channels_json(channels);

    print_json(arr);
}

static const char *
frontend_cell(const SvcChannel *ch)
{
    return ch->state == SVC_STATE_OK ? ch->driver : "-";
}

/* QEMU's frontend-open follows the guest only for a virtserialport; a virtconsole's is open
 * from its creation (until the guest first opens and closes it), a usb-redir's and a card's
 * whenever the device holds the chardev.  There, the column says nothing it cannot know. */
static const char *
guest_cell(const SvcChannel *ch)
{
    if (ch->state != SVC_STATE_OK ||
        g_strcmp0(ch->driver, svc_frontend_driver(SVC_FRONT_SERIALPORT)) != 0)
        return NULL;
    return ch->guest_open ? "open" : "closed";
}

void
print_warnings(GPtrArray *channels, gboolean domain)
{
    gboolean passthrough = FALSE, unkept = FALSE;

    for (guint i = 0; domain && i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];

        if (ch->ours && !ch->libvirt && ch->state == SVC_STATE_OK) {
            passthrough = TRUE;
            unkept |= !ch->persistent;
        }
    }
    /* Those in the definition too come back with it: advise --config only for the others. */
    if (passthrough)
        fprintf(stderr, "%s: warning: channels managed by spicevmc go through QMP passthrough: "
                        "libvirt taints the domain custom-monitor, and migrating it would lose "
                        "them (the destination's libvirt does not recreate them); %s\n",
                g_get_prgname(),
                unkept ? "add them with --config and restart the domain instead"
                       : "they are in the definition: 'virt-spicevmc sync' on the destination, "
                         "or a restart, brings them back");
}

/* Why a channel of the definition is not live, as sync found (the table has no room). */
static void
print_reasons(GPtrArray *channels, gboolean quiet)
{
    gboolean first = TRUE;

    for (guint i = 0; !quiet && i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];
        g_autofree char *reason = ch->reason ? qmp_escape_message(ch->reason) : NULL;

        if (!reason)
            continue;
        printf("%s%s: in the definition but not live: %s\n", first ? "\n" : "", ch->id, reason);
        first = FALSE;
    }
}

void
print_channels(GPtrArray *channels, gboolean domain, gboolean quiet)
{
    static const char *const headers[] = { "Id", "Kind", "SPICE name", "Frontend", "Bus",
                                           "Port", "Guest port name", "Guest", "State",
                                           "Managed by", "Persistent", NULL };
    g_autofree char **cut = g_memdup2(headers, sizeof(headers));
    g_autoptr(Table) table = NULL;
    gboolean inferred = FALSE;

    /* Without a domain, the last two columns say nothing. */
    if (!domain)
        cut[G_N_ELEMENTS(headers) - 3] = NULL;
    table = table_new((const char *const *)cut);
    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];
        g_autofree char *kind = g_strdup_printf("%s%s", ch->kind ? ch->kind->name : "?",
                                                ch->ours ? "" : "*");
        g_autofree char *nr = ch->nr ? g_strdup_printf("%u", ch->nr) : NULL;
        const char *cells[] = { ch->id, kind, ch->spice_name, frontend_cell(ch), ch->bus, nr,
                                ch->port_name, guest_cell(ch), svc_state_name(ch->state),
                                ch->libvirt ? "libvirt" : ch->ours ? "spicevmc" : NULL,
                                ch->persistent ? "yes" : "no", NULL };

        inferred |= !ch->ours;
        table_add(table, cells);
    }
    table_print(table, stdout, !quiet);
    if (inferred && !quiet)
        printf("\n* not added by spicevmc%s: kind and names inferred from what QEMU shows\n",
               domain ? " or libvirt" : "");
    print_reasons(channels, quiet);
}

static void
print_one_added(const SvcChannel *ch)
{
    g_autofree char *where = ch->nr ? g_strdup_printf("%s port %u", ch->bus, ch->nr)
                                    : g_strdup(ch->bus);

    if (ch->state == SVC_STATE_CONFIG) {
        printf("Channel '%s' added to the persistent definition: %s '%s'\n", ch->id,
               ch->kind->name, ch->spice_name);
        return;
    }
    printf("Channel '%s' added: %s '%s', %s on %s%s%s\n", ch->id, ch->kind->name,
           ch->spice_name, ch->driver, where ? where : "the bus libvirt chose",
           ch->libvirt ? " (by libvirt)" : "",
           ch->persistent ? ", and to the persistent definition" : "");
}

void
print_added(GPtrArray *added)
{
    for (guint i = 0; i < added->len; i++)
        print_one_added(added->pdata[i]);
}

void
print_removed_ids(GPtrArray *removed)
{
    for (guint i = 0; removed && i < removed->len; i++)
        printf("Channel '%s' removed\n", (char *)removed->pdata[i]);
}

void
print_removed(GPtrArray *removed)
{
    for (guint i = 0; removed && i < removed->len; i++) {
        const SvcChannel *ch = removed->pdata[i];

        printf("Channel '%s' removed%s\n", ch->id,
               ch->state == SVC_STATE_CONFIG ? " from the persistent definition"
               : ch->persistent              ? ", and from the persistent definition"
                                             : "");
    }
}

/* A dry run: the device XML of the channels, then each step, QMP commands as "-> …". */
void
print_dry_run(SvcDryRun *run, gboolean json)
{
    g_autofree char *xml = svc_xml_for_channels(run->channels, SVC_XML_FORMATTED | SVC_XML_BATCH);

    if (json) {
        g_autoptr(json_object) obj = json_object_new_object();
        json_object *steps = json_object_new_array();

        json_object_object_add(obj, "channels", channels_json(run->channels));
        json_object_object_add(obj, "xml", json_object_new_string(xml));
        for (guint i = 0; i < run->steps->len; i++) {
            const SvcStep *step = run->steps->pdata[i];
            json_object *s = json_object_new_object();
            json_object *ids = json_object_new_array();

            for (guint j = 0; j < step->ids->len; j++)
                json_object_array_add(ids, json_object_new_string(step->ids->pdata[j]));
            json_object_object_add(s, "what", json_object_new_string(step->what));
            json_object_object_add(s, "ids", ids);
            if (step->xml)
                json_object_object_add(s, "xml", json_object_new_string(step->xml));
            if (step->commands)
                json_object_object_add(s, "commands", json_object_get(step->commands));
            json_object_array_add(steps, s);
        }
        json_object_object_add(obj, "steps", steps);
        print_json(obj);
        return;
    }
    printf("%s\n", xml);
    for (guint i = 0; i < run->steps->len; i++) {
        const SvcStep *step = run->steps->pdata[i];
        g_autoptr(GString) ids = g_string_new(NULL);

        for (guint j = 0; j < step->ids->len; j++)
            g_string_append_printf(ids, "%s%s", j ? ", " : "", (char *)step->ids->pdata[j]);
        printf("# %s: %s\n", step->what, ids->len ? ids->str : "(nothing)");
        for (size_t j = 0; step->commands && j < json_object_array_length(step->commands); j++)
            printf("-> %s\n", json_object_to_json_string_ext(
                                  json_object_array_get_idx(step->commands, j),
                                  JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
}
