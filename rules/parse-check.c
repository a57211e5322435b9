/* rules/parse-check: pass 3, checks across the whole set. Every text: its language is
 * declared, the default language is there, each placeholder is one the contact can have in
 * that place, and its worst-case cost is within the part budget (more than one part or
 * UCS-2: a warning). Keywords and quiz answers that opt-out would swallow. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "at/pdu.h"
#include "rules/match.h"
#include "rules/parse-internal.h"
#include "rules/template.h"

#define WEEK_WIDTH  3 /* {week}: at most 3 digits (a track of 999 weeks is beyond any) */
#define DAY_WIDTH   4
#define SCORE_WIDTH 2 /* QUESTIONS_MAX is 50 */

enum text_ctx {
        CTX_PLAIN,    /* replies, questions, feedback: contact fields only */
        CTX_REMINDER, /* + week, day */
        CTX_DONE,     /* + score, total */
        CTX_STAFF,    /* + keyword */
};

struct check {
        struct parse_ctx *x;
        enum text_ctx ctx;
        const struct rules_keyword *kw;
        const struct rules_text *text;
        bool bad;
        const struct rules_keyword *sms_enrol; /* an opt-in keyword, NULL: none */
};

static unsigned longest_word(const struct rules_strings *s)
{
        size_t m = 0;

        for (size_t i = 0; i < s->n; i++)
                if (strlen(s->v[i]) > m)
                        m = strlen(s->v[i]);
        return (unsigned)m;
}

/* The field a placeholder shows: "name", or "appointment_date" for the date field. */
static int placeholder_field(struct parse_ctx *x, const char *name, size_t len)
{
        char buf[RULES_TEMPLATE_NAME_MAX + 1];
        int f;

        if (len > RULES_TEMPLATE_NAME_MAX) /* the template scanner cuts names there */
                return -ENOENT;
        snprintf(buf, sizeof(buf), "%.*s", (int)len, name);
        f = rules_field_find(x->set, buf);
        if (f >= 0)
                return f;
        if (len > 5 && strcmp(buf + len - 5, "_date") == 0) {
                buf[len - 5] = '\0';
                f = rules_field_find(x->set, buf);
                if (f >= 0 && x->fields[f].type == RULES_FIELD_DATE)
                        return f;
        }
        return -ENOENT;
}

static bool is(const char *name, size_t len, const char *word)
{
        return strlen(word) == len && memcmp(name, word, len) == 0;
}

/* Where, in the file, byte `offset` of a text's value is: its opening quote is at loc. */
static struct rules_loc offset_loc(const struct rules_text *t, size_t offset)
{
        struct rules_loc l = t->loc;

        if (!l.column)
                return l;
        l.column++; /* past the quote */
        for (size_t i = 0; i < offset && t->text[i]; i++) {
                if (t->text[i] == '\n') {
                        l.line++;
                        l.column = 1;
                } else if (((unsigned char)t->text[i] & 0xC0) != 0x80) {
                        l.column++;
                }
        }
        return l;
}

static int width_of(void *userdata, const char *name, size_t len, unsigned *ret_width,
                    bool *ret_unicode)
{
        struct check *c = userdata;
        int f;

        *ret_unicode = false;
        if ((c->ctx == CTX_REMINDER) && is(name, len, "week")) {
                *ret_width = WEEK_WIDTH;
                return 0;
        }
        if ((c->ctx == CTX_REMINDER) && is(name, len, "day")) {
                *ret_width = DAY_WIDTH;
                return 0;
        }
        if (c->ctx == CTX_DONE && (is(name, len, "score") || is(name, len, "total"))) {
                *ret_width = SCORE_WIDTH;
                return 0;
        }
        if (c->ctx == CTX_STAFF && is(name, len, "keyword")) {
                *ret_width = longest_word(&c->kw->words);
                return 0;
        }
        f = placeholder_field(c->x, name, len);
        if (f < 0)
                return -ENOENT;
        *ret_width = c->x->fields[f].max_length;
        *ret_unicode = c->x->fields[f].unicode;
        return 0;
}

/* Whether a contact who enrolled by SMS may lack field f: she has a study id, phone,
 * language, arm and stratum, her clinic only with settings' enrol_clinic, and only the
 * words she typed of the rest. Date fields are left out: they anchor what uses them. */
