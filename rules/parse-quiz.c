/* rules/parse-quiz: pass 2 for quizzes: questions, choices, branching, and the check that
 * no answer is accepted by two choices once normalized ("dos" and "2" are one answer). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/parse-internal.h"

#define RETRIES_MAX          5
#define RETRIES_DEFAULT      1
#define QUIZ_TIMEOUT_DEFAULT (24 * 60)
#define QUESTIONS_MAX        50

static const char *const on_timeout_names[] = { "next", "end", NULL };

struct quiz_defaults {
        unsigned retries;
        int timeout;
        enum rules_on_timeout on_timeout;
};

static void read_flow(struct parse_ctx *x, void *sec, const char *path, struct quiz_defaults *d)
{
        const char *s;
        struct rules_loc l;
        int v;

        if ((s = cfgx_str(sec, "retries"))) {
                l = parse_loc(x, path, "retries", 0);
                parse_uint(x, &l, "retries", s, RETRIES_MAX, &d->retries);
        }
        if ((s = cfgx_str(sec, "timeout"))) {
                l = parse_loc(x, path, "timeout", 0);
                if (parse_minutes(x, &l, "timeout", s, &d->timeout) == 0 && d->timeout == 0)
                        parse_error_at(x, &l, "timeout 0; expected a duration such as \"1 day\"");
        }
        if ((s = cfgx_str(sec, "on_timeout"))) {
                l = parse_loc(x, path, "on_timeout", 0);
                if (parse_enum(x, &l, "on_timeout", s, on_timeout_names, &v) == 0)
                        d->on_timeout = (enum rules_on_timeout)v;
        }
}

/* Each normalized answer in one choice only: two choices accepting the same reply make the
 * branch depend on declaration order, which nobody reading the file would guess. */
static void check_answers(struct parse_ctx *x, const char *qpath, struct rules_question *q)
{
        for (size_t c = 0; c < q->n_choices; c++)
                for (size_t a = 0; a < q->choices[c].answers.n; a++)
                        for (size_t d = 0; d < c; d++)
                                for (size_t b = 0; b < q->choices[d].answers.n; b++) {
                                        char cpath[PARSE_PATH_MAX];
                                        struct rules_loc l;

                                        if (strcmp(q->choices[c].answers.v[a],
                                                   q->choices[d].answers.v[b]) != 0)
                                                continue;
                                        scan_path_join(cpath, sizeof(cpath), qpath, "choice",
                                                       q->choices[c].name);
                                        l = parse_loc(x, cpath, "answers", (int)a);
                                        parse_error_at(x, &l,
                                                       "answer '%s' is also accepted by choice "
                                                       "'%s' (line %u) once normalized; expected "
                                                       "each answer in one choice",
                                                       q->choices[c].answers.v[a],
                                                       q->choices[d].name, q->choices[d].loc.line);
                                }
}

static int question_index(const struct rules_quiz *z, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (z->questions[i].name && strcmp(z->questions[i].name, name) == 0)
                        return (int)i;
        return RULES_NONE;
}

static void do_choices(struct parse_ctx *x, void *qs, const char *qpath, struct rules_quiz *z,
                       size_t qi, size_t nq)
{
        struct rules_question *q = (struct rules_question *)&z->questions[qi];
        size_t n = cfgx_nsec(qs, "choice");
        struct rules_choice *ch = rules_arena_array(x->arena, n, sizeof(*ch));

        if (!ch)
                return;
        q->choices = ch;
        if (!n)
                parse_error_at(x, &q->loc,
                               "question '%s' without choices; expected choice NAME "
                               "{ answers = { ... } }",
                               q->name ? q->name : "");
        for (size_t i = 0; i < n; i++) {
                void *cs = cfgx_sec(qs, "choice", i);
                const char *cn = cfgx_title(cs), *s;
                char cpath[PARSE_PATH_MAX];
                struct rules_choice *c = &ch[q->n_choices];
                struct rules_loc l;

                scan_path_join(cpath, sizeof(cpath), qpath, "choice", cn);
                c->loc = parse_loc(x, cpath, NULL, -1);
                if (parse_name(x, &c->loc, "choice", cn) < 0)
                        continue;
                c->name = parse_dup(x, cn);
                c->next = RULES_NEXT_QUESTION;
                parse_strings(x, cs, cpath, "answers", true, &c->answers);
                if (!cfgx_nlist(cs, "answers"))
                        parse_error_at(x, &c->loc,
                                       "choice '%s' without answers; expected "
                                       "answers = { \"1\", \"a\", ... }",
                                       cn);
                if ((s = cfgx_str(cs, "right"))) {
                        l = parse_loc(x, cpath, "right", 0);
                        parse_bool(x, &l, "right", s, &c->right);
                }
                q->graded |= c->right;
                if ((s = cfgx_str(cs, "goto"))) {
                        int t;

                        l = parse_loc(x, cpath, "goto", 0);
                        if (strcmp(s, "end") == 0) {
                                c->next = RULES_END_QUIZ;
                        } else if ((t = question_index(z, nq, s)) < 0) {
                                parse_error_at(x, &l,
                                               "unknown question '%s' in goto; expected a "
                                               "question of quiz '%s' or end",
                                               s, z->name);
                        } else if ((size_t)t <= qi) {
                                /* forward only: a quiz always ends */
                                parse_error_at(x, &l,
                                               "goto '%s' goes back; expected a later "
                                               "question or end",
                                               s);
                        } else {
                                c->next = t;
                        }
                }
                q->n_choices++;
        }
        check_answers(x, qpath, q);
}

