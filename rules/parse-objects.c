/* rules/parse-objects: pass 1. Settings, fields, clinics, slots and the trial in full; the
 * names of tracks, reminders, quizzes and keywords, so that pass 2 resolves references
 * whatever file they are in. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/match.h"
#include "rules/parse-internal.h"

#define PART_BUDGET_DEFAULT 3
#define PART_BUDGET_MAX     10
#define CAP_MAX             50 /* messages per day or week: more is a typo */
#define FIELD_LENGTH_MAX    160
#define GRACE_DEFAULT       (3 * 60)
#define PHONE_DIGITS_MIN    3  /* short codes */
#define PHONE_DIGITS_MAX    15 /* ITU-T E.164 */

/* Opt-out words that always work, whatever the files add (the list). */
static const char *const opt_out_builtin[] = { "STOP", "ALTO", "BAJA", "CANCELAR", NULL };

static const struct {
        const char *name;
        enum rules_field_type type;
        unsigned max_length;
        bool unicode;
} builtin_fields[RULES_FIELD_CUSTOM] = {
        [RULES_F_STUDY_ID] = { "study_id", RULES_FIELD_TEXT, 12, false },
        [RULES_F_PHONE] = { "phone", RULES_FIELD_PHONE, 16, false },
        [RULES_F_LANGUAGE] = { "language", RULES_FIELD_TEXT, RULES_LANG_MAX - 1, false },
        [RULES_F_CLINIC] = { "clinic", RULES_FIELD_TEXT, 40, false },
        [RULES_F_ARM] = { "arm", RULES_FIELD_TEXT, RULES_NAME_MAX - 1, false },
        [RULES_F_STRATUM] = { "stratum", RULES_FIELD_TEXT, 64, false },
        [RULES_F_NAME] = { "name", RULES_FIELD_TEXT, 20, false },
        [RULES_F_EDD] = { "edd", RULES_FIELD_DATE, RULES_DATE_TEXT_LEN, false },
        [RULES_F_BIRTH] = { "birth", RULES_FIELD_DATE, RULES_DATE_TEXT_LEN, false },
        [RULES_F_ENROLLED] = { "enrolled", RULES_FIELD_DATE, RULES_DATE_TEXT_LEN, false },
        [RULES_F_APPOINTMENT] = { "appointment", RULES_FIELD_DATE, RULES_DATE_TEXT_LEN, false },
        [RULES_F_LMP] = { "lmp", RULES_FIELD_DATE, RULES_DATE_TEXT_LEN, false },
};

static const char *const field_types[] = { "text", "date", "number", "choice", "phone", NULL };

/* The first declaration of a name among the first n objects: its location, to name it. */
#define FIND_DUP(arr, n, member, name)                                                             \
        ({                                                                                         \
                const struct rules_loc *_l = NULL;                                                 \
                for (size_t _i = 0; _i < (n) && !_l; _i++)                                         \
                        if ((arr)[_i].member && strcmp((arr)[_i].member, (name)) == 0)             \
                                _l = &(arr)[_i].loc;                                               \
                _l;                                                                                \
        })

static void report_dup(struct parse_ctx *x, const struct rules_loc *loc, const char *what,
                       const char *name, const struct rules_loc *first)
{
        if (first->file)
                parse_error_at(x, loc, "duplicate %s '%s' (first at %s:%u)", what, name,
                               first->file, first->line);
        else
                parse_error_at(x, loc, "%s '%s' is built in; choose another name", what, name);
}

static bool zone_form_ok(const char *z)
{
        if (!z || !*z || *z == '/' || strstr(z, ".."))
                return false;
        for (; *z; z++)
                if (!isalnum((unsigned char)*z) && !strchr("/_+-", *z))
                        return false;
        return true;
}

