/* daemon/store: the API on a real database file in a temporary directory: queueing and the
 * part transitions, delivery reports, inbound reassembly, modems, events, contacts, settings,
 * listings and status counts, and the errors each refuses with. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0 1790000000 /* a fixed "now": the store never reads the clock */

struct fixture {
        char dir[64];
        char path[96];
        struct store *s;
        int64_t modem;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (tmpstore_open("store", NULL, f->dir, f->path, &f->s) < 0)
                return -1;
        if (tmpstore_modem(f->s, T0, &f->modem) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_close(f->s);
        tmpstore_remove(f->dir, f->path);
        free(f);
        return 0;
}

static int64_t queue(struct store *s, const char *to, const char *text, unsigned parts,
                     int priority, int64_t now)
{
        struct store_outgoing_new m = {
                .recipient = to,
                .text = text,
                .encoding = STORE_ENC_GSM7,
                .part_count = parts,
                .priority = priority,
        };
        int64_t id = 0;

        assert_int_equal(store_queue_message(s, &m, now, &id), 0);
        assert_true(id > 0);
        return id;
}

#define PICK_MAX 16
struct picked {
        unsigned n;
        struct store_part p[PICK_MAX];
        char text[PICK_MAX][64];
};

static int pick_cb(const struct store_part *p, void *userdata)
{
        struct picked *k = userdata;

        assert_true(k->n < PICK_MAX);
        k->p[k->n] = *p;
        snprintf(k->text[k->n], sizeof(k->text[0]), "%s", p->text);
        k->n++;
        return 0;
}

static int64_t part_of(struct store *s, int64_t message, unsigned seq)
{
        struct picked k = { 0 };

        assert_true(store_outbox_list(s, 100, pick_cb, &k) >= 0);
        for (unsigned i = 0; i < k.n; i++)
                if (k.p[i].message_id == message && k.p[i].seq == seq)
                        return k.p[i].part_id;
        fail_msg("no part %u of message %lld", seq, (long long)message);
        return 0;
}

static enum store_part_state state_of(struct store *s, int64_t part)
{
        struct store_part p;

        assert_int_equal(store_part_get(s, part, &p), 0);
        return p.state;
}

static void test_queue_and_order(void **state)
{
        struct fixture *f = *state;
        struct picked k = { 0 };
        int64_t a, b, c;

        a = queue(f->s, "+525512345678", "first reminder", 2, 0, T0);
        b = queue(f->s, "+525587654321", "second reminder", 1, 0, T0);
        c = queue(f->s, "+525511112222", "staff reply", 1, 5, T0 + 1);
        assert_int_equal(store_next_parts(f->s, T0 + 10, 10, pick_cb, &k), 4);
        /* priority first, then the oldest message, then seq */
        assert_int_equal(k.p[0].message_id, c);
        assert_int_equal(k.p[1].message_id, a);
        assert_int_equal(k.p[1].seq, 1);
        assert_int_equal(k.p[2].message_id, a);
        assert_int_equal(k.p[2].seq, 2);
        assert_int_equal(k.p[2].part_count, 2);
        assert_int_equal(k.p[2].concat_ref, 0); /* the recipient's first multi-part message */
        assert_int_equal(k.p[3].message_id, b);
        assert_string_equal(k.text[1], "first reminder");
        assert_string_equal(k.p[1].recipient, "+525512345678");
        assert_int_equal(k.p[1].state, STORE_PART_QUEUED);

        k.n = 0; /* the limit */
        assert_int_equal(store_next_parts(f->s, T0 + 10, 2, pick_cb, &k), 2);
}

/* Reads a message's reference with SQLite directly (any test may look at the rows). */
static unsigned ref_of(struct fixture *f, int64_t id)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        unsigned ref = 99999;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT concat_ref FROM outgoing WHERE id = ?1", -1,
                                            &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
                ref = (unsigned)sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return ref;
}

/* A phone joins the parts of one sender by reference: two messages to one recipient with the
 * same reference, the first still incomplete, are joined (the daemon's tests saw it with
 * random references). The store counts references per recipient in the queueing
 * transaction, so 256 multi-part messages in a row to one number never repeat one. */
