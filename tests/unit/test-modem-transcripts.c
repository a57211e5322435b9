/* Replays tests/transcripts/modem-*.modem: whole modem sessions (what the core must write,
 * what the modem answers, the caller's actions and what the core must report) through the
 * scripted fake modem of test-modem-harness.h. Format in tests/transcripts/README-modem. */
#include <dirent.h>

#include "tests/unit/test-modem-harness.h"

#include "at/quirks.h"

#define TR_LINE_MAX  4096
#define TR_EXCH_MAX  512
#define TR_FILES_MAX 64

struct tr {
        const char *file;
        int lineno;
        struct fake *f;
        struct exch ex[TR_EXCH_MAX]; /* the segment being collected */
        size_t n_ex, seg_start;
        char *strings[2 * TR_EXCH_MAX];
        size_t n_strings;
        unsigned quirks;
        char smsc[64];
        bool has_model, has_firmware, has_origin;
};

static char *keep(struct tr *t, const char *s, size_t n)
{
        assert_true(t->n_strings < 2 * TR_EXCH_MAX);
        char *p = strndup(s, n);
        assert_non_null(p);
        t->strings[t->n_strings++] = p;
        return p;
}

/* \r \n \s \z \e \xNN \\ as in tests/transcripts/README. */
static char *unescape(struct tr *t, const char *s)
{
        char buf[TR_LINE_MAX];
        size_t k = 0;
        for (; *s && k + 1 < sizeof(buf); s++) {
                if (*s != '\\') {
                        buf[k++] = *s;
                        continue;
                }
                s++;
                switch (*s) {
                case 'r':
                        buf[k++] = '\r';
                        break;
                case 'n':
                        buf[k++] = '\n';
                        break;
                case 's':
                        buf[k++] = ' ';
                        break;
                case 'z':
                        buf[k++] = 0x1a;
                        break;
                case 'e':
                        buf[k++] = 0x1b;
                        break;
                case '\\':
                        buf[k++] = '\\';
                        break;
                case 'x': {
                        unsigned v;
                        if (sscanf(s + 1, "%2x", &v) != 1)
                                fail_msg("%s:%d: bad \\x escape", t->file, t->lineno);
                        buf[k++] = (char)v;
                        s += 2;
                        break;
                }
                default:
                        fail_msg("%s:%d: unknown escape \\%c", t->file, t->lineno, *s);
                }
        }
        return keep(t, buf, k);
}

/* Hands the collected exchanges to the fake and runs until it has used them all. */
static void flush(struct tr *t)
{
        if (t->n_ex == t->seg_start)
                return;
        assert_true(t->n_ex < TR_EXCH_MAX);
        t->ex[t->n_ex++] = (struct exch)END;
        fake_add(t->f, &t->ex[t->seg_start]);
        t->seg_start = t->n_ex;
        fake_run(t->f, 120000);
        if (fake_next(t->f))
                fail_msg("%s:%d: the core never wrote \"%s\"\n%s", t->file, t->lineno,
                         fake_next(t->f)->cmd, t->f->log);
}

static enum at_send_outcome outcome_from(struct tr *t, const char *w)
{
        for (int o = AT_SEND_SENT; o <= AT_SEND_UNKNOWN; o++)
                if (strcmp(at_send_outcome_name(o), w) == 0)
                        return o;
        fail_msg("%s:%d: unknown outcome %s", t->file, t->lineno, w);
        return AT_SEND_SENT;
}

static enum at_modem_state state_from(struct tr *t, const char *w)
{
        for (int s = AT_MODEM_PROBE; s <= AT_MODEM_FAILED; s++)
                if (strcmp(at_modem_state_name(s), w) == 0)
                        return s;
        fail_msg("%s:%d: unknown state %s", t->file, t->lineno, w);
        return AT_MODEM_PROBE;
}

static unsigned quirk_from(struct tr *t, const char *w)
{
        for (unsigned q = 1; q != 0; q <<= 1)
                if (strcmp(at_quirk_name(q), w) == 0)
                        return q;
        fail_msg("%s:%d: unknown quirk %s", t->file, t->lineno, w);
        return 0;
}

