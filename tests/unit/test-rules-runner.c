/* test-rules-runner: puented's rules runner on a real store with the sample programme
 * (etc/rules.d): enrolment and arm assignment logged, the messages queued for a contact are
 * exactly the timeline rules/drive (what `rules simulate` prints) gives for it, opt-out,
 * a restart rebuilds the index without sending twice, a broken reload keeps the running set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/rules-files.h"
#include "daemon/rules-runner.h"
#include "daemon/store-internal.h" /* the connection: a commit made to fail */
#include "daemon/store.h"
#include "tests/unit/test-runner-fixture.h"
#include "rules/arms.h"
#include "rules/drive.h"
#include "rules/parse.h"
#include "rules/tz.h"

static int setup(void **state)
{
        (void)state;
        return runner_setup("runner");
}

static int teardown(void **state)
{
        (void)state;
        return runner_teardown();
}

static struct rules_set *load_set(void)
{
        struct rules_files files = { 0 };
        struct rules_diags diags = { 0 };
        struct rules_set *set = NULL;

        assert_int_equal(rules_files_read(rules, &files), 0);
        assert_int_equal(rules_parse(files.src, files.n, NULL, &diags, &set), 0);
        rules_diags_free(&diags);
        rules_files_free(&files);
        return set;
}

static struct rules_tz *zone(const char *name)
{
        static uint8_t buf[RULES_TZ_FILE_MAX];
        char path[256];
        struct rules_tz *tz = NULL;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(rules_tz_parse(buf, n, &tz), 0);
        return tz;
}

/* What the drive says contact S1 receives between from and to (times of the texts). */
struct expect {
        int64_t t[256];
        size_t n;
};

static void on_drive(void *userdata, int64_t now, const struct rules_result *res)
{
        struct expect *e = userdata;

        for (size_t i = 0; i < res->n_actions; i++)
                if (res->actions[i].text &&
                    (res->actions[i].kind == RULES_ACT_REMINDER ||
                     res->actions[i].kind == RULES_ACT_REPLY) &&
                    e->n < 256)
                        e->t[e->n++] = now;
}

/* The texts the drive sends to the contact, in order (struct texts of the quiz test). */
static void on_drive_text(void *userdata, int64_t now, const struct rules_result *res)
{
        struct {
                char v[64][400];
                size_t n;
        } *t = userdata;

        (void)now;
        for (size_t i = 0; i < res->n_actions; i++)
                if (res->actions[i].text &&
                    (res->actions[i].kind == RULES_ACT_REMINDER ||
                     res->actions[i].kind == RULES_ACT_REPLY) &&
                    t->n < 64)
                        snprintf(t->v[t->n++], sizeof(t->v[0]), "%s", res->actions[i].text);
}

static void expected(int64_t from, int64_t to, struct expect *e)
{
        struct rules_set *set = load_set();
        struct rules_tz *mx = zone("America/Mexico_City");
        const struct rules_tz **zones = calloc(set->n_clinics, sizeof(*zones));
        struct rules_engine_env env = { .set = set, .clinic_tz = zones, .default_tz = mx };
        const char **values = calloc(set->n_fields, sizeof(*values));
        char stratum[RULES_ARMS_STRATUM_MAX];
        struct rules_drive *d;
        int arm;

        for (size_t i = 0; i < set->n_clinics; i++)
                zones[i] = mx; /* CS-TLALPAN: Mexico City */
        values[RULES_F_STUDY_ID] = "S1";
        values[RULES_F_PHONE] = "+525512345678";
        values[RULES_F_LANGUAGE] = "es";
        values[RULES_F_CLINIC] = "CS-TLALPAN";
        values[RULES_F_EDD] = "2026-05-01";
        values[RULES_F_NAME] = "Ana";
        assert_int_equal(rules_arms_stratum(set, values, stratum, sizeof(stratum)), 0);
        assert_int_equal(
                rules_arms_assign(set, (const uint8_t *)key, strlen(key), stratum, "S1", &arm), 0);
        assert_int_equal(rules_drive_new(&env, values, arm, from, &d), 0);
        assert_true(rules_drive_run(d, to, NULL, 0, on_drive, e) >= 0);
        rules_drive_free(d);
        free(values);
        free(zones);
        rules_tz_free(mx);
        rules_free(set);
}

static struct store *open_store(void)
{
        struct store *s = NULL;
        char err[STORE_ERRMSG_MAX];

