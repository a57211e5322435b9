/* test-rules-runner: puented's rules runner on a real store with the sample programme
 * (etc/rules.d): enrolment and arm assignment logged, the messages queued for a contact are
 * exactly the timeline rules/drive (what `rules simulate` prints) gives for it, opt-out,
 * a restart rebuilds the index without sending twice, a broken reload keeps the running set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/rules-files.h"
#include "daemon/rules-runner.h"
#include "daemon/store.h"
#include "rules/arms.h"
#include "rules/drive.h"
#include "rules/parse.h"
#include "rules/tz.h"

static char dir[64], db[128], secret[128], rules[512];
static const char key[] = "an evaluator's key, 32 bytes ok.";

static int setup(void **state)
{
        const char *src = getenv("PUENTE_SRC");
        FILE *f;

        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/test-runner-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(db, sizeof(db), "%s/puente.db", dir);
        snprintf(secret, sizeof(secret), "%s/trial.key", dir);
        snprintf(rules, sizeof(rules), "%s/etc/rules.d", src ? src : ".");
        f = fopen(secret, "w");
        fputs(key, f);
        fclose(f);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runner_matches_drive),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
