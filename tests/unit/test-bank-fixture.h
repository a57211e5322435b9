/* Unit-test helper for daemon/bank: a real store file, a second read-only connection, a bank
 * over it and N_MODEMS fake modems that record each part they are handed (and check, at each
 * send, that its "sending" is committed: the exactly-once order), with the clock in the
 * fixture's hands. Used by test-bank.c and test-bank-split.c.
 * Ownership: setup() allocates the fixture (the cmocka state), teardown() closes and frees
 * everything and removes the database. The fake modems never call back into the bank.
 * Static inline because each tests/unit/test-*.c is its own binary. */
#ifndef PUENTE_TEST_BANK_FIXTURE_H
#define PUENTE_TEST_BANK_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at/pdu.h"
#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0       1790000000 /* Unix seconds */
#define DAY0     20260927
#define MONO0    5000000 /* ms */
#define N_MODEMS 3
#define SENDS    32

struct send_rec {
        int64_t modem_id;
        int64_t part_id; /* the part the store had in "sending" for this modem at the call */
        char pdu[STORE_PDU_HEX_MAX];
        size_t tpdu_len;
        bool more;
        uint64_t cookie;
};

struct fake_modem {
        struct fixture *f;
        int64_t id;
        int refuse; /* what send() returns */
        unsigned n;
        struct send_rec sends[SENDS];
};

struct fixture {
        char dir[64];
        char path[96];
        struct store *s;
        struct store *reader; /* a second connection: sees committed rows only */
        struct config *c;
        struct bank *b;
        struct bank_time now;
        struct fake_modem m[N_MODEMS];
};

static inline int sending_part_of(const struct store_part *p, void *userdata)
{
        struct send_rec *rec = userdata;

        if (p->state == STORE_PART_SENDING && p->modem_id == rec->modem_id)
                rec->part_id = p->part_id;
        return 0;
}

/* The exactly-once order: when the modem is handed a part, the store already says
 * "sending" with this modem, committed: read through another connection, which sees no
 * transaction still open (the bank groups a result and the next "sending" in one commit). */
static inline int fake_send(void *ctx, const char *pdu_hex, size_t tpdu_len, bool more,
                            uint64_t cookie)
{
        struct fake_modem *fm = ctx;
        struct send_rec *rec;

        if (fm->refuse)
                return fm->refuse;
        assert_true(fm->n < SENDS);
        rec = &fm->sends[fm->n++];
        *rec = (struct send_rec){
                .modem_id = fm->id, .tpdu_len = tpdu_len, .more = more, .cookie = cookie
        };
        snprintf(rec->pdu, sizeof(rec->pdu), "%s", pdu_hex);
        assert_true(store_outbox_list(fm->f->reader, 1000, sending_part_of, rec) >= 0);
        assert_true(rec->part_id > 0);
        return 0;
}

static const struct bank_modem_ops fake_ops = { .send = fake_send };

static inline int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char err[STORE_ERRMSG_MAX];
        char imei[16];

        if (tmpstore_open("bank", NULL, f->dir, f->path, &f->s) < 0 ||
            store_open(f->path, &(struct store_options){ .leave_sending = true }, &f->reader, err) <
                    0)
                return -1;
        f->c = calloc(1, sizeof(*f->c));
        config_defaults(f->c);
        f->c->retry = (struct config_retry){ .attempts = 3, .first_delay = 60, .max_delay = 3600 };
        for (unsigned i = 0; i < N_MODEMS; i++) {
                snprintf(imei, sizeof(imei), "86123456789012%u", i);
                f->m[i].f = f;
                if (store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = imei },
                                       "/dev/ttyUSB0", T0, &f->m[i].id) < 0)
                        return -1;
        }
        if (bank_new(f->s, f->c, &f->b) < 0)
                return -1;
        f->now = (struct bank_time){ .mono_ms = MONO0, .wall = T0, .day = DAY0 };
        *state = f;
        return 0;
}

static inline int teardown(void **state)
{
        struct fixture *f = *state;

        bank_free(f->b);
        store_close(f->reader);
        store_close(f->s);
        free(f->c);
        tmpstore_remove(f->dir, f->path);
        free(f);
        return 0;
}

