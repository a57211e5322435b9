/* The rules scheduler at scale: 100,000 contacts and 40 reminder rules, the daemon's loop
 * without the store: the next-due index (rules/schedule), one engine tick per due contact,
 * settled keys and recent sends kept per contact in memory as compactly as the store's
 * indexes would answer them. The clock runs minute by minute over 9 days of the programme.
 * Prints the cost of one contact's tick, each minute's tick (worst and mean), the 09:00
 * burst, resident memory; times are the thread's CPU time. Targets (issue 5): a tick
 * <= 10 ms, <= 64 MB resident. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rules/engine.h"
#include "rules/schedule.h"
#include "rules/tz.h"

#define CONTACTS  100000
#define RULES     40
#define RING      32    /* settled keys remembered per contact: the horizon's worth */
#define RECENT    8     /* sends per contact remembered for the caps */
#define BATCH_MAX 256   /* contacts per timer tick: the daemon's slice (see docs/engine.md) */
#define START_DAY 20300 /* 2025-07-31 */

struct contact {
        struct rules_state st;
        uint32_t ring[RING]; /* rule << 16 | k, + 1; 0 = empty */
        uint8_t ring_next;
        uint8_t n_recent;
        int64_t recent[RECENT];
        uint16_t edd; /* index into edd strings */
        uint8_t clinic;
};

static struct contact *contacts;
static char edd_text[400][11];
static const char *const clinic_ids[] = { "c1", "c2" };

static struct rules_field fields[RULES_FIELD_CUSTOM];
static struct rules_reminder reminders[RULES];
static struct rules_text texts[RULES], ctl_text = { .lang = "es", .text = "Semana {week}." };
static struct rules_variant ctl_variant;
static char names[RULES][16];
static struct rules_track tracks[2];
static struct rules_clinic clinics[2];
static struct rules_arm arms[2] = { { .name = "treatment", .weight = 1 },
                                    { .name = "control", .weight = 1 } };
static const char *const langs[] = { "es" };
static struct rules_set set;

static void build_set(void)
{
        static const char *const fnames[RULES_FIELD_CUSTOM] = {
                "study_id", "phone", "language", "clinic",   "arm",         "stratum",
                "name",     "edd",   "birth",    "enrolled", "appointment", "lmp",
        };
        for (int i = 0; i < RULES_FIELD_CUSTOM; i++)
                fields[i] = (struct rules_field){ .name = fnames[i],
                                                  .max_length = 20,
                                                  .type = i >= RULES_F_EDD ? RULES_FIELD_DATE
                                                                           : RULES_FIELD_TEXT };
        tracks[0] = (struct rules_track){ .name = "embarazo",
                                          .anchor_field = RULES_F_EDD,
                                          .zero_offset_days = -280,
                                          .start = true,
                                          .end_day = 294,
                                          .next_track = 1 };
        tracks[1] = (struct rules_track){ .name = "bebe",
                                          .anchor_field = RULES_F_BIRTH,
                                          .end_day = 42,
                                          .next_track = RULES_NONE };
        clinics[0] = (struct rules_clinic){ .id = "c1", .name = "Tlalpan" };
        clinics[1] = (struct rules_clinic){ .id = "c2", .name = "Tijuana" };
        ctl_variant =
                (struct rules_variant){ .name = "control", .arms = 2, .text = { &ctl_text, 1 } };
        /* 40 series: rule i weekly over weeks 4 + i*0.9 .. +6, a window starting at one of
         * five hours, every second one for treatment only (the control's omission logged). */
        for (int i = 0; i < RULES; i++) {
                snprintf(names[i], sizeof(names[i]), "r%02d", i);
                texts[i] = (struct rules_text){ .lang = "es",
                                                .text = "Hola {name}, semana {week}: consejo." };
                reminders[i] = (struct rules_reminder){
                        .name = names[i],
                        .track = 0,
                        .anchor_kind = RULES_ANCHOR_TRACK,
                        .anchor = 0,
                        .repeat = true,
                        .from_days = 28 + i * 6 + i % 7,
                        .to_days = 28 + i * 6 + i % 7 + 42,
                        .every_days = 7,
                        .window_start = (8 + i % 5 * 2) * 60,
                        .window_end = 20 * 60,
                        .days = 0x7f,
                        .slot_field = RULES_NONE,
                        .arms = i % 2 ? 1 : 3,
                        .catch_up = RULES_CATCH_UP_SKIP,
                        .during_quiz = RULES_DURING_QUIZ_WAIT,
                        .grace_minutes = 120,
                        .quiz = RULES_NONE,
                        .text = { &texts[i], 1 },
                        .variants = i % 4 == 0 ? &ctl_variant : NULL,
                        .n_variants = i % 4 == 0,
                };
        }
        set = (struct rules_set){
                .settings = { .timezone = "America/Mexico_City",
                              .languages = { langs, 1 },
                              .default_language = "es",
                              .quiet_start = 21 * 60,
                              .quiet_end = 8 * 60,
                              .max_per_day = 2,
                              .max_per_week = 6,
                              .grace_minutes = 120 },
                .fields = fields,
                .n_fields = RULES_FIELD_CUSTOM,
                .clinics = clinics,
                .n_clinics = 2,
                .trial = { .present = true, .name = "prospera", .arms = arms, .n_arms = 2 },
                .tracks = tracks,
                .n_tracks = 2,
                .reminders = reminders,
                .n_reminders = RULES,
        };
}

