/* rules/parse: the sample programme loads with the values it says; a table of realistic
 * mistakes in rule files (tests/rules/broken/), each with the exact message and location;
 * every error of a file at once; columns with tabs and accents; the content hash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/rules-files.h"
#include "rules/parse.h"
#include "rules/rules.h"

static const char *src_dir(void)
{
        const char *s = getenv("PUENTE_SRC");

        return s ? s : ".";
}

static char *read_text(const char *rel, size_t *ret_len)
{
        char path[1024];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof(path), "%s/%s", src_dir(), rel);
        f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot open %s (set PUENTE_SRC)", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        *ret_len = (size_t)n;
        return buf;
}

/* Parses text given as files {name, text} (NULL-terminated pairs). */
static int parse_texts(const char *const *pairs, struct rules_diags *d, struct rules_set **set)
{
        struct rules_source src[8];
        size_t n = 0;

        for (; pairs[2 * n]; n++) {
                src[n].name = pairs[2 * n];
                src[n].data = pairs[2 * n + 1];
                src[n].len = strlen(pairs[2 * n + 1]);
        }
        return rules_parse(src, n, NULL, d, set);
}

static void diag_text(const struct rules_diags *d, size_t i, char *buf, size_t size)
{
        assert_true(i < d->n);
        rules_diag_format(&d->v[i], buf, size);
}

static void dump(const struct rules_diags *d)
{
        char line[600];

        for (size_t i = 0; i < d->n; i++) {
                rules_diag_format(&d->v[i], line, sizeof(line));
                print_message("  %s\n", line);
        }
}

/* ---- the sample programme ------------------------------------------------------------- */

static struct rules_set *load_dir(const char *rel, struct rules_diags *d)
{
        char dir[1024];
        struct rules_files files;
        struct rules_set *set = NULL;
        int r;

        snprintf(dir, sizeof(dir), "%s/%s", src_dir(), rel);
        assert_int_equal(rules_files_read(dir, &files), 0);
        assert_true(files.n >= 5);
        r = rules_parse(files.src, files.n, NULL, d, &set);
        if (r != 0)
                dump(d);
        assert_int_equal(r, 0);
        rules_files_free(&files);
        return set;
}

static const struct rules_reminder *reminder(const struct rules_set *set, const char *name)
{
        int i = rules_reminder_find(set, name);

        assert_true(i >= 0);
        return &set->reminders[i];
}