        assert_int_equal(store_open(db, NULL, &s, err), 0);
        return s;
}

static unsigned n_events[2];

static int events_cb(const struct store_event_row *ev, void *userdata)
{
        (void)userdata;
        n_events[0] += strcmp(ev->type, "rules.enrolled") == 0;
        n_events[1] += strcmp(ev->type, "rules.arm_assigned") == 0 &&
                       strstr(ev->json, "hmac_sha256") && strstr(ev->json, "\"rule_set\":\"");
        return 0;
}

static int withdrawn;

static int withdrawn_cb(const struct store_event_row *ev, void *userdata)
{
        int n = 0;

        (void)userdata;
        if (strcmp(ev->type, "rules.withdrawn") == 0 &&
            sscanf(ev->json, "{\"messages\":%d", &n) == 1)
                withdrawn += n;
        return 0;
}

static void run_until(struct rules_runner *r, int64_t from, int64_t to)
{
        int64_t t = from;

        for (int i = 0; i < 100000 && t < to; i++) {
                int64_t next;

                assert_true(rules_runner_run(r, t, RULES_RUNNER_SLICE) >= 0);
                next = rules_runner_next_due(r);
                t = next > t ? next : t + 1;
        }
}

static void test_runner_matches_drive(void **state)
{
        struct store *s = open_store();
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        struct rules_tz *mx = zone("America/Mexico_City");
        int64_t from = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 1) * 86400);
        int64_t to = rules_tz_to_utc(mx, rules_days_from_civil(2026, 3, 1) * 86400);
        int64_t s1, s2, s3, times[256];
        size_t n = 0;
        struct expect e = { .n = 0 };
        char why[256];
        (void)state;
        assert_int_equal(store_contact_upsert(s, "S1", "+525512345678", "es", "CS-TLALPAN",
                                              "{\"edd\":\"2026-05-01\",\"name\":\"Ana\"}", from,
                                              &s1),
                         0);
        assert_int_equal(
                store_contact_upsert(s, "S2", "+525512345679", "es", "CS-TLALPAN", "{}", from, &s2),
                0);
        assert_int_equal(store_contact_upsert(s, "S3", "+525512345670", "es", "CS-MERIDA",
                                              "{\"edd\":\"2026-07-01\"}", from, &s3),
                         0);
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        assert_non_null(strstr(rules_runner_status(r), "rules "));
        run_until(r, from, to);
        /* Enrolled: S1 and S3 (S2 has no due date), each with its arm, logged. */
        n_events[0] = n_events[1] = 0;
        assert_true(store_events_after(s, 0, 100000, events_cb, NULL) >= 0);
        assert_int_equal(n_events[0], 2);
        assert_int_equal(n_events[1], 2);
        /* S1's queued messages: the drive's timeline, to the second. */
        expected(from, to, &e);
        assert_true(e.n > 5);
        assert_int_equal(store_rules_recent_sends(s, s1, 0, times, 256, &n), 0);
        assert_int_equal(n, e.n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(times[n - 1 - i], e.t[i]);
        /* A restart: the index comes back from the store; nothing is sent twice. */
        rules_runner_free(r);
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        assert_true(rules_runner_next_due(r) >= to - 86400);
        assert_true(rules_runner_run(r, to - 1, RULES_RUNNER_SLICE) >= 0);
        assert_int_equal(store_rules_recent_sends(s, s1, 0, times, 256, &n), 0);
        assert_int_equal(n, e.n);
        /* A new participant writes first: enrolled from the keyword's date; a stranger's
         * "hola" is not ours. */
        {
                int64_t nid = 0;
                struct store_contact nc;

                assert_int_equal(rules_runner_inbound_unknown(r, "+525599999999", "hola", to, &nid),
                                 -ENOENT);
                assert_int_equal(rules_runner_inbound_unknown(r, "+525599999999", "Alta 15/06/2026",
                                                              to, &nid),
                                 0);
                assert_int_equal(store_contact_get(s, nid, &nc), 0);
                assert_string_equal(nc.fields, "{\"edd\":\"2026-06-15\"}");
                assert_int_equal(strlen(nc.study_id), 16);
                assert_int_equal(store_rules_state_get(s, nid, &(struct store_rules_state){ 0 }),
                                 0);
                n_events[0] = n_events[1] = 0;
                assert_true(store_events_after(s, 0, 100000, events_cb, NULL) >= 0);
                assert_int_equal(n_events[0], 3); /* S1, S3 and the newcomer */
        }
        /* The clinic changed S3's fields (puentectl contacts set touches it and wakes us):
         * after a kick it is due at once. */
        assert_true(rules_runner_next_due(r) > to);
        assert_int_equal(store_rules_touch(s, s3, to), 0);
        assert_int_equal(rules_runner_kick(r), 0);
        assert_int_equal(rules_runner_next_due(r), to);
        /* Opt-out: no modem ran here, so every earlier message still waits in the queue:
         * all withdrawn (logged); the opt-out's reply goes, then nothing more. */
        assert_int_equal(rules_runner_inbound(r, s1, "ALTO", to), 0);
        run_until(r, to, to + 30 * 86400);
        assert_int_equal(store_rules_recent_sends(s, s1, 0, times, 256, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(times[0], to);
        withdrawn = 0;
        assert_true(store_events_after(s, 0, 100000, withdrawn_cb, NULL) >= 0);
        assert_int_equal(withdrawn, (int)e.n);
        /* A broken reload keeps the running set. */
        {
                struct rules_runner_opts bad = { .rules_dir = "/nonexistent",
                                                 .secret_file = secret };
                struct rules_runner *r2 = NULL;

                assert_int_equal(rules_runner_new(NULL, s, NULL, &bad, &r2), 0);
                assert_non_null(strstr(rules_runner_status(r2), "no rules running"));
                assert_int_equal(rules_runner_run(r2, to, 10), 0);
                rules_runner_free(r2);
        }
        assert_int_equal(rules_runner_reload(r, why, sizeof(why)), 0);
        assert_non_null(strstr(rules_runner_status(r), "contacts scheduled, next due 20"));
        rules_runner_set_clock_trusted(r, false);
        assert_non_null(strstr(rules_runner_status(r), "held: the clock is not trusted"));
        assert_int_equal(rules_runner_run(r, to + 40 * 86400, 10), 0);
        rules_runner_free(r);
        rules_tz_free(mx);
        store_close(s);
}

/* Queued messages, oldest first: recipient and text of each message's first part. */
struct queued {
        char to[8][STORE_NUMBER_MAX];
        char text[64][400];
        size_t n;
        const char *only; /* recipient to keep, NULL: all */
};

static int queued_cb(const struct store_part *p, void *userdata)
{
        struct queued *q = userdata;

        if (p->seq != 1 || q->n >= 64 || (q->only && strcmp(p->recipient, q->only) != 0))
                return 0;
        if (q->n < 8)
                snprintf(q->to[q->n], sizeof(q->to[0]), "%s", p->recipient);
        snprintf(q->text[q->n++], sizeof(q->text[0]), "%s", p->text);
        return 0;
}

static void list_queued(struct store *s, struct queued *q, const char *only)
{
        q->n = 0;
        q->only = only;
        assert_true(store_parts_by_state(s, STORE_PART_QUEUED, 1000, queued_cb, q) >= 0);
}

/* A participant who enrols by SMS: the name she writes after the date is hers (ALTA
 * 15/06/2026 Maria Lopez), the clinic is settings' enrol_clinic when the box names one
 * (recorded with the contact, so her alert goes to that clinic's staff and shows its
 * name); without it the welcome says "amiga" and the staff text "sin clinica". */
static void test_runner_sms_enrolee(void **state)
{
        static const struct {
                bool enrol_clinic;
                const char *alta, *clinic, *welcome, *staff_to;
                size_t n_staff;
                const char *staff_tail;
        } cases[] = {
                { true, "ALTA 15/06/2026 Maria Lopez", "CS-MERIDA",
                  "Bienvenida a Puente, Maria Lopez. Recibira", "+529991234501", 1,
                  "(+525588888801), CS Merida Centro. Contactar hoy." },
                { false, "alta 15/06/2026", "", "Bienvenida a Puente, amiga. Recibira",
                  "+525512345601", 5, "(+525588888801), sin clinica. Contactar hoy." },
        };
        char one[256], cmd[4096], why[256];
        (void)state;
        snprintf(one, sizeof(one), "%s/rules-one", dir);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p '%s' && cp '%s'/*.conf '%s' && sed -i "
                 "'s/^    # enrol_clinic = CS-TLALPAN$/    enrol_clinic = CS-MERIDA/' "
                 "'%s/00-ajustes.conf' && grep -q '^    enrol_clinic = CS-MERIDA$' "
                 "'%s/00-ajustes.conf'",
                 one, rules, one, one, one);
        assert_int_equal(system(cmd), 0);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct store *s = NULL;
                char path[256], err[STORE_ERRMSG_MAX], staff[256];
                struct rules_runner_opts o = { .rules_dir = cases[i].enrol_clinic ? one : rules,
                                               .secret_file = secret };
                struct rules_runner *r = NULL;
                int64_t t = 1780000000, id = 0; /* 2026-05-28 */
                struct store_contact nc;
                static struct queued q;

                snprintf(path, sizeof(path), "%s/sms-%zu.db", dir, i);
                assert_int_equal(store_open(path, NULL, &s, err), 0);
                assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
                assert_int_equal(rules_runner_reload(r, why, sizeof(why)), 0);
                assert_int_equal(
                        rules_runner_inbound_unknown(r, "+525588888801", cases[i].alta, t, &id), 0);
                assert_int_equal(store_contact_get(s, id, &nc), 0);
                assert_string_equal(nc.clinic, cases[i].clinic);
                assert_true((strstr(nc.fields, "\"name\":\"Maria Lopez\"") != NULL) ==
                            cases[i].enrol_clinic);
                list_queued(s, &q, "+525588888801");
                assert_true(q.n >= 1);
                if (strncmp(q.text[0], cases[i].welcome, strlen(cases[i].welcome)) != 0)
                        fail_msg("case %zu: welcome '%s'", i, q.text[0]);
                /* a warning sign: the staff text names her clinic, or says she has none */
                assert_int_equal(rules_runner_inbound(r, id, "SANGRADO", t + 60), 0);
                list_queued(s, &q, NULL);
                snprintf(staff, sizeof(staff), "Puente: SANGRADO reportado por %s %s", nc.study_id,
                         cases[i].staff_tail);
                {
                        size_t n_staff = 0;

                        for (size_t k = 0; k < q.n; k++)
                                if (strncmp(q.text[k], "Puente: SANGRADO", 16) == 0) {
                                        if (n_staff++ == 0 && k < 8)
                                                assert_string_equal(q.to[k], cases[i].staff_to);
                                        assert_string_equal(q.text[k], staff);
                                }
                        assert_int_equal(n_staff, cases[i].n_staff);
                }
                rules_runner_free(r);
                store_close(s);
        }
}

/* Item 4 of the rules issue: a treatment contact who answers the savings quiz gets from
 * puented exactly what `rules simulate` (rules/drive) shows, text for text and to the
 * second: quiz_ahorro is anchored on the enrolment date, which puented never wrote as a
 * field (so the quiz never started there, while the simulation set it). */
static void test_runner_quiz_matches_drive(void **state)
{
        struct rules_set *set = load_set();
        struct rules_tz *mx = zone("America/Mexico_City");
        const struct rules_tz **zones = calloc(set->n_clinics, sizeof(struct rules_tz *));
        struct rules_engine_env env = { .set = set, .clinic_tz = zones, .default_tz = mx };
        const char **values = calloc(set->n_fields, sizeof(*values));
        char stratum[RULES_ARMS_STRATUM_MAX], id[16] = "", path[256], err[STORE_ERRMSG_MAX];
        int64_t from = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 1) * 86400);
        int64_t to = rules_tz_to_utc(mx, rules_days_from_civil(2026, 3, 1) * 86400);
        int64_t at[3], times[256], cid = 0;
        static const char *const answers[] = { "2", "Si", "tres" };
        struct rules_drive_reply replies[3];
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        struct rules_drive *d = NULL;
        struct store *s = NULL;
        static struct queued q;
        struct expect e = { .n = 0 };
        struct texts {
                char v[64][400];
                size_t n;
        } *want = calloc(1, sizeof(*want));
        size_t n = 0;
        int arm = -1;
        (void)state;
        for (size_t i = 0; i < set->n_clinics; i++)
                zones[i] = mx; /* CS-TLALPAN */
        values[RULES_F_PHONE] = "+525512340000";
        values[RULES_F_LANGUAGE] = "es";
        values[RULES_F_CLINIC] = "CS-TLALPAN";
        values[RULES_F_EDD] = "2026-06-01";
        /* a study id the trial puts in treatment (the arm with quizzes) */
        for (int k = 1; arm != 0 && k < 50; k++) {
                snprintf(id, sizeof(id), "Q%d", k);
                values[RULES_F_STUDY_ID] = id;
                assert_int_equal(rules_arms_stratum(set, values, stratum, sizeof(stratum)), 0);
                assert_int_equal(rules_arms_assign(set, (const uint8_t *)key, strlen(key), stratum,
                                                   id, &arm),
                                 0);
        }
        assert_int_equal(arm, 0);
        /* the quiz goes out Saturday 2026-01-17 17:00 (enrolled + 2 weeks, weekends) */
        at[0] = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 17) * 86400 + 17 * 3600 + 1800);
        at[1] = at[0] + 600;
        at[2] = at[1] + 600;
        for (size_t i = 0; i < 3; i++)
                replies[i] = (struct rules_drive_reply){ at[i], answers[i] };
        /* the drive: what rules simulate prints */
        assert_int_equal(rules_drive_new(&env, values, arm, from, &d), 0);
        assert_true(rules_drive_run(d, to, replies, 3, on_drive, &e) >= 0);
        rules_drive_free(d);
        {
                /* the same run again, for the texts */
                struct rules_drive *d2 = NULL;

                assert_int_equal(rules_drive_new(&env, values, arm, from, &d2), 0);
                assert_true(rules_drive_run(d2, to, replies, 3, on_drive_text, want) >= 0);
                rules_drive_free(d2);
        }
        /* puented: a store, the runner, the same replies at the same times */
        snprintf(path, sizeof(path), "%s/quiz.db", dir);
        assert_int_equal(store_open(path, NULL, &s, err), 0);
        assert_int_equal(store_contact_upsert(s, id, "+525512340000", "es", "CS-TLALPAN",
                                              "{\"edd\":\"2026-06-01\"}", from, &cid),
                         0);
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        run_until(r, from, at[0]);
        for (size_t i = 0; i < 3; i++) {
                run_until(r, at[i], at[i]); /* what was due before the reply */
                assert_int_equal(rules_runner_inbound(r, cid, answers[i], at[i]), 0);
        }
        run_until(r, at[2], to);
        list_queued(s, &q, "+525512340000");
        assert_int_equal(store_rules_recent_sends(s, cid, 0, times, 256, &n), 0);
        if (q.n != want->n)
                for (size_t i = 0; i < want->n || i < q.n; i++)
                        print_message("%zu: drive '%s'\n   runner '%s'\n", i,
                                      i < want->n ? want->v[i] : "", i < q.n ? q.text[i] : "");
        assert_int_equal(q.n, want->n);
        assert_int_equal(n, e.n);
        for (size_t i = 0; i < q.n; i++) {
                assert_string_equal(q.text[i], want->v[i]);
                assert_int_equal(times[n - 1 - i], e.t[i]);
        }
        /* the quiz really ran: its questions, feedback and score */
        {
                bool started = false;

                for (size_t i = 0; i < q.n; i++)
                        started |= strstr(q.text[i], "Acerto 1 de 1") != NULL;
                assert_true(started);
        }
        rules_runner_free(r);
        store_close(s);
        free(want);
        free(values);
        free(zones);
        rules_tz_free(mx);
        rules_free(set);
}

