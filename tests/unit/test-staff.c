/* daemon/staff: command words, the throttle, the ESTADO reply in one GSM 7-bit SMS for every
 * combination of problems, who counts as staff, and the edge against a real store (replies
 * queued, messages marked handled, old and foreign commands left alone). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "at/pdu.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/staff.h"
#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0 1790000000 /* a fixed "now" */

static const struct {
        const char *text;
        int r;
        enum staff_command cmd;
        enum staff_lang lang;
} commands[] = {
        { "ESTADO", 0, STAFF_CMD_STATUS, STAFF_LANG_ES },
        { "estado", 0, STAFF_CMD_STATUS, STAFF_LANG_ES },
        { "  Estado.  ", 0, STAFF_CMD_STATUS, STAFF_LANG_ES },
        { "Status?", 0, STAFF_CMD_STATUS, STAFF_LANG_EN },
        { "PRUEBA!!", 0, STAFF_CMD_TEST, STAFF_LANG_ES },
        { "test", 0, STAFF_CMD_TEST, STAFF_LANG_EN },
        { "\xc2\xbf"
          "Ayuda?",
          0, STAFF_CMD_HELP, STAFF_LANG_ES }, /* ¿Ayuda? */
        { "\xc2\xa1"
          "AYUDA!",
          0, STAFF_CMD_HELP, STAFF_LANG_ES }, /* ¡AYUDA! */
        { "Help\r\n", 0, STAFF_CMD_HELP, STAFF_LANG_EN },
        { "estado por favor", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "estados", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "estado2", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "2", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "...", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "ayudá", -ENOENT, STAFF_CMD_NONE,
          STAFF_LANG_ES }, /* a letter outside ASCII is part of the word */
        { "Si, asistire a mi cita", -ENOENT, STAFF_CMD_NONE, STAFF_LANG_ES },
        { "ESTADO                                    ", -ENOENT, STAFF_CMD_NONE,
          STAFF_LANG_ES }, /* longer than a command */
};

static void test_parse_command(void **state)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                enum staff_command cmd = STAFF_CMD_NONE;
                enum staff_lang lang = STAFF_LANG_ES;
                int r = staff_parse_command(commands[i].text, &cmd, &lang);
                if (r != commands[i].r ||
                    (r == 0 && (cmd != commands[i].cmd || lang != commands[i].lang)))
                        fail_msg("'%s': r=%d cmd=%d lang=%d", commands[i].text, r, cmd, lang);
        }
}

static void test_throttle(void **state)
{
        struct staff_throttle t = { 0 };
        bool first = false;

        for (int i = 0; i < 3; i++)
                assert_int_equal(staff_throttle_take(&t, "+525512345678", 3, T0 + i * 60, &first),
                                 1);
        /* the fourth within the hour: silence, reported once */
        assert_int_equal(staff_throttle_take(&t, "+525512345678", 3, T0 + 300, &first), 0);
        assert_true(first);
        assert_int_equal(staff_throttle_take(&t, "+525512345678", 3, T0 + 400, &first), 0);
        assert_false(first);
        /* another number is not affected */
        assert_int_equal(staff_throttle_take(&t, "+525587654321", 3, T0 + 400, &first), 1);
        /* an hour after the first reply, one more is allowed; then silence again, reported */
        assert_int_equal(staff_throttle_take(&t, "+525512345678", 3, T0 + 3600, &first), 1);
        assert_int_equal(staff_throttle_take(&t, "+525512345678", 3, T0 + 3601, &first), 0);
        assert_true(first);

        assert_int_equal(staff_throttle_take(&t, "", 3, T0, &first), -EINVAL);
        assert_int_equal(staff_throttle_take(&t, "+525512345678", 0, T0, &first), -EINVAL);
        assert_int_equal(
                staff_throttle_take(&t, "+525512345678", CONFIG_STAFF_REPLIES_MAX + 1, T0, &first),
                -EINVAL);
}