static void test_sample_loads(void **state)
{
        struct rules_diags d = { 0 };
        struct rules_set *set = load_dir("etc/rules.d", &d);
        const struct rules_settings *st = &set->settings;
        const struct rules_reminder *r;
        int arm_t, arm_c;

        (void)state;
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(d.n_warnings, 0); /* translit: every text one GSM part */
        assert_string_equal(st->timezone, "America/Mexico_City");
        assert_string_equal(st->default_language, "es");
        assert_int_equal(st->quiet_start, 21 * 60);
        assert_int_equal(st->quiet_end, 8 * 60);
        assert_int_equal(st->max_per_day, 2);
        assert_int_equal(st->max_per_week, 6);
        assert_int_equal(st->part_budget, 2);
        assert_true(st->translit);
        assert_int_equal(st->grace_minutes, 180);
        /* the four of the issue always, then the configured synonyms, normalized */
        assert_int_equal(st->opt_out_words.n, 6);
        assert_string_equal(st->opt_out_words.v[0], "stop");
        assert_string_equal(st->opt_out_words.v[3], "cancelar");
        assert_string_equal(st->opt_out_words.v[4], "no mas");
        assert_string_equal(st->help_words.v[0], "ayuda");

        /* clinics and their zones: Cancun has no DST, Tijuana has */
        assert_int_equal(set->n_clinics, 4);
        assert_string_equal(set->clinics[rules_clinic_find(set, "CS-CANCUN")].timezone,
                            "America/Cancun");
        assert_string_equal(set->clinics[rules_clinic_find(set, "CS-TLALPAN")].timezone,
                            "America/Mexico_City");
        assert_int_equal(set->clinics[0].staff.n, 2);

        /* the trial */
        assert_true(set->trial.present);
        assert_int_equal(set->trial.n_arms, 2);
        arm_t = rules_arm_find(set, "tratamiento");
        arm_c = rules_arm_find(set, "control");
        assert_int_equal(arm_t, 0);
        assert_int_equal(arm_c, 1);
        assert_int_equal(set->trial.n_strata, 2);
        assert_int_equal(set->trial.strata[0], RULES_F_CLINIC);
        assert_string_equal(set->trial.secret_key_file, "/etc/puente/trial.key");
        assert_null(set->trial.sealed_list_file);

        /* pregnancy: day zero 40 weeks before the due date; weekly from week 8 */
        {
                const struct rules_track *t = &set->tracks[rules_track_find(set, "embarazo")];

                assert_int_equal(t->anchor_field, RULES_F_EDD);
                assert_int_equal(t->zero_offset_days, -280);
                assert_int_equal(t->end_day, 42 * 7);
                assert_int_equal(t->next_track, rules_track_find(set, "bebe"));
                assert_int_equal(t->n_stages, 3);
                assert_int_equal(t->stages[1].from_day, 14 * 7);
        }
        r = reminder(set, "embarazo_t1");
        assert_true(r->repeat);
        assert_int_equal(r->anchor_kind, RULES_ANCHOR_TRACK);
        assert_int_equal(r->every_days, 7);
        assert_int_equal(r->from_days, 56);
        assert_int_equal(r->to_days, 91);
        assert_int_equal(r->days, 0x3E); /* Monday to Friday */
        assert_int_equal(r->catch_up, RULES_CATCH_UP_LATEST);
        assert_int_equal(r->slot_field, rules_field_find(set, "horario"));
        /* treatment gets the motivating text, control the same information */
        assert_ptr_equal(rules_reminder_texts_for_arm(r, arm_t), &r->text);
        assert_ptr_equal(rules_reminder_texts_for_arm(r, arm_c), &r->variants[0].text);
        assert_non_null(strstr(r->text.v[0].text, "lo valen"));
        assert_null(strstr(r->variants[0].text.v[0].text, "lo valen"));
        assert_int_equal(r->text.v[0].cost.parts, 1);
        assert_false(r->text.v[0].cost.ucs2);

        r = reminder(set, "cita_3_dias");
        assert_false(r->repeat);
        assert_int_equal(r->anchor_kind, RULES_ANCHOR_FIELD);
        assert_int_equal(r->anchor, RULES_F_APPOINTMENT);
        assert_int_equal(r->offset_days, -3);
        assert_int_equal(r->window_start, 10 * 60);
        assert_int_equal(r->window_end, 18 * 60);
        assert_int_equal(r->n_conditions, 1);
        assert_int_equal(r->conditions[0].op, RULES_COND_SET);
        assert_int_equal(r->during_quiz, RULES_DURING_QUIZ_INTERRUPT);
        /* no arms given: everyone */
        assert_int_equal(r->arms, 3);

        /* the financial quiz: treatment only, so control gets nothing by design */
        r = reminder(set, "quiz_ahorro");
        assert_null(rules_reminder_texts_for_arm(r, arm_c));
        assert_true(rules_reminder_runs_for_arm(r, arm_t));
        {
                const struct rules_quiz *z = &set->quizzes[rules_quiz_find(set, "ahorro")];

                assert_int_equal(r->quiz, rules_quiz_find(set, "ahorro"));
                assert_int_equal(z->n_questions, 3);
                assert_int_equal(z->score_field, rules_field_find(set, "puntaje_ahorro"));
                assert_true(z->questions[0].graded);
                assert_false(z->questions[1].graded);
                assert_true(z->questions[0].choices[1].right);
                /* "1", "a", "colchon" */
                assert_int_equal(z->questions[0].choices[0].answers.n, 3);
                assert_int_equal(z->questions[1].choices[0].next, 2);
                assert_int_equal(z->questions[1].choices[1].next, RULES_END_QUIZ);
                assert_int_equal(z->questions[0].timeout_minutes, 24 * 60);
        }

        /* keywords */
        {
                const struct rules_keyword *k = &set->keywords[rules_keyword_find(set, "alta")];

                assert_int_equal(k->action, RULES_KW_OPT_IN);
                assert_int_equal(k->n_args, 2); /* ALTA 15/03/2026 Maria Lopez */
                assert_int_equal(k->args[0], RULES_F_EDD);
                assert_int_equal(k->args[1], RULES_F_NAME);
                k = &set->keywords[rules_keyword_find(set, "bebe")];
                assert_int_equal(k->action, RULES_KW_BIRTH);
                assert_int_equal(k->set_field, RULES_F_BIRTH);
                assert_int_equal(k->track, rules_track_find(set, "bebe"));
                k = &set->keywords[rules_keyword_find(set, "perdida")];
                assert_int_equal(k->action, RULES_KW_LOSS);
                assert_int_equal(k->reasons.n, 3);
                assert_int_equal(k->track, rules_track_find(set, "duelo"));
                k = &set->keywords[rules_keyword_find(set, "alarma")];
                assert_int_equal(k->action, RULES_KW_ALERT);
                assert_int_equal(k->staff.n, 1);
        }
        assert_int_equal(strlen(set->hash_hex), RULES_HASH_HEX_LEN);
        rules_free(set);
        rules_diags_free(&d);
}