/* A trial's sealed list that is a directory: fopen() opens it and fread() fails (EISDIR).
 * It was taken as an empty list, so puented ran the rules and every arm assignment then
 * failed; now the set is not loaded, and the reload says why. */
static void test_runner_sealed_list_directory(void **state)
{
        static const char secret_line[] = "secret_key_file = \"/etc/puente/trial.key\"";
        char rdir[128], sealed[128], path[256], why[256];
        struct rules_files files = { 0 };
        struct store *s = open_store();
        struct rules_runner *r = NULL;
        bool replaced = false;

        (void)state;
        snprintf(rdir, sizeof(rdir), "%s/rules-sealed", dir);
        snprintf(sealed, sizeof(sealed), "%s/sealed.d", dir);
        assert_int_equal(mkdir(rdir, 0755), 0);
        assert_int_equal(mkdir(sealed, 0755), 0);
        assert_int_equal(rules_files_read(rules, &files), 0);
        for (size_t i = 0; i < files.n; i++) {
                const char *base = strrchr(files.src[i].name, '/');
                char *text = strndup(files.src[i].data, files.src[i].len);
                char *at = strstr(text, secret_line);
                FILE *f;

                snprintf(path, sizeof(path), "%s/%s", rdir, base ? base + 1 : files.src[i].name);
                f = fopen(path, "w");
                assert_non_null(f);
                if (at) {
                        fprintf(f, "%.*ssealed_list_file = \"%s\"%s", (int)(at - text), text,
                                sealed, at + strlen(secret_line));
                        replaced = true;
                } else {
                        fputs(text, f);
                }
                fclose(f);
                free(text);
        }
        rules_files_free(&files);
        assert_true(replaced);

        struct rules_runner_opts o = { .rules_dir = rdir };
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        assert_non_null(strstr(rules_runner_status(r), "no rules running"));
        assert_true(rules_runner_reload(r, why, sizeof(why)) < 0);
        assert_non_null(strstr(why, "sealed list unreadable"));
        rules_runner_free(r);
        store_close(s);
}

