/* daemon/bank: dispatch over a real store file with fake modems that record each send:
 * priority, rate and daily limits, the healthiest modem first, multipart parts kept on one
 * modem with more_follow, failover after a modem fault, permanent and temporary failures with
 * their back-off, unknown outcomes, a modem removed mid-send, and the exactly-once order
 * (the "sending" commit is on disk when the modem is handed the part). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "at/modem.h"
#include "tests/unit/test-bank-fixture.h"

static void test_send_and_sent(void **state)
{
        struct fixture *f = *state;
        struct store_modem row;
        struct sms_pdu pdu;
        struct send_rec *s;

        add(f, 0, 0, 0);
        queue(f, "Su cita es mañana a las 9", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        s = last(f, 0);
        assert_int_equal(part(f, s->part_id).state, STORE_PART_SENDING);
        assert_int_equal(part(f, s->part_id).modem_id, f->m[0].id);
        /* What the modem got is the stored PDU with its AT+CMGS length (SMSC octet "00"). */
        assert_int_equal(s->tpdu_len, strlen(s->pdu) / 2 - 1);
        assert_int_equal(sms_pdu_decode_hex(s->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "Su cita es mañana a las 9");
        assert_true(pdu.status_report);
        assert_false(s->more);
        /* One in flight per modem: nothing more goes out while it is busy. */
        queue(f, "second", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        answer(f, s->cookie, BANK_OUTCOME_SENT, NULL); /* kicks: the second goes */
        assert_int_equal(part(f, s->part_id).state, STORE_PART_SENT);
        assert_int_equal(f->m[0].n, 2);
        assert_int_equal(store_modem_get(f->s, f->m[0].id, DAY0, &row), 0);
        assert_int_equal(row.sent_today, 1);
}

static void test_priority(void **state)
{
        struct fixture *f = *state;
        struct sms_pdu pdu;

        queue(f, "ordinary reminder", 0);
        queue(f, "urgent: clinic closed today", 5);
        queue(f, "another reminder", 0);
        add(f, 0, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "urgent: clinic closed today");
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "ordinary reminder");
}

/* 6 parts per minute: one start every 10 s, no burst, and the deadline says when. */
static void test_rate_limit(void **state)
{
        struct fixture *f = *state;
        uint64_t start = f->now.mono_ms;

        add(f, 0, 6, 0);
        for (int i = 0; i < 3; i++)
                queue(f, "hola", 0);
        assert_int_equal(bank_next_deadline(f->b), BANK_NO_DEADLINE);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        advance(f, 2000);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[0].n, 1); /* answered at once, but the rate holds it */
        assert_int_equal(bank_next_deadline(f->b), start + 10000);
        f->now.mono_ms = start + 9999;
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        f->now.mono_ms = start + 10000;
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(bank_next_deadline(f->b), start + 20000);
        /* A busy modem frees nothing by time: its answer will kick. */
        f->now.mono_ms = start + 20000;
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(bank_next_deadline(f->b), BANK_NO_DEADLINE);
}

static void test_daily_limit(void **state)
{
        struct fixture *f = *state;
        struct bank_modem_info info;

        add(f, 0, 0, 2);
        for (int i = 0; i < 4; i++)
                queue(f, "recordatorio", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[0].n, 2);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(bank_modem_info(f->b, &f->m[0], &f->now, &info), 0);
        assert_int_equal(info.sent_today, 2);
        assert_int_equal(info.daily_limit, 2);
        /* The count survives the modem leaving and coming back (a replug, a restart). */
        assert_int_equal(bank_modem_remove(f->b, &f->m[0]), 0);
        add(f, 0, 0, 2);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        /* The next local day starts again. */
        f->now.day = DAY0 + 1;
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(bank_modem_info(f->b, &f->m[0], &f->now, &info), 0);
        assert_int_equal(info.sent_today, 0);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(bank_modem_info(f->b, &f->m[0], &f->now, &info), 0);
        assert_int_equal(info.sent_today, 1); /* the next one is in flight, not yet counted */
}

/* A modem fault before the PDU left: due again at once, on the other modem, not counted
 * against the attempts (attempts = 1 here would otherwise fail it). */