static bool sms_enrolee_may_lack(const struct check *c, int f)
{
        const struct rules_settings *st = &c->x->set->settings;

        if (!c->sms_enrol || f < 0 || c->x->fields[f].type == RULES_FIELD_DATE)
                return false;
        switch (f) {
        case RULES_F_STUDY_ID:
        case RULES_F_PHONE:
        case RULES_F_LANGUAGE:
        case RULES_F_ARM:
        case RULES_F_STRATUM:
                return false;
        case RULES_F_CLINIC:
                return !st->enrol_clinic;
        default:
                return true;
        }
}

static int visit(void *userdata, const char *name, size_t len, size_t offset, const char *fallback,
                 size_t fallback_len)
{
        struct check *c = userdata;
        unsigned w;
        bool u;
        struct rules_loc l;

        (void)fallback_len;
        if (width_of(c, name, len, &w, &u) == 0) {
                int f = placeholder_field(c->x, name, len);

                if (fallback || !sms_enrolee_may_lack(c, f))
                        return 0;
                /* No value renders nothing: the text is not sent (no_text), or an alert
                 * shows RULES_ENGINE_MISSING. Say so before the programme starts. */
                l = offset_loc(c->text, offset);
                parse_warning_at(c->x, &l,
                                 "placeholder {%.*s} has no value for a contact who enrols by SMS "
                                 "(keyword '%s'), so %s; expected a fallback such as "
                                 "{%.*s|...}%s",
                                 (int)len, name, c->sms_enrol->name,
                                 c->ctx == CTX_STAFF ? "the alert would show '?'"
                                                     : "this message would not be sent",
                                 (int)len, name,
                                 f == RULES_F_CLINIC ? " or settings' enrol_clinic" : "");
                return 0;
        }
        l = offset_loc(c->text, offset);
        c->bad = true;
        if (is(name, len, "week") || is(name, len, "day"))
                parse_error_at(c->x, &l,
                               "placeholder {%.*s} is only known in a reminder's text; "
                               "expected a contact field here",
                               (int)len, name);
        else if (is(name, len, "score") || is(name, len, "total"))
                parse_error_at(c->x, &l,
                               "placeholder {%.*s} is only known in a quiz's done "
                               "text; expected a contact field here",
                               (int)len, name);
        else if (is(name, len, "keyword"))
                parse_error_at(c->x, &l,
                               "placeholder {keyword} is only known in an alert's "
                               "staff text; expected a contact field here");
        else
                parse_error_at(c->x, &l,
                               "unknown placeholder {%.*s}; no contact has it; expected "
                               "a field (name, clinic, appointment_date, ...)%s",
                               (int)len, name,
                               c->ctx == CTX_REMINDER ? ", week or day"
                               : c->ctx == CTX_DONE   ? ", score or total"
                               : c->ctx == CTX_STAFF  ? " or keyword"
                                                      : "");
        return 0;
}

/* The first character of a text that GSM 7-bit lacks, to name in the UCS-2 warning. */
static void first_ucs2(const char *s, char *out, size_t size)
{
        snprintf(out, size, "?");
        for (const char *p = s; *p;) {
                size_t n = 1;
                char one[8];
                struct sms_text_info info;

                while (p[n] && ((unsigned char)p[n] & 0xC0) == 0x80 && n < 4)
                        n++;
                snprintf(one, sizeof(one), "%.*s", (int)n, p);
                if (*p != '{' && sms_text_analyze(one, false, &info) == 0 &&
                    info.charset == SMS_CHARSET_UCS2) {
                        snprintf(out, size, "%s", one);
                        return;
                }
                p += n;
        }
}

static const struct rules_keyword *opt_in_keyword(const struct parse_ctx *x)
{
        for (size_t k = 0; k < x->set->n_keywords; k++)
                if (x->keywords[k].name && x->keywords[k].action == RULES_KW_OPT_IN)
                        return &x->keywords[k];
        return NULL;
}