/* The demo copy (compressed clock): all-day windows, no quiet hours or caps, and the same
 * objects as the programme it copies. */
static void test_demo_loads(void **state)
{
        struct rules_diags d = { 0 };
        struct rules_set *demo = load_dir("etc/rules.d.demo", &d);
        struct rules_set *set = load_dir("etc/rules.d", &d);

        (void)state;
        assert_int_equal(d.n_errors + d.n_warnings, 0);
        assert_int_equal(demo->settings.quiet_start, RULES_NONE);
        assert_int_equal(demo->settings.max_per_day, 0);
        assert_int_equal(demo->n_reminders, set->n_reminders);
        assert_int_equal(demo->n_quizzes, set->n_quizzes);
        assert_int_equal(demo->n_keywords, set->n_keywords);
        for (size_t i = 0; i < demo->n_reminders; i++) {
                assert_string_equal(demo->reminders[i].name, set->reminders[i].name);
                assert_int_equal(demo->reminders[i].window_start, 0);
                assert_int_equal(demo->reminders[i].window_end, RULES_DAY_MINUTES);
                assert_int_equal(demo->reminders[i].days, 0x7F);
                assert_int_equal(demo->reminders[i].catch_up, RULES_CATCH_UP_ALL);
                assert_int_equal(demo->reminders[i].from_days, set->reminders[i].from_days);
                assert_int_equal(demo->reminders[i].offset_days, set->reminders[i].offset_days);
        }
        assert_int_equal(demo->quizzes[0].questions[0].timeout_minutes, 10);
        assert_string_not_equal(demo->hash_hex, set->hash_hex);
        rules_free(demo);
        rules_free(set);
        rules_diags_free(&d);
}

/* ---- broken files ---------------------------------------------------------------------- */

struct broken_case {
        const char *file; /* tests/rules/broken/FILE, loaded after tests/rules/base.conf */
        const char *want; /* the one message, exactly */
};