/* More numbers than slots: the one quiet for longest is forgotten, the busy one is kept. */
static void test_throttle_eviction(void **state)
{
        struct staff_throttle t = { 0 };
        char num[32];

        assert_int_equal(staff_throttle_take(&t, "+525500000000", 1, T0, NULL), 1);
        for (int i = 1; i <= STAFF_THROTTLE_SENDERS; i++) {
                snprintf(num, sizeof(num), "+5255000000%02d", i);
                assert_int_equal(staff_throttle_take(&t, num, 1, T0 + i, NULL), 1);
        }
        /* +525500000000 was evicted (oldest): it gets a reply again */
        assert_int_equal(staff_throttle_take(&t, "+525500000000", 1, T0 + 100, NULL), 1);
        /* the last one added is still remembered */
        snprintf(num, sizeof(num), "+5255000000%02d", STAFF_THROTTLE_SENDERS);
        assert_int_equal(staff_throttle_take(&t, num, 1, T0 + 101, NULL), 0);
}

static void assert_one_gsm_sms(const char *text)
{
        struct sms_text_info info;

        assert_int_equal(sms_text_analyze(text, false, &info), 0);
        if (info.charset != SMS_CHARSET_GSM7 || info.units > STAFF_SMS_MAX || info.parts != 1)
                fail_msg("not one GSM 7-bit SMS (%zu units, charset %d): '%s'", info.units,
                         info.charset, text);
}