static void expect(struct tr *t, const char *what, const char *arg)
{
        struct fake *f = t->f;
        char w[64] = "";
        long a = 0, b = -1;
        if (strcmp(what, "state") == 0) {
                if (at_modem_state(f->m) != state_from(t, arg))
                        fail_msg("%s:%d: state %s\n%s", t->file, t->lineno,
                                 at_modem_state_name(at_modem_state(f->m)), f->log);
        } else if (strcmp(what, "result") == 0) {
                int n = sscanf(arg, "%ld %63s %ld", &a, w, &b);
                bool found = false;
                for (size_t i = 0; i < f->n_results && n >= 2; i++)
                        if (f->results[i].cookie == (uint64_t)a) {
                                found = f->results[i].outcome == outcome_from(t, w) &&
                                        (n < 3 || f->results[i].mr == b);
                                break;
                        }
                if (!found)
                        fail_msg("%s:%d: no result %s\n%s", t->file, t->lineno, arg, f->log);
        } else if (strcmp(what, "sms") == 0 || strcmp(what, "report") == 0) {
                bool sms = what[0] == 's';
                a = strtol(arg, NULL, 10);
                size_t n = sms ? f->n_sms : f->n_reports;
                bool found = false;
                for (size_t i = 0; i < n; i++)
                        found |= (sms ? f->sms_index[i] : f->report_index[i]) == a;
                if (!found)
                        fail_msg("%s:%d: no %s %ld\n%s", t->file, t->lineno, what, a, f->log);
        } else if (strcmp(what, "error") == 0) {
                if (!strstr(at_modem_info(f->m)->last_error, arg))
                        fail_msg("%s:%d: last error \"%s\"", t->file, t->lineno,
                                 at_modem_info(f->m)->last_error);
        } else if (strcmp(what, "quirk") == 0) {
                if (!(at_modem_info(f->m)->quirks & quirk_from(t, arg)))
                        fail_msg("%s:%d: quirk %s not set", t->file, t->lineno, arg);
        } else if (strcmp(what, "log") == 0) {
                if (!strstr(f->log, arg))
                        fail_msg("%s:%d: \"%s\" not in the log\n%s", t->file, t->lineno, arg,
                                 f->log);
        } else {
                fail_msg("%s:%d: unknown expect %s", t->file, t->lineno, what);
        }
}