static bool settled(void *userdata, const char *key)
{
        struct contact *c = userdata;
        int rule = (key[1] - '0') * 10 + (key[2] - '0');
        uint32_t v = ((uint32_t)rule << 16 | (uint32_t)atoi(key + 4)) + 1;

        for (int i = 0; i < RING; i++)
                if (c->ring[i] == v)
                        return true;
        return false;
}

static void remember(struct contact *c, const char *key)
{
        int rule = (key[1] - '0') * 10 + (key[2] - '0');

        c->ring[c->ring_next] = ((uint32_t)rule << 16 | (uint32_t)atoi(key + 4)) + 1;
        c->ring_next = (uint8_t)((c->ring_next + 1) % RING);
}

static uint64_t n_sent, n_suppressed;

static void run_one(const struct rules_engine_env *env, struct rules_schedule *s, int64_t id,
                    int64_t now, struct rules_result *res)
{
        struct contact *c = &contacts[id];
        const char *values[RULES_FIELD_CUSTOM] = { 0 };
        struct rules_contact rc;

        values[RULES_F_LANGUAGE] = "es";
        values[RULES_F_NAME] = "Ana";
        values[RULES_F_CLINIC] = clinic_ids[c->clinic];
        values[RULES_F_EDD] = edd_text[c->edd];
        rc = (struct rules_contact){ .id = id,
                                     .values = values,
                                     .state = c->st,
                                     .recent = c->recent,
                                     .n_recent = c->n_recent,
                                     .settled = settled,
                                     .settled_userdata = c };
        if (rules_engine_tick(env, &rc, now, res) < 0)
                abort();
        for (size_t i = 0; i < res->n_actions; i++) {
                const struct rules_action *a = &res->actions[i];

                if (a->kind == RULES_ACT_REMINDER || a->kind == RULES_ACT_SUPPRESSED)
                        remember(c, a->key);
                if (a->kind == RULES_ACT_REMINDER) {
                        n_sent++;
                        memmove(c->recent, c->recent + (c->n_recent == RECENT),
                                (size_t)(c->n_recent - (c->n_recent == RECENT)) * sizeof(int64_t));
                        c->n_recent -= c->n_recent == RECENT;
                        c->recent[c->n_recent++] = now;
                } else if (a->kind == RULES_ACT_SUPPRESSED)
                        n_suppressed++;
        }
        c->st = res->state;
        if (rules_schedule_set(s, id, res->next_due <= now ? now + 60 : res->next_due) < 0)
                abort();
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double now_s(void)
{
        struct timespec ts;

        /* CPU time of this thread: on a shared box, wall time measures the neighbours. */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct rules_tz *zone(const char *name)
{
        static uint8_t buf[RULES_TZ_FILE_MAX];
        char path[128];
        struct rules_tz *tz = NULL;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        f = fopen(path, "rb");
        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        return rules_tz_parse(buf, n, &tz) < 0 ? NULL : tz;
}

int main(void)
{
        struct rules_tz *tz[2] = { zone("America/Mexico_City"), zone("America/Tijuana") };
        const struct rules_tz *ctz[2] = { tz[0], tz[1] };
        struct rules_engine_env env = { .set = &set, .clinic_tz = ctz, .default_tz = tz[0] };
        struct rules_schedule *s = rules_schedule_new();
        struct rules_result *res = malloc(sizeof(*res));
        int64_t t0 = (int64_t)START_DAY * 86400 + 6 * 3600, id, due;
        double t, worst = 0, total = 0, burst = 0, worst_batch = 0;
        unsigned ticks = 0, most = 0, contact_ticks = 0;
        struct rusage ru;
        static double batch[9 * 1440 * 4];
        size_t n_batch = 0;

        if (!tz[0] || !tz[1] || !s || !res)
                return 1;
        build_set();
        for (int i = 0; i < 400; i++)
                rules_date_format(START_DAY - 20 + i * 280 / 400 + 100, edd_text[i]);
        contacts = calloc(CONTACTS, sizeof(*contacts));
        /* Enrolment: everyone in the pregnancy track, enrolled 2 weeks ago and settled since
         * (the steady state, not the first catch-up pass). */
        for (int64_t i = 0; i < CONTACTS; i++) {
                struct contact *c = &contacts[i];
                const char *values[RULES_FIELD_CUSTOM] = { 0 };

                c->edd = (uint16_t)(i * 7919 % 400);
                c->clinic = (uint8_t)(i % 10 == 0);
                values[RULES_F_EDD] = edd_text[c->edd];
                if (rules_engine_enrol(&env, values, (int)(i % 2), t0 - 14 * 86400, &c->st) < 0)
                        return 1;
                c->st.settled_until = t0 - 60;
                rules_schedule_set(s, i, t0);
        }
        t = now_s();
        /* The first pass settles whatever fell due in the last minute for everyone. */
        while (rules_schedule_pop_due(s, t0, &id, &due) == 0)
                run_one(&env, s, id, t0, res);
        printf("first pass over %d contacts: %.1f ms (%.2f us per contact)\n", CONTACTS,
               (now_s() - t) * 1e3, (now_s() - t) * 1e6 / CONTACTS);
        /* Nine days, one tick a minute, each tick at most BATCH_MAX contacts; the rest wait
         * for the next loop iteration (also timed as ticks). */
        for (int64_t now = t0 + 60; now < t0 + 9 * 86400; now += 60) {
                unsigned n = 0;
                double minute = 0;

                for (;;) {
                        unsigned b = 0;
                        double bt;

                        t = now_s();
                        while (b < BATCH_MAX && rules_schedule_pop_due(s, now, &id, &due) == 0) {
                                run_one(&env, s, id, now, res);
                                b++;
                        }
                        bt = now_s() - t;
                        ticks++;
                        total += bt;
                        minute += bt;
                        if (bt > worst_batch)
                                worst_batch = bt;
                        if (b > 0 && n_batch < sizeof(batch) / sizeof(batch[0]))
                                batch[n_batch++] = bt;
                        n += b;
                        if (b < BATCH_MAX)
                                break;
                }
                contact_ticks += n;
                if (minute > worst)
                        worst = minute;
                if (n > most) {
                        most = n;
                        burst = minute;
                }
        }
        getrusage(RUSAGE_SELF, &ru);
        printf("%u contact ticks in %u timer ticks over 9 days; %llu sent, %llu suppressed\n",
               contact_ticks, ticks, (unsigned long long)n_sent, (unsigned long long)n_suppressed);
        printf("per contact tick: %.2f us\n", total * 1e6 / (contact_ticks ? contact_ticks : 1));
        printf("timer tick (<= %d contacts): worst %.2f ms, mean %.3f ms (target <= 10 ms)\n",
               BATCH_MAX, worst_batch * 1e3, total * 1e3 / ticks);
        qsort(batch, n_batch, sizeof(batch[0]), cmp_double);
        if (n_batch)
                printf("ticks with work: %zu, median %.3f ms, p99 %.2f ms\n", n_batch,
                       batch[n_batch / 2] * 1e3, batch[n_batch * 99 / 100] * 1e3);
        printf("busiest minute: %u contacts due, %.1f ms in all (%s)\n", most, burst * 1e3,
               "sliced into timer ticks");
        printf("schedule index: %.1f MB; max resident %.1f MB (target <= 64 MB)\n",
               rules_schedule_memory(s) / 1048576.0, ru.ru_maxrss / 1024.0);
        rules_schedule_free(s);
        free(res);
        free(contacts);
        rules_tz_free(tz[0]);
        rules_tz_free(tz[1]);
        return 0;
}
