/* daemon/store: what the exactly-once contract of docs/store.md promises, tested with real
 * processes on a real file: a sender SIGKILLed at any point leaves at most the one part it
 * was sending in doubt; two processes writing at once lose nothing; a full database answers
 * -ENOSPC and stays usable; a version 1 database is migrated; files that are not ours are
 * refused. The v1 database is written with the sqlite3 program, as an old Puente left it. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/store.h"

#define T0             1790000000
#define STRESS_PARTS   400
#define STRESS_KILL_AT 60 /* parts the child reports before it is killed */
#define WRITERS        2
#define WRITES_EACH    150
#define FULL_MAX_PAGES 40 /* 160 KiB at 4 KiB pages */

struct fixture {
        char dir[64];
        char path[96];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        snprintf(f->dir, sizeof(f->dir), "/tmp/puente-test-durability-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->path, sizeof(f->path), "%s/puente.db", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[160];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

static struct store *open_or_die(const char *path, const struct store_options *o)
{
        char err[STORE_ERRMSG_MAX];
        struct store *s = NULL;

        if (store_open(path, o, &s, err) < 0)
                fail_msg("store_open %s: %s", path, err);
        return s;
}

static int64_t queue1(struct store *s, const char *to, int64_t now)
{
        struct store_outgoing_new m = { .recipient = to, .text = "recordatorio", .part_count = 1 };
        int64_t id;

        if (store_queue_message(s, &m, now, &id) < 0)
                return -1;
        return id;
}

struct first {
        int64_t part;
        unsigned n;
};

static int first_cb(const struct store_part *p, void *userdata)
{
        struct first *k = userdata;

        if (k->n++ == 0)
                k->part = p->part_id;
        return 0;
}

static int64_t part_of_message(struct store *s, int64_t message)
{
        struct store_part p;

        /* the ids of parts and messages differ once multi-part messages exist: look */
        for (int64_t id = 1; id < 100000; id++) {
                if (store_part_get(s, id, &p) < 0)
                        break;
                if (p.message_id == message)
                        return id;
        }
        return -1;
}

static enum store_part_state state_of(struct store *s, int64_t part)
{
        struct store_part p;

        assert_int_equal(store_part_get(s, part, &p), 0);
        return p.state;
}

static void write_all(int fd, const void *buf, size_t n)
{
        if (write(fd, buf, n) != (ssize_t)n)
                _exit(3);
}

static void kill_child(pid_t pid)
{
        int status;

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A child marks A sending, B sending then sent, queues C, and waits to be killed. */
static void crash_child(const char *path, int fd, int64_t modem)
{
        struct store *s = NULL;
        int64_t ids[3];

        if (store_open(path, NULL, &s, NULL) < 0)
                _exit(2);
        for (int i = 0; i < 3; i++)
                if ((ids[i] = part_of_message(s, queue1(s, "+525512345678", T0))) < 0)
                        _exit(2);
        if (store_part_sending(s, ids[0], modem, T0) < 0 ||
            store_part_sending(s, ids[1], modem, T0) < 0 || store_part_sent(s, ids[1], 77, T0) < 0)
                _exit(2);
        write_all(fd, ids, sizeof(ids));
        for (;;)
                pause();
}

static int64_t make_modem(const char *path)
{
        struct store *s = open_or_die(path, NULL);
        int64_t id;

        assert_int_equal(store_modem_upsert(s, &(struct store_modem_identity){ .imei = "8612" },
                                            "/dev/ttyUSB0", T0, &id),
                         0);
        store_close(s);
        return id;
}

static void crash_and_reopen(struct fixture *f, bool resend)
{
        int64_t modem = make_modem(f->path), ids[3];
        struct store_options o = { .resend_unknown = resend };
        struct first k = { 0 };
        struct store *s;
        int fds[2];
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                crash_child(f->path, fds[1], modem);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], ids, sizeof(ids)), (ssize_t)sizeof(ids));
        close(fds[0]);
        kill_child(pid);