static void test_status_texts(void **state)
{
        struct staff_status ok = { .modems = 2,
                                   .modems_ready = 2,
                                   .bars = 3,
                                   .sent_today = 120,
                                   .queued = 14,
                                   .last_upload_age = 300,
                                   .upload_configured = true };
        struct staff_status bad = { .modems = 0,
                                    .bars = -1,
                                    .last_upload_age = -1,
                                    .problems = STAFF_PROB_NO_MODEM | STAFF_PROB_NO_RULES |
                                                STAFF_PROB_NO_UPLOAD };
        char buf[STAFF_REPLY_MAX];

        assert_int_equal(staff_format_status(&ok, STAFF_LANG_ES, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Puente: modems 2/2 listos, señal 3/4, hoy 120 enviados, 14 en "
                                 "cola, subida hace 5 min. Problemas: ninguno.");
        assert_int_equal(staff_format_status(&ok, STAFF_LANG_EN, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Puente: modems 2/2 ready, signal 3/4, 120 sent today, 14 "
                                 "queued, upload 5 min ago. Problems: none.");
        assert_int_equal(staff_format_status(&bad, STAFF_LANG_ES, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Puente: modems 0/0 listos, hoy 0 enviados, 0 en cola. "
                                 "Problemas: no hay modem conectado, sin reglas, sin destino de "
                                 "subida.");
        assert_int_equal(staff_format_status(&ok, STAFF_LANG_ES, buf, 100), -ENOBUFS);
}

/* Every combination of problems, in both languages, with the largest figures: one SMS. */
static void test_status_always_one_sms(void **state)
{
        char buf[STAFF_REPLY_MAX];
        unsigned truncated = 0;

        for (unsigned p = 0; p < (1u << STAFF_PROB_COUNT); p++) {
                for (int lang = 0; lang < 2; lang++) {
                        struct staff_status st = {
                                .modems = 32,
                                .modems_ready = 31,
                                .bars = 4,
                                .sent_today = 4294967295u,
                                .queued = 4294967295u,
                                .failed = 4294967295u,
                                .last_upload_age = 99 * 86400,
                                .upload_configured = true,
                                .problems = p,
                        };
                        assert_int_equal(
                                staff_format_status(&st, (enum staff_lang)lang, buf, sizeof(buf)),
                                0);
                        assert_one_gsm_sms(buf);
                        assert_int_equal(staff_format_summary(&st, buf, sizeof(buf)), 0);
                        assert_one_gsm_sms(buf);
                        assert_int_equal(
                                staff_format_status(&st, (enum staff_lang)lang, buf, sizeof(buf)),
                                0);
                        /* the most urgent problem is always told in words */
                        if (p & STAFF_PROB_NO_MODEM)
                                assert_non_null(strstr(buf, lang ? "no modem connected"
                                                                 : "no hay modem conectado"));
                        truncated += strstr(buf, lang ? " more." : " mas") != NULL;
                }
        }
        assert_true(truncated > 0); /* the "+N" path was exercised */
}

static struct config *staff_config(unsigned per_hour)
{
        char text[512];
        struct config_diag d;
        struct config *c = NULL;

        snprintf(text, sizeof(text),
                 "country = MX\nstaff_replies_per_hour = %u\n"
                 "clinic norte {\n  staff = { \"55 1234 5678\" }\n  manager = "
                 "\"+525511112222\"\n}\n",
                 per_hour);
        assert_int_equal(config_parse_text(text, "t.conf", &c, &d), 0);
        return c;
}

static const struct {
        const char *sender, *text;
        enum staff_action action;
        enum staff_command cmd;
        const char *reply_start; /* NULL: no reply */
} decisions[] = {
        { "+525512345678", "ESTADO", STAFF_REPLY, STAFF_CMD_STATUS, "Puente: modems 1/1 listos" },
        { "+525512345678", "status", STAFF_REPLY, STAFF_CMD_STATUS, "Puente: modems 1/1 ready" },
        /* the modem may report the national form: normalized before the lookup */
        { "5512345678", "Prueba", STAFF_REPLY, STAFF_CMD_TEST, "Puente: PRUEBA OK." },
        { "+525511112222", "TEST", STAFF_REPLY, STAFF_CMD_TEST, "Puente: TEST OK." },
        { "+525511112222", "ayuda", STAFF_REPLY, STAFF_CMD_HELP, "Puente: mande ESTADO" },
        { "+525511112222", "hola que tal", STAFF_REPLY, STAFF_CMD_HELP, "Puente: mande ESTADO" },
        { "+525599999999", "ESTADO", STAFF_IGNORED, STAFF_CMD_STATUS, NULL },
        { "+525599999999", "Si asistire", STAFF_PASS, STAFF_CMD_NONE, NULL },
        { "TELCEL", "ESTADO", STAFF_SPOOFABLE, STAFF_CMD_STATUS, NULL },
        { "5512345678A", "ESTADO", STAFF_SPOOFABLE, STAFF_CMD_STATUS, NULL },
        { "333", "AYUDA", STAFF_SPOOFABLE, STAFF_CMD_HELP, NULL },
        { "TELCEL", "Tu saldo es de $10", STAFF_PASS, STAFF_CMD_NONE, NULL },
};

static void test_decide(void **state)
{
        struct config *c = staff_config(60);
        struct staff_status st = { .modems = 1,
                                   .modems_ready = 1,
                                   .bars = 2,
                                   .last_upload_age = -1,
                                   .problems = STAFF_PROB_NO_UPLOAD };

        for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
                struct staff_throttle t = { 0 };
                struct staff_decision d;
                assert_int_equal(
                        staff_decide(c, &t, decisions[i].sender, decisions[i].text, &st, T0, &d),
                        0);
                if (d.action != decisions[i].action || d.cmd != decisions[i].cmd)
                        fail_msg("%s '%s': action %d cmd %d", decisions[i].sender,
                                 decisions[i].text, d.action, d.cmd);
                if (decisions[i].reply_start) {
                        assert_memory_equal(d.reply, decisions[i].reply_start,
                                            strlen(decisions[i].reply_start));
                        assert_one_gsm_sms(d.reply);
                        assert_string_equal(d.clinic->name, "norte");
                        assert_string_equal(d.number[0] == '+' ? "ok" : d.number, "ok");
                }
        }
        config_free(c);
}

/* Two machines answering each other: the box stops after replies_per_hour. */
static void test_decide_throttled(void **state)
{
        struct config *c = staff_config(2);
        struct staff_status st = { .bars = -1, .last_upload_age = -1 };
        struct staff_throttle t = { 0 };
        struct staff_decision d;

        for (int i = 0; i < 2; i++) {
                assert_int_equal(
                        staff_decide(c, &t, "+525512345678", "Mensaje automatico", &st, T0 + i, &d),
                        0);
                assert_int_equal(d.action, STAFF_REPLY);
        }
        assert_int_equal(
                staff_decide(c, &t, "+525512345678", "Mensaje automatico", &st, T0 + 2, &d), 0);
        assert_int_equal(d.action, STAFF_THROTTLED);
        assert_true(d.first_refusal);
        assert_int_equal(staff_decide(c, &t, "5512345678", "ESTADO", &st, T0 + 3, &d), 0);
        assert_int_equal(d.action, STAFF_THROTTLED);
        assert_false(d.first_refusal);
        /* the ignored and the spoofable never touch the throttle */
        for (int i = 0; i < 5; i++) {
                assert_int_equal(staff_decide(c, &t, "TELCEL", "ESTADO", &st, T0 + 4, &d), 0);
                assert_int_equal(d.action, STAFF_SPOOFABLE);
        }
        assert_int_equal(staff_decide(c, &t, "+525512345678", "ESTADO", NULL, T0, &d), -EINVAL);
        config_free(c);
}

static const struct {
        int summary_minute, local_minute;
        uint32_t today, last_day;
        bool due;
} summaries[] = {
        { -1, 1439, 20260921, 0, false },                    /* no summary configured */
        { 19 * 60, 18 * 60 + 59, 20260921, 0, false },       /* not yet */
        { 19 * 60, 19 * 60, 20260921, 0, true },             /* on the minute, never sent */
        { 19 * 60, 22 * 60, 20260921, 20260920, true },      /* switched on after the hour */
        { 19 * 60, 19 * 60 + 1, 20260921, 20260921, false }, /* sent today already */
        { 0, 0, 20261001, 20260930, true },                  /* midnight, next month */
        { 19 * 60, 8 * 60, 20260922, 20260920, false },      /* a day missed: wait for 19:00 */
};

static void test_summary_due(void **state)
{
        for (size_t i = 0; i < sizeof(summaries) / sizeof(summaries[0]); i++)
                if (staff_summary_due(summaries[i].summary_minute, summaries[i].local_minute,
                                      summaries[i].today,
                                      summaries[i].last_day) != summaries[i].due)
                        fail_msg("case %zu", i);
}

/* ---- the edge, against a real store ---- */

struct fixture {
        char dir[64], path[96];
        struct store *s;
        struct staff *staff;
        struct config *c;
        int64_t modem;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (tmpstore_open("staff", NULL, f->dir, f->path, &f->s) < 0 || staff_new(&f->staff) < 0)
                return -1;
        if (tmpstore_modem(f->s, T0, &f->modem) < 0)
                return -1;
        f->c = staff_config(5);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_close(f->s);
        staff_free(f->staff);
        config_free(f->c);
        tmpstore_remove(f->dir, f->path);
        free(f);
        return 0;
}

static int64_t receive(struct fixture *f, const char *sender, const char *text, int64_t when)
{
        struct store_inbound_part p = { .modem_id = f->modem,
                                        .sender = sender,
                                        .total = 1,
                                        .seq = 1,
                                        .text = text,
                                        .sc_time = when };
        int64_t id = 0;

        assert_int_equal(store_inbound_part_add(f->s, &p, when, &id), 0);
        assert_true(id > 0);
        return id;
}

struct outbox {
        unsigned n;
        char to[4][STORE_NUMBER_MAX];
        char text[4][STAFF_REPLY_MAX];
        int priority[4];
};

static int outbox_cb(const struct store_part *p, void *userdata)
{
        struct outbox *o = userdata;

        if (o->n < 4) {
                snprintf(o->to[o->n], STORE_NUMBER_MAX, "%s", p->recipient);
                snprintf(o->text[o->n], STAFF_REPLY_MAX, "%s", p->text);
                o->priority[o->n] = p->priority;
        }
        o->n++;
        return 0;
}

struct handled {
        unsigned unhandled;
};

static int unhandled_cb(const struct store_incoming *m, void *userdata)
{
        ((struct handled *)userdata)->unhandled++;
        return 0;
}

static void test_process(void **state)
{
        struct fixture *f = *state;
        struct outbox o = { 0 };
        struct handled h = { 0 };
        char buf[32];

        /* the first run on a database treats what is there like any other run: an old
         * command is not answered, a recent one is (the first pass comes only after the
         * first message is stored, so skipping everything lost the first command a new box
         * ever got: harden-staff.sh) */
        receive(f, "+525512345678", "ESTADO", T0 - 2 * STAFF_REPLY_MAX_AGE_S);
        receive(f, "+525512345678", "PRUEBA", T0 - 60);
        assert_int_equal(staff_process(f->staff, f->s, f->c, T0), 1);
        assert_int_equal(store_setting_get(f->s, STAFF_SETTING_CURSOR, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "2");
        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 1);
        assert_int_equal(o.n, 1);
        o.n = 0;
        /* the answered command is handled, the old one stays for the rules */
        assert_int_equal(store_inbox_list(f->s, 10, true, unhandled_cb, &h), 1);
        h.unhandled = 0;

        receive(f, "5512345678", "estado", T0 + 1);            /* staff, national form */
        receive(f, "+525599999999", "ESTADO", T0 + 2);         /* not staff: ignored */
        receive(f, "TELCEL", "AYUDA", T0 + 3);                 /* spoofable: ignored */
        receive(f, "+525599999999", "Si, ahi estare", T0 + 4); /* for the rules */
        receive(f, "+525511112222", "prueba", T0 - 2 * STAFF_REPLY_MAX_AGE_S); /* too old */
        assert_int_equal(staff_process(f->staff, f->s, f->c, T0 + 10), 1);

        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 2);
        assert_int_equal(o.n, 2);
        assert_string_equal(o.to[0], "+525512345678");
        assert_int_equal(o.priority[0], STAFF_PRIORITY);
        /* the snapshot is missing (no daemon ran) and there are no rules or upload; the
         * reply to PRUEBA waits in the queue */
        assert_string_equal(o.text[0], "Puente: modems 0/0 listos, hoy 0 enviados, 1 en cola. "
                                       "Problemas: no hay modem conectado, sin reglas, sin destino "
                                       "de subida.");
        /* only the answered command is handled; the rest stays for the rules */
        assert_int_equal(store_inbox_list(f->s, 10, true, unhandled_cb, &h), 5);
        assert_int_equal(h.unhandled, 5);

        /* nothing new: nothing more */
        assert_int_equal(staff_process(f->staff, f->s, f->c, T0 + 20), 0);
        o.n = 0;
        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 2);
}