/* A store at dir/file with n contacts due on 2026-06-01 at CS-TLALPAN (study ids TAG0...,
 * phones +52558BLOCKnnnnn), created at t; their ids in ids[] when not NULL. path gets the
 * file's path (192 bytes). */
static struct store *store_with_contacts(char *path, const char *file, const char *tag,
                                         unsigned block, unsigned n, int64_t t, int64_t *ids)
{
        char study[32], phone[32], err[STORE_ERRMSG_MAX];
        struct store *s = NULL;
        int64_t id;

        snprintf(path, 192, "%s/%s", dir, file);
        assert_int_equal(store_open(path, NULL, &s, err), 0);
        for (unsigned i = 0; i < n; i++) {
                snprintf(study, sizeof(study), "%s%u", tag, i);
                snprintf(phone, sizeof(phone), "+52558%02u%05u", block, i);
                assert_int_equal(store_contact_upsert(s, study, phone, "es", "CS-TLALPAN",
                                                      "{\"edd\":\"2026-06-01\"}", t, &id),
                                 0);
                if (ids)
                        ids[i] = id;
        }
        return s;
}

/* Looking for contacts not yet enrolled walks every contact: it runs at start, after a kick
 * (puentectl changed contacts), a reload or the clock trusted, and then every ten minutes, not
 * at every run of a busy morning. SQLite's full-scan counter (store_scan_steps()) shows when. */