        s = open_or_die(f->path, &o);
        assert_int_equal(store_settled_at_open(s), 1);
        assert_int_equal(state_of(s, ids[0]), resend ? STORE_PART_RETRY : STORE_PART_UNKNOWN);
        assert_int_equal(state_of(s, ids[1]), STORE_PART_SENT);
        assert_int_equal(state_of(s, ids[2]), STORE_PART_QUEUED);
        /* what was queued goes out after the restart; the part in doubt only if configured */
        assert_int_equal(store_next_parts(s, T0 + 1, 10, first_cb, &k), resend ? 2 : 1);
        assert_int_equal(k.part, resend ? ids[0] : ids[2]);
        /* the report for the sent part still finds it: its TP-MR was committed */
        int64_t matched = 0;
        assert_int_equal(store_report_match(s, modem, 77, "+525512345678", 0, T0 + 5, &matched), 0);
        assert_int_equal(matched, ids[1]);
        store_close(s);
}

/* puentectl opening the database while the daemon sends must not touch the part in flight. */
static void test_tool_leaves_sending(void **state)
{
        struct fixture *f = *state;
        int64_t modem = make_modem(f->path), part;
        struct store_options tool = { .leave_sending = true };
        struct store *daemon = open_or_die(f->path, NULL), *ctl;

        part = part_of_message(daemon, queue1(daemon, "+525512345678", T0));
        assert_int_equal(store_part_sending(daemon, part, modem, T0), 0);
        ctl = open_or_die(f->path, &tool);
        assert_int_equal(store_settled_at_open(ctl), 0);
        assert_int_equal(state_of(ctl, part), STORE_PART_SENDING);
        store_close(ctl);
        assert_int_equal(store_part_sent(daemon, part, 3, T0 + 1), 0);
        store_close(daemon);
}

static void test_crash_unknown(void **state)
{
        crash_and_reopen(*state, false);
}

static void test_crash_resend_configured(void **state)
{
        crash_and_reopen(*state, true);
}

/* A child sends parts in a loop (sending, then sent), telling the parent after each
 * "sending" commit; killed at an arbitrary point, at most one part may be left in doubt and
 * every part reported as committed must not be queued again. */
static void test_crash_in_a_loop(void **state)
{
        struct fixture *f = *state;
        int64_t modem = make_modem(f->path), reported[STRESS_KILL_AT];
        struct store_status st;
        struct store *s = open_or_die(f->path, NULL);
        int fds[2];
        pid_t pid;

        for (int i = 0; i < STRESS_PARTS; i++)
                assert_true(queue1(s, "+525512345678", T0) > 0);
        store_close(s);
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct first k;
                close(fds[0]);
                if (store_open(f->path, NULL, &s, NULL) < 0)
                        _exit(2);
                for (unsigned i = 0;; i++) {
                        k = (struct first){ 0 };
                        if (store_next_parts(s, T0, 1, first_cb, &k) != 1 ||
                            store_part_sending(s, k.part, modem, T0) < 0)
                                _exit(2);
                        write_all(fds[1], &k.part, sizeof(k.part));
                        if (store_part_sent(s, k.part, i % 256, T0) < 0)
                                _exit(2);
                }
        }
        close(fds[1]);
        for (int i = 0; i < STRESS_KILL_AT; i++)
                assert_int_equal(read(fds[0], &reported[i], sizeof(reported[i])),
                                 (ssize_t)sizeof(reported[i]));
        kill_child(pid);
        close(fds[0]);

        s = open_or_die(f->path, NULL);
        assert_true(store_settled_at_open(s) <= 1);
        for (int i = 0; i < STRESS_KILL_AT; i++) {
                enum store_part_state ps = state_of(s, reported[i]);
                assert_true(ps == STORE_PART_SENT || ps == STORE_PART_UNKNOWN);
        }
        assert_int_equal(store_status_counts(s, &st), 0);
        assert_true(st.parts[STORE_PART_UNKNOWN] <= 1);
        assert_int_equal(st.parts[STORE_PART_SENDING], 0);
        assert_int_equal(st.parts[STORE_PART_QUEUED] + st.parts[STORE_PART_SENT] +
                                 st.parts[STORE_PART_UNKNOWN],
                         STRESS_PARTS);
        assert_true(st.parts[STORE_PART_SENT] >= STRESS_KILL_AT - 1);
        store_close(s);
}

