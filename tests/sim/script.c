/* puente-sim script files: control commands run at given seconds from the start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

#define SCRIPT_LINES_MAX 10000

/* ---- script files: "SECONDS COMMAND" a line, '#' comments, seconds from start ---- */

static void on_script_line(struct sim_net *net, void *data)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return;
        sim_ctl_exec(net, data, out);
        fclose(out);
        if (text && len && text[len - 1] == '\n')
                text[len - 1] = '\0';
        log_info("script: %s -> %s", (char *)data, text ? text : "");
        free(text);
}

int sim_script_load(struct sim_net *net, const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                log_error("%s: cannot open: %m", path);
                return -errno;
        }
        char line[SIM_CTL_LINE_MAX];
        int lineno = 0, errs = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                char *p = line + strspn(line, " \t");
                p[strcspn(p, "\r\n")] = '\0';
                if (!*p || *p == '#')
                        continue;
                char *end;
                double at = strtod(p, &end);
                if (end == p || at < 0 || at > 86400 || (*end != ' ' && *end != '\t')) {
                        log_error("%s:%d: expected 'SECONDS COMMAND', got '%s'", path, lineno, p);
                        errs++;
                        continue;
                }
                end += strspn(end, " \t");
                char *copy = strdup(end);
                if (!copy || sim_job_after(net, (int)(at * 1000), on_script_line, copy) < 0)
                        errs++;
        }
        fclose(f);
        if (lineno > SCRIPT_LINES_MAX)
                log_warning("%s: %d lines", path, lineno);
        return errs ? -EINVAL : 0;
}