static void test_runner_enrol_look(void **state)
{
        char path[192];
        struct store *s;
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        struct rules_tz *mx = zone("America/Mexico_City");
        int64_t t = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 5) * 86400 + 6 * 3600);
        int64_t id, last = 0, ids[300];
        uint64_t steps;
        (void)state;

        s = store_with_contacts(path, "enrol.db", "E", 70, 300, t, ids);
        last = ids[299];
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        for (unsigned i = 0; i < 10; i++) /* 64 a run */
                assert_true(rules_runner_run(r, t, RULES_RUNNER_SLICE) >= 0);
        struct store_rules_state st;
        assert_int_equal(store_rules_state_get(s, last, &st), 0);

        steps = store_scan_steps(s);
        assert_true(rules_runner_run(r, t + 1, RULES_RUNNER_SLICE) >= 0);
        assert_true(rules_runner_run(r, t + 599, RULES_RUNNER_SLICE) >= 0);
        assert_int_equal(store_scan_steps(s), steps); /* all enrolled: no look */
        assert_true(rules_runner_run(r, t + 601, RULES_RUNNER_SLICE) >= 0);
        assert_true(store_scan_steps(s) > steps); /* the ten minutes' look */

        /* puentectl adds one and wakes the daemon: the kick makes the next run look */
        assert_int_equal(store_contact_upsert(s, "E-NEW", "+525587099999", "es", "CS-TLALPAN",
                                              "{\"edd\":\"2026-06-01\"}", t + 602, &id),
                         0);
        steps = store_scan_steps(s);
        assert_true(rules_runner_run(r, t + 602, RULES_RUNNER_SLICE) >= 0);
        assert_int_equal(store_scan_steps(s), steps);
        assert_int_equal(store_rules_state_get(s, id, &st), -ENOENT);
        assert_int_equal(rules_runner_kick(r), 0);
        assert_true(rules_runner_run(r, t + 603, RULES_RUNNER_SLICE) >= 0);
        assert_true(store_scan_steps(s) > steps);
        assert_int_equal(store_rules_state_get(s, id, &st), 0);

        /* a clock stepped back is a reason to look again */
        steps = store_scan_steps(s);
        assert_true(rules_runner_run(r, t - 3600, RULES_RUNNER_SLICE) >= 0);
        assert_true(store_scan_steps(s) > steps);
        rules_runner_free(r);
        store_close(s);
        rules_tz_free(mx);
}

