/* The rules runner with its store: the sample programme (etc/rules.d) over CONTACTS
 * beneficiaries in a real SQLite store (synchronous = FULL), as puented runs it. Enrols them
 * all (arm, track, first tick), then drives a week the way the daemon's timer does: it wakes at
 * the next due time or after RULES_RUNNER_TIMER_CAP_S, whichever comes first, and runs a slice.
 * Prints the CPU per contact enrolled, per contact run when due, per wake-up with nothing due,
 * and the messages queued. bench-rules-tick measures the engine without the store.
 * BENCH_CONTACTS sets the number (default 5,000: the pilot's size). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/rules-runner.h"
#include "daemon/store.h"

#define CONTACTS_DEFAULT 5000
#define T0               1767614400 /* 2026-01-05 12:00 UTC: 06:00 in Mexico City */
#define DAYS             7
#define DAY_S            86400

static double clock_s(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
        return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static double wall_s(void)
{
        return clock_s(CLOCK_MONOTONIC);
}

/* One firing of the runner, as the daemon's timer makes it; *longest keeps the longest
 * (what the event loop waits for). */
static int run_once(struct rules_runner *r, int64_t now, double *longest)
{
        double w0 = wall_s();
        int n = rules_runner_run(r, now, RULES_RUNNER_SLICE);
        double w = wall_s() - w0;

        if (w > *longest)
                *longest = w;
        return n;
}

static void die(const char *what, const char *why)
{
        fprintf(stderr, "bench-rules-runner: %s: %s\n", what, why);
        exit(1);
}

int main(void)
{
        char dir[] = "/tmp/puente-bench-runner-XXXXXX", db[96], key[96], rules[512];
        char err[STORE_ERRMSG_MAX], study[24], phone[24], fields[96], cmd[160];
        const char *src = getenv("PUENTE_SRC"), *n_env = getenv("BENCH_CONTACTS");
        unsigned contacts = n_env ? (unsigned)strtoul(n_env, NULL, 10) : CONTACTS_DEFAULT;
        struct store *s = NULL;
        struct rules_runner *r = NULL;
        struct store_status st;
        FILE *f;
        int64_t id;

        if (contacts == 0)
                contacts = CONTACTS_DEFAULT;
        if (!mkdtemp(dir))
                die("mkdtemp", strerror(errno));
        snprintf(db, sizeof(db), "%s/puente.db", dir);
        snprintf(key, sizeof(key), "%s/trial.key", dir);
        snprintf(rules, sizeof(rules), "%s/etc/rules.d", src ? src : ".");
        if (!(f = fopen(key, "w")))
                die(key, strerror(errno));
        fputs("a bench's trial key, 32 bytes ok.", f);
        fclose(f);
        if (store_open(db, NULL, &s, err) < 0)
                die(db, err);
        /* Due dates spread over the nine months ahead, two clinics, in one transaction. */
        if (store_batch_begin(s) < 0)
                die("batch", store_errmsg(s));
        for (unsigned i = 0; i < contacts; i++) {
                unsigned day = 10 + i % 270;
                snprintf(study, sizeof(study), "B%06u", i);
                snprintf(phone, sizeof(phone), "+52155%08u", 10000000 + i);
                snprintf(fields, sizeof(fields), "{\"edd\":\"2026-%02u-%02u\",\"name\":\"Ana\"}",
                         1 + (day / 28) % 12, 1 + day % 28);
                if (store_contact_upsert(s, study, phone, "es", i % 2 ? "CS-TLALPAN" : "CS-MERIDA",
                                         fields, T0 - DAY_S, &id) < 0)
                        die("contact", store_errmsg(s));
        }
        if (store_batch_commit(s) < 0)
                die("commit", store_errmsg(s));

        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = key };
        if (rules_runner_new(NULL, s, NULL, &o, &r) < 0 || !r)
                die("rules", "cannot start the runner");
        if (!strstr(rules_runner_status(r), "rules "))
                die("rules", rules_runner_status(r));

        /* Enrolment: every run takes up to a slice, as the daemon's timer does. */
        double c0 = cpu_s(), w0 = wall_s(), longest = 0;
        uint64_t k0 = store_commits(s);
        unsigned enrol_runs = 0, enrolled = 0;
        int n;
        while ((n = run_once(r, T0, &longest)) > 0 && enrol_runs < 100000) {
                enrolled += (unsigned)n;
                enrol_runs++;
        }
        if (n < 0)
                die("enrol", strerror(-n));
        double enrol_cpu = cpu_s() - c0, enrol_wall = wall_s() - w0;
        uint64_t enrol_commits = store_commits(s) - k0;

        /* A week: wake at the next due time or after the timer's cap. */
        unsigned wakes = 0, idle_wakes = 0, ran = 0;
        double idle_cpu = 0;
        int64_t t = T0 + 1;
        c0 = cpu_s();
        w0 = wall_s();
        k0 = store_commits(s);
        while (t < T0 + DAYS * DAY_S) {
                double u0 = cpu_s();
                n = run_once(r, t, &longest);
                if (n < 0)
                        die("run", strerror(-n));
                wakes++;
                ran += (unsigned)n;
                if (n == 0) {
                        idle_wakes++;
                        idle_cpu += cpu_s() - u0;
                }
                int64_t next = rules_runner_next_due(r);
                if (n == RULES_RUNNER_SLICE)
                        continue; /* more due now: at once */
                int64_t cap = t + RULES_RUNNER_TIMER_CAP_S;
                t = next > t && next < cap ? next : next <= t ? t + 1 : cap;
        }
        double week_cpu = cpu_s() - c0, week_wall = wall_s() - w0;
        uint64_t week_commits = store_commits(s) - k0;
        if (store_status_open(s, &st) < 0)
                die("status", store_errmsg(s));

        printf("rules runner with its store, %u contacts, the sample programme\n", contacts);
        printf("  enrolment: %u contacts run in %u runs, %.3f s CPU, %.3f s wall, %.3f ms CPU"
               " per contact, %.3f commits per contact\n",
               enrolled, enrol_runs, enrol_cpu, enrol_wall,
               enrol_cpu * 1e3 / (enrolled ? enrolled : 1),
               (double)enrol_commits / (enrolled ? enrolled : 1));
        printf("  a week: %u wake-ups (%u with nothing due), %u contacts run, %u parts queued,"
               " %.3f s CPU\n",
               wakes, idle_wakes, ran, st.parts[STORE_PART_QUEUED], week_cpu);
        printf("    per contact run %.3f ms, per wake-up with nothing due %.3f ms; %.3f s wall,"
               " %.3f commits per contact run\n",
               (week_cpu - idle_cpu) * 1e3 / (ran ? ran : 1),
               idle_cpu * 1e3 / (idle_wakes ? idle_wakes : 1), week_wall,
               (double)week_commits / (ran ? ran : 1));
        /* The loop waits for a run: the longest is what a modem or a signal may wait. */
        printf("  longest run (the event loop blocked): %.1f ms\n", longest * 1e3);
        rules_runner_free(r);
        store_close(s);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
}