static inline void add(struct fixture *f, unsigned i, unsigned rate, unsigned daily)
{
        assert_int_equal(bank_modem_add(f->b, f->m[i].id, &fake_ops, &f->m[i], rate, daily), 0);
        assert_int_equal(bank_modem_ready(f->b, &f->m[i], true), 0);
}

/* Queues text to `to` with PDUs encoded as puentectl does (pdus = false: none stored). */
static inline int64_t queue_ex(struct fixture *f, const char *to, const char *text, int priority,
                               bool pdus)
{
        static struct sms_part parts[STORE_PARTS_MAX];
        static char hex[STORE_PARTS_MAX][STORE_PDU_HEX_MAX];
        const char *hexes[STORE_PARTS_MAX];
        struct sms_submit_opts o = { .status_report = true, .msg_class = -1 };
        struct sms_text_info info;
        int n = sms_submit_encode(text, to, &o, parts, STORE_PARTS_MAX, &info);
        int64_t id;

        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
                sms_hex_encode(parts[i].pdu, parts[i].len, hex[i]);
                hexes[i] = hex[i];
        }
        struct store_outgoing_new m = {
                .recipient = to,
                .text = text,
                .encoding = info.charset == SMS_CHARSET_UCS2 ? STORE_ENC_UCS2 : STORE_ENC_GSM7,
                .part_count = (unsigned)n,
                .priority = priority,
                .pdus = pdus && n == 1 ? hexes : NULL, /* parts: at send time */
        };
        assert_int_equal(store_queue_message(f->s, &m, f->now.wall, &id), 0);
        return id;
}

static inline int64_t queue(struct fixture *f, const char *text, int priority)
{
        return queue_ex(f, "+525512345678", text, priority, true);
}

static inline struct store_part part(struct fixture *f, int64_t part_id)
{
        struct store_part p;

        assert_int_equal(store_part_get(f->s, part_id, &p), 0);
        return p;
}

static inline struct send_rec *last(struct fixture *f, unsigned i)
{
        assert_true(f->m[i].n > 0);
        return &f->m[i].sends[f->m[i].n - 1];
}

static inline void answer(struct fixture *f, uint64_t cookie, enum bank_outcome o, const char *text)
{
        const struct bank_result r = { .outcome = o, .mr = 9, .cms = -1, .text = text };

        assert_int_equal(bank_send_done(f->b, cookie, &r, &f->now), 0);
}

static inline void advance(struct fixture *f, uint64_t ms)
{
        f->now.mono_ms += ms;
        f->now.wall += (int64_t)(ms / 1000);
}

static inline unsigned total_sends(const struct fixture *f)
{
        unsigned n = 0;

        for (unsigned i = 0; i < N_MODEMS; i++)
                n += f->m[i].n;
        return n;
}

#define LONG_TEXT                                                                                  \
        "Estimado participante: le recordamos que su cita en la clinica es el martes a las "       \
        "nueve de la manana. Traiga su identificacion y el cuaderno de registro. Si no puede "     \
        "asistir, responda a este mensaje con la palabra CAMBIO y le llamaremos. Gracias."

struct find_part {
        int64_t message_id, part_id;
        unsigned seq;
};

static inline int find_part_cb(const struct store_part *p, void *userdata)
{
        struct find_part *q = userdata;

        if (p->message_id == q->message_id && p->seq == q->seq)
                q->part_id = p->part_id;
        return 0;
}

/* Part 1 of a 2-part message sent from modem 0 by an earlier run of the daemon. */
static inline int64_t half_sent(struct fixture *f)
{
        int64_t multi = queue(f, LONG_TEXT, 0);
        struct find_part q = { .message_id = multi, .seq = 1 };

        assert_true(store_next_parts(f->s, f->now.wall, 100, find_part_cb, &q) >= 0);
        assert_true(q.part_id > 0);
        assert_int_equal(store_part_sending(f->s, q.part_id, f->m[0].id, f->now.wall), 0);
        assert_int_equal(store_part_sent(f->s, q.part_id, 3, f->now.wall), 0);
        return multi;
}

#endif