static void check_zone(struct parse_ctx *x, const struct rules_loc *loc, const char *zone)
{
        if (!zone_form_ok(zone)) {
                parse_error_at(x, loc,
                               "bad time zone '%s'; expected an IANA name such as "
                               "\"America/Mexico_City\"",
                               zone ? zone : "");
                return;
        }
        if (x->opts && x->opts->zone_exists && !x->opts->zone_exists(x->opts->userdata, zone))
                parse_error_at(x, loc,
                               "unknown time zone '%s'; expected a zone of the system's "
                               "zoneinfo such as \"America/Mexico_City\"",
                               zone);
}

static bool language_known(const char *s)
{
        for (size_t i = 0; s && parse_languages[i]; i++)
                if (strcmp(parse_languages[i], s) == 0)
                        return true;
        return false;
}

static const char *language(struct parse_ctx *x, const struct rules_loc *loc, const char *s)
{
        if (language_known(s))
                for (size_t i = 0; parse_languages[i]; i++)
                        if (strcmp(parse_languages[i], s) == 0)
                                return parse_languages[i];
        parse_error_at(x, loc,
                       "unknown language '%s'; expected an ISO 639 code such as es, en, "
                       "nah, yua (docs/rules.md lists them)",
                       s ? s : "");
        return NULL;
}

static void settings_words(struct parse_ctx *x, void *sec, struct rules_strings *out)
{
        struct rules_strings extra;
        const char **v;
        size_t nb = 0, n;

        memset(&extra, 0, sizeof(extra));
        if (sec)
                parse_strings(x, sec, "settings", "opt_out", true, &extra);
        while (opt_out_builtin[nb])
                nb++;
        v = rules_arena_array(x->arena, nb + extra.n, sizeof(*v));
        if (!v)
                return;
        n = 0;
        for (size_t i = 0; i < nb; i++)
                parse_word(x, NULL, opt_out_builtin[i], &v[n++]);
        for (size_t i = 0; i < extra.n; i++)
                if (!rules_match_any(extra.v[i], v, n))
                        v[n++] = extra.v[i];
        out->v = v;
        out->n = n;
}