static void test_concat_ref_per_recipient(void **state)
{
        struct fixture *f = *state;
        const char *a = "+525512345678", *b = "+525587654321", *c = "+525511112222";
        bool seen[STORE_CONCAT_REFS] = { false };

        int64_t a1 = queue(f->s, a, "uno", 2, 0, T0);
        int64_t a2 = queue(f->s, a, "dos", 3, 0, T0);
        int64_t b1 = queue(f->s, b, "otro", 2, 0, T0);
        int64_t a0 = queue(f->s, a, "corto", 1, 0, T0); /* single part: no reference used */
        int64_t a3 = queue(f->s, a, "tres", 2, 0, T0);
        assert_int_equal(ref_of(f, a2), (ref_of(f, a1) + 1) % STORE_CONCAT_REFS);
        assert_int_equal(ref_of(f, a3), (ref_of(f, a1) + 2) % STORE_CONCAT_REFS);
        assert_int_equal(ref_of(f, b1), ref_of(f, a1)); /* counted apart */
        assert_int_equal(ref_of(f, a0), 0);
        for (unsigned i = 0; i < STORE_CONCAT_REFS; i++) {
                unsigned r = ref_of(f, queue(f->s, c, "x", 2, 0, T0));
                assert_true(r < STORE_CONCAT_REFS);
                assert_false(seen[r]);
                seen[r] = true;
        }

        /* PDUs encoded by the caller cannot carry the store's reference */
        const char *pdus[] = { "0011000C915225", "0011000c915225ab" };
        struct store_outgoing_new m = {
                .recipient = a, .text = "x", .part_count = 2, .pdus = pdus
        };
        int64_t id;
        assert_int_equal(store_queue_message(f->s, &m, T0, &id), -EINVAL);
        assert_non_null(strstr(store_errmsg(f->s), "multi-part"));
}

/* Parts of one message must come from one SIM (the phone joins parts by sender): the due
 * parts of a message with a part already sent name that modem and when it sent; the whole
 * message can be queued again under a new reference (its unsent parts failed, once). */
static void test_message_pin_and_resend(void **state)
{
        struct fixture *f = *state;
        struct picked k = { 0 };
        struct store_part p;
        int64_t m = queue(f->s, "+525512345678", "uno dos tres", 3, 0, T0), n = 0;
        int64_t p1 = part_of(f->s, m, 1), p2 = part_of(f->s, m, 2), p3 = part_of(f->s, m, 3);

        assert_int_equal(store_next_parts(f->s, T0 + 1, 10, pick_cb, &k), 3);
        assert_int_equal(k.p[1].pinned_modem, 0); /* nothing sent yet */
        assert_int_equal(store_part_sending(f->s, p1, f->modem, T0 + 1), 0);
        assert_int_equal(store_part_sent(f->s, p1, 5, T0 + 2), 0);
        k.n = 0;
        assert_int_equal(store_next_parts(f->s, T0 + 10, 10, pick_cb, &k), 2);
        assert_int_equal(k.p[0].pinned_modem, f->modem);
        assert_int_equal(k.p[0].pinned_at, T0 + 2);
        assert_int_equal(k.p[1].pinned_modem, f->modem);

        assert_int_equal(store_message_resend(f->s, m, "modem gone", T0 + 700, &n), 0);
        assert_true(n > m);
        assert_int_equal(state_of(f->s, p1), STORE_PART_SENT); /* never sent again alone */
        assert_int_equal(state_of(f->s, p2), STORE_PART_FAILED);
        assert_int_equal(state_of(f->s, p3), STORE_PART_FAILED);
        assert_int_equal(store_part_get(f->s, p2, &p), 0);
        assert_int_not_equal(ref_of(f, n), ref_of(f, m));
        k.n = 0;
        assert_int_equal(store_next_parts(f->s, T0 + 700, 10, pick_cb, &k), 3);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(k.p[i].message_id, n);
                assert_int_equal(k.p[i].pinned_modem, 0);
                assert_string_equal(k.text[i], "uno dos tres");
        }
        /* once: nothing of the old message is left to resend */
        assert_int_equal(store_message_resend(f->s, m, "again", T0 + 800, &n), -ENOENT);
        assert_int_equal(store_message_resend(f->s, 999, "none", T0, &n), -ENOENT);
}