static const struct broken_case broken[] = {
        { "unknown-key.conf",
          "broken/unknown-key.conf:4:5: unknown key 'windw' in reminder; expected one of: track, "
          "anchor, offset, every, from, to, window, days, slot_field, when, arms, catch_up, "
          "during_quiz, grace, quiz, text, variant" },
        { "bad-offset.conf",
          "broken/bad-offset.conf:3:14: bad offset '-3 dais'; expected a number of days or "
          "weeks such as \"3 days\", \"-2 weeks\" or \"1 week 3 days\"" },
        { "bad-window.conf", "broken/bad-window.conf:4:14: bad window '9-19'; expected "
                             "HH:MM-HH:MM such as \"09:00-19:00\"" },
        { "bad-day.conf", "broken/bad-day.conf:4:24: bad day name 'mier'; expected mon, tue, "
                          "wed, thu, fri, sat, sun (or lun, mar, mie, jue, vie, sab, dom)" },
        { "unknown-date-field.conf",
          "broken/unknown-date-field.conf:3:14: unknown date field 'fpp'; expected a date field "
          "(edd, birth, enrolled, appointment, lmp or a field of type date) or a track" },
        { "unknown-arm.conf", "broken/unknown-arm.conf:14:27: unknown arm 'contro'; expected "
                              "one of: tratamiento, control" },
        { "weights.conf", "broken/weights.conf:1:1: arm weights sum to 99, which looks like "
                          "percentages; expected them to sum to 100" },
        { "quiz-answer-twice.conf",
          "broken/quiz-answer-twice.conf:10:30: answer '1' is also accepted by choice 'casa' "
          "(line 6) once normalized; expected each answer in one choice" },
        { "placeholder-unknown.conf",
          "broken/placeholder-unknown.conf:5:20: unknown placeholder {nombre}; no contact has "
          "it; expected a field (name, clinic, appointment_date, ...), week or day" },
        { "placeholder-context.conf",
          "broken/placeholder-context.conf:6:49: placeholder {week} is only known in a "
          "reminder's text; expected a contact field here" },
        { "over-budget.conf",
          "broken/over-budget.conf:5:14: message of 3 parts in the worst case (345 characters, "
          "GSM 7-bit); expected at most part_budget 2" },
        { "missing-default-language.conf",
          "broken/missing-default-language.conf:5:14: no text in the default language 'es'; "
          "expected es = \"...\" beside en" },
        { "duplicate-name.conf", "broken/duplicate-name.conf:2:1: duplicate reminder 'semanal' "
                                 "(first at base.conf:34)" },
        { "keyword-opt-out.conf",
          "broken/keyword-opt-out.conf:4:24: keyword word 'baja' is an opt-out word; opt-out "
          "always wins, so keyword 'presion' would never run" },
        { "semicolon.conf", "broken/semicolon.conf:2:12: bad field type 'choice;'; expected "
                            "text, date, number, choice or phone" },
        { "unclosed.conf", "broken/unclosed.conf:1:1: section 'reminder cita' is not closed; "
                           "expected '}' before the end of the file" },
        { "goto-back.conf", "broken/goto-back.conf:19:20: goto 'ahorra' goes back; expected a "
                            "later question or end" },
        { "text-as-key.conf",
          "broken/text-as-key.conf:4:5: 'text' is a section; expected text { ... }" },
        { "bad-timezone.conf",
          "broken/bad-timezone.conf:3:16: bad time zone 'America/Mexico City'; expected an IANA "
          "name such as \"America/Mexico_City\"" },
        { "slot-field.conf",
          "broken/slot-field.conf:9:18: value 'noche' of field 'turno' names no slot; expected "
          "a slot NAME { window = ... } for each value" },
        { "condition.conf", "broken/condition.conf:4:14: 'noche' is not a value of field "
                            "'horario'; expected one of: manana, tarde" },
        { "env-expansion.conf",
          "broken/env-expansion.conf:5:27: '${' in double quotes would be replaced by an "
          "environment variable; expected single quotes '...' around this text" },
        { "unterminated-string.conf",
          "broken/unterminated-string.conf:5:14: string not closed; expected its quote before "
          "the end of the file" },
        { "duplicate-key.conf",
          "broken/duplicate-key.conf:5:5: 'offset' given twice (first at line 3)" },
        { "placeholder-fallback.conf",
          "broken/placeholder-fallback.conf:5:40: bad placeholder; expected {name} with "
          "lower-case letters, digits and '_', {name|fallback} with a fallback of at most 60 "
          "bytes and no braces, or {{ and }} for braces" },
        { "repeat-missing-to.conf",
          "broken/repeat-missing-to.conf:1:1: repeating reminder 'semanal_bebe' needs every, "
          "from and to; missing to" },
};

static void test_broken(void **state)
{
        size_t base_len, len;
        char *base = read_text("tests/rules/base.conf", &base_len);

        (void)state;
        for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                char rel[256], name[256], got[600];
                struct rules_diags d = { 0 };
                struct rules_set *set = NULL;
                char *text;

                snprintf(rel, sizeof(rel), "tests/rules/broken/%s", broken[i].file);
                snprintf(name, sizeof(name), "broken/%s", broken[i].file);
                text = read_text(rel, &len);
                {
                        const char *pairs[] = { "base.conf", base, name, text, NULL };

                        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
                }
                assert_null(set);
                if (d.n_errors != 1) {
                        print_message("%s: %zu errors\n", broken[i].file, d.n_errors);
                        dump(&d);
                }
                assert_int_equal(d.n_errors, 1);
                diag_text(&d, 0, got, sizeof(got));
                if (strcmp(got, broken[i].want) != 0)
                        print_message("%s:\n got  %s\n want %s\n", broken[i].file, got,
                                      broken[i].want);
                assert_string_equal(got, broken[i].want);
                rules_diags_free(&d);
                free(text);
        }
        free(base);
}

/* The base alone is valid: each broken file's error is its own. */
static void test_base_valid(void **state)
{
        size_t len;
        char *base = read_text("tests/rules/base.conf", &len);
        const char *pairs[] = { "base.conf", base, NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), 0);
        assert_non_null(set);
        assert_int_equal(d.n_errors, 0);
        rules_free(set);
        rules_diags_free(&d);
        free(base);
}