static void sql(struct fixture *f, const char *statement)
{
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", f->path, statement);
        assert_int_equal(system(cmd), 0);
}

/* The reply, the command's mark and the cursor past it are one transaction: when moving the
 * cursor fails (a full disk; a trigger here), no reply is left queued, and the next pass
 * answers once. Before, the reply of the failed pass stayed and the next pass sent another. */
static void test_process_atomic(void **state)
{
        struct fixture *f = *state;
        struct outbox o = { 0 };

        receive(f, "+525512345678", "PRUEBA", T0 - 60);
        sql(f,
            "CREATE TRIGGER broken BEFORE INSERT ON settings WHEN NEW.key = '" STAFF_SETTING_CURSOR
            "' BEGIN SELECT RAISE(ABORT, 'injected'); END;");
        assert_true(staff_process(f->staff, f->s, f->c, T0) < 0);
        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 0);
        sql(f, "DROP TRIGGER broken;");
        assert_int_equal(staff_process(f->staff, f->s, f->c, T0 + 1), 1);
        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 1);
        assert_int_equal(staff_process(f->staff, f->s, f->c, T0 + 2), 0);
}

static void test_process_status_from_snapshot(void **state)
{
        struct fixture *f = *state;
        struct staff_status st;

        assert_int_equal(store_setting_set(
                                 f->s, "daemon.status",
                                 "{\"pid\":1,\"modems\":["
                                 "{\"state\":\"ready\",\"ready\":true,\"bars\":3,\"sent_today\":7},"
                                 "{\"state\":\"failed\",\"sim\":\"no SIM\",\"sent_today\":2},"
                                 "{\"state\":\"rejected\"}]}"),
                         0);
        assert_int_equal(store_setting_set(f->s, "upload.last_ok", "1789990000"), 0);
        assert_int_equal(staff_status_gather(f->s, f->c, T0, &st), 0);
        assert_int_equal(st.modems, 2);
        assert_int_equal(st.modems_ready, 1);
        assert_int_equal(st.bars, 3);
        assert_int_equal(st.sent_today, 9);
        assert_int_equal(st.problems,
                         STAFF_PROB_NO_SIM | STAFF_PROB_NO_RULES | STAFF_PROB_NO_UPLOAD);
        assert_int_equal(st.last_upload_age, 10000);
}