/* A database from before the counter: the next reference follows the last one used. */
static void test_concat_ref_after_migration(void **state)
{
        struct fixture *f = *state;
        struct store_options o = { .target_version = 4 };
        char err[STORE_ERRMSG_MAX];
        sqlite3 *db;

        store_close(f->s);
        unlink(f->path);
        assert_int_equal(store_open(f->path, &o, &f->s, err), 0);
        store_close(f->s);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "INSERT INTO outgoing (recipient, text, encoding,"
                                      " part_count, concat_ref, created) VALUES"
                                      " ('+525512345678', 'a', 'gsm7', 2, 200, 1),"
                                      " ('+525587654321', 'b', 'gsm7', 2, 255, 1),"
                                      " ('+525512345678', 'c', 'gsm7', 1, 0, 2);",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, NULL, &f->s, err), 0);
        assert_int_equal(ref_of(f, queue(f->s, "+525512345678", "x", 2, 0, T0)), 201);
        assert_int_equal(ref_of(f, queue(f->s, "+525587654321", "x", 2, 0, T0)), 0);
}

static void test_not_before_and_pdus(void **state)
{
        struct fixture *f = *state;
        const char *pdus[] = { "0011000C915225" };
        struct store_outgoing_new m = {
                .recipient = "+525512345678",
                .text = "good morning",
                .encoding = STORE_ENC_UCS2,
                .part_count = 1,
                .not_before = T0 + 3600,
                .pdus = pdus,
        };
        struct picked k = { 0 };
        int64_t id;

        assert_int_equal(store_queue_message(f->s, &m, T0, &id), 0);
        m.part_count = 2; /* encoded at send time */
        m.pdus = NULL;
        assert_int_equal(store_queue_message(f->s, &m, T0, &id), 0);
        assert_int_equal(store_next_parts(f->s, T0 + 3599, 10, pick_cb, &k), 0);
        assert_int_equal(store_next_parts(f->s, T0 + 3600, 10, pick_cb, &k), 3);
        assert_string_equal(k.p[0].pdu ? "" : "null", ""); /* pointer was valid in the cb */
        assert_null(k.p[1].pdu);
        assert_int_equal(k.p[1].encoding, STORE_ENC_UCS2);
}

static void test_queue_refuses(void **state)
{
        struct fixture *f = *state;
        const char *bad_pdu[] = { "00zz" };
        char big[STORE_TEXT_MAX + 1];
        struct {
                struct store_outgoing_new m;
                const char *why;
        } cases[] = {
                { { .recipient = "", .text = "x", .part_count = 1 }, "recipient" },
                { { .recipient = "+525512345678", .text = "", .part_count = 1 }, "text" },
                { { .recipient = "+525512345678", .text = "x", .part_count = 0 }, "parts" },
                { { .recipient = "+525512345678", .text = "x", .part_count = 256 }, "parts" },
                { { .recipient = "+525512345678", .text = big, .part_count = 1 }, "text" },
                { { .recipient = "+525512345678", .text = "x", .part_count = 1, .pdus = bad_pdu },
                  "PDU" },
        };
        struct store_status st;
        int64_t id = -1;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(store_queue_message(f->s, &cases[i].m, T0, &id), -EINVAL);
                assert_non_null(strstr(store_errmsg(f->s), cases[i].why));
        }
        assert_int_equal(id, -1);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.messages_out, 0);
}