/* Two processes write at once (a daemon and puentectl): every write lands. */
static void test_concurrent_writers(void **state)
{
        struct fixture *f = *state;
        int64_t modem = make_modem(f->path);
        struct store_modem m;
        struct store_status st;
        pid_t pids[WRITERS];
        struct store *s;

        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                assert_true(pids[w] >= 0);
                if (pids[w] != 0)
                        continue;
                if (store_open(f->path, NULL, &s, NULL) < 0)
                        _exit(2);
                for (int i = 0; i < WRITES_EACH; i++) {
                        struct store_event ev = { .time = T0 + i, .type = "test.write" };
                        if (queue1(s, "+525512345678", T0 + i) < 0 ||
                            store_event_append(s, &ev, NULL) < 0 ||
                            store_modem_count_sent(s, modem, 20260101, NULL) < 0) {
                                fprintf(stderr, "writer %d: %s\n", w, store_errmsg(s));
                                _exit(1);
                        }
                }
                store_close(s);
                _exit(0);
        }
        for (int w = 0; w < WRITERS; w++) {
                int status;
                assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        s = open_or_die(f->path, NULL);
        assert_int_equal(store_status_counts(s, &st), 0);
        assert_int_equal(st.messages_out, WRITERS * WRITES_EACH);
        assert_int_equal(st.parts[STORE_PART_QUEUED], WRITERS * WRITES_EACH);
        assert_int_equal(st.events, WRITERS * WRITES_EACH);
        assert_int_equal(store_modem_get(s, modem, 20260101, &m), 0);
        assert_int_equal(m.sent_today, WRITERS * WRITES_EACH);
        store_close(s);
}

static void test_full_disk(void **state)
{
        struct fixture *f = *state;
        struct store_options o = { .max_pages = FULL_MAX_PAGES };
        struct store *s = open_or_die(f->path, &o);
        struct store_outgoing_new m = { .recipient = "+525512345678", .part_count = 3 };
        char text[3000];
        struct store_status st;
        struct first k = { 0 };
        int64_t id, part;
        int r = 0, queued = 0;

        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        m.text = text;
        while (queued < 1000 && (r = store_queue_message(s, &m, T0, &id)) == 0)
                queued++;
        assert_int_equal(r, -ENOSPC);
        assert_true(queued > 5);
        assert_non_null(strstr(store_errmsg(s), "full"));

        /* still usable: reads, part transitions and small writes in place */
        assert_int_equal(store_status_counts(s, &st), 0);
        assert_int_equal(st.messages_out, queued);
        assert_int_equal(st.parts[STORE_PART_QUEUED], 3 * queued); /* no half message */
        assert_int_equal(store_next_parts(s, T0, 1, first_cb, &k), 1);
        part = k.part;
        assert_int_equal(store_part_sending(s, part, 0, T0), 0);
        assert_int_equal(store_part_sent(s, part, 1, T0), 0);
        store_close(s);

        /* room again (the technician freed space, here: lifted the cap): writes work */
        s = open_or_die(f->path, NULL);
        assert_int_equal(store_queue_message(s, &m, T0, &id), 0);
        assert_int_equal(state_of(s, part), STORE_PART_SENT);
        store_close(s);
}

static int sqlite3_cli(const char *path, const char *sql)
{
        char cmd[4096];

        snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", path, sql);
        return system(cmd);
}

struct unhandled {
        unsigned n;
        char text[4][16];
};

static int unhandled_cb(const struct store_incoming *m, void *userdata)
{
        struct unhandled *u = userdata;
        if (u->n < 4)
                snprintf(u->text[u->n++], sizeof(u->text[0]), "%s", m->text);
        return 0;
}