static void test_failover_after_fault(void **state)
{
        struct fixture *f = *state;
        struct store_part p;
        int64_t id;

        f->c->retry.attempts = 1;
        add(f, 0, 0, 0);
        add(f, 1, 0, 0);
        queue(f, "hola", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        unsigned first = f->m[0].n ? 0 : 1, other = 1 - first;
        id = last(f, first)->part_id;
        answer(f, last(f, first)->cookie, BANK_OUTCOME_MODEM_FAULT, "modem stopped answering");
        assert_int_equal(f->m[other].n, 1);
        assert_int_equal(f->m[first].n, 1);
        assert_int_equal(last(f, other)->part_id, id);
        p = part(f, id);
        assert_int_equal(p.state, STORE_PART_SENDING);
        assert_int_equal(p.attempts, 2);
        assert_int_equal(p.modem_id, f->m[other].id);
        answer(f, last(f, other)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(part(f, id).state, STORE_PART_SENT);
}

/* A modem that refuses the send outright (not READY after all): the part goes elsewhere at
 * once and the modem sits out until the daemon says it is ready again. */
static void test_send_refused(void **state)
{
        struct fixture *f = *state;
        struct bank_modem_info info;

        add(f, 0, 0, 0);
        f->m[0].refuse = -EBUSY;
        queue(f, "hola", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(bank_modem_info(f->b, &f->m[0], &f->now, &info), 0);
        assert_false(info.ready);
        assert_int_equal(info.recent_errors, 1);
        add(f, 1, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[1].n, 1);
        f->m[0].refuse = 0;
        assert_int_equal(bank_modem_ready(f->b, &f->m[0], true), 0);
        queue(f, "otra", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[0].n, 1);
}

static void test_permanent(void **state)
{
        struct fixture *f = *state;
        struct store_part p;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_PERMANENT, "unassigned number (+CMS 1)");
        p = part(f, last(f, 0)->part_id);
        assert_int_equal(p.state, STORE_PART_FAILED);
        assert_int_equal(p.attempts, 1);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(f->m[0].n, 1);
}

/* Temporary failures: back-off doubling from first_delay, then given up after the attempts. */
static void test_temporary_backoff(void **state)
{
        struct fixture *f = *state;
        int64_t id, t;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        id = last(f, 0)->part_id;
        static const unsigned delays[] = { 60, 120 };
        for (unsigned i = 0; i < 2; i++) {
                uint64_t mono = f->now.mono_ms;

                t = f->now.wall;
                answer(f, last(f, 0)->cookie, BANK_OUTCOME_TEMPORARY, "network out of order");
                assert_int_equal(part(f, id).state, STORE_PART_RETRY);
                assert_int_equal(bank_next_deadline(f->b), mono + delays[i] * 1000);
                f->now.wall = t + delays[i] - 1;
                f->now.mono_ms = mono + (delays[i] - 1) * 1000;
                assert_int_equal(bank_kick(f->b, &f->now), 0);
                f->now.wall = t + delays[i];
                f->now.mono_ms = mono + delays[i] * 1000;
                assert_int_equal(bank_kick(f->b, &f->now), 1);
                assert_int_equal(f->m[0].n, i + 2);
        }
        /* The third attempt of three fails for good, with the reason. */
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_TEMPORARY, "network out of order");
        assert_int_equal(part(f, id).state, STORE_PART_FAILED);
        assert_int_equal(part(f, id).attempts, 3);
        assert_int_equal(bank_next_deadline(f->b), BANK_NO_DEADLINE);
}

/* A temporary failure of a one-part message moves it to another free modem. */
static void test_temporary_elsewhere(void **state)
{
        struct fixture *f = *state;

        f->c->retry.first_delay = 0;
        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        add(f, 1, 0, 0);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_TEMPORARY, "no network");
        assert_int_equal(f->m[1].n, 1);
        assert_int_equal(f->m[0].n, 1);
}

static void test_unknown(void **state)
{
        struct fixture *f = *state;
        struct store_part p;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_UNKNOWN, "modem reset during the send");
        p = part(f, last(f, 0)->part_id);
        assert_int_equal(p.state, STORE_PART_UNKNOWN);
        f->now.wall += 100000;
        assert_int_equal(bank_kick(f->b, &f->now), 0);
}

static void test_unknown_resend(void **state)
{
        struct fixture *f = *state;

        f->c->unknown_resend = true;
        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_UNKNOWN, "modem reset during the send");
        assert_int_equal(f->m[0].n, 2);
        assert_int_equal(f->m[0].sends[0].part_id, f->m[0].sends[1].part_id);
}