static void test_transitions(void **state)
{
        struct fixture *f = *state;
        struct store_part p;
        int64_t m = queue(f->s, "+525512345678", "take your pills", 1, 0, T0);
        int64_t id = part_of(f->s, m, 1);
        struct picked k = { 0 };

        /* only a sending part can be sent, failed or retried */
        assert_int_equal(store_part_sent(f->s, id, 7, T0), -ESTALE);
        assert_non_null(strstr(store_errmsg(f->s), "queued"));
        assert_int_equal(store_part_retry(f->s, id, T0, "x", T0), -ESTALE);

        assert_int_equal(store_part_sending(f->s, id, f->modem, T0), 0);
        assert_int_equal(state_of(f->s, id), STORE_PART_SENDING);
        assert_int_equal(store_part_sending(f->s, id, f->modem, T0), -ESTALE);
        assert_int_equal(store_next_parts(f->s, T0 + 1000, 10, pick_cb, &k), 0);

        assert_int_equal(store_part_retry(f->s, id, T0 + 60, "+CMS ERROR: 38", T0), 0);
        assert_int_equal(store_next_parts(f->s, T0 + 59, 10, pick_cb, &k), 0);
        assert_int_equal(store_next_parts(f->s, T0 + 60, 10, pick_cb, &k), 1);
        assert_int_equal(k.p[0].state, STORE_PART_RETRY);
        assert_int_equal(k.p[0].attempts, 1);
        assert_int_equal(k.p[0].modem_id, f->modem);

        assert_int_equal(store_part_sending(f->s, id, f->modem, T0 + 60), 0);
        assert_int_equal(store_part_sent(f->s, id, 300, T0 + 61), -EINVAL);
        assert_int_equal(store_part_sent(f->s, id, 17, T0 + 61), 0);
        assert_int_equal(store_part_get(f->s, id, &p), 0);
        assert_int_equal(p.state, STORE_PART_SENT);
        assert_int_equal(p.attempts, 2);
        assert_int_equal(store_part_failed(f->s, id, "late", T0), -ESTALE);
        assert_int_equal(store_part_sending(f->s, 999999, f->modem, T0), -ENOENT);
        assert_int_equal(store_part_get(f->s, 999999, &p), -ENOENT);

        int64_t m2 = queue(f->s, "+525512345678", "second", 1, 0, T0);
        int64_t id2 = part_of(f->s, m2, 1);
        assert_int_equal(store_part_sending(f->s, id2, f->modem, T0), 0);
        assert_int_equal(store_part_failed(f->s, id2, "+CMS ERROR: 500", T0), 0);
        assert_int_equal(state_of(f->s, id2), STORE_PART_FAILED);

        k.n = 0;
        assert_int_equal(store_parts_by_state(f->s, STORE_PART_FAILED, 10, pick_cb, &k), 1);
        assert_int_equal(k.p[0].part_id, id2);
        assert_int_equal(store_parts_by_state(f->s, STORE_PART_SENT, 10, pick_cb, &k), 1);
        assert_int_equal(store_parts_by_state(f->s, STORE_PART_STATE_COUNT, 10, pick_cb, &k),
                         -EINVAL);
}

static int64_t sent_part(struct fixture *f, const char *to, unsigned mr, int64_t at)
{
        int64_t m = queue(f->s, to, "hello", 1, 0, at);
        int64_t id = part_of(f->s, m, 1);

        assert_int_equal(store_part_sending(f->s, id, f->modem, at), 0);
        assert_int_equal(store_part_sent(f->s, id, mr, at), 0);
        return id;
}

static void test_reports(void **state)
{
        struct fixture *f = *state;
        int64_t old = sent_part(f, "+525512345678", 9, T0);
        int64_t other = sent_part(f, "+525587654321", 9, T0 + 100);
        int64_t recent = sent_part(f, "+525512345678", 9, T0 + 200);
        int64_t matched = -1, modem2;
        struct store_status st;

        /* the most recent part with that TP-MR and recipient wins */
        assert_int_equal(
                store_report_match(f->s, f->modem, 9, "+525512345678", 0x00, T0 + 230, &matched),
                0);
        assert_int_equal(matched, recent);
        assert_int_equal(state_of(f->s, recent), STORE_PART_DELIVERED);
        assert_int_equal(state_of(f->s, old), STORE_PART_SENT);
        assert_int_equal(state_of(f->s, other), STORE_PART_SENT);

        /* still trying: matched, state kept; then failed */
        assert_int_equal(store_report_match(f->s, 0, 9, "+525587654321", 0x30, T0 + 150, &matched),
                         0);
        assert_int_equal(matched, other);
        assert_int_equal(state_of(f->s, other), STORE_PART_SENT);
        assert_int_equal(store_report_match(f->s, 0, 9, "+525587654321", 0x41, T0 + 160, &matched),
                         0);
        assert_int_equal(state_of(f->s, other), STORE_PART_UNDELIVERABLE);

        /* outside the window, another modem, another TP-MR: stored, unmatched */
        assert_int_equal(store_report_match(f->s, 0, 9, "+525512345678", 0, T0 - 3600, &matched),
                         0);
        assert_int_equal(matched, 0);
        assert_int_equal(store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = "35" },
                                            NULL, T0, &modem2),
                         0);
        assert_int_equal(
                store_report_match(f->s, modem2, 9, "+525512345678", 0, T0 + 230, &matched), 0);
        assert_int_equal(matched, 0);
        assert_int_equal(store_report_match(f->s, 0, 10, "+525512345678", 0, T0 + 230, &matched),
                         0);
        assert_int_equal(matched, 0);
        assert_int_equal(store_report_match(f->s, 0, 9, "+525512345678", 0,
                                            T0 + 200 + STORE_REPORT_WINDOW_S + 1, &matched),
                         0);
        assert_int_equal(matched, 0);

        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.reports, 7);
        assert_int_equal(st.reports_unmatched, 4);
        assert_int_equal(st.parts[STORE_PART_DELIVERED], 1);
        assert_int_equal(st.parts[STORE_PART_UNDELIVERABLE], 1);
        assert_int_equal(st.parts[STORE_PART_SENT], 1);
        assert_int_equal(store_report_match(f->s, 0, 256, "+525512345678", 0, T0, NULL), -EINVAL);
}