static void test_migrate_v1(void **state)
{
        struct fixture *f = *state;
        struct store_options v1 = { .target_version = 1 };
        struct store *s = open_or_die(f->path, &v1);
        struct first k = { 0 };
        unsigned version = 0;
        struct store_part p;

        assert_int_equal(store_schema_version(s, &version), 0);
        assert_int_equal(version, 1);
        store_close(s);
        /* rows as version 1 wrote them, with a part caught sending */
        assert_int_equal(sqlite3_cli(f->path,
                                     "INSERT INTO modems (imei, first_seen, last_seen)"
                                     " VALUES ('8612', 1, 1);"
                                     "INSERT INTO outgoing (recipient, text, encoding, part_count,"
                                     " concat_ref, created) VALUES ('+525512345678', 'hola',"
                                     " 'gsm7', 2, 9, 1);"
                                     "INSERT INTO outgoing_parts (message_id, seq, state, modem_id,"
                                     " attempts, updated) VALUES (1, 1, 'sending', 1, 1, 1),"
                                     " (1, 2, 'queued', NULL, 0, 1);"
                                     "INSERT INTO incoming (sender, text, parts, complete, sc_time,"
                                     " received, handled) VALUES ('+525512345678', 'SI', 1, 1, 1,"
                                     " 1, 1), ('+525512345678', 'NO', 1, 1, 2, 2, 0),"
                                     " ('+525512345678', 'TAL VEZ', 1, 1, 3, 3, 0);"),
                         0);
        s = open_or_die(f->path, NULL);
        assert_int_equal(store_schema_version(s, &version), 0);
        assert_int_equal(version, STORE_SCHEMA_VERSION);
        assert_int_equal(store_settled_at_open(s), 1);
        assert_int_equal(store_next_parts(s, T0, 10, first_cb, &k), 1);
        assert_int_equal(store_part_get(s, k.part, &p), 0);
        assert_int_equal(p.seq, 2);
        assert_int_equal(p.priority, 0); /* the column v2 added, with its default */
        assert_int_equal(p.concat_ref, 9);
        assert_int_equal(state_of(s, 1), STORE_PART_UNKNOWN);
        /* version 7's index of the unhandled holds the rows that were there before it */
        struct unhandled u = { 0 };
        assert_int_equal(store_inbox_unhandled(s, 10, unhandled_cb, &u), 2);
        assert_string_equal(u.text[0], "NO");
        assert_string_equal(u.text[1], "TAL VEZ");
        store_close(s);
}

static void test_refused_files(void **state)
{
        struct fixture *f = *state;
        char err[STORE_ERRMSG_MAX], path[128];
        struct store *s = NULL;
        FILE *fp;

        /* written by a newer Puente */
        s = open_or_die(f->path, NULL);
        store_close(s);
        s = NULL;
        assert_int_equal(sqlite3_cli(f->path, "PRAGMA user_version = 99;"), 0);
        assert_int_equal(store_open(f->path, NULL, &s, err), -ENOTSUP);
        assert_non_null(strstr(err, "newer"));
        assert_null(s);

        /* not a database */
        snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
        fp = fopen(path, "w");
        assert_non_null(fp);
        for (int i = 0; i < 200; i++)
                fputs("this is not a database, it is a technician's notes file\n", fp);
        fclose(fp);
        assert_int_equal(store_open(path, NULL, &s, err), -EBADMSG);
        assert_non_null(strstr(err, "not a database"));

        /* a directory that does not exist */
        snprintf(path, sizeof(path), "%s/missing/puente.db", f->dir);
        assert_int_equal(store_open(path, NULL, &s, err), -ENOENT);
        assert_non_null(strstr(err, "missing/puente.db"));
        assert_null(s);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_crash_unknown),   T(test_crash_resend_configured),
                T(test_crash_in_a_loop), T(test_concurrent_writers),
                T(test_full_disk),       T(test_migrate_v1),
                T(test_refused_files),   T(test_tool_leaves_sending),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