static void do_settings(struct parse_ctx *x)
{
        struct rules_settings *st = &x->set->settings;
        const struct parse_file *first = NULL;

        st->quiet_start = st->quiet_end = RULES_NONE;
        st->part_budget = PART_BUDGET_DEFAULT;
        st->grace_minutes = GRACE_DEFAULT;
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];
                struct rules_loc loc;
                void *sec;
                const char *s;

                if (!f->cfg)
                        continue;
                x->file = f;
                loc = parse_loc(x, "settings", NULL, -1);
                if (!loc.line)
                        continue; /* no settings section written in this file */
                if (first) {
                        parse_error_at(x, &loc,
                                       "settings given again (first in %s); expected one "
                                       "settings section in all the files",
                                       first->name);
                        continue;
                }
                first = f;
                x->have_settings = true;
                st->loc = loc;
                sec = cfgx_sec(f->cfg, "settings", 0);

                s = cfgx_str(sec, "timezone");
                loc = parse_loc(x, "settings", "timezone", 0);
                if (!s)
                        parse_error_at(x, &st->loc,
                                       "settings without timezone; expected "
                                       "timezone = \"America/Mexico_City\" or another zone");
                else
                        check_zone(x, &loc, s);
                st->timezone = parse_dup(x, s);

                /* languages: the default first, then the others as listed */
                s = cfgx_str(sec, "default_language");
                loc = parse_loc(x, "settings", "default_language", 0);
                if (!s)
                        parse_error_at(x, &st->loc,
                                       "settings without default_language; "
                                       "expected default_language = es (or another)");
                else
                        st->default_language = language(x, &loc, s);
                {
                        size_t n = cfgx_nlist(sec, "languages"), k = 0;
                        const char **v = rules_arena_array(x->arena, n + 1, sizeof(*v));

                        if (!v)
                                return;
                        if (st->default_language)
                                v[k++] = st->default_language;
                        for (size_t j = 0; j < n; j++) {
                                struct rules_loc l = parse_loc(x, "settings", "languages", (int)j);
                                const char *lang = language(x, &l, cfgx_list(sec, "languages", j));

                                if (lang && !rules_match_any(lang, v, k))
                                        v[k++] = lang;
                        }
                        st->languages.v = v;
                        st->languages.n = k;
                }
                s = cfgx_str(sec, "fallback_language");
                if (s) {
                        loc = parse_loc(x, "settings", "fallback_language", 0);
                        st->fallback_language = language(x, &loc, s);
                        if (st->fallback_language &&
                            !rules_match_any(st->fallback_language, st->languages.v,
                                             st->languages.n))
                                parse_error_at(x, &loc,
                                               "fallback_language '%s' is not among languages; "
                                               "expected one of the languages listed",
                                               s);
                }
                if (!st->fallback_language)
                        st->fallback_language = st->default_language;

                if ((s = cfgx_str(sec, "quiet_hours"))) {
                        loc = parse_loc(x, "settings", "quiet_hours", 0);
                        parse_window(x, &loc, "quiet_hours", s, &st->quiet_start, &st->quiet_end);
                }
                if ((s = cfgx_str(sec, "max_per_day"))) {
                        loc = parse_loc(x, "settings", "max_per_day", 0);
                        parse_uint(x, &loc, "max_per_day", s, CAP_MAX, &st->max_per_day);
                }
                if ((s = cfgx_str(sec, "max_per_week"))) {
                        loc = parse_loc(x, "settings", "max_per_week", 0);
                        parse_uint(x, &loc, "max_per_week", s, 7 * CAP_MAX, &st->max_per_week);
                }
                if (st->max_per_day && st->max_per_week && st->max_per_week < st->max_per_day) {
                        loc = parse_loc(x, "settings", "max_per_week", 0);
                        parse_error_at(x, &loc,
                                       "max_per_week %u is below max_per_day %u; expected at "
                                       "least as many per week as per day",
                                       st->max_per_week, st->max_per_day);
                }
                if ((s = cfgx_str(sec, "part_budget"))) {
                        loc = parse_loc(x, "settings", "part_budget", 0);
                        if (parse_uint(x, &loc, "part_budget", s, PART_BUDGET_MAX,
                                       &st->part_budget) == 0 &&
                            st->part_budget == 0)
                                parse_error_at(x, &loc, "part_budget 0; expected 1 to %d",
                                               PART_BUDGET_MAX);
                }
                if ((s = cfgx_str(sec, "translit"))) {
                        loc = parse_loc(x, "settings", "translit", 0);
                        parse_bool(x, &loc, "translit", s, &st->translit);
                }
                if ((s = cfgx_str(sec, "grace"))) {
                        loc = parse_loc(x, "settings", "grace", 0);
                        parse_minutes(x, &loc, "grace", s, &st->grace_minutes);
                }
                settings_words(x, sec, &st->opt_out_words);
                parse_strings(x, sec, "settings", "opt_in_again", true, &st->opt_in_again);
                parse_strings(x, sec, "settings", "help", true, &st->help_words);
                parse_texts(x, sec, "settings", "opt_out_reply", &st->opt_out_reply);
                parse_texts(x, sec, "settings", "help_reply", &st->help_reply);
                parse_texts(x, sec, "settings", "unknown_reply", &st->unknown_reply);
                /* checked against the clinics in pass 3, once they are all declared */
                st->enrol_clinic = parse_dup(x, cfgx_str(sec, "enrol_clinic"));
        }
        x->file = NULL;
        if (!first) {
                /* still usable for the other checks */
                parse_error_at(x, NULL,
                               "no settings section in any file; expected settings "
                               "{ timezone = ...  default_language = ... }");
                settings_words(x, NULL, &st->opt_out_words);
        }
}