#define INBOX_MAX 8
struct inbox {
        unsigned n;
        struct store_incoming m[INBOX_MAX];
        char text[INBOX_MAX][128];
};

static int inbox_cb(const struct store_incoming *m, void *userdata)
{
        struct inbox *b = userdata;

        assert_true(b->n < INBOX_MAX);
        b->m[b->n] = *m;
        snprintf(b->text[b->n], sizeof(b->text[0]), "%s", m->text);
        b->n++;
        return 0;
}

static int64_t add_in(struct fixture *f, const char *from, unsigned ref, unsigned total,
                      unsigned seq, const char *text, int64_t now)
{
        struct store_inbound_part p = {
                .modem_id = f->modem,
                .sender = from,
                .ref = ref,
                .total = total,
                .seq = seq,
                .text = text,
                .sc_time = now - 5,
        };
        int64_t id = -1;

        assert_int_equal(store_inbound_part_add(f->s, &p, now, &id), 0);
        return id;
}

static void test_inbound_reassembly(void **state)
{
        struct fixture *f = *state;
        struct inbox b = { 0 };
        struct store_status st;
        int64_t contact, id;

        assert_int_equal(store_contact_upsert(f->s, "P-001", "+525512345678", "es", "norte", NULL,
                                              T0, &contact),
                         0);
        /* parts out of order, a duplicate, and another sender's message with the same ref */
        assert_int_equal(add_in(f, "+525512345678", 7, 3, 3, "tres", T0), 0);
        assert_int_equal(add_in(f, "+525512345678", 7, 3, 1, "uno ", T0 + 1), 0);
        assert_int_equal(add_in(f, "+525512345678", 7, 3, 1, "uno ", T0 + 2), 0);
        assert_int_equal(add_in(f, "+525599999999", 7, 3, 2, "other", T0 + 2), 0);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.inbound_partial, 3);
        id = add_in(f, "+525512345678", 7, 3, 2, "dos ", T0 + 3);
        assert_true(id > 0);

        /* a single part goes straight in */
        assert_true(add_in(f, "+525587654321", 0, 1, 1, "SI", T0 + 4) > 0);

        assert_int_equal(store_inbox_list(f->s, 10, false, inbox_cb, &b), 2);
        assert_string_equal(b.text[1], "uno dos tres");
        assert_int_equal(b.m[1].id, id);
        assert_int_equal(b.m[1].parts, 3);
        assert_true(b.m[1].complete);
        assert_int_equal(b.m[1].contact_id, contact);
        assert_int_equal(b.m[1].modem_id, f->modem);
        assert_string_equal(b.text[0], "SI");
        assert_int_equal(b.m[0].contact_id, 0);

        /* the other sender's message times out and is flushed with its gaps marked */
        assert_int_equal(store_inbound_flush(f->s, T0 + 2, T0 + 100), 0);
        assert_int_equal(store_inbound_flush(f->s, T0 + 3, T0 + 100), 1);
        b.n = 0;
        assert_int_equal(store_inbox_list(f->s, 1, false, inbox_cb, &b), 1);
        assert_string_equal(b.text[0], "[...]other[...]");
        assert_false(b.m[0].complete);
        assert_int_equal(b.m[0].parts, 1);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.inbound_partial, 0);
        assert_int_equal(st.incoming, 3);
        assert_int_equal(st.incoming_unhandled, 3);

        assert_int_equal(store_incoming_mark_handled(f->s, id), 0);
        assert_int_equal(store_incoming_mark_handled(f->s, 12345), -ENOENT);
        b.n = 0;
        assert_int_equal(store_inbox_list(f->s, 10, true, inbox_cb, &b), 2);

        struct store_inbound_part bad = {
                .sender = "+525512345678", .text = "x", .total = 2, .seq = 3
        };
        assert_int_equal(store_inbound_part_add(f->s, &bad, T0, &id), -EINVAL);
        bad.total = 256;
        bad.seq = 1;
        assert_int_equal(store_inbound_part_add(f->s, &bad, T0, &id), -EINVAL);
        assert_non_null(strstr(store_errmsg(f->s), "out of range"));
}