static void run_line(struct tr *t, char *line)
{
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        if (line[0] == '#') {
                t->has_model |= strncmp(line, "# model: ", 9) == 0;
                t->has_firmware |= strncmp(line, "# firmware: ", 12) == 0;
                t->has_origin |= strncmp(line, "# origin: ", 10) == 0;
                return;
        }
        if (n == 0)
                return;
        char *sp = strchr(line, ' ');
        const char *arg = sp ? sp + 1 : "";
        if (sp)
                *sp = '\0';
        if (strcmp(line, ">") == 0) { /* a command the core must write */
                assert_true(t->n_ex + 1 < TR_EXCH_MAX);
                t->ex[t->n_ex++] = (struct exch){ keep(t, arg, strlen(arg)), NULL };
        } else if (strcmp(line, "<") == 0 || strcmp(line, "<raw") == 0) {
                if (t->n_ex == t->seg_start)
                        fail_msg("%s:%d: an answer without its command", t->file, t->lineno);
                struct exch *e = &t->ex[t->n_ex - 1];
                /* answers are kept as '|' separated lines; raw bytes start with '>' */
                const char *add = line[1] ? unescape(t, arg) : arg;
                char buf[TR_LINE_MAX * 2];
                snprintf(buf, sizeof(buf), "%s%s%s", e->resp ? e->resp : "", e->resp ? "|" : "",
                         add);
                e->resp = keep(t, buf, strlen(buf));
        } else if (strcmp(line, "config") == 0) {
                char key[32], val[64];
                if (sscanf(arg, "%31[^=]=%63s", key, val) != 2)
                        fail_msg("%s:%d: config KEY=VALUE", t->file, t->lineno);
                if (strcmp(key, "quirk") == 0)
                        t->quirks |= quirk_from(t, val);
                else if (strcmp(key, "smsc") == 0)
                        snprintf(t->smsc, sizeof(t->smsc), "%s", val);
                else
                        fail_msg("%s:%d: unknown config %s", t->file, t->lineno, key);
        } else if (strcmp(line, "start") == 0) {
                t->f = fake_new(t->quirks, t->smsc[0] ? t->smsc : NULL);
                t->f->hold = true;
                assert_int_equal(at_modem_start(t->f->m, t->f->now), 0);
        } else if (!t->f) {
                fail_msg("%s:%d: %s before start", t->file, t->lineno, line);
        } else if (strcmp(line, "pin") == 0) {
                t->f->pin = keep(t, arg, strlen(arg));
        } else if (strcmp(line, "echo") == 0) {
                t->f->echo = strcmp(arg, "on") == 0;
        } else {
                flush(t);
                struct fake *f = t->f;
                if (strcmp(line, "urc") == 0) {
                        /* what the core writes in answer is matched by the exchanges that
                         * follow, at the next flush */
                        fake_answer(f, unescape(t, arg));
                } else if (strcmp(line, "send") == 0) {
                        unsigned long long cookie;
                        int more;
                        char pdu[1024];
                        if (sscanf(arg, "%llu %d %1023s", &cookie, &more, pdu) != 3)
                                fail_msg("%s:%d: send COOKIE MORE PDU", t->file, t->lineno);
                        size_t sca = 0;
                        sscanf(pdu, "%2zx", &sca);
                        assert_int_equal(at_modem_send(f->m, pdu, strlen(pdu) / 2 - 1 - sca,
                                                       more != 0, cookie, f->now),
                                         0);
                } else if (strcmp(line, "ack") == 0) {
                        assert_int_equal(at_modem_sms_done(f->m, atoi(arg), f->now), 0);
                } else if (strcmp(line, "advance") == 0) {
                        fake_advance(f, strtoull(arg, NULL, 10));
                } else if (strcmp(line, "expect") == 0) {
                        char *sp2 = strchr(arg, ' ');
                        char what[32];
                        snprintf(what, sizeof(what), "%.*s",
                                 (int)(sp2 ? (size_t)(sp2 - arg) : strlen(arg)), arg);
                        expect(t, what, sp2 ? sp2 + 1 : "");
                } else {
                        fail_msg("%s:%d: unknown directive %s", t->file, t->lineno, line);
                }
        }
}

static void replay(const char *dir, const char *name)
{
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *fp = fopen(path, "r");
        if (!fp)
                fail_msg("cannot open %s", path);
        struct tr *t = calloc(1, sizeof(*t));
        assert_non_null(t);
        t->file = name;
        char line[TR_LINE_MAX];
        while (fgets(line, sizeof(line), fp)) {
                t->lineno++;
                run_line(t, line);
        }
        fclose(fp);
        flush(t);
        if (!t->has_model || !t->has_firmware || !t->has_origin)
                fail_msg("%s: the header must name model:, firmware: and origin:", name);
        if (t->f && t->f->out_len > 0)
                fail_msg("%s: the core wrote \"%.*s\" after the end of the session", name,
                         (int)t->f->out_len, t->f->out);
        if (t->f) {
                t->f->strict = false;
                fake_free(t->f);
        }
        for (size_t i = 0; i < t->n_strings; i++)
                free(t->strings[i]);
        free(t);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_transcripts(void **state)
{
        (void)state;
        char dir[512];
        const char *src = getenv("PUENTE_SRC");
        snprintf(dir, sizeof(dir), "%s/tests/transcripts", src ? src : ".");
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open %s (set PUENTE_SRC)", dir);
        char *names[TR_FILES_MAX];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 6 && strcmp(e->d_name + l - 6, ".modem") == 0 && n < TR_FILES_MAX)
                        names[n++] = strdup(e->d_name);
        }
        closedir(d);
        assert_true(n >= 3);
        qsort(names, n, sizeof(names[0]), name_cmp);
        for (size_t i = 0; i < n; i++) {
                replay(dir, names[i]);
                free(names[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_transcripts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