static const char settings_text[] = "settings {\n"
                                    "    timezone = \"America/Mexico_City\"\n"
                                    "    default_language = es\n"
                                    "}\n";

/* Every mistake of a file in one run, in file and line order, not just the first. */
static void test_all_errors_at_once(void **state)
{
        static const char text[] = "reminder a {\n"                 /* 1 */
                                   "    anchor = appointment\n"     /* 2 */
                                   "    offset = \"2 dias\"\n"      /* 3: fine (Spanish) */
                                   "    window = \"25:00-26:00\"\n" /* 4 */
                                   "    catch_up = some\n"          /* 5 */
                                   "    text {\n"                   /* 6 */
                                   "        es = \"{nombre}\"\n"    /* 7 */
                                   "    }\n"
                                   "}\n"
                                   "reminder b {\n" /* 10 */
                                   "    anchor = edd\n"
                                   "    offset = \"1 week\"\n"
                                   "    arms = { control }\n" /* 13: no trial */
                                   "    text {\n"
                                   "        es = \"hola\"\n"
                                   "    }\n"
                                   "}\n";
        static const char *const want[] = {
                "b.conf:4:14: bad window '25:00-26:00'; expected HH:MM-HH:MM such as "
                "\"09:00-19:00\"",
                "b.conf:5:16: bad catch_up 'some'; expected skip, latest or all",
                "b.conf:7:15: unknown placeholder {nombre}; no contact has it; expected a field "
                "(name, clinic, appointment_date, ...), week or day",
                "b.conf:13:5: arms given but no trial is declared; expected a trial NAME { arm "
                "... } section",
        };
        const char *pairs[] = { "a.conf", settings_text, "b.conf", text, NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
        if (d.n_errors != 4)
                dump(&d);
        assert_int_equal(d.n_errors, 4);
        for (size_t i = 0; i < 4; i++) {
                diag_text(&d, i, got, sizeof(got));
                assert_string_equal(got, want[i]);
        }
        rules_diags_free(&d);
}

/* Columns count characters (UTF-8 code points), a tab as one. */
static void test_columns(void **state)
{
        static const char text[] = "# comentario: ñandú\n"
                                   "reminder señal {\n" /* a bad name, with a ñ */
                                   "}\n"
                                   "reminder ok {\n"
                                   "\tanchor = edd\n"
                                   "\toffset = \"1 week\"\n"
                                   "\ttext {\n"
                                   "\t\tes = \"Señora {nombre}\"\n"
                                   "\t}\n"
                                   "}\n";
        const char *pairs[] = { "a.conf", settings_text, "b.conf", text, NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
        assert_int_equal(d.n_errors, 2);
        diag_text(&d, 0, got, sizeof(got));
        assert_string_equal(got, "b.conf:2:1: bad reminder name 'señal'; expected lower-case "
                                 "letters, digits and '_', starting with a letter, at most 63 "
                                 "characters");
        /* tab tab es = " : the quote is column 8; "Señora " is 7 characters */
        diag_text(&d, 1, got, sizeof(got));
        assert_non_null(strstr(got, "b.conf:8:16: unknown placeholder {nombre}"));
        rules_diags_free(&d);
}

/* A syntax error: libconfuse's words, at the token where the scan stopped. */
static void test_syntax_error(void **state)
{
        static const char text[] = "reminder a {\n"
                                   "    anchor = edd\n"
                                   "    offset = = \"1 week\"\n"
                                   "}\n";
        const char *pairs[] = { "a.conf", settings_text, "b.conf", text, NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
        assert_int_equal(d.n_errors, 1);
        diag_text(&d, 0, got, sizeof(got));
        assert_non_null(strstr(got, "b.conf:3:14: syntax error"));
        rules_diags_free(&d);
}

static void test_no_settings(void **state)
{
        const char *pairs[] = { "a.conf", "# empty\n", NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
        assert_int_equal(d.n_errors, 1);
        diag_text(&d, 0, got, sizeof(got));
        assert_string_equal(got, "no settings section in any file; expected settings { "
                                 "timezone = ...  default_language = ... }");
        rules_diags_free(&d);
}

/* A reminder may name a quiz of a later file; the hash is over the bytes in name order, so
 * the same files under another directory, or given in another order, hash the same. */
static void test_cross_file_and_hash(void **state)
{
        static const char rem[] = "reminder q {\n"
                                  "    anchor = enrolled\n"
                                  "    offset = \"1 day\"\n"
                                  "    quiz = z\n"
                                  "}\n";
        static const char quiz[] = "quiz z {\n"
                                   "    question p {\n"
                                   "        text {\n"
                                   "            es = \"1) si 2) no\"\n"
                                   "        }\n"
                                   "        choice si {\n"
                                   "            answers = { \"1\", si }\n"
                                   "        }\n"
                                   "        choice no {\n"
                                   "            answers = { \"2\", no }\n"
                                   "        }\n"
                                   "    }\n"
                                   "}\n";
        const char *a[] = {
                "/etc/x/00.conf", settings_text, "/etc/x/10.conf", rem, "/etc/x/20.conf", quiz, NULL
        };
        const char *b[] = { "y/20.conf", quiz, "y/00.conf", settings_text, "y/10.conf", rem, NULL };
        const char *c[] = { "00.conf", settings_text, "10.conf", rem,
                            "20.conf", quiz,          "30.conf", "# a comment changes the set\n",
                            NULL };
        struct rules_diags d = { 0 };
        struct rules_set *sa = NULL, *sb = NULL, *sc = NULL;

        (void)state;
        assert_int_equal(parse_texts(a, &d, &sa), 0);
        assert_int_equal(sa->reminders[0].quiz, 0);
        assert_int_equal(parse_texts(b, &d, &sb), 0);
        assert_int_equal(parse_texts(c, &d, &sc), 0);
        assert_string_equal(sa->hash_hex, sb->hash_hex);
        assert_string_not_equal(sa->hash_hex, sc->hash_hex);
        assert_memory_equal(sa->hash, sb->hash, RULES_HASH_LEN);
        rules_free(sa);
        rules_free(sb);
        rules_free(sc);
        rules_diags_free(&d);
}

/* A syntax error in one file is one error: what that file declares is not reported again as
 * unknown where other files use it. */
static void test_no_cascade(void **state)
{
        static const char broken_text[] = "track bebe {\n"
                                          "    anchor = birth\n"
                                          "    end = \"6 weeks\"\n"
                                          "    max_duration = \"8 weeks\"\n"
                                          "}\n"
                                          "field perdida {\n"
                                          "    type = date\n"
                                          "}\n"
                                          "quiz z {\n"
                                          "    question q {\n"
                                          "        text = = {\n"; /* the slip */
        static const char user[] = "reminder r {\n"
                                   "    track = bebe\n"
                                   "    anchor = bebe\n"
                                   "    offset = \"1 week\"\n"
                                   "    quiz = z\n"
                                   "}\n"
                                   "keyword k {\n"
                                   "    action = loss\n"
                                   "    words = { PERDIDA }\n"
                                   "    set = perdida\n"
                                   "    track = bebe\n"
                                   "    support_words = { SI }\n"
                                   "    stop_words = { NO }\n"
                                   "    reply {\n"
                                   "        es = \"Lo sentimos.\"\n"
                                   "    }\n"
                                   "}\n";
        const char *pairs[] = {
                "a.conf", settings_text, "b.conf", broken_text, "c.conf", user, NULL
        };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
        if (d.n_errors != 1)
                dump(&d);
        assert_int_equal(d.n_errors, 1);
        diag_text(&d, 0, got, sizeof(got));
        assert_string_equal(got, "b.conf:11:9: 'text' is a section; expected text { ... }");
        rules_diags_free(&d);
}

static bool no_zones(void *userdata, const char *zone)
{
        (void)userdata;
        return strcmp(zone, "America/Mexico_City") == 0;
}

/* The caller's zone check (the daemon looks in zoneinfo) names unknown zones. */
static void test_zone_callback(void **state)
{
        static const char text[] = "clinic C1 {\n"
                                   "    timezone = \"America/Ciudad_Juarez\"\n"
                                   "}\n";
        struct rules_source src[] = {
                { "a.conf", settings_text, sizeof(settings_text) - 1 },
                { "b.conf", text, sizeof(text) - 1 },
        };
        struct rules_parse_opts opts = { .zone_exists = no_zones };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(rules_parse(src, 2, &opts, &d, &set), -EBADMSG);
        diag_text(&d, 0, got, sizeof(got));
        assert_string_equal(got, "b.conf:2:16: unknown time zone 'America/Ciudad_Juarez'; "
                                 "expected a zone of the system's zoneinfo such as "
                                 "\"America/Mexico_City\"");
        rules_diags_free(&d);
        /* the real check, against this system's zoneinfo */
        assert_true(rules_files_zone_exists(NULL, "America/Mexico_City"));
        assert_false(rules_files_zone_exists(NULL, "America/Atlantis"));
        assert_false(rules_files_zone_exists(NULL, "../../etc/passwd"));
}

/* Warnings: UCS-2 and more than one part are reported, and the set still loads. */
static void test_cost_warnings(void **state)
{
        static const char text[] = "reminder a {\n"
                                   "    anchor = edd\n"
                                   "    offset = \"1 week\"\n"
                                   "    text {\n"
                                   "        es = \"¿Cómo está, {name}?\"\n"
                                   "    }\n"
                                   "}\n";
        const char *pairs[] = { "a.conf", settings_text, "b.conf", text, NULL };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        assert_int_equal(parse_texts(pairs, &d, &set), 0);
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(d.n_warnings, 1);
        diag_text(&d, 0, got, sizeof(got));
        assert_string_equal(got, "b.conf:5:14: warning: message needs UCS-2 ('ó' is outside "
                                 "GSM 7-bit): 1 part for 33 characters in the worst case");
        assert_true(set->reminders[0].text.v[0].cost.ucs2);
        assert_int_equal(set->reminders[0].text.v[0].cost.chars, 33); /* name: 20 */
        rules_free(set);
        rules_diags_free(&d);
}

/* A contact who enrols by SMS has no name and, unless settings name enrol_clinic, no
 * clinic: a text using them without a fallback is never sent (an alert shows '?'), and
 * `rules check` says so; a fallback or enrol_clinic silences it. Without an opt-in keyword
 * nobody enrols by SMS: no warning. */
static void test_sms_enrolee_placeholders(void **state)
{
        static const char clinic[] = "clinic CS-A {\n"
                                     "    name = \"CS Centro\"\n"
                                     "    staff = { \"+525512345601\" }\n"
                                     "}\n";
        static const char alta[] =
                "keyword alta {\n"
                "    action = opt_in\n"
                "    words = { ALTA }\n"
                "    args = { edd, name }\n"
                "    reply { es = \"Hola {name}, en {clinic}.\" }\n"
                "}\n"
                "keyword sangrado {\n"
                "    action = alert\n"
                "    words = { SANGRADO }\n"
                "    staff { es = \"{keyword}: {study_id} {name|-} {clinic}\" }\n"
                "}\n"
                "reminder semana {\n"
                "    anchor = edd\n"
                "    offset = \"-3 weeks\"\n"
                "    text { es = \"{name|Hola}, en {clinic|su clinica}: {edd}\" }\n"
                "}\n";
        static const char with_clinic[] = "settings {\n"
                                          "    timezone = \"America/Mexico_City\"\n"
                                          "    default_language = es\n"
                                          "    enrol_clinic = CS-A\n"
                                          "}\n";
        static const char bad_clinic[] = "settings {\n"
                                         "    timezone = \"America/Mexico_City\"\n"
                                         "    default_language = es\n"
                                         "    enrol_clinic = CS-B\n"
                                         "}\n";
        static const char *const want[] = {
                "c.conf:5:24: warning: placeholder {name} has no value for a contact who enrols "
                "by SMS (keyword 'alta'), so this message would not be sent; expected a "
                "fallback such as {name|...}",
                "c.conf:5:35: warning: placeholder {clinic} has no value for a contact who "
                "enrols by SMS (keyword 'alta'), so this message would not be sent; expected a "
                "fallback such as {clinic|...} or settings' enrol_clinic",
                "c.conf:10:50: warning: placeholder {clinic} has no value for a contact who "
                "enrols by SMS (keyword 'alta'), so the alert would show '?'; expected a "
                "fallback such as {clinic|...} or settings' enrol_clinic",
        };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char got[600];

        (void)state;
        {
                const char *pairs[] = { "a.conf", settings_text, "b.conf", clinic,
                                        "c.conf", alta,          NULL };

                assert_int_equal(parse_texts(pairs, &d, &set), 0);
                if (d.n != 3)
                        dump(&d);
                assert_int_equal(d.n_errors, 0);
                assert_int_equal(d.n_warnings, 3);
                for (size_t i = 0; i < 3; i++) {
                        diag_text(&d, i, got, sizeof(got));
                        assert_string_equal(got, want[i]);
                }
                assert_null(set->settings.enrol_clinic);
                set = rules_free(set);
                rules_diags_free(&d);
        }
        {
                /* enrol_clinic: {clinic} always has a value; {name} still may not */
                const char *pairs[] = { "a.conf", with_clinic, "b.conf", clinic,
                                        "c.conf", alta,        NULL };

                assert_int_equal(parse_texts(pairs, &d, &set), 0);
                assert_int_equal(d.n_warnings, 1);
                diag_text(&d, 0, got, sizeof(got));
                assert_string_equal(got, want[0]);
                assert_string_equal(set->settings.enrol_clinic, "CS-A");
                set = rules_free(set);
                rules_diags_free(&d);
        }
        {
                const char *pairs[] = {
                        "a.conf", bad_clinic, "b.conf", clinic, "c.conf", alta, NULL
                };

                assert_int_equal(parse_texts(pairs, &d, &set), -EBADMSG);
                assert_int_equal(d.n_errors, 1);
                diag_text(&d, 0, got, sizeof(got));
                assert_string_equal(got, "a.conf:4:20: unknown clinic 'CS-B' for enrol_clinic; "
                                         "expected one of: CS-A");
                rules_diags_free(&d);
        }
        {
                /* no opt-in keyword: nobody enrols by SMS */
                static const char no_alta[] = "reminder semana {\n"
                                              "    anchor = edd\n"
                                              "    offset = \"-3 weeks\"\n"
                                              "    text { es = \"Hola {name}, en {clinic}\" }\n"
                                              "}\n";
                const char *pairs[] = { "a.conf", settings_text, "b.conf", clinic,
                                        "c.conf", no_alta,       NULL };

                assert_int_equal(parse_texts(pairs, &d, &set), 0);
                assert_int_equal(d.n, 0);
                set = rules_free(set);
                rules_diags_free(&d);
        }
}

/* Garbage in: a message, never a crash (the fuzzer does more). */
static void test_garbage(void **state)
{
        static const struct {
                const char *text;
                size_t len; /* 0: strlen */
        } inputs[] = {
                { "", 0 },
                { "{", 0 },
                { "}", 0 },
                { "reminder", 0 },
                { "reminder {", 0 },
                { "reminder x { text { es = \"{\" } }", 0 },
                { "\"unterminated", 0 },
                { "/* unterminated", 0 },
                { "a = { b, c", 0 },
                { "x\0y", 3 },
                /* found by fuzz-rules: a NUL inside a list stopped the scanner's progress */
                { "keyword k {\n words = { A\0B }\n}\n", 31 },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
                struct rules_source src[] = {
                        { "a.conf", settings_text, sizeof(settings_text) - 1 },
                        { "b.conf", inputs[i].text,
                          inputs[i].len ? inputs[i].len : strlen(inputs[i].text) },
                };
                struct rules_diags d = { 0 };
                struct rules_set *set = NULL;
                int r = rules_parse(src, 2, NULL, &d, &set);

                if (i == 0) {
                        assert_int_equal(r, 0); /* an empty file is fine */
                        rules_free(set);
                } else {
                        assert_int_equal(r, -EBADMSG);
                        assert_true(d.n_errors >= 1);
                }
                rules_diags_free(&d);
        }
}

/* A directory without .conf files: no sources, no error (found by clang-tidy: the empty list
 * of names reached qsort() as NULL, which UBSan's nonnull-attribute check stops). */
static void test_empty_directory(void **state)
{
        char dir[] = "/tmp/test-rules-empty.XXXXXX";
        struct rules_files files;

        (void)state;
        assert_non_null(mkdtemp(dir));
        assert_int_equal(rules_files_read(dir, &files), 0);
        assert_int_equal(files.n, 0);
        rules_files_free(&files);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sample_loads),
                cmocka_unit_test(test_demo_loads),
                cmocka_unit_test(test_base_valid),
                cmocka_unit_test(test_broken),
                cmocka_unit_test(test_all_errors_at_once),
                cmocka_unit_test(test_columns),
                cmocka_unit_test(test_syntax_error),
                cmocka_unit_test(test_no_settings),
                cmocka_unit_test(test_cross_file_and_hash),
                cmocka_unit_test(test_no_cascade),
                cmocka_unit_test(test_zone_callback),
                cmocka_unit_test(test_cost_warnings),
                cmocka_unit_test(test_sms_enrolee_placeholders),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_empty_directory),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