/* A single-part message read again after a crash (stored, not yet deleted from the SIM) is
 * the same sender, SC time stamp and text: stored once within STORE_INBOUND_DUP_WINDOW_S. */
static int64_t add_single(struct fixture *f, const char *from, int64_t sc_time, const char *text,
                          int64_t now)
{
        struct store_inbound_part p = {
                .modem_id = f->modem,
                .sender = from,
                .total = 1,
                .seq = 1,
                .text = text,
                .sc_time = sc_time,
        };
        int64_t id = -1;

        assert_int_equal(store_inbound_part_add(f->s, &p, now, &id), 0);
        return id;
}

static void test_inbound_single_dedup(void **state)
{
        struct fixture *f = *state;
        struct store_status st;
        const char *a = "+525512345678", *b = "+525587654321";
        const int64_t sc = T0 - 30, w = STORE_INBOUND_DUP_WINDOW_S;
        static const struct {
                const char *from;
                int64_t sc_time;
                const char *text;
                int64_t now;
                bool stored;
        } rows[] = {
                { "A", 0, "SI", 0, true },
                { "A", 0, "SI", 40, false },  /* re-read after a crash */
                { "A", 0, "SI", 500, false }, /* and after a second one */
                { "A", 1, "SI", 60, true },   /* said again a second later */
                { "B", 0, "SI", 60, true },   /* another sender, same second */
                { "A", 0, "si", 60, true },   /* other text */
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                int64_t id = add_single(f, rows[i].from[0] == 'A' ? a : b, sc + rows[i].sc_time,
                                        rows[i].text, T0 + rows[i].now);
                if (rows[i].stored)
                        assert_true(id > 0);
                else
                        assert_int_equal(id, 0);
        }
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.incoming, 4);
        /* an unknown time stamp (0) proves nothing: both kept */
        assert_true(add_single(f, a, 0, "NO", T0) > 0);
        assert_true(add_single(f, a, 0, "NO", T0 + 1) > 0);
        /* past the window the earlier copy is not looked at */
        assert_true(add_single(f, a, sc, "SI", T0 + w + 1) > 0);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.incoming, 7);
}

static int stop_cb(const struct store_incoming *m, void *userdata)
{
        (*(int *)userdata)++;
        return 77;
}

static void test_callback_stops(void **state)
{
        struct fixture *f = *state;
        int calls = 0;

        add_in(f, "+525512345678", 0, 1, 1, "a", T0);
        add_in(f, "+525512345678", 0, 1, 1, "b", T0);
        assert_int_equal(store_inbox_list(f->s, 10, false, stop_cb, &calls), 77);
        assert_int_equal(calls, 1);
        /* the statement was reset: the store goes on working */
        assert_int_equal(store_inbox_list(f->s, 10, false, stop_cb, &calls), 77);
}

static int modem_list_cb(const struct store_modem *m, void *userdata)
{
        assert_string_equal(m->imei, "861234567890123");
        assert_int_equal(m->sent_today, 1);
        (*(unsigned *)userdata)++;
        return 0;
}

