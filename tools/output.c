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
table_print(Table *table, FILE *out)
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
    for (guint r = 0; r < table->rows->len; r++) {
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

static const char *
frontend_cell(const SvcChannel *ch)
{
    return ch->state == SVC_STATE_OK ? ch->driver : "-";
}

static void
print_notes(GPtrArray *channels, gboolean domain)
{
    gboolean inferred = FALSE, passthrough = FALSE;

    for (guint i = 0; i < channels->len; i++) {
        const SvcChannel *ch = channels->pdata[i];

        inferred |= !ch->ours;
        passthrough |= domain && ch->ours && !ch->libvirt && ch->state == SVC_STATE_OK;
    }
    if (inferred)
        printf("\n* not added by spicevmc%s: kind and names inferred from what QEMU shows\n",
               domain ? " or libvirt" : "");
    if (passthrough)
        printf("\nChannels managed by spicevmc go through QMP passthrough: libvirt taints the "
               "domain custom-monitor,\nand migrating it would lose them (the destination's "
               "libvirt does not recreate them);\nadd them with --config and restart the "
               "domain instead.\n");
}

void
print_channels(GPtrArray *channels, gboolean domain)
{
    static const char *const headers[] = { "Id", "Kind", "SPICE name", "Frontend", "Bus",
                                           "Port", "Guest port name", "Guest", "State",
                                           "Managed by", "Persistent", NULL };
    g_autofree char **cut = g_memdup2(headers, sizeof(headers));
    g_autoptr(Table) table = NULL;

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
                                ch->port_name,
                                ch->state == SVC_STATE_OK ? (ch->guest_open ? "open" : "closed")
                                                          : NULL,
                                svc_state_name(ch->state),
                                ch->libvirt ? "libvirt" : ch->ours ? "spicevmc" : NULL,
                                ch->persistent ? "yes" : "no", NULL };

        table_add(table, cells);
    }
    table_print(table, stdout);
    print_notes(channels, domain);
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
    printf("Channel '%s' added: %s '%s', %s on %s%s\n", ch->id, ch->kind->name, ch->spice_name,
           ch->driver, where ? where : "the bus libvirt chose",
           ch->libvirt ? " (by libvirt)" : "");
}

void
print_added(GPtrArray *added)
{
    for (guint i = 0; i < added->len; i++)
        print_one_added(added->pdata[i]);
}

void
print_removed(GPtrArray *removed)
{
    for (guint i = 0; removed && i < removed->len; i++)
        printf("Channel '%s' removed\n", (char *)removed->pdata[i]);
}

/* Channels taken away from a domain (svc_domain_remove()): where from. */
void
print_removed_channels(GPtrArray *removed)
{
    for (guint i = 0; removed && i < removed->len; i++) {
        const SvcChannel *ch = removed->pdata[i];

        printf("Channel '%s' removed%s\n", ch->id,
               ch->state == SVC_STATE_CONFIG ? " from the persistent definition"
               : ch->persistent              ? ", and from the persistent definition"
                                             : "");
    }
}
