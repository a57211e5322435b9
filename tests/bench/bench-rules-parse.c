/* Time to load the sample programme (etc/rules.d): files read, parsed by libconfuse,
 * checked and costed, as puented does at start and on SIGHUP and `puentectl rules check`
 * does. The read is timed apart from parse + check. Target: parse + check under 50 ms.
 * Also a programme 25 times larger (the sample plus 1,000 reminders with variants and
 * conditions), to show that loading grows with the size and not its square.
 * Run from the source tree, or with PUENTE_SRC set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/rules-files.h"
#include "rules/parse.h"

#define ROUNDS    50
#define TARGET_MS 50.0
#define BIG_N     1000 /* extra reminders */
#define BIG_MAX   (BIG_N * 700)

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The sample's files plus one generated file of BIG_N reminders. */
static double time_big(const struct rules_files *files, size_t *ret_reminders)
{
        struct rules_source src[RULES_FILES_MAX];
        static char big[BIG_MAX];
        size_t len = 0;
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        double t0, t;

        for (int i = 0; i < BIG_N && len < BIG_MAX - 700; i++)
                len += (size_t)snprintf(big + len, BIG_MAX - len,
                                        "reminder extra_%d {\n"
                                        "    track = embarazo\n"
                                        "    anchor = embarazo\n"
                                        "    offset = \"%d weeks\"\n"
                                        "    days = { mon, tue, wed, thu, fri }\n"
                                        "    when = { \"paridad is primeriza\" }\n"
                                        "    arms = { tratamiento }\n"
                                        "    text {\n"
                                        "        es = \"{name}, mensaje %d, semana {week}.\"\n"
                                        "    }\n"
                                        "    variant control_%d {\n"
                                        "        arms = { control }\n"
                                        "        text {\n"
                                        "            es = \"Mensaje %d, semana {week}.\"\n"
                                        "        }\n"
                                        "    }\n"
                                        "}\n",
                                        i, 8 + i % 30, i, i, i);
        memcpy(src, files->src, files->n * sizeof(src[0]));
        src[files->n] = (struct rules_source){ "99-big.conf", big, len };
        t0 = now_ms();
        if (rules_parse(src, files->n + 1, NULL, &d, &set) < 0) {
                fprintf(stderr, "bench-rules-parse: the large programme does not load\n");
                exit(1);
        }
        t = now_ms() - t0;
        *ret_reminders = set->n_reminders;
        rules_free(set);
        rules_diags_free(&d);
        return t;
}

int main(void)
{
        const char *src = getenv("PUENTE_SRC");
        char dir[1024];
        struct rules_files files;
        double t0, read_ms, best = 1e9, total = 0;
        size_t n_reminders = 0, n_texts = 0;

        snprintf(dir, sizeof(dir), "%s/etc/rules.d", src ? src : ".");
        t0 = now_ms();
        if (rules_files_read(dir, &files) < 0) {
                fprintf(stderr, "bench-rules-parse: %s\n", files.error);
                return 1;
        }
        read_ms = now_ms() - t0;
        for (int i = 0; i < ROUNDS; i++) {
                struct rules_diags d = { 0 };
                struct rules_set *set = NULL;
                double t;
                int r;

                t0 = now_ms();
                r = rules_parse(files.src, files.n, NULL, &d, &set);
                t = now_ms() - t0;
                if (r < 0) {
                        fprintf(stderr, "bench-rules-parse: %s does not load (%zu errors)\n", dir,
                                d.n_errors);
                        return 1;
                }
                n_reminders = set->n_reminders;
                n_texts = 0;
                for (size_t k = 0; k < set->n_reminders; k++)
                        n_texts += set->reminders[k].text.n;
                rules_free(set);
                rules_diags_free(&d);
                total += t;
                if (t < best)
                        best = t;
        }
        printf("rules parse: sample programme (%zu files, %zu reminders, %zu reminder texts): "
               "read %.2f ms, parse+check %.2f ms mean, %.2f ms best over %d rounds "
               "(target < %.0f ms: %s)\n",
               files.n, n_reminders, n_texts, read_ms, total / ROUNDS, best, ROUNDS, TARGET_MS,
               total / ROUNDS < TARGET_MS ? "met" : "MISSED");
        {
                size_t n = 0;
                double t = time_big(&files, &n);

                printf("rules parse: large programme (%zu reminders): parse+check %.1f ms\n", n, t);
        }
        rules_files_free(&files);
        return 0;
}