static void test_modems(void **state)
{
        struct fixture *f = *state;
        struct store_modem m;
        unsigned n = 0;
        int64_t id;

        struct store_modem_identity ident = { .imei = "861234567890123",
                                              .iccid = "8952140000000000001",
                                              .imsi = "334020000000001",
                                              .maker = "SIMCOM",
                                              .model = "SIM800L",
                                              .revision = "1418B05" };
        assert_int_equal(store_modem_upsert(f->s, &ident, "/dev/ttyUSB0", T0 + 5, &id), 0);
        assert_int_equal(id, f->modem); /* same IMEI, same modem, new port */
        /* SIM not ready: unknown fields keep what was known */
        struct store_modem_identity partial = { .imei = "861234567890123" };
        assert_int_equal(store_modem_upsert(f->s, &partial, NULL, T0 + 6, &id), 0);
        assert_int_equal(store_modem_get(f->s, id, 0, &m), 0);
        assert_string_equal(m.iccid, "8952140000000000001");
        assert_string_equal(m.model, "SIM800L");
        assert_string_equal(m.device, "/dev/ttyUSB0");
        assert_int_equal(m.last_seen, T0 + 6);

        assert_int_equal(store_modem_count_sent(f->s, id, 20260101, &n), 0);
        assert_int_equal(store_modem_count_sent(f->s, id, 20260101, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(store_modem_get(f->s, id, 20260102, &m), 0);
        assert_int_equal(m.sent_today, 0); /* another day */
        assert_int_equal(store_modem_count_sent(f->s, id, 20260102, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(store_modem_count_error(f->s, id), 0);
        assert_int_equal(store_modem_set_state(f->s, id, "ready", "csq 18, registered home"), 0);
        assert_int_equal(store_modem_get(f->s, id, 20260102, &m), 0);
        assert_int_equal(m.sent_today, 1);
        assert_int_equal(m.errors, 1);
        assert_string_equal(m.state, "ready");
        assert_string_equal(m.health, "csq 18, registered home");

        unsigned listed = 0;
        assert_int_equal(store_modem_list(f->s, 20260102, modem_list_cb, &listed), 1);
        assert_int_equal(listed, 1);
        assert_int_equal(store_modem_count_sent(f->s, 4242, 20260102, &n), -ENOENT);
        assert_int_equal(store_modem_count_error(f->s, 4242), -ENOENT);
        assert_int_equal(store_modem_get(f->s, 4242, 0, &m), -ENOENT);
        assert_int_equal(store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = "" },
                                            NULL, T0, &id),
                         -EINVAL);
}

/* The daily count of each modem on its own row: the count is read back after the UPDATE
 * (no RETURNING), so a read of the wrong row or a stale one would show here. */
static void test_count_sent_per_modem(void **state)
{
        static const struct {
                int which; /* 0: the fixture's modem, 1: a second one */
                uint32_t day;
                unsigned want;
        } steps[] = {
                { 0, 20260101, 1 }, { 1, 20260101, 1 }, { 0, 20260101, 2 }, { 0, 20260101, 3 },
                { 1, 20260101, 2 }, { 1, 20260102, 1 }, { 0, 20260102, 1 }, { 1, 20260102, 2 },
        };
        struct fixture *f = *state;
        int64_t ids[2] = { f->modem, 0 };
        struct store_modem m;
        unsigned n;

        assert_int_equal(store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = "862" },
                                            "/dev/ttyUSB3", T0, &ids[1]),
                         0);
        assert_true(ids[1] != ids[0]);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                n = 0;
                assert_int_equal(
                        store_modem_count_sent(f->s, ids[steps[i].which], steps[i].day, &n), 0);
                if (n != steps[i].want)
                        fail_msg("step %zu: modem %d day %u counted %u, want %u", i, steps[i].which,
                                 (unsigned)steps[i].day, n, steps[i].want);
        }
        assert_int_equal(store_modem_get(f->s, ids[0], 20260102, &m), 0);
        assert_int_equal(m.sent_today, 1);
        assert_int_equal(store_modem_get(f->s, ids[1], 20260102, &m), 0);
        assert_int_equal(m.sent_today, 2);
        /* A modem that does not exist: an error, and the out-parameter left alone. */
        n = 77;
        assert_int_equal(store_modem_count_sent(f->s, ids[1] + 100, 20260102, &n), -ENOENT);
        assert_int_equal(n, 77);
        assert_non_null(strstr(store_errmsg(f->s), "count sent: no modem"));
}

struct events {
        unsigned n;
        int64_t seq[8];
        char type[8][32];
        char json[8][64];
};

static int event_cb(const struct store_event_row *e, void *userdata)
{
        struct events *v = userdata;

        v->seq[v->n] = e->seq;
        snprintf(v->type[v->n], sizeof(v->type[0]), "%s", e->type);
        snprintf(v->json[v->n], sizeof(v->json[0]), "%s", e->json);
        v->n++;
        return 0;
}

