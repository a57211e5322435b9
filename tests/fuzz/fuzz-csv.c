/* libFuzzer target for daemon/csv: any bytes give records or one error with a position,
 * never a crash; every record read, written back with csv_quote(), reads back the same. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_MAX_BYTES (CSV_FIELDS_MAX * (2 * CSV_FIELD_MAX + 3) + 2)

struct again {
        const char *const *fields;
        size_t n;
        int rows;
};

static int same(void *userdata, unsigned line, const char *const *fields, size_t n)
{
        struct again *a = userdata;

        (void)line;
        if (a->rows++ || n != a->n)
                abort();
        for (size_t i = 0; i < n; i++)
                if (strcmp(fields[i], a->fields[i]) != 0)
                        abort();
        return 0;
}

static int row(void *userdata, unsigned line, const char *const *fields, size_t n)
{
        static char out[LINE_MAX_BYTES];
        size_t used = 0;
        struct again a = { fields, n, 0 };

        (void)userdata;
        if (line == 0 || n == 0 || n > CSV_FIELDS_MAX)
                abort();
        /* A record of one empty field is a blank line when written: it reads back as none. */
        if (n == 1 && fields[0][0] == '\0')
                return 0;
        for (size_t i = 0; i < n; i++) {
                int r;

                if (strlen(fields[i]) > CSV_FIELD_MAX)
                        abort();
                if (i)
                        out[used++] = ',';
                r = csv_quote(fields[i], out + used, sizeof(out) - used);
                if (r < 0)
                        abort();
                used += (size_t)r;
        }
        out[used++] = '\n';
        if (csv_parse(out, used, same, &a, NULL) != 0 || a.rows != 1)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct csv_error e = { 0 };
        int r = csv_parse((const char *)data, size, row, NULL, &e);

        if (r != 0 && r != -EBADMSG)
                abort();
        if (r == -EBADMSG && (e.line == 0 || e.column == 0 || !e.what[0]))
                abort();
        return 0;
}