static void do_field(struct parse_ctx *x, void *sec)
{
        const char *name = cfgx_title(sec), *s;
        char path[PARSE_PATH_MAX];
        struct rules_loc loc;
        struct rules_field *fd;
        int type = RULES_FIELD_TEXT, f;
        unsigned len;

        parse_path(path, "field", name);
        loc = parse_loc(x, path, NULL, -1);
        if (parse_name(x, &loc, "field", name) < 0)
                return;
        f = rules_field_find(x->set, name);
        if (f >= 0 && !x->fields[f].builtin) {
                report_dup(x, &loc, "field", name, &x->fields[f].loc);
                return;
        }
        if ((s = cfgx_str(sec, "type"))) {
                struct rules_loc l = parse_loc(x, path, "type", 0);

                if (parse_enum(x, &l, "field type", s, field_types, &type) < 0)
                        return;
                if (f >= 0 && type != (int)x->fields[f].type) {
                        parse_error_at(x, &l,
                                       "field '%s' is built in as a %s; expected only "
                                       "max_length or unicode for it",
                                       name, field_types[x->fields[f].type]);
                        return;
                }
        }
        if (f >= 0) {
                fd = &x->fields[f]; /* a built-in field: only its width may change */
        } else {
                fd = &x->fields[x->set->n_fields];
                fd->name = parse_dup(x, name);
                fd->type = (enum rules_field_type)type;
                fd->max_length = type == RULES_FIELD_DATE     ? RULES_DATE_TEXT_LEN
                                 : type == RULES_FIELD_NUMBER ? 6
                                                              : 20;
                fd->loc = loc;
                x->set->n_fields++;
        }
        if ((s = cfgx_str(sec, "max_length"))) {
                struct rules_loc l = parse_loc(x, path, "max_length", 0);

                if (fd->type == RULES_FIELD_DATE)
                        parse_error_at(x, &l,
                                       "max_length of date field '%s'; dates are shown "
                                       "as dd/mm/yyyy",
                                       name);
                else if (parse_uint(x, &l, "max_length", s, FIELD_LENGTH_MAX, &len) == 0)
                        fd->max_length = len;
        }
        if ((s = cfgx_str(sec, "unicode"))) {
                struct rules_loc l = parse_loc(x, path, "unicode", 0);

                parse_bool(x, &l, "unicode", s, &fd->unicode);
        }
        parse_strings(x, sec, path, "values", false, &fd->values);
        if (fd->type == RULES_FIELD_CHOICE && fd->values.n == 0)
                parse_error_at(x, &loc,
                               "choice field '%s' without values; expected values = "
                               "{ ... }",
                               name);
        if (fd->type != RULES_FIELD_CHOICE && fd->values.n) {
                struct rules_loc l = parse_loc(x, path, "values", -1);

                parse_error_at(x, &l, "values for a %s field; expected type = choice",
                               field_types[fd->type]);
        }
        for (size_t i = 0; fd->type == RULES_FIELD_CHOICE && i < fd->values.n; i++) {
                size_t l = strlen(fd->values.v[i]);

                if (l > fd->max_length)
                        fd->max_length = (unsigned)l;
        }
}

static bool phone_ok(const char *s)
{
        size_t digits = 0;

        if (!s)
                return false;
        if (*s == '+')
                s++;
        for (; *s; s++, digits++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return digits >= PHONE_DIGITS_MIN && digits <= PHONE_DIGITS_MAX;
}

static bool clinic_id_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
                        return false;
        return n > 0 && n < RULES_NAME_MAX;
}

static void do_clinic(struct parse_ctx *x, void *sec)
{
        const char *id = cfgx_title(sec), *s;
        char path[PARSE_PATH_MAX];
        struct rules_clinic *c = &x->clinics[x->set->n_clinics];
        const struct rules_loc *first;

        parse_path(path, "clinic", id);
        c->loc = parse_loc(x, path, NULL, -1);
        if (!clinic_id_ok(id)) {
                parse_error_at(x, &c->loc,
                               "bad clinic id '%s'; expected letters, digits, '_' or '-', as in "
                               "the contacts file",
                               id);
                return;
        }
        if ((first = FIND_DUP(x->clinics, x->set->n_clinics, id, id))) {
                report_dup(x, &c->loc, "clinic", id, first);
                return;
        }
        c->id = parse_dup(x, id);
        s = cfgx_str(sec, "name");
        c->name = parse_dup(x, s ? s : id);
        if ((s = cfgx_str(sec, "timezone"))) {
                struct rules_loc l = parse_loc(x, path, "timezone", 0);

                check_zone(x, &l, s);
                c->timezone = parse_dup(x, s);
        } else {
                c->timezone = x->set->settings.timezone;
        }
        parse_strings(x, sec, path, "staff", false, &c->staff);
        for (size_t i = 0; i < c->staff.n; i++)
                if (!phone_ok(c->staff.v[i])) {
                        struct rules_loc l = parse_loc(x, path, "staff", (int)i);

                        parse_error_at(x, &l,
                                       "bad staff number '%s'; expected \"+\" and %d to %d digits "
                                       "(international format)",
                                       c->staff.v[i], PHONE_DIGITS_MIN, PHONE_DIGITS_MAX);
                }
        x->set->n_clinics++;
}