static long long count(const char *path, const char *sql)
{
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        long long n = -1;

        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(h);
        return n;
}

static void exec_sql(const char *path, const char *sql)
{
        sqlite3 *h = NULL;

        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
}

/* Two months of one contact's programme on a store at path; with `broken`, every attempt to
 * settle a reminder fails (a trigger stands in for a full disk or a crash half way). */
static void two_months(const char *path, bool broken, int64_t from, int64_t to)
{
        char err[STORE_ERRMSG_MAX];
        struct store *s = NULL;
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        int64_t id;

        assert_int_equal(store_open(path, NULL, &s, err), 0);
        if (store_contact_get(s, 1, &(struct store_contact){ 0 }) == -ENOENT)
                assert_int_equal(store_contact_upsert(s, "A1", "+525512340001", "es", "CS-TLALPAN",
                                                      "{\"edd\":\"2026-05-01\"}", from, &id),
                                 0);
        if (broken)
                exec_sql(path, "CREATE TRIGGER broken BEFORE INSERT ON rules_settled"
                               " BEGIN SELECT RAISE(ABORT, 'injected'); END;");
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        if (broken) /* every hour: the failed run is tried again (the contact was put back) */
                for (int64_t t = from; t < to; t += 3600)
                        assert_int_equal(rules_runner_run(r, t, RULES_RUNNER_SLICE), 1);
        else
                run_until(r, from, to);
        rules_runner_free(r);
        store_close(s);
        if (broken)
                exec_sql(path, "DROP TRIGGER broken;");
}