static void check_text(struct parse_ctx *x, struct rules_text *t, enum text_ctx ctx,
                       const struct rules_keyword *kw)
{
        struct check c = { x, ctx, kw, t, false, opt_in_keyword(x) };
        const struct rules_settings *st = &x->set->settings;
        struct rules_template_cost cost;
        size_t off = 0;
        int r;

        if (!t->text)
                return;
        if (st->languages.n && !rules_match_any(t->lang, st->languages.v, st->languages.n))
                parse_error_at(x, &t->loc,
                               "text in '%s', which is not among the languages of "
                               "settings; expected one of them or languages = { ... "
                               "%s }",
                               t->lang, t->lang);
        r = rules_template_walk(t->text, visit, &c, &off);
        if (r == -EBADMSG) {
                struct rules_loc l = offset_loc(t, off);

                parse_error_at(x, &l,
                               "bad placeholder; expected {name} with lower-case letters, "
                               "digits and '_', {name|fallback} with a fallback of at most "
                               "%d bytes and no braces, or {{ and }} for braces",
                               RULES_TEMPLATE_FALLBACK_MAX);
                return;
        }
        if (c.bad)
                return;
        r = rules_template_cost(t->text, width_of, &c, st->translit, &cost);
        if (r == -E2BIG) {
                parse_error_at(x, &t->loc,
                               "message far over the part budget of %u; expected a "
                               "shorter text",
                               st->part_budget);
                return;
        }
        if (r < 0) {
                parse_error_at(x, &t->loc, "text is not valid UTF-8; expected UTF-8 text");
                return;
        }
        t->cost.chars = cost.chars;
        t->cost.parts = cost.parts;
        t->cost.ucs2 = cost.ucs2;
        if (cost.parts > st->part_budget) {
                parse_error_at(x, &t->loc,
                               "message of %u parts in the worst case (%u characters, %s); "
                               "expected at most part_budget %u",
                               cost.parts, cost.chars, cost.ucs2 ? "UCS-2" : "GSM 7-bit",
                               st->part_budget);
                return;
        }
        if (cost.ucs2) {
                char ch[8];

                first_ucs2(t->text, ch, sizeof(ch));
                parse_warning_at(x, &t->loc,
                                 "message needs UCS-2 ('%s' is outside GSM 7-bit): %u part%s for "
                                 "%u characters in the worst case",
                                 ch, cost.parts, cost.parts == 1 ? "" : "s", cost.chars);
        } else if (cost.parts > 1) {
                parse_warning_at(x, &t->loc,
                                 "message needs %u parts in the worst case (%u characters)",
                                 cost.parts, cost.chars);
        }
}

static void check_texts(struct parse_ctx *x, const struct rules_texts *ts, enum text_ctx ctx,
                        const struct rules_keyword *kw)
{
        const char *def = x->set->settings.default_language;
        bool have_default = false;

        for (size_t i = 0; i < ts->n; i++) {
                check_text(x, (struct rules_text *)&ts->v[i], ctx, kw);
                have_default |= def && strcmp(ts->v[i].lang, def) == 0;
        }
        if (ts->n && def && !have_default)
                parse_error_at(x, &ts->v[0].loc,
                               "no text in the default language '%s'; "
                               "expected %s = \"...\" beside %s",
                               def, def, ts->v[0].lang);
}

/* Finds the location of a normalized word in a keyword's words (for messages). */
static struct rules_loc word_loc(struct parse_ctx *x, const struct rules_keyword *k, size_t i)
{
        char path[PARSE_PATH_MAX];

        for (size_t f = 0; f < x->n_files; f++)
                if (x->files[f].name == k->loc.file)
                        x->file = &x->files[f];
        parse_path(path, "keyword", k->name);
        return parse_loc(x, path, "words", (int)i);
}

static void check_keywords(struct parse_ctx *x)
{
        const struct rules_settings *st = &x->set->settings;

        for (size_t h = 0; h < st->help_words.n; h++)
                if (rules_match_any(st->help_words.v[h], st->opt_out_words.v,
                                    st->opt_out_words.n)) {
                        struct rules_loc l;

                        x->file = NULL;
                        for (size_t f = 0; f < x->n_files; f++)
                                if (x->files[f].name == st->loc.file)
                                        x->file = &x->files[f];
                        l = parse_loc(x, "settings", "help", (int)h);
                        parse_error_at(x, &l,
                                       "help word '%s' is an opt-out word; opt-out always "
                                       "wins, so it would opt out",
                                       st->help_words.v[h]);
                }
        for (size_t k = 0; k < x->set->n_keywords; k++) {
                const struct rules_keyword *kw = &x->keywords[k];

                if (!kw->name)
                        continue;
                for (size_t i = 0; i < kw->words.n; i++) {
                        const char *w = kw->words.v[i];
                        struct rules_loc l;

                        if (rules_match_any(w, st->opt_out_words.v, st->opt_out_words.n)) {
                                l = word_loc(x, kw, i);
                                parse_error_at(x, &l,
                                               "keyword word '%s' is an opt-out word; "
                                               "opt-out always wins, so keyword '%s' "
                                               "would never run",
                                               w, kw->name);
                                continue;
                        }
                        if (rules_match_any(w, st->help_words.v, st->help_words.n)) {
                                l = word_loc(x, kw, i);
                                parse_error_at(x, &l,
                                               "keyword word '%s' is a help word; "
                                               "expected another word",
                                               w);
                                continue;
                        }
                        for (size_t j = 0; j < k; j++)
                                if (x->keywords[j].name &&
                                    rules_match_any(w, x->keywords[j].words.v,
                                                    x->keywords[j].words.n)) {
                                        l = word_loc(x, kw, i);
                                        parse_error_at(x, &l,
                                                       "keyword word '%s' is also a word "
                                                       "of keyword '%s' (%s:%u); "
                                                       "expected each word once",
                                                       w, x->keywords[j].name,
                                                       x->keywords[j].loc.file,
                                                       x->keywords[j].loc.line);
                                        break;
                                }
                }
        }
        x->file = NULL;
}

