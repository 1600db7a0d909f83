/* Text output for virt-spicevmc: virsh-style tables. */
#include "config.h"

#include <stdio.h>

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