/* A contact's run is one transaction: a failure half way (the reminder queued, its key not
 * yet settled) leaves nothing behind, so the retry queues each reminder once and enrols the
 * contact once. Before, each failed attempt left its message queued and its enrolment
 * logged, and the beneficiary got the reminder again at every retry. */
static void test_runner_contact_atomic(void **state)
{
        struct rules_tz *mx = zone("America/Mexico_City");
        int64_t from = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 1) * 86400);
        int64_t to = rules_tz_to_utc(mx, rules_days_from_civil(2026, 3, 1) * 86400);
        char good[192], bad[192];
        static const char *const counts[] = {
                "SELECT count(*) FROM outgoing",
                "SELECT count(*) FROM rules_settled",
                "SELECT count(*) FROM events WHERE type LIKE 'rules.%' AND type <> 'rules.loaded'",
        };
        (void)state;

        snprintf(good, sizeof(good), "%s/atomic-good.db", dir);
        snprintf(bad, sizeof(bad), "%s/atomic-bad.db", dir);
        two_months(good, false, from, to);
        assert_true(count(good, counts[0]) > 3);

        two_months(bad, true, from, to);
        assert_int_equal(count(bad, counts[0]), 0);
        assert_int_equal(count(bad, counts[1]), 0);
        assert_int_equal(count(bad, "SELECT count(*) FROM rules_state"), 0);
        two_months(bad, false, from, to); /* repaired: the same two months again */
        for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
                assert_int_equal(count(bad, counts[i]), count(good, counts[i]));
        rules_tz_free(mx);
}

/* One contact whose run fails every time (a trigger stands in for whatever in her data makes a
 * write fail) must not hold up the others: they are enrolled, she is tried again later and,
 * repaired, enrolled once. Before, the first failure ended the run, the next run looked at the
 * same contacts first, and nobody after her was ever enrolled. The enrolments of a run are
 * committed together (a few fsyncs, not one a contact: the loop waits for each). */
