/* Unit-test helper for the rules runner tests: a fresh /tmp directory holding the store path and
 * a trial secret key file, and the repo's example rules directory. Ownership: the paths are this
 * file's static buffers, valid from runner_setup() to runner_teardown(), which removes the
 * directory and all in it. Static because each tests/unit/test-*.c is its own binary. */
#ifndef PUENTE_TEST_RUNNER_FIXTURE_H
#define PUENTE_TEST_RUNNER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64], db[128], secret[128], rules[512];
/* The trial's secret: 32 bytes, as etc/puente.conf's secret_key_file holds. */
static const char key[] = "an evaluator's key, 32 bytes ok.";

/* Makes /tmp/test-<tag>-XXXXXX with trial.key in it; db is the store path there (not created);
 * rules is $PUENTE_SRC/etc/rules.d (the current directory's without PUENTE_SRC). */
static inline int runner_setup(const char *tag)
{
        const char *src = getenv("PUENTE_SRC");
        FILE *f;

        snprintf(dir, sizeof(dir), "/tmp/test-%s-XXXXXX", tag);
        if (!mkdtemp(dir))
                return -1;
        snprintf(db, sizeof(db), "%s/puente.db", dir);
        snprintf(secret, sizeof(secret), "%s/trial.key", dir);
        snprintf(rules, sizeof(rules), "%s/etc/rules.d", src ? src : ".");
        f = fopen(secret, "w");
        if (!f)
                return -1;
        fputs(key, f);
        fclose(f);
        return 0;
}

static inline int runner_teardown(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

#endif