static void do_slot(struct parse_ctx *x, void *sec)
{
        const char *name = cfgx_title(sec), *s;
        char path[PARSE_PATH_MAX];
        struct rules_slot *sl = &x->slots[x->set->n_slots];
        const struct rules_loc *first;

        parse_path(path, "slot", name);
        sl->loc = parse_loc(x, path, NULL, -1);
        if (parse_name(x, &sl->loc, "slot", name) < 0)
                return;
        if ((first = FIND_DUP(x->slots, x->set->n_slots, name, name))) {
                report_dup(x, &sl->loc, "slot", name, first);
                return;
        }
        sl->name = parse_dup(x, name);
        s = cfgx_str(sec, "window");
        if (!s) {
                parse_error_at(x, &sl->loc,
                               "slot '%s' without window; expected window = "
                               "\"HH:MM-HH:MM\"",
                               name);
        } else {
                struct rules_loc l = parse_loc(x, path, "window", 0);

                parse_window(x, &l, "window", s, &sl->start, &sl->end);
        }
        x->set->n_slots++;
}

static void check_weights(struct parse_ctx *x, const struct rules_loc *loc, double sum,
                          bool fractions)
{
        /* 0.5 + 0.4, or 50 + 49: a slip that would silently change the design */
        if (fractions && fabs(sum - 1.0) > 1e-6)
                parse_error_at(x, loc,
                               "arm weights are fractions summing to %g; expected them to sum "
                               "to 1 (or use whole numbers such as 1 and 1)",
                               sum);
        else if (!fractions && sum >= 90 && sum <= 110 && fabs(sum - 100) > 1e-6)
                parse_error_at(x, loc,
                               "arm weights sum to %g, which looks like percentages; expected "
                               "them to sum to 100",
                               sum);
}