static void test_events(void **state)
{
        struct fixture *f = *state;
        struct events v = { 0 };
        int64_t seq;

        assert_int_equal(store_event_append(f->s,
                                            &(struct store_event){ .time = T0,
                                                                   .type = "sms.sent",
                                                                   .json = "{\"part\": 3}" },
                                            &seq),
                         0);
        assert_int_equal(seq, 1);
        assert_int_equal(store_event_append(f->s,
                                            &(struct store_event){ .time = T0 + 1,
                                                                   .clock_trusted = true,
                                                                   .type = "daemon.start" },
                                            &seq),
                         0);
        assert_int_equal(seq, 2);
        /* refused: bad JSON, bad type */
        assert_int_equal(store_event_append(
                                 f->s, &(struct store_event){ .type = "x", .json = "{oops" }, &seq),
                         -EINVAL);
        assert_int_equal(
                store_event_append(f->s, &(struct store_event){ .type = "Bad Type" }, &seq),
                -EINVAL);
        assert_int_equal(store_events_after(f->s, 0, 10, event_cb, &v), 2);
        assert_string_equal(v.type[0], "sms.sent");
        assert_string_equal(v.json[0], "{\"part\":3}"); /* stored minified */
        assert_string_equal(v.json[1], "{}");
        v.n = 0;
        assert_int_equal(store_events_after(f->s, 1, 10, event_cb, &v), 1);
        assert_int_equal(v.seq[0], 2);
}

static void test_contacts_and_settings(void **state)
{
        struct fixture *f = *state;
        struct store_contact c;
        int64_t a, b, again;
        char buf[8];

        assert_int_equal(store_contact_upsert(f->s, "P-001", "+525512345678", NULL, "norte",
                                              "{\"arm\": \"B\"}", T0, &a),
                         0);
        assert_int_equal(
                store_contact_upsert(f->s, "P-002", "+525587654321", "en", NULL, NULL, T0, &b), 0);
        assert_int_not_equal(a, b);
        assert_int_equal(
                store_contact_upsert(f->s, "P-001", "+525511112222", "es", "sur", NULL, T0, &again),
                0);
        assert_int_equal(again, a);
        /* the phone of another study id */
        assert_int_equal(
                store_contact_upsert(f->s, "P-003", "+525587654321", NULL, NULL, NULL, T0, &again),
                -EEXIST);
        assert_int_equal(
                store_contact_upsert(f->s, "P-004", "5512345678", NULL, NULL, NULL, T0, &again),
                -EINVAL); /* not E.164 */
        assert_int_equal(
                store_contact_upsert(f->s, "P-004", "+525500000000", NULL, NULL, "[1]", T0, &again),
                -EINVAL); /* fields must be an object */
        assert_int_equal(store_contact_by_phone(f->s, "+525511112222", &c), 0);
        assert_string_equal(c.study_id, "P-001");
        assert_string_equal(c.clinic, "sur");
        assert_string_equal(c.fields, "{}");
        assert_int_equal(store_contact_by_phone(f->s, "+525512345678", &c), -ENOENT);

        assert_int_equal(store_setting_get(f->s, "upload.seq", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(store_setting_set(f->s, "upload.seq", "41"), 0);
        assert_int_equal(store_setting_set(f->s, "upload.seq", "42"), 0);
        assert_int_equal(store_setting_get(f->s, "upload.seq", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "42");
        assert_int_equal(store_setting_set(f->s, "long", "12345678"), 0);
        assert_int_equal(store_setting_get(f->s, "long", buf, sizeof(buf)), -ENOBUFS);
}

static void test_names(void **state)
{
        enum store_part_state st;

        for (int i = 0; i < STORE_PART_STATE_COUNT; i++) {
                assert_int_equal(store_part_state_from_name(store_part_state_name(i), &st), 0);
                assert_int_equal(st, i);
        }
        assert_int_equal(store_part_state_from_name("lost", &st), -EINVAL);
        assert_string_equal(store_part_state_name(STORE_PART_STATE_COUNT), "?");
}

static void test_schema_version(void **state)
{
        struct fixture *f = *state;
        unsigned v = 0;

        assert_int_equal(store_schema_version(f->s, &v), 0);
        assert_int_equal(v, STORE_SCHEMA_VERSION);
        assert_int_equal(store_settled_at_open(f->s), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_queue_and_order),
                T(test_not_before_and_pdus),
                T(test_queue_refuses),
                T(test_transitions),
                T(test_reports),
                T(test_inbound_reassembly),
                T(test_callback_stops),
                T(test_modems),
                T(test_count_sent_per_modem),
                T(test_events),
                T(test_contacts_and_settings),
                cmocka_unit_test(test_names),
                T(test_schema_version),
                T(test_inbound_single_dedup),
                T(test_concat_ref_per_recipient),
                T(test_concat_ref_after_migration),
                T(test_message_pin_and_resend),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