/* An auto-responder at a staff number: five replies, then silence for the hour. */
static void test_process_throttle(void **state)
{
        struct fixture *f = *state;
        struct outbox o = { 0 };
        int total = 0;

        assert_int_equal(staff_process(f->staff, f->s, f->c, T0), 0);
        for (int i = 0; i < 12; i++) {
                receive(f, "+525512345678", "Gracias por su mensaje", T0 + i * 10);
                int r = staff_process(f->staff, f->s, f->c, T0 + i * 10 + 1);
                assert_true(r >= 0);
                total += r;
        }
        assert_int_equal(total, 5);
        assert_int_equal(store_outbox_list(f->s, 20, outbox_cb, &o), 5);
}

/* The manager's daily summary, by the box's local time (UTC here). */
static void test_process_summary(void **state)
{
        struct fixture *f = *state;
        struct config_diag d;
        struct config *c = NULL;
        struct outbox o = { 0 };
        const int64_t day = 1790017140; /* 2026-09-21 18:59 UTC */
        char buf[32];

        assert_int_equal(config_parse_text("clinic norte {\n  manager = \"5511112222\"\n"
                                           "  summary = \"19:00\"\n}\n",
                                           "t.conf", &c, &d),
                         0);
        assert_int_equal(staff_process(f->staff, f->s, c, day), 0);      /* 18:59 */
        assert_int_equal(staff_process(f->staff, f->s, c, day + 60), 1); /* 19:00 */
        assert_int_equal(staff_process(f->staff, f->s, c, day + 600), 0);
        assert_int_equal(store_setting_get(f->s, STAFF_SETTING_SUMMARY "norte", buf, sizeof(buf)),
                         0);
        assert_string_equal(buf, "20260921");
        assert_int_equal(staff_process(f->staff, f->s, c, day + 86400), 0);      /* 18:59 */
        assert_int_equal(staff_process(f->staff, f->s, c, day + 86400 + 60), 1); /* next day */
        assert_int_equal(store_outbox_list(f->s, 10, outbox_cb, &o), 2);
        assert_string_equal(o.to[0], "+525511112222");
        assert_memory_equal(o.text[0], "Puente resumen: modems 0/0 listos",
                            strlen("Puente resumen: modems 0/0 listos"));
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_command),
                cmocka_unit_test(test_throttle),
                cmocka_unit_test(test_throttle_eviction),
                cmocka_unit_test(test_status_texts),
                cmocka_unit_test(test_status_always_one_sms),
                cmocka_unit_test(test_decide),
                cmocka_unit_test(test_decide_throttled),
                cmocka_unit_test(test_summary_due),
                cmocka_unit_test_setup_teardown(test_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_atomic, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_status_from_snapshot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_throttle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_summary, setup, teardown),
        };
        setenv("TZ", "UTC", 1); /* the summaries go by local time */
        tzset();
        log_setup("test-staff", LOG_ERR);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