static void do_trial(struct parse_ctx *x, void *sec)
{
        struct rules_trial *t = &x->set->trial;
        const char *name = cfgx_title(sec), *s;
        char path[PARSE_PATH_MAX];
        size_t n_arms = cfgx_nsec(sec, "arm");
        double sum = 0;
        bool fractions = true;
        int v;

        parse_path(path, "trial", name);
        t->loc = parse_loc(x, path, NULL, -1);
        if (parse_name(x, &t->loc, "trial", name) < 0)
                return;
        t->name = parse_dup(x, name);
        if ((s = cfgx_str(sec, "unit"))) {
                struct rules_loc l = parse_loc(x, path, "unit", 0);
                static const char *const units[] = { "individual", "clinic", NULL };

                if (parse_enum(x, &l, "unit", s, units, &v) == 0)
                        t->unit = (enum rules_unit)v;
        }
        if (n_arms < 2 || n_arms > RULES_ARMS_MAX) {
                parse_error_at(x, &t->loc,
                               "trial '%s' with %zu arms; expected 2 to %d arm "
                               "sections",
                               name, n_arms, RULES_ARMS_MAX);
                if (n_arms > RULES_ARMS_MAX)
                        n_arms = RULES_ARMS_MAX;
        }
        x->arms = rules_arena_array(x->arena, n_arms, sizeof(*x->arms));
        if (!x->arms)
                return;
        t->arms = x->arms;
        for (size_t i = 0; i < n_arms; i++) {
                void *a = cfgx_sec(sec, "arm", i);
                const char *an = cfgx_title(a);
                char apath[PARSE_PATH_MAX];
                struct rules_arm *arm = &x->arms[t->n_arms];
                const struct rules_loc *first;
                char *end;

                scan_path_join(apath, sizeof(apath), path, "arm", an);
                arm->loc = parse_loc(x, apath, NULL, -1);
                if (parse_name(x, &arm->loc, "arm", an) < 0)
                        continue;
                if ((first = FIND_DUP(x->arms, t->n_arms, name, an))) {
                        report_dup(x, &arm->loc, "arm", an, first);
                        continue;
                }
                arm->name = parse_dup(x, an);
                arm->weight = 1;
                if ((s = cfgx_str(a, "weight"))) {
                        struct rules_loc l = parse_loc(x, apath, "weight", 0);
                        double w = strtod(s, &end);

                        if (end == s || *end || !(w > 0) || w > 1e6)
                                parse_error_at(x, &l,
                                               "bad weight '%s'; expected a positive number such "
                                               "as 1, 2 or 0.5",
                                               s);
                        else
                                arm->weight = w;
                }
                sum += arm->weight;
                fractions = fractions && arm->weight < 1;
                t->n_arms++;
        }
        if (t->n_arms >= 2)
                check_weights(x, &t->loc, sum, fractions);
        t->present = true;
        {
                size_t n = cfgx_nlist(sec, "strata");
                int *st = rules_arena_array(x->arena, n, sizeof(*st));

                for (size_t i = 0; st && i < n; i++) {
                        struct rules_loc l = parse_loc(x, path, "strata", (int)i);
                        int f = parse_field_ref(x, &l, cfgx_list(sec, "strata", i), -1,
                                                "stratum field");

                        if (f == RULES_F_ARM || f == RULES_F_STRATUM || f == RULES_F_STUDY_ID ||
                            f == RULES_F_PHONE) {
                                parse_error_at(x, &l,
                                               "'%s' cannot stratify; expected a field known at "
                                               "enrolment such as clinic",
                                               cfgx_list(sec, "strata", i));
                                continue;
                        }
                        if (f >= 0)
                                st[t->n_strata++] = f;
                }
                t->strata = st;
        }
        {
                const char *key = cfgx_str(sec, "secret_key_file");
                const char *list = cfgx_str(sec, "sealed_list_file");

                if (!key == !list)
                        parse_error_at(x, &t->loc,
                                       "trial '%s' needs exactly one of secret_key_file (keyed "
                                       "hash of the study id) or sealed_list_file (the "
                                       "evaluator's list)",
                                       name);
                t->secret_key_file = parse_dup(x, key);
                t->sealed_list_file = parse_dup(x, list);
        }
}

/* Names of the objects defined in pass 2, checked for duplicates now. */
static void declare_names(struct parse_ctx *x, const char *section, void *arr, size_t stride,
                          size_t name_off, size_t loc_off, size_t *count)
{
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t k = 0; k < cfgx_nsec(f->cfg, section); k++) {
                        const char *name = cfgx_title(cfgx_sec(f->cfg, section, k));
                        char path[PARSE_PATH_MAX];
                        char *obj = (char *)arr + *count * stride;
                        const char **pname = (const char **)(obj + name_off);
                        struct rules_loc *ploc = (struct rules_loc *)(obj + loc_off);

                        parse_path(path, section, name);
                        *ploc = parse_loc(x, path, NULL, -1);
                        /* a bad or duplicate name keeps its slot (unnamed), so that pass 2
                         * meets the objects in the same order */
                        (*count)++;
                        if (parse_name(x, ploc, section, name) < 0)
                                continue;
                        for (size_t j = 0; j + 1 < *count; j++) {
                                const char *other =
                                        *(const char **)((char *)arr + j * stride + name_off);
                                const struct rules_loc *ol =
                                        (const struct rules_loc *)((char *)arr + j * stride +
                                                                   loc_off);

                                if (other && strcmp(other, name) == 0) {
                                        report_dup(x, ploc, section, name, ol);
                                        name = NULL;
                                        break;
                                }
                        }
                        *pname = name ? parse_dup(x, name) : NULL;
                }
        }
        x->file = NULL;
}