/* Answers are taken once: a second answer, a made-up cookie and a bad outcome are refused
 * and change nothing. */
static void test_exactly_once(void **state)
{
        struct fixture *f = *state;
        const struct bank_result sent = { .outcome = BANK_OUTCOME_SENT, .mr = 3, .cms = -1 };
        const struct bank_result bad = { .outcome = (enum bank_outcome)42, .cms = -1 };
        uint64_t cookie;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        cookie = last(f, 0)->cookie;
        assert_int_equal(bank_send_done(f->b, cookie + 1000, &sent, &f->now), -ENOENT);
        assert_int_equal(bank_send_done(f->b, cookie, &bad, &f->now), -EINVAL);
        assert_int_equal(part(f, last(f, 0)->part_id).state, STORE_PART_SENDING);
        assert_int_equal(bank_send_done(f->b, cookie, &sent, &f->now), 0);
        assert_int_equal(bank_send_done(f->b, cookie, &sent, &f->now), -ENOENT);
        assert_int_equal(part(f, last(f, 0)->part_id).state, STORE_PART_SENT);
        assert_int_equal(f->m[0].n, 1);
}

static void test_removed_mid_send(void **state)
{
        struct fixture *f = *state;
        uint64_t cookie;
        int64_t id;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        cookie = last(f, 0)->cookie;
        id = last(f, 0)->part_id;
        assert_int_equal(bank_modem_remove(f->b, &f->m[0]), 0);
        assert_int_equal(part(f, id).state, STORE_PART_UNKNOWN);
        assert_int_equal(bank_send_done(f->b, cookie,
                                        &(struct bank_result){ .outcome = BANK_OUTCOME_SENT },
                                        &f->now),
                         -ENOENT);
        assert_int_equal(bank_modem_remove(f->b, &f->m[0]), -ENOENT);
        assert_int_equal(bank_modem_ready(f->b, &f->m[0], true), -ENOENT);
        add(f, 1, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 0); /* not resent */
}

/* The parts of one message leave from one modem (the phone joins them by sender), back to
 * back with more_follow, while the other modem takes other messages. */
static void test_multipart_same_modem(void **state)
{
        struct fixture *f = *state;
        int64_t multi;
        unsigned a, other;

        add(f, 0, 0, 0);
        add(f, 1, 0, 0);
        multi = queue(f, LONG_TEXT, 0);
        queue(f, "corto 1", 0);
        queue(f, "corto 2", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 2);
        a = part(f, last(f, 0)->part_id).message_id == multi ? 0 : 1;
        other = 1 - a;
        assert_int_equal(part(f, last(f, a)->part_id).seq, 1);
        assert_int_equal(part(f, last(f, a)->part_id).part_count, 2);
        assert_true(last(f, a)->more);
        /* The other modem finishes first: it takes the next short one, not part 2. */
        answer(f, last(f, other)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[other].n, 2);
        assert_int_not_equal(part(f, last(f, other)->part_id).message_id, multi);
        answer(f, last(f, other)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[other].n, 2); /* part 2 waits for its modem */
        answer(f, last(f, a)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[a].n, 2);
        assert_int_equal(part(f, last(f, a)->part_id).message_id, multi);
        assert_int_equal(part(f, last(f, a)->part_id).seq, 2);
        assert_false(last(f, a)->more);
        answer(f, last(f, a)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(total_sends(f), 4);
}

/* A permanent refusal of one part fails the message's other parts without sending them. */
static void test_multipart_permanent(void **state)
{
        struct fixture *f = *state;
        struct store_status st;

        add(f, 0, 0, 0);
        queue(f, LONG_TEXT LONG_TEXT, 0); /* 4 parts */
        bank_kick(f->b, &f->now);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_PERMANENT, "barred (+CMS 10)");
        assert_int_equal(f->m[0].n, 1);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.parts[STORE_PART_FAILED], 4);
        assert_int_equal(st.parts[STORE_PART_QUEUED], 0);
}