static void test_runner_poisoned_contact(void **state)
{
        char path[192], sql[256];
        struct store *s;
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        struct rules_tz *mx = zone("America/Mexico_City");
        int64_t t = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 5) * 86400 + 6 * 3600);
        int64_t ids[60];
        uint64_t commits;
        (void)state;

        s = store_with_contacts(path, "poisoned.db", "P", 71, 60, t, ids);
        snprintf(sql, sizeof(sql),
                 "CREATE TRIGGER poison BEFORE INSERT ON rules_state WHEN NEW.contact_id = %lld"
                 " BEGIN SELECT RAISE(ABORT, 'injected'); END;",
                 (long long)ids[2]);
        exec_sql(path, sql);
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        commits = store_commits(s);
        assert_true(rules_runner_run(r, t, RULES_RUNNER_SLICE) >= 0);
        assert_true(store_commits(s) - commits <= 2);
        assert_int_equal(count(path, "SELECT count(*) FROM rules_state"), 59);
        snprintf(sql, sizeof(sql),
                 "SELECT (SELECT count(*) FROM events WHERE contact_id = %lld)"
                 " + (SELECT count(*) FROM outgoing WHERE contact_id = %lld)",
                 (long long)ids[2], (long long)ids[2]);
        assert_int_equal(count(path, sql), 0); /* nothing of her half-done run stays */
        assert_true(rules_runner_run(r, t + 60, RULES_RUNNER_SLICE) >= 0);
        assert_int_equal(count(path, "SELECT count(*) FROM rules_state"), 59);

        exec_sql(path, "DROP TRIGGER poison;");
        assert_true(rules_runner_run(r, t + 301, RULES_RUNNER_SLICE) >= 0); /* her retry */
        assert_int_equal(count(path, "SELECT count(*) FROM rules_state"), 60);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM events WHERE contact_id = %lld AND type = 'rules.enrolled'",
                 (long long)ids[2]);
        assert_int_equal(count(path, sql), 1);
        assert_true(rules_runner_run(r, t + 1000, RULES_RUNNER_SLICE) >= 0);
        assert_int_equal(count(path, sql), 1);
        rules_runner_free(r);
        store_close(s);
        rules_tz_free(mx);
}

static int refuse_commit(void *userdata)
{
        (void)userdata;
        return 1; /* SQLite turns the COMMIT into a rollback */
}

/* A group whose commit fails leaves nothing (no text queued, no event, no state), and every
 * contact of it is put back: the next firing enrols each once. */
static void test_runner_group_commit_fails(void **state)
{
        char path[192];
        struct store *s;
        struct rules_runner_opts o = { .rules_dir = rules, .secret_file = secret };
        struct rules_runner *r = NULL;
        struct rules_tz *mx = zone("America/Mexico_City");
        int64_t t = rules_tz_to_utc(mx, rules_days_from_civil(2026, 1, 5) * 86400 + 6 * 3600);
        static const char *const nothing =
                "SELECT (SELECT count(*) FROM rules_state) + (SELECT count(*) FROM outgoing)"
                " + (SELECT count(*) FROM events WHERE type LIKE 'rules.%' AND type <> "
                "'rules.loaded')";
        (void)state;

        s = store_with_contacts(path, "commit-fails.db", "G", 72, 10, t, NULL);
        assert_int_equal(rules_runner_new(NULL, s, NULL, &o, &r), 0);
        sqlite3_commit_hook(s->db, refuse_commit, NULL);
        assert_int_equal(rules_runner_run(r, t, RULES_RUNNER_SLICE), 10);
        sqlite3_commit_hook(s->db, NULL, NULL);
        assert_int_equal(count(path, nothing), 0);

        assert_true(rules_runner_run(r, t + 301, RULES_RUNNER_SLICE) >= 10);
        assert_int_equal(count(path, "SELECT count(*) FROM rules_state"), 10);
        assert_int_equal(count(path, "SELECT count(*) FROM events WHERE type = 'rules.enrolled'"),
                         10);
        assert_int_equal(count(path, "SELECT count(DISTINCT contact_id) FROM events"
                                     " WHERE type = 'rules.enrolled'"),
                         10);
        rules_runner_free(r);
        store_close(s);
        rules_tz_free(mx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runner_matches_drive),
                cmocka_unit_test(test_runner_sms_enrolee),
                cmocka_unit_test(test_runner_quiz_matches_drive),
                cmocka_unit_test(test_runner_sealed_list_directory),
                cmocka_unit_test(test_runner_enrol_look),
                cmocka_unit_test(test_runner_contact_atomic),
                cmocka_unit_test(test_runner_poisoned_contact),
                cmocka_unit_test(test_runner_group_commit_fails),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