#define DECLARE(x, section, arr, type, count)                                                      \
        declare_names((x), (section), (arr), sizeof(type), offsetof(type, name),                   \
                      offsetof(type, loc), (count))

void parse_pass_declare(struct parse_ctx *x)
{
        struct rules_set *set = x->set;
        size_t n_fields = RULES_FIELD_CUSTOM + parse_count(x, "field");

        x->fields = rules_arena_array(x->arena, n_fields, sizeof(*x->fields));
        x->clinics = rules_arena_array(x->arena, parse_count(x, "clinic"), sizeof(*x->clinics));
        x->slots = rules_arena_array(x->arena, parse_count(x, "slot"), sizeof(*x->slots));
        x->tracks = rules_arena_array(x->arena, parse_count(x, "track"), sizeof(*x->tracks));
        x->reminders =
                rules_arena_array(x->arena, parse_count(x, "reminder"), sizeof(*x->reminders));
        x->quizzes = rules_arena_array(x->arena, parse_count(x, "quiz"), sizeof(*x->quizzes));
        x->keywords = rules_arena_array(x->arena, parse_count(x, "keyword"), sizeof(*x->keywords));
        if (!x->fields || !x->clinics || !x->slots || !x->tracks || !x->reminders || !x->quizzes ||
            !x->keywords)
                return;
        set->fields = x->fields;
        set->clinics = x->clinics;
        set->slots = x->slots;
        set->tracks = x->tracks;
        set->reminders = x->reminders;
        set->quizzes = x->quizzes;
        set->keywords = x->keywords;
        for (size_t i = 0; i < RULES_FIELD_CUSTOM; i++) {
                x->fields[i].name = builtin_fields[i].name;
                x->fields[i].type = builtin_fields[i].type;
                x->fields[i].max_length = builtin_fields[i].max_length;
                x->fields[i].unicode = builtin_fields[i].unicode;
                x->fields[i].builtin = true;
        }
        set->n_fields = RULES_FIELD_CUSTOM;

        do_settings(x);
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t k = 0; k < cfgx_nsec(f->cfg, "field"); k++)
                        do_field(x, cfgx_sec(f->cfg, "field", k));
                for (size_t k = 0; k < cfgx_nsec(f->cfg, "clinic"); k++)
                        do_clinic(x, cfgx_sec(f->cfg, "clinic", k));
                for (size_t k = 0; k < cfgx_nsec(f->cfg, "slot"); k++)
                        do_slot(x, cfgx_sec(f->cfg, "slot", k));
        }
        /* the clinic name is what {clinic} shows: its width is the longest name */
        for (size_t i = 0; i < set->n_clinics; i++) {
                size_t l = strlen(x->clinics[i].name);

                if (l > x->fields[RULES_F_CLINIC].max_length || i == 0)
                        x->fields[RULES_F_CLINIC].max_length = (unsigned)l;
        }
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t k = 0; k < cfgx_nsec(f->cfg, "trial"); k++) {
                        if (x->have_trial) {
                                char path[PARSE_PATH_MAX];
                                struct rules_loc l;

                                parse_path(path, "trial", cfgx_title(cfgx_sec(f->cfg, "trial", k)));
                                l = parse_loc(x, path, NULL, -1);
                                parse_error_at(x, &l,
                                               "a second trial (first at %s:%u); expected "
                                               "one trial section",
                                               set->trial.loc.file, set->trial.loc.line);
                                continue;
                        }
                        x->have_trial = true;
                        do_trial(x, cfgx_sec(f->cfg, "trial", k));
                }
        }
        DECLARE(x, "track", x->tracks, struct rules_track, &set->n_tracks);
        DECLARE(x, "quiz", x->quizzes, struct rules_quiz, &set->n_quizzes);
        DECLARE(x, "reminder", x->reminders, struct rules_reminder, &set->n_reminders);
        DECLARE(x, "keyword", x->keywords, struct rules_keyword, &set->n_keywords);
}