/* The healthiest modem first: fewer recent errors, then fewer sent today. */
static void test_healthiest(void **state)
{
        struct fixture *f = *state;

        f->c->retry.first_delay = 0;
        add(f, 0, 0, 0);
        queue(f, "uno", 0);
        bank_kick(f->b, &f->now);
        add(f, 1, 0, 0);
        add(f, 2, 0, 0);
        /* Modem 0 fails once (temporary, the part moves to 1 or 2). */
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_TEMPORARY, "no network");
        unsigned got = f->m[1].n ? 1 : 2, idle = 3 - got;
        assert_int_equal(f->m[got].n, 1);
        answer(f, last(f, got)->cookie, BANK_OUTCOME_SENT, NULL);
        /* Now: 0 has an error, `got` sent one, `idle` is clean and unused: idle, then got. */
        queue(f, "dos", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[idle].n, 1);
        queue(f, "tres", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[got].n, 2);
        queue(f, "cuatro", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[0].n, 2);
        /* Errors age out of the window. */
        advance(f, BANK_ERROR_WINDOW_MS);
        struct bank_modem_info info;
        assert_int_equal(bank_modem_info(f->b, &f->m[0], &f->now, &info), 0);
        assert_int_equal(info.recent_errors, 0);
}

/* A part queued with no PDU is encoded at send time, with the reference the store counted. */
static void test_encode_at_send_time(void **state)
{
        struct fixture *f = *state;
        struct sms_pdu pdu;

        add(f, 0, 0, 0);
        queue_ex(f, "+525512345678", "Hola 😀 " LONG_TEXT, 0, false);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_int_equal(pdu.charset, SMS_CHARSET_UCS2);
        assert_true(pdu.concat.present);
        assert_int_equal(pdu.concat.ref, 0); /* the store's first for this recipient */
        assert_int_equal(pdu.concat.seq, 1);
        assert_string_equal(pdu.addr.number, "+525512345678");
        assert_int_equal(last(f, 0)->tpdu_len, strlen(last(f, 0)->pdu) / 2 - 1);
}

static void test_at_modem_result(void **state)
{
        struct fixture *f = *state;
        struct at_modem_send_result r = { .outcome = AT_SEND_SENT, .mr = 200, .cms = -1 };
        struct store_part p;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        bank_kick(f->b, &f->now);
        r.cookie = last(f, 0)->cookie;
        assert_int_equal(bank_send_result(f->b, r.cookie, &r, &f->now), 0);
        p = part(f, last(f, 0)->part_id);
        assert_int_equal(p.state, STORE_PART_SENT);
        r.outcome = (enum at_send_outcome)99;
        assert_int_equal(bank_send_result(f->b, r.cookie, &r, &f->now), -EINVAL);
}

/* The due list is reused between kicks: a message queued meanwhile goes out once the list
 * runs dry or is BANK_DUE_TTL_MS (1 s) old, or at once when nothing in the list can go. */