/* A quiz answer that is an opt-out word would opt the participant out mid-quiz. */
static void check_answers_vs_opt_out(struct parse_ctx *x)
{
        const struct rules_settings *st = &x->set->settings;

        for (size_t z = 0; z < x->set->n_quizzes; z++)
                for (size_t q = 0; q < x->quizzes[z].n_questions; q++) {
                        const struct rules_question *qq = &x->quizzes[z].questions[q];

                        for (size_t c = 0; c < qq->n_choices; c++)
                                for (size_t a = 0; a < qq->choices[c].answers.n; a++)
                                        if (rules_match_any(qq->choices[c].answers.v[a],
                                                            st->opt_out_words.v,
                                                            st->opt_out_words.n))
                                                parse_error_at(
                                                        x, &qq->choices[c].loc,
                                                        "answer '%s' is an opt-out word; "
                                                        "opt-out always wins, so it would opt "
                                                        "the participant out",
                                                        qq->choices[c].answers.v[a]);
                }
}

/* settings' enrol_clinic names a declared clinic. */
static void check_enrol_clinic(struct parse_ctx *x)
{
        const struct rules_settings *st = &x->set->settings;
        char ids[256] = "";
        struct rules_loc l;

        if (!st->enrol_clinic || rules_clinic_find(x->set, st->enrol_clinic) >= 0)
                return;
        for (size_t i = 0; i < x->set->n_clinics; i++) {
                size_t n = strlen(ids);

                snprintf(ids + n, sizeof(ids) - n, "%s%s", i ? ", " : "", x->clinics[i].id);
        }
        x->file = NULL;
        for (size_t f = 0; f < x->n_files; f++)
                if (x->files[f].name == st->loc.file)
                        x->file = &x->files[f];
        l = parse_loc(x, "settings", "enrol_clinic", 0);
        parse_error_at(x, &l, "unknown clinic '%s' for enrol_clinic; expected one of: %s",
                       st->enrol_clinic, ids[0] ? ids : "(no clinic is declared)");
        x->file = NULL;
}

void parse_pass_check(struct parse_ctx *x)
{
        struct rules_set *set = x->set;
        const struct rules_settings *st = &set->settings;

        if (!x->fields)
                return;
        check_enrol_clinic(x);
        check_texts(x, &st->opt_out_reply, CTX_PLAIN, NULL);
        check_texts(x, &st->help_reply, CTX_PLAIN, NULL);
        check_texts(x, &st->unknown_reply, CTX_PLAIN, NULL);
        for (size_t i = 0; i < set->n_reminders; i++) {
                const struct rules_reminder *r = &x->reminders[i];

                check_texts(x, &r->text, CTX_REMINDER, NULL);
                for (size_t v = 0; v < r->n_variants; v++)
                        check_texts(x, &r->variants[v].text, CTX_REMINDER, NULL);
        }
        for (size_t i = 0; i < set->n_quizzes; i++) {
                const struct rules_quiz *z = &x->quizzes[i];

                check_texts(x, &z->intro, CTX_PLAIN, NULL);
                check_texts(x, &z->done, CTX_DONE, NULL);
                for (size_t q = 0; q < z->n_questions; q++) {
                        check_texts(x, &z->questions[q].text, CTX_PLAIN, NULL);
                        check_texts(x, &z->questions[q].right, CTX_PLAIN, NULL);
                        check_texts(x, &z->questions[q].wrong, CTX_PLAIN, NULL);
                        check_texts(x, &z->questions[q].invalid, CTX_PLAIN, NULL);
                }
        }
        for (size_t i = 0; i < set->n_keywords; i++) {
                const struct rules_keyword *k = &x->keywords[i];

                check_texts(x, &k->reply, CTX_PLAIN, k);
                check_texts(x, &k->staff, CTX_STAFF, k);
                check_texts(x, &k->support_reply, CTX_PLAIN, k);
                check_texts(x, &k->stop_reply, CTX_PLAIN, k);
        }
        check_keywords(x);
        check_answers_vs_opt_out(x);
}
