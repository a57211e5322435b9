/* rules/parse-keywords: pass 2 for keywords (opt-in with fields, alerts, birth, loss...). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/parse-internal.h"

#define KEYWORD_ARGS_MAX 4

static const char *const actions[] = { "opt_in", "set",  "alert", "birth",
                                       "loss",   "quiz", "reply", NULL };

static void do_args(struct parse_ctx *x, void *sec, const char *path, struct rules_keyword *k)
{
        size_t n = cfgx_nlist(sec, "args");
        int *a = rules_arena_array(x->arena, n, sizeof(*a));

        if (!a)
                return;
        k->args = a;
        if (n > KEYWORD_ARGS_MAX) {
                struct rules_loc l = parse_loc(x, path, "args", KEYWORD_ARGS_MAX);

                parse_error_at(x, &l, "%zu args; expected at most %d", n, KEYWORD_ARGS_MAX);
                n = KEYWORD_ARGS_MAX;
        }
        for (size_t i = 0; i < n; i++) {
                struct rules_loc l = parse_loc(x, path, "args", (int)i);
                int f = parse_field_ref(x, &l, cfgx_list(sec, "args", i), -1, "field");

                if (f == RULES_F_STUDY_ID || f == RULES_F_ARM || f == RULES_F_STRATUM ||
                    f == RULES_F_PHONE) {
                        parse_error_at(x, &l,
                                       "field '%s' is not set by a participant; expected "
                                       "a date, text, number or choice field",
                                       x->fields[f].name);
                        continue;
                }
                if (f >= 0)
                        a[k->n_args++] = f;
        }
}

static void need_texts(struct parse_ctx *x, struct rules_keyword *k, const char *key,
                       const struct rules_texts *t)
{
        if (!t->n)
                parse_error_at(x, &k->loc,
                               "%s keyword '%s' without %s; expected %s { %s = "
                               "\"...\" }",
                               actions[k->action], k->name, key, key,
                               x->set->settings.default_language ? x->set->settings.default_language
                                                                 : "es");
}

static void do_keyword(struct parse_ctx *x, void *sec, struct rules_keyword *k)
{
        char path[PARSE_PATH_MAX];
        struct rules_loc l;
        const char *s;
        int v;

        if (!k->name)
                return;
        parse_path(path, "keyword", k->name);
        k->set_field = k->track = k->quiz = RULES_NONE;
        if (!(s = cfgx_str(sec, "action"))) {
                parse_error_at(x, &k->loc,
                               "keyword '%s' without action; expected action = "
                               "opt_in, set, alert, birth, loss, quiz or reply",
                               k->name);
                return;
        }
        l = parse_loc(x, path, "action", 0);
        if (parse_enum(x, &l, "action", s, actions, &v) < 0)
                return;
        k->action = (enum rules_keyword_action)v;
        parse_strings(x, sec, path, "words", true, &k->words);
        if (!cfgx_nlist(sec, "words"))
                parse_error_at(x, &k->loc, "keyword '%s' without words; expected words = { ... }",
                               k->name);
        for (size_t i = 0; i < k->words.n; i++)
                if (strchr(k->words.v[i], ' ')) {
                        l = parse_loc(x, path, "words", (int)i);
                        parse_error_at(x, &l,
                                       "keyword word '%s' is several words; expected one "
                                       "word (what follows it are the args)",
                                       cfgx_list(sec, "words", i));
                }
        do_args(x, sec, path, k);
        k->arms = parse_arms(x, sec, path, "arms");
        if (k->action == RULES_KW_OPT_IN && cfgx_nlist(sec, "arms")) {
                /* the arm is drawn at enrolment, after the opt-in keyword has run */
                l = parse_loc(x, path, "arms", -1);
                parse_error_at(x, &l,
                               "opt_in keyword '%s' with arms; expected none (the arm "
                               "is assigned when the keyword enrols)",
                               k->name);
                k->arms = rules_arms_all(x->set);
        }
        if ((s = cfgx_str(sec, "set"))) {
                l = parse_loc(x, path, "set", 0);
                k->set_field = parse_field_ref(x, &l, s, RULES_FIELD_DATE, "date field");
        } else if (k->action == RULES_KW_BIRTH) {
                k->set_field = RULES_F_BIRTH;
        }
        if ((s = cfgx_str(sec, "track"))) {
                l = parse_loc(x, path, "track", 0);
                k->track = parse_ref(x, &l, REF_TRACK, s);
        }
        if ((s = cfgx_str(sec, "quiz"))) {
                l = parse_loc(x, path, "quiz", 0);
                k->quiz = parse_ref(x, &l, REF_QUIZ, s);
        }
        parse_texts(x, sec, path, "reply", &k->reply);
        parse_texts(x, sec, path, "staff", &k->staff);
        parse_strings(x, sec, path, "reasons", true, &k->reasons);
        parse_strings(x, sec, path, "support_words", true, &k->support_words);
        parse_strings(x, sec, path, "stop_words", true, &k->stop_words);
        parse_texts(x, sec, path, "support_reply", &k->support_reply);
        parse_texts(x, sec, path, "stop_reply", &k->stop_reply);

        switch (k->action) {
        case RULES_KW_OPT_IN:
        case RULES_KW_SET:
                if (k->action == RULES_KW_SET && !k->n_args && !cfgx_nlist(sec, "args"))
                        parse_error_at(x, &k->loc,
                                       "set keyword '%s' without args; expected "
                                       "args = { FIELD }",
                                       k->name);
                break;
        case RULES_KW_ALERT:
                need_texts(x, k, "staff", &k->staff);
                break;
        case RULES_KW_BIRTH:
                if (k->track == RULES_NONE && !cfgx_str(sec, "track"))
                        parse_error_at(x, &k->loc,
                                       "birth keyword '%s' without track; expected "
                                       "track = the baby track",
                                       k->name);
                break;
        case RULES_KW_LOSS:
                if (!cfgx_nlist(sec, "support_words") || !cfgx_nlist(sec, "stop_words"))
                        parse_error_at(x, &k->loc,
                                       "loss keyword '%s' needs support_words and stop_words "
                                       "(the participant chooses support content or a full "
                                       "stop)",
                                       k->name);
                if (k->support_words.n && k->track == RULES_NONE && !cfgx_str(sec, "track"))
                        parse_error_at(x, &k->loc,
                                       "loss keyword '%s' without track; expected "
                                       "track = the support track",
                                       k->name);
                need_texts(x, k, "reply", &k->reply);
                break;
        case RULES_KW_QUIZ:
                if (k->quiz == RULES_NONE && !cfgx_str(sec, "quiz"))
                        parse_error_at(x, &k->loc,
                                       "quiz keyword '%s' without quiz; expected "
                                       "quiz = NAME",
                                       k->name);
                break;
        case RULES_KW_REPLY:
                need_texts(x, k, "reply", &k->reply);
                break;
        }
}

void parse_keywords(struct parse_ctx *x)
{
        size_t n = 0;

        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t j = 0; j < cfgx_nsec(f->cfg, "keyword"); j++)
                        do_keyword(x, cfgx_sec(f->cfg, "keyword", j), &x->keywords[n++]);
        }
        x->file = NULL;
}
