/* Fuzzes the rule parser (rules/parse.h) with arbitrary bytes as a rule file loaded after a
 * valid settings file, so that every pass runs. Asserts only what always holds: a set or
 * errors, never both; every kept message has its text; every reference in a loaded set is
 * in range. Needs libconfuse and nettle (tests/fuzz/run.sh links them). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char settings[] = "settings {\n"
                               "    timezone = \"America/Mexico_City\"\n"
                               "    default_language = es\n"
                               "    languages = { es, en }\n"
                               "}\n"
                               "track embarazo {\n"
                               "    anchor = edd\n"
                               "    day_zero = \"-40 weeks\"\n"
                               "    end = \"42 weeks\"\n"
                               "    max_duration = \"44 weeks\"\n"
                               "}\n";

static void check_set(const struct rules_set *s)
{
        for (size_t i = 0; i < s->n_reminders; i++) {
                const struct rules_reminder *r = &s->reminders[i];

                if (!r->name || (r->track != RULES_NONE && (size_t)r->track >= s->n_tracks) ||
                    (r->quiz != RULES_NONE && (size_t)r->quiz >= s->n_quizzes) ||
                    (r->anchor_kind == RULES_ANCHOR_FIELD && (size_t)r->anchor >= s->n_fields) ||
                    (r->anchor_kind == RULES_ANCHOR_TRACK && (size_t)r->anchor >= s->n_tracks))
                        abort();
                for (size_t c = 0; c < r->n_conditions; c++)
                        if ((size_t)r->conditions[c].field >= s->n_fields)
                                abort();
                if (!r->text.n && r->quiz == RULES_NONE)
                        abort();
        }
        for (size_t i = 0; i < s->n_quizzes; i++)
                for (size_t q = 0; q < s->quizzes[i].n_questions; q++)
                        for (size_t c = 0; c < s->quizzes[i].questions[q].n_choices; c++) {
                                int next = s->quizzes[i].questions[q].choices[c].next;

                                /* forward only: a quiz always ends */
                                if (next != RULES_NEXT_QUESTION && next != RULES_END_QUIZ &&
                                    (next <= (int)q || (size_t)next >= s->quizzes[i].n_questions))
                                        abort();
                        }
        for (size_t i = 0; i < s->n_keywords; i++)
                for (size_t a = 0; a < s->keywords[i].n_args; a++)
                        if ((size_t)s->keywords[i].args[a] >= s->n_fields)
                                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rules_source src[] = {
                { "00-settings.conf", settings, sizeof(settings) - 1 },
                { "10-fuzz.conf", (const char *)data, size },
        };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char line[RULES_DIAG_FILE_MAX + RULES_DIAG_TEXT_MAX + 32];
        int r = rules_parse(src, 2, NULL, &d, &set);

        if (r == 0) {
                if (!set || d.n_errors)
                        abort();
                check_set(set);
        } else if (r == -EBADMSG) {
                if (set || !d.n_errors)
                        abort();
        } else if (r != -ENOMEM) {
                abort();
        }
        for (size_t i = 0; i < d.n; i++)
                if (rules_diag_format(&d.v[i], line, sizeof(line)) <= 0 || !d.v[i].text[0])
                        abort();
        rules_free(set);
        rules_diags_free(&d);
        return 0;
}
