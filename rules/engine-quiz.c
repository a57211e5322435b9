/* rules/engine-quiz: a quiz's questions, answers, retries, branches, time-outs and score. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/engine-internal.h"
#include "rules/match.h"

static const struct rules_quiz *current(const struct engine_ctx *x)
{
        int q = x->res->state.quiz;

        return q >= 0 && (size_t)q < x->set->n_quizzes ? &x->set->quizzes[q] : NULL;
}

static unsigned graded_total(const struct rules_quiz *q)
{
        unsigned n = 0;

        for (size_t i = 0; i < q->n_questions; i++)
                n += q->questions[i].graded;
        return n;
}

int engine_quiz_ask(struct engine_ctx *x, bool intro)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;

        if (!q || s->question < 0 || (size_t)s->question >= q->n_questions)
                return -EINVAL;
        if (intro && engine_reply(x, &q->intro, -1, -1) == -ENOBUFS)
                return -ENOBUFS;
        s->asked_at = x->now;
        return engine_reply(x, &q->questions[s->question].text, -1, -1);
}

int engine_quiz_start(struct engine_ctx *x, int qi)
{
        struct rules_state *s = &x->res->state;
        struct rules_action *a = engine_action(x, RULES_ACT_QUIZ_STARTED);

        if (!a)
                return -ENOBUFS;
        a->quiz = qi;
        s->quiz = qi;
        s->question = 0;
        s->tries = 0;
        s->score = 0;
        s->answered = 0;
        if (x->set->quizzes[qi].n_questions == 0) {
                s->quiz = RULES_NONE;
                return 0;
        }
        return engine_quiz_ask(x, true);
}

int64_t engine_quiz_deadline(const struct engine_ctx *x)
{
        const struct rules_quiz *q = current(x);
        const struct rules_state *s = &x->res->state;
        int t;

        if (!q || s->question < 0 || (size_t)s->question >= q->n_questions)
                return INT64_MAX;
        t = q->questions[s->question].timeout_minutes;
        return t > 0 ? s->asked_at + (int64_t)t * 60 : INT64_MAX;
}

static void end(struct engine_ctx *x, bool completed)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;
        struct rules_action *a;

        if (!q)
                return;
        a = engine_action(x, completed ? RULES_ACT_QUIZ_COMPLETED : RULES_ACT_QUIZ_ENDED);
        if (a) {
                a->quiz = s->quiz;
                a->score = s->score;
                a->total = (int)graded_total(q);
        }
        if (completed) {
                if (q->score_field >= 0) {
                        char buf[16];

                        a = engine_action(x, RULES_ACT_FIELD_SET);
                        snprintf(buf, sizeof(buf), "%d", s->score);
                        if (a) {
                                a->field = q->score_field;
                                a->value = engine_pool_dup(x, buf, strlen(buf));
                        }
                }
                engine_reply(x, &q->done, s->score, (int)graded_total(q));
        }
        s->quiz = RULES_NONE;
        s->question = RULES_NONE;
        s->tries = 0;
}

void engine_quiz_abort(struct engine_ctx *x)
{
        end(x, false);
}

/* Moves on after question s->question: to `next` (an index, RULES_NEXT_QUESTION or
 * RULES_END_QUIZ), completing the quiz after the last. */
static int advance(struct engine_ctx *x, int next)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;

        s->answered++;
        s->tries = 0;
        if (next == RULES_NEXT_QUESTION)
                next = s->question + 1;
        if (next == RULES_END_QUIZ || next < 0 || (size_t)next >= q->n_questions) {
                end(x, true);
                return 0;
        }
        s->question = next;
        return engine_quiz_ask(x, false);
}

int engine_quiz_timeout(struct engine_ctx *x)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;
        struct rules_action *a;

        if (!q)
                return 0;
        a = engine_action(x, RULES_ACT_QUIZ_TIMED_OUT);
        if (a) {
                a->quiz = s->quiz;
                a->question = s->question;
        }
        if (q->questions[s->question].on_timeout == RULES_TIMEOUT_NEXT)
                return advance(x, RULES_NEXT_QUESTION);
        end(x, false);
        return 0;
}

static struct rules_action *answer_event(struct engine_ctx *x, int choice, bool right)
{
        struct rules_action *a = engine_action(x, RULES_ACT_QUIZ_ANSWER);

        if (a) {
                a->quiz = x->res->state.quiz;
                a->question = x->res->state.question;
                a->choice = choice;
                a->right = right;
        }
        return a;
}

int engine_quiz_answer(struct engine_ctx *x, const char *norm)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;
        const struct rules_question *qu;

        if (!q)
                return 0;
        qu = &q->questions[s->question];
        for (size_t i = 0; i < qu->n_choices; i++) {
                const struct rules_choice *c = &qu->choices[i];

                if (!rules_match_any(norm, c->answers.v, c->answers.n))
                        continue;
                answer_event(x, (int)i, c->right);
                if (qu->graded && !c->right && s->tries < qu->retries) {
                        s->tries++;
                        engine_reply(x, &qu->wrong, -1, -1);
                        engine_quiz_ask(x, false);
                        return 1;
                }
                if (qu->graded) {
                        s->score += c->right;
                        engine_reply(x, c->right ? &qu->right : &qu->wrong, -1, -1);
                }
                advance(x, c->next);
                return 1;
        }
        return 0;
}

int engine_quiz_invalid(struct engine_ctx *x)
{
        const struct rules_quiz *q = current(x);
        struct rules_state *s = &x->res->state;
        const struct rules_question *qu;

        if (!q)
                return 0;
        qu = &q->questions[s->question];
        answer_event(x, RULES_NONE, false);
        engine_reply(x, &qu->invalid, -1, -1);
        if (s->tries < qu->retries) {
                s->tries++;
                return engine_quiz_ask(x, false);
        }
        return advance(x, RULES_NEXT_QUESTION);
}