static void test_due_list_refresh(void **state)
{
        struct fixture *f = *state;
        struct sms_pdu pdu;
        int64_t multi;

        add(f, 0, 0, 0);
        queue(f, "A", 0);
        queue(f, "B", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        queue(f, "U", 9);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "B"); /* read before U was queued */
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "U");
        queue(f, "C", 0);
        queue(f, "D", 0);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL); /* C, with D in the list */
        queue(f, "V", 9);
        advance(f, 1000);
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "V");
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(sms_pdu_decode_hex(last(f, 0)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "D");
        answer(f, last(f, 0)->cookie, BANK_OUTCOME_SENT, NULL);

        /* The list holds only part 2, waiting for modem 0: a new message goes to modem 1 at
         * once. */
        add(f, 1, 0, 0);
        multi = queue(f, LONG_TEXT, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        unsigned busy = f->m[0].n > 6 ? 0 : 1;
        assert_int_equal(part(f, last(f, busy)->part_id).message_id, multi);
        queue(f, "nuevo", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(sms_pdu_decode_hex(last(f, 1 - busy)->pdu, SMS_DIR_MO, &pdu), 0);
        assert_string_equal(pdu.text, "nuevo");
}

/* After a restart (or an unplug) the rest of a message waits for the modem that sent its
 * first part, however free the others are: the phone joins parts from one sender only. */
static void test_multipart_pinned_after_restart(void **state)
{
        struct fixture *f = *state;
        int64_t multi = half_sent(f);

        add(f, 1, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        advance(f, (BANK_PIN_WAIT_S - 1) * 1000ull);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(f->m[1].n, 0);
        add(f, 0, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[0].n, 1);
        assert_int_equal(part(f, last(f, 0)->part_id).message_id, multi);
        assert_int_equal(part(f, last(f, 0)->part_id).seq, 2);
}

/* The modem does not come back in BANK_PIN_WAIT_S: the whole message goes again from another
 * modem under a new reference; the part sent alone is never sent again. */
static void test_multipart_resent_whole(void **state)
{
        struct fixture *f = *state;
        struct sms_pdu first, again;
        struct find_part q;
        int64_t multi = half_sent(f);

        q = (struct find_part){ .message_id = multi, .seq = 2 };
        assert_true(store_next_parts(f->s, f->now.wall, 100, find_part_cb, &q) >= 0);
        add(f, 1, 0, 0);
        advance(f, BANK_PIN_WAIT_S * 1000ull);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(part(f, q.part_id).state, STORE_PART_FAILED);
        int64_t again_id = part(f, last(f, 1)->part_id).message_id;
        assert_true(again_id > multi);
        assert_int_equal(part(f, last(f, 1)->part_id).seq, 1);
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[1].n, 2);
        assert_int_equal(part(f, last(f, 1)->part_id).message_id, again_id);
        assert_int_equal(part(f, last(f, 1)->part_id).seq, 2);
        assert_int_equal(sms_pdu_decode_hex(f->m[1].sends[0].pdu, SMS_DIR_MO, &first), 0);
        assert_int_equal(sms_pdu_decode_hex(f->m[1].sends[1].pdu, SMS_DIR_MO, &again), 0);
        assert_int_equal(first.concat.ref, again.concat.ref);
        assert_int_not_equal(first.concat.ref, 0); /* the first message had 0 */
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(total_sends(f), 2);
}

/* +CMS ERROR: 21 from the modem core (an empty prepaid SIM), as bank_send_result() gets it. */
static void no_credit(struct fixture *f, unsigned i)
{
        struct at_modem_send_result r = {
                .cookie = last(f, i)->cookie,
                .outcome = AT_SEND_NO_CREDIT,
                .mr = -1,
                .cms = 21,
                .text = "short message transfer rejected (+CMS 21)",
        };
        assert_int_equal(bank_send_result(f->b, r.cookie, &r, &f->now), 0);
}

static bool has_no_credit(struct fixture *f, unsigned i)
{
        struct bank_modem_info bi;
        assert_int_equal(bank_modem_info(f->b, &f->m[i], &f->now, &bi), 0);
        return bi.no_credit_until != 0;
}

/* No credit on one SIM: the part goes out at once through another modem, the first takes
 * nothing for BANK_NO_CREDIT_HOLD_S, then it is tried again. */
static void test_no_credit_elsewhere(void **state)
{
        struct fixture *f = *state;

        add(f, 0, 0, 0);
        queue(f, "hola", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        add(f, 1, 0, 0);
        no_credit(f, 0);
        assert_true(has_no_credit(f, 0));
        assert_false(has_no_credit(f, 1));
        assert_int_equal(f->m[1].n, 1);
        assert_int_equal(part(f, last(f, 1)->part_id).state, STORE_PART_SENDING);
        assert_int_equal(part(f, last(f, 1)->part_id).part_id, last(f, 0)->part_id);
        /* While modem 1 is busy, modem 0 takes nothing. */
        queue(f, "dos", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(f->m[0].n, 1);
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[1].n, 2);
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        /* The hold ends: the bank wakes the daemon for it, and modem 0 sends again. */
        assert_true(bank_next_deadline(f->b) <= f->now.mono_ms + BANK_NO_CREDIT_HOLD_S * 1000ull);
        advance(f, BANK_NO_CREDIT_HOLD_S * 1000ull);
        assert_false(has_no_credit(f, 0));
        queue(f, "tres", 0);
        queue(f, "cuatro", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 2);
        assert_int_equal(f->m[0].n, 2);
}

/* Every modem without credit: the message waits (not failed, however many tries), and goes
 * once a SIM has credit again: the next local day (carriers reset plans daily). */
static void test_no_credit_everywhere_waits(void **state)
{
        struct fixture *f = *state;
        int64_t part_id;

        f->c->retry.attempts = 1; /* no-credit refusals are not the message's attempts */
        add(f, 0, 0, 0);
        add(f, 1, 0, 0);
        queue(f, "hola", 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        unsigned a = f->m[0].n ? 0 : 1;
        part_id = last(f, a)->part_id;
        no_credit(f, a);
        assert_int_equal(f->m[1 - a].n, 1);
        no_credit(f, 1 - a);
        assert_int_equal(part(f, part_id).state, STORE_PART_RETRY);
        advance(f, 60000);
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(total_sends(f), 2);
        f->now.day = DAY0 + 1;
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(total_sends(f), 3);
        unsigned b = f->m[0].n == 2 ? 0 : 1;
        assert_int_equal(last(f, b)->part_id, part_id);
        answer(f, last(f, b)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(part(f, part_id).state, STORE_PART_SENT);
}

/* A multipart message refused at its first part has nothing out yet: it moves whole to
 * another modem, all its parts from there. */
static void test_no_credit_multipart_not_started(void **state)
{
        struct fixture *f = *state;
        int64_t multi;

        add(f, 0, 0, 0);
        multi = queue(f, LONG_TEXT, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_true(last(f, 0)->more);
        add(f, 1, 0, 0);
        no_credit(f, 0);
        assert_int_equal(f->m[1].n, 1);
        assert_int_equal(part(f, last(f, 1)->part_id).message_id, multi);
        assert_int_equal(part(f, last(f, 1)->part_id).seq, 1);
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[1].n, 2);
        assert_int_equal(part(f, last(f, 1)->part_id).seq, 2);
        answer(f, last(f, 1)->cookie, BANK_OUTCOME_SENT, NULL);
        assert_int_equal(f->m[0].n, 1);
}

/* A message with a part already out from the modem that ran dry stays pinned to it, and
 * after BANK_PIN_WAIT_S goes again whole from another modem under a new reference. */
static void test_no_credit_multipart_pinned(void **state)
{
        struct fixture *f = *state;
        int64_t multi = half_sent(f);

        add(f, 0, 0, 0);
        add(f, 1, 0, 0);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->m[0].n, 1);
        assert_int_equal(part(f, last(f, 0)->part_id).seq, 2);
        int64_t part2 = last(f, 0)->part_id;
        no_credit(f, 0);
        assert_int_equal(f->m[1].n, 0); /* never part 2 alone from another SIM */
        assert_int_equal(part(f, part2).state, STORE_PART_RETRY);
        advance(f, BANK_PIN_WAIT_S * 1000ull);
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(part(f, part2).state, STORE_PART_FAILED);
        assert_true(part(f, last(f, 1)->part_id).message_id > multi);
        assert_int_equal(part(f, last(f, 1)->part_id).seq, 1);
}

static void test_bad_arguments(void **state)
{
        struct fixture *f = *state;
        const struct bank_modem_ops none = { 0 };
        struct bank *b;

        assert_int_equal(bank_new(NULL, f->c, &b), -EINVAL);
        assert_int_equal(bank_modem_add(f->b, f->m[0].id, &none, &f->m[0], 0, 0), -EINVAL);
        assert_int_equal(bank_modem_add(f->b, 0, &fake_ops, &f->m[0], 0, 0), -EINVAL);
        add(f, 0, 0, 0);
        assert_int_equal(bank_modem_add(f->b, f->m[0].id, &fake_ops, &f->m[1], 0, 0), -EEXIST);
        assert_int_equal(bank_modem_add(f->b, f->m[1].id, &fake_ops, &f->m[0], 0, 0), -EEXIST);
        assert_int_equal(bank_modem_add(f->b, 999, &fake_ops, &f->m[1], 0, 0), -ENOENT);
        assert_int_equal(bank_kick(f->b, NULL), -EINVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_send_and_sent),
                T(test_multipart_pinned_after_restart),
                T(test_multipart_resent_whole),
                T(test_priority),
                T(test_rate_limit),
                T(test_daily_limit),
                T(test_failover_after_fault),
                T(test_send_refused),
                T(test_permanent),
                T(test_temporary_backoff),
                T(test_temporary_elsewhere),
                T(test_unknown),
                T(test_unknown_resend),
                T(test_exactly_once),
                T(test_removed_mid_send),
                T(test_multipart_same_modem),
                T(test_multipart_permanent),
                T(test_healthiest),
                T(test_encode_at_send_time),
                T(test_at_modem_result),
                T(test_due_list_refresh),
                T(test_no_credit_elsewhere),
                T(test_no_credit_everywhere_waits),
                T(test_no_credit_multipart_not_started),
                T(test_no_credit_multipart_pinned),
                T(test_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