static void do_quiz(struct parse_ctx *x, void *sec, struct rules_quiz *z)
{
        char path[PARSE_PATH_MAX];
        struct quiz_defaults d = { RETRIES_DEFAULT, QUIZ_TIMEOUT_DEFAULT, RULES_TIMEOUT_NEXT };
        size_t n = cfgx_nsec(sec, "question");
        struct rules_question *q;
        const char *s;

        if (!z->name)
                return;
        parse_path(path, "quiz", z->name);
        z->arms = parse_arms(x, sec, path, "arms");
        z->score_field = RULES_NONE;
        if ((s = cfgx_str(sec, "score_field"))) {
                struct rules_loc l = parse_loc(x, path, "score_field", 0);

                z->score_field = parse_field_ref(x, &l, s, RULES_FIELD_NUMBER, "field");
        }
        read_flow(x, sec, path, &d);
        parse_texts(x, sec, path, "intro", &z->intro);
        parse_texts(x, sec, path, "done", &z->done);
        if (n == 0 || n > QUESTIONS_MAX) {
                parse_error_at(x, &z->loc, "quiz '%s' with %zu questions; expected 1 to %d",
                               z->name, n, QUESTIONS_MAX);
                if (n == 0)
                        return;
                n = QUESTIONS_MAX;
        }
        q = rules_arena_array(x->arena, n, sizeof(*q));
        if (!q)
                return;
        z->questions = q;
        z->n_questions = n;
        for (size_t i = 0; i < n; i++) { /* names first: goto may jump ahead */
                const char *qn = cfgx_title(cfgx_sec(sec, "question", i));
                char qpath[PARSE_PATH_MAX];

                scan_path_join(qpath, sizeof(qpath), path, "question", qn);
                q[i].loc = parse_loc(x, qpath, NULL, -1);
                if (parse_name(x, &q[i].loc, "question", qn) < 0)
                        continue;
                if (question_index(z, i, qn) >= 0) {
                        parse_error_at(x, &q[i].loc, "duplicate question '%s' in quiz '%s'", qn,
                                       z->name);
                        continue;
                }
                q[i].name = parse_dup(x, qn);
        }
        for (size_t i = 0; i < n; i++) {
                void *qs = cfgx_sec(sec, "question", i);
                char qpath[PARSE_PATH_MAX];
                struct quiz_defaults qd = d;

                scan_path_join(qpath, sizeof(qpath), path, "question", cfgx_title(qs));
                read_flow(x, qs, qpath, &qd);
                q[i].retries = qd.retries;
                q[i].timeout_minutes = qd.timeout;
                q[i].on_timeout = qd.on_timeout;
                parse_texts(x, qs, qpath, "text", &q[i].text);
                if (!q[i].text.n)
                        parse_error_at(x, &q[i].loc,
                                       "question '%s' without text; expected "
                                       "text { ... }",
                                       cfgx_title(qs));
                parse_texts(x, qs, qpath, "right", &q[i].right);
                parse_texts(x, qs, qpath, "wrong", &q[i].wrong);
                parse_texts(x, qs, qpath, "invalid", &q[i].invalid);
                do_choices(x, qs, qpath, z, i, n);
        }
}

void parse_quizzes(struct parse_ctx *x)
{
        size_t k = 0;

        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t j = 0; j < cfgx_nsec(f->cfg, "quiz"); j++)
                        do_quiz(x, cfgx_sec(f->cfg, "quiz", j), &x->quizzes[k++]);
        }
        x->file = NULL;
}
