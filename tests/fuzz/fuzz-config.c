/* Fuzzes puente.conf parsing (libconfuse, the line index and every check): any input gives
 * a config or a list of errors that each name the file, never a crash or a leak. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config-scan.h"
#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct config_scan scan;
        struct config_diag d;
        struct config *c = NULL;
        char *text;
        int r;

        if (size > 64 * 1024)
                return 0;
        /* the line index sees raw bytes, NULs included */
        if (config_scan((const char *)data, size, &scan) == 0)
                config_scan_free(&scan);

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = config_parse_text(text, "fuzz.conf", &c, &d);
        if (r == 0) {
                if (!c || c->n_modems > CONFIG_MODEMS_MAX || c->country_code == 0)
                        abort();
                config_free(c);
        } else {
                if (r != -EINVAL && r != -ENOMEM)
                        abort();
                if (r == -EINVAL && d.count == 0)
                        abort(); /* refused without saying why */
                for (unsigned i = 0; i < d.count && i < CONFIG_ERRORS_MAX; i++)
                        if (strncmp(d.text[i], "fuzz.conf:", 10) != 0)
                                abort();
        }
        free(text);
        return 0;
}
