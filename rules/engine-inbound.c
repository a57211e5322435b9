/* rules/engine-inbound: a message from a contact: opt-out first, then opt-in, the loss
 * choice, a quiz answer, keywords, help, unknown (rules issue: "opt-out always wins, even in
 * the middle of a quiz, and is honoured before any other message goes out"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/engine-internal.h"
#include "rules/match.h"

static bool in_words(const char *w, const struct rules_strings *words)
{
        return rules_match_any(w, words->v, words->n);
}

static int set_field(struct engine_ctx *x, int f, const char *value, size_t len)
{
        struct rules_action *a = engine_action(x, RULES_ACT_FIELD_SET);

        if (!a)
                return -ENOBUFS;
        a->field = f;
        a->value = engine_pool_dup(x, value, len);
        return a->value ? 0 : -ENOBUFS;
}

static int set_date(struct engine_ctx *x, int f, int64_t days)
{
        char buf[11];

        rules_date_format(days, buf);
        return set_field(x, f, buf, 10);
}

/* The raw text after its first word. */
static const char *after_first_word(const char *text, size_t len, size_t *ret_len)
{
        size_t i = 0;

        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
                i++;
        while (i < len &&
               !(text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
                i++;
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
                i++;
        *ret_len = len - i;
        return text + i;
}

/* The rest of a message as the value of a text field: its words, single-spaced, as many
 * as fit in max_length characters (ALTA 15/03/2026 Maria Lopez: "Maria Lopez"). 0 when
 * not even the first word fits or the rest is a date (a second date is not a name). */
static size_t rest_words(const char *p, size_t rl, unsigned max_length, char *out, size_t size)
{
        size_t n = 0, i = 0;
        unsigned chars = 0;
        int y, m, d;

        if (rl < size) {
                memcpy(out, p, rl);
                out[rl] = '\0';
                if (rules_match_date(out, &y, &m, &d) > 0)
                        return 0;
        }
        while (i < rl) {
                size_t w = i, wl;
                unsigned wc = 0;
                bool sep = n > 0;

                while (w < rl && (p[w] == ' ' || p[w] == '\t' || p[w] == '\n' || p[w] == '\r'))
                        w++;
                wl = w;
                while (wl < rl &&
                       !(p[wl] == ' ' || p[wl] == '\t' || p[wl] == '\n' || p[wl] == '\r'))
                        wc += ((unsigned char)p[wl++] & 0xC0) != 0x80;
                if (wl == w || chars + sep + wc > max_length || n + sep + (wl - w) >= size)
                        break;
                if (sep)
                        out[n++] = ' ';
                memcpy(out + n, p + w, wl - w);
                n += wl - w;
                chars += sep + wc;
                i = wl;
        }
        out[n] = '\0';
        return n;
}

/* Keyword arguments read from the raw text (dates keep their slashes). Unreadable
 * arguments are skipped: the keyword still acts. The last one, when a text field, takes
 * the rest of the message (a name has spaces). */
static void read_args(struct engine_ctx *x, const struct rules_keyword *kw, const char *raw,
                      size_t len)
{
        size_t rl;
        const char *p = after_first_word(raw, len, &rl);
        char tok[RULES_WORD_MAX];

        for (size_t i = 0; i < kw->n_args && rl > 0; i++) {
                const struct rules_field *f = &x->set->fields[kw->args[i]];
                size_t n = 0;

                if (i + 1 == kw->n_args && f->type == RULES_FIELD_TEXT) {
                        char rest[RULES_ENGINE_ARG_MAX];
                        size_t rn = rest_words(p, rl, f->max_length, rest, sizeof(rest));

                        if (rn > 0)
                                set_field(x, kw->args[i], rest, rn);
                        return;
                }

                if (f->type == RULES_FIELD_DATE) {
                        int y, m, d, used;

                        n = rl < sizeof(tok) - 1 ? rl : sizeof(tok) - 1;
                        memcpy(tok, p, n);
                        tok[n] = '\0';
                        used = rules_match_date(tok, &y, &m, &d);
                        if (used > 0) {
                                set_date(x, kw->args[i],
                                         rules_days_from_civil(y, (unsigned)m, (unsigned)d));
                                n = (size_t)used;
                        } else
                                n = 0;
                }
                if (n == 0) {
                        while (n < rl && p[n] != ' ' && p[n] != '\t' && p[n] != '\n')
                                n++;
                        if (f->type != RULES_FIELD_DATE && n > 0 && n <= f->max_length)
                                set_field(x, kw->args[i], p, n);
                }
                p += n;
                rl -= n;
                while (rl > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                        p++, rl--;
        }
}

static bool arm_ok(const struct engine_ctx *x, uint32_t arms)
{
        int arm = x->res->state.arm < 0 ? 0 : x->res->state.arm;

        return arm < RULES_ARMS_MAX && (arms & (1u << arm));
}

static int alert(struct engine_ctx *x, const struct rules_keyword *kw, int ki)
{
        int ci = rules_clinic_find(x->set, engine_value(x, RULES_F_CLINIC));
        const char *text, *lang;

        int e;

        engine_reply(x, &kw->reply, -1, -1);
        /* A warning sign is never dropped for a hole in the staff text (an SMS enrolee has
         * no name, maybe no clinic): a placeholder without value or fallback shows "?". */
        x->missing = RULES_ENGINE_MISSING;
        e = engine_render(x, &kw->staff, -1, -1, &text, &lang);
        x->missing = NULL;
        if (e < 0)
                return e == -ENOBUFS ? e : 0;
        /* A contact with no clinic (enrolled by SMS) has nobody of her own: a warning sign
         * must not be dropped, so every declared clinic's staff gets it. */
        size_t first = ci < 0 ? 0 : (size_t)ci, last = ci < 0 ? x->set->n_clinics : first + 1;
        for (size_t c = first; c < last; c++) {
                for (size_t i = 0; i < x->set->clinics[c].staff.n; i++) {
                        struct rules_action *a = engine_action(x, RULES_ACT_ALERT);

                        if (!a)
                                return -ENOBUFS;
                        a->keyword = ki;
                        a->text = text;
                        a->lang = lang;
                        a->to = x->set->clinics[c].staff.v[i];
                }
        }
        return 0;
}

static int keyword(struct engine_ctx *x, int ki, const char *norm_rest, const char *raw, size_t len)
{
        const struct rules_keyword *kw = &x->set->keywords[ki];
        struct rules_state *s = &x->res->state;
        struct rules_action *a = engine_action(x, RULES_ACT_KEYWORD);

        if (!a)
                return -ENOBUFS;
        a->keyword = ki;
        switch (kw->action) {
        case RULES_KW_OPT_IN:
        case RULES_KW_SET:
                read_args(x, kw, raw, len);
                return engine_reply(x, &kw->reply, -1, -1);
        case RULES_KW_ALERT:
                return alert(x, kw, ki);
        case RULES_KW_BIRTH: {
                int f = kw->set_field >= 0 ? kw->set_field : RULES_F_BIRTH;
                size_t before = x->res->n_actions;

                if (kw->n_args > 0) {
                        read_args(x, kw, raw, len);
                } else {
                        /* BEBE [date]: the date, when given, right after the keyword. */
                        size_t rl;
                        const char *p = after_first_word(raw, len, &rl);
                        char tok[RULES_WORD_MAX];
                        int y, m, dd;

                        rl = rl < sizeof(tok) - 1 ? rl : sizeof(tok) - 1;
                        memcpy(tok, p, rl);
                        tok[rl] = '\0';
                        if (rules_match_date(tok, &y, &m, &dd) > 0)
                                set_date(x, f, rules_days_from_civil(y, (unsigned)m, (unsigned)dd));
                }
                if (x->res->n_actions == before)
                        set_date(x, f, engine_local_day(x, x->now));
                if (kw->track >= 0 && kw->track != s->track)
                        engine_switch_track(x, kw->track);
                return engine_reply(x, &kw->reply, -1, -1);
        }
        case RULES_KW_LOSS: {
                char reason[RULES_WORD_MAX];
                const char *rest;
                size_t wl = rules_match_first_word(norm_rest, &rest);

                a = engine_action(x, RULES_ACT_LOSS);
                if (!a)
                        return -ENOBUFS;
                if (wl > 0 && wl < sizeof(reason)) {
                        memcpy(reason, norm_rest, wl);
                        reason[wl] = '\0';
                        if (in_words(reason, &kw->reasons))
                                a->value = engine_pool_dup(x, reason, wl);
                }
                a->keyword = ki;
                if (s->quiz != RULES_NONE)
                        engine_quiz_abort(x);
                s->stopped = true;
                s->loss_choice_pending = true;
                s->loss_keyword = ki;
                return engine_reply(x, &kw->reply, -1, -1);
        }
        case RULES_KW_QUIZ:
                if (s->quiz != RULES_NONE)
                        engine_quiz_abort(x);
                return engine_quiz_start(x, kw->quiz);
        case RULES_KW_REPLY:
        default:
                return engine_reply(x, &kw->reply, -1, -1);
        }
}

static int find_keyword(const struct engine_ctx *x, const char *word,
                        enum rules_keyword_action only)
{
        for (size_t i = 0; i < x->set->n_keywords; i++) {
                const struct rules_keyword *kw = &x->set->keywords[i];

                if ((int)only >= 0 && kw->action != only)
                        continue;
                if (in_words(word, &kw->words) &&
                    (kw->action == RULES_KW_OPT_IN || arm_ok(x, kw->arms)))
                        return (int)i;
        }
        return -ENOENT;
}

static enum rules_inbound_category classify(struct engine_ctx *x, const char *norm,
                                            const char *word, const char *rest, const char *raw,
                                            size_t len)
{
        const struct rules_settings *st = &x->set->settings;
        struct rules_state *s = &x->res->state;
        int ki;

        x->word = word;
        if (in_words(word, &st->opt_out_words) || in_words(norm, &st->opt_out_words)) {
                if (s->quiz != RULES_NONE)
                        engine_quiz_abort(x);
                if (!s->opted_out) {
                        s->opted_out = true;
                        engine_action(x, RULES_ACT_OPTED_OUT);
                        engine_reply(x, &st->opt_out_reply, -1, -1);
                }
                return RULES_IN_OPT_OUT;
        }
        if (s->opted_out) {
                ki = find_keyword(x, word, RULES_KW_OPT_IN);
                if (!in_words(word, &st->opt_in_again) && ki < 0)
                        return RULES_IN_IGNORED;
                s->opted_out = false;
                s->settled_until = x->now; /* what fell due meanwhile is not "missed" */
                engine_action(x, RULES_ACT_OPTED_IN);
                if (ki >= 0)
                        keyword(x, ki, rest, raw, len);
                return RULES_IN_OPT_IN;
        }
        if (s->loss_choice_pending && s->loss_keyword >= 0) {
                const struct rules_keyword *kw = &x->set->keywords[s->loss_keyword];
                bool support = in_words(norm, &kw->support_words);

                if (support || in_words(norm, &kw->stop_words)) {
                        struct rules_action *a = engine_action(x, RULES_ACT_LOSS_CHOICE);

                        if (a)
                                a->value = support ? "support" : "stop";
                        s->loss_choice_pending = false;
                        if (support) {
                                s->stopped = false;
                                s->settled_until = x->now;
                                engine_switch_track(x, kw->track);
                        }
                        engine_reply(x, support ? &kw->support_reply : &kw->stop_reply, -1, -1);
                        return RULES_IN_LOSS_CHOICE;
                }
        }
        if (s->quiz != RULES_NONE && engine_quiz_answer(x, norm) > 0)
                return RULES_IN_QUIZ_ANSWER;
        ki = find_keyword(x, word, (enum rules_keyword_action) - 1);
        if (ki >= 0) {
                keyword(x, ki, rest, raw, len);
                return RULES_IN_KEYWORD;
        }
        if (s->quiz != RULES_NONE) {
                engine_quiz_invalid(x);
                return RULES_IN_QUIZ_ANSWER;
        }
        if (in_words(word, &st->help_words) || in_words(norm, &st->help_words)) {
                engine_reply(x, &st->help_reply, -1, -1);
                return RULES_IN_HELP;
        }
        engine_reply(x, &st->unknown_reply, -1, -1);
        return RULES_IN_UNKNOWN;
}

int rules_engine_inbound(const struct rules_engine_env *env, const struct rules_contact *contact,
                         const char *text, size_t len, int64_t now, struct rules_result *ret)
{
        char norm[RULES_MATCH_TEXT_MAX], word[RULES_MATCH_TEXT_MAX];
        struct rules_action *in;
        struct engine_ctx x;
        const char *rest;
        size_t wl;

        if (!env || !env->set || !contact || !ret || (!text && len))
                return -EINVAL;
        engine_ctx_init(&x, env, contact, now, ret);
        /* Too long: keep the words that fit; a keyword or an answer is at the start. */
        if (rules_match_normalize(text ? text : "", len, norm, sizeof(norm)) < 0 && norm[0] == '\0')
                norm[0] = '\0';
        wl = rules_match_first_word(norm, &rest);
        memcpy(word, norm, wl);
        word[wl] = '\0';
        in = engine_action(&x, RULES_ACT_INBOUND);
        if (!in)
                return -ENOBUFS;
        in->category = classify(&x, norm, word, rest, text ? text : "", len);
        ret->next_due = now; /* the schedule is re-read after any event */
        return 0;
}
