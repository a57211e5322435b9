/* rules/parse-flows: pass 2. Tracks, reminders and quizzes in full, with every reference
 * resolved; keywords are in rules/parse-keywords.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/match.h"
#include "rules/parse-internal.h"

#define ALL_DAYS 0x7F

static const char *const catch_up_names[] = { "skip", "latest", "all", NULL };
static const char *const during_quiz_names[] = { "interrupt", "skip", "wait", NULL };

/* A required or optional day count under path/key. Returns 1 when set, 0 when absent. */
static int days_opt(struct parse_ctx *x, void *sec, const char *path, const char *key, int *ret)
{
        const char *s = cfgx_str(sec, key);
        struct rules_loc l;

        if (!s)
                return 0;
        l = parse_loc(x, path, key, 0);
        return parse_days(x, &l, key, s, ret) == 0 ? 1 : -1;
}

static void do_track(struct parse_ctx *x, void *sec, struct rules_track *t)
{
        const char *name = t->name, *s;
        char path[PARSE_PATH_MAX];
        size_t n = cfgx_nsec(sec, "stage");
        struct rules_stage *st;
        struct rules_loc l;
        int v;

        if (!name)
                return;
        parse_path(path, "track", name);
        t->anchor_field = t->next_track = RULES_NONE;
        t->start = true;
        if (!(s = cfgx_str(sec, "anchor"))) {
                parse_error_at(x, &t->loc,
                               "track '%s' without anchor; expected anchor = a date "
                               "field such as edd or birth",
                               name);
        } else {
                l = parse_loc(x, path, "anchor", 0);
                t->anchor_field = parse_field_ref(x, &l, s, RULES_FIELD_DATE, "date field");
        }
        days_opt(x, sec, path, "day_zero", &t->zero_offset_days);
        if ((s = cfgx_str(sec, "start"))) {
                l = parse_loc(x, path, "start", 0);
                parse_bool(x, &l, "start", s, &t->start);
        }
        v = days_opt(x, sec, path, "end", &t->end_day);
        if (v == 0)
                parse_error_at(x, &t->loc,
                               "track '%s' without end; expected end = \"N weeks\" "
                               "after its day zero",
                               name);
        else if (v > 0 && t->end_day <= 0) {
                l = parse_loc(x, path, "end", 0);
                parse_error_at(x, &l, "track end %d days; expected a positive duration",
                               t->end_day);
        }
        v = days_opt(x, sec, path, "max_duration", &t->max_days);
        if (v == 0)
                parse_error_at(x, &t->loc,
                               "track '%s' without max_duration; expected "
                               "max_duration = \"N weeks\" (the longest stay)",
                               name);
        else if (v > 0 && t->max_days <= 0) {
                l = parse_loc(x, path, "max_duration", 0);
                parse_error_at(x, &l, "max_duration %d days; expected a positive duration",
                               t->max_days);
        }
        if ((s = cfgx_str(sec, "next"))) {
                l = parse_loc(x, path, "next", 0);
                t->next_track = parse_ref(x, &l, REF_TRACK, s);
                if (t->next_track >= 0 && &x->tracks[t->next_track] == t)
                        parse_error_at(x, &l,
                                       "track '%s' continues into itself; expected "
                                       "another track",
                                       name);
        }
        st = rules_arena_array(x->arena, n, sizeof(*st));
        if (!st)
                return;
        t->stages = st;
        for (size_t i = 0; i < n; i++) {
                void *ss = cfgx_sec(sec, "stage", i);
                const char *sn = cfgx_title(ss);
                char spath[PARSE_PATH_MAX];
                struct rules_stage *g = &st[t->n_stages];

                scan_path_join(spath, sizeof(spath), path, "stage", sn);
                g->loc = parse_loc(x, spath, NULL, -1);
                if (parse_name(x, &g->loc, "stage", sn) < 0)
                        continue;
                g->name = parse_dup(x, sn);
                g->to_day = t->end_day;
                days_opt(x, ss, spath, "from", &g->from_day);
                days_opt(x, ss, spath, "to", &g->to_day);
                if (g->from_day >= g->to_day)
                        parse_error_at(x, &g->loc,
                                       "stage '%s' from day %d to day %d; expected "
                                       "from before to",
                                       sn, g->from_day, g->to_day);
                for (size_t j = 0; j < t->n_stages; j++)
                        if (g->from_day < st[j].to_day && st[j].from_day < g->to_day) {
                                parse_error_at(x, &g->loc,
                                               "stage '%s' overlaps stage '%s' (line %u); "
                                               "expected one stage per day",
                                               sn, st[j].name, st[j].loc.line);
                                break;
                        }
                t->n_stages++;
        }
}

/* "FIELD is VALUE", "FIELD is not VALUE", "FIELD is set", "FIELD is not set". */
static void do_condition(struct parse_ctx *x, const struct rules_loc *loc, const char *s,
                         struct rules_condition *c, bool *ok)
{
        char field[RULES_NAME_MAX], rest[RULES_TEXT_MAX / 4];
        const char *value;
        bool neg = false;
        int f;

        *ok = false;
        c->loc = *loc;
        if (sscanf(s, " %63[a-z0-9_] is %399[^\n]", field, rest) != 2) {
                parse_error_at(x, loc,
                               "bad condition '%s'; expected \"FIELD is VALUE\", \"FIELD is not "
                               "VALUE\", \"FIELD is set\" or \"FIELD is not set\"",
                               s);
                return;
        }
        value = rest;
        if (strncmp(value, "not ", 4) == 0) {
                neg = true;
                value += 4;
        }
        f = parse_field_ref(x, loc, field, -1, "field");
        if (f < 0)
                return;
        c->field = f;
        if (strcmp(value, "set") == 0) {
                c->op = neg ? RULES_COND_NOT_SET : RULES_COND_SET;
                *ok = true;
                return;
        }
        c->op = neg ? RULES_COND_IS_NOT : RULES_COND_IS;
        if (f == RULES_F_ARM) {
                if (parse_ref(x, loc, REF_ARM, value) < 0)
                        return;
        } else if (x->fields[f].type == RULES_FIELD_CHOICE &&
                   !rules_match_any(value, x->fields[f].values.v, x->fields[f].values.n)) {
                char list[300];
                size_t n = 0;

                list[0] = '\0';
                for (size_t i = 0; i < x->fields[f].values.n && n < sizeof(list); i++)
                        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
                                              x->fields[f].values.v[i]);
                parse_error_at(x, loc, "'%s' is not a value of field '%s'; expected one of: %s",
                               value, field, list);
                return;
        }
        if (f == RULES_F_ARM || f == RULES_F_CLINIC || x->fields[f].type == RULES_FIELD_CHOICE)
                c->value = parse_dup(x, value);
        else if (parse_word(x, loc, value, &c->value) < 0)
                return;
        *ok = true;
}

static void do_anchor(struct parse_ctx *x, void *sec, const char *path, struct rules_reminder *r)
{
        const char *s = cfgx_str(sec, "anchor");
        struct rules_loc l = parse_loc(x, path, "anchor", 0);
        int f;

        r->anchor = RULES_NONE;
        if (!s) {
                parse_error_at(x, &r->loc,
                               "reminder '%s' without anchor; expected anchor = a "
                               "date field (edd, appointment...) or a track",
                               r->name);
                return;
        }
        f = rules_field_find(x->set, s);
        if (f >= 0 && x->fields[f].type == RULES_FIELD_DATE) {
                r->anchor_kind = RULES_ANCHOR_FIELD;
                r->anchor = f;
                return;
        }
        for (size_t i = 0; i < x->set->n_tracks; i++)
                if (x->tracks[i].name && strcmp(x->tracks[i].name, s) == 0) {
                        r->anchor_kind = RULES_ANCHOR_TRACK;
                        r->anchor = (int)i;
                        return;
                }
        if (parse_declared_in_broken_file(x, "track", s) ||
            parse_declared_in_broken_file(x, "field", s))
                return;
        if (f >= 0)
                parse_error_at(x, &l,
                               "anchor '%s' is not a date field; expected a date field "
                               "or a track",
                               s);
        else
                parse_error_at(x, &l,
                               "unknown date field '%s'; expected a date field (edd, "
                               "birth, enrolled, appointment, lmp or a field of type "
                               "date) or a track",
                               s);
}

static void do_schedule(struct parse_ctx *x, void *sec, const char *path, struct rules_reminder *r)
{
        int has_offset = days_opt(x, sec, path, "offset", &r->offset_days);
        int has_every = days_opt(x, sec, path, "every", &r->every_days);
        int has_from = days_opt(x, sec, path, "from", &r->from_days);
        int has_to = days_opt(x, sec, path, "to", &r->to_days);
        struct rules_loc l;

        if (has_offset && (has_every || has_from || has_to)) {
                l = parse_loc(x, path, "offset", -1);
                parse_error_at(x, &l,
                               "offset together with every/from/to; expected either "
                               "offset (once) or every, from and to (repeating)");
                return;
        }
        if (has_offset)
                return;
        if (!has_every && !has_from && !has_to) {
                parse_error_at(x, &r->loc,
                               "reminder '%s' without a time; expected offset = "
                               "\"N days\" or every/from/to",
                               r->name);
                return;
        }
        r->repeat = true;
        if (!has_every || !has_from || !has_to) {
                parse_error_at(x, &r->loc,
                               "repeating reminder '%s' needs every, from and to; "
                               "missing %s",
                               r->name,
                               !has_every  ? "every"
                               : !has_from ? "from"
                                           : "to");
                return;
        }
        if (has_every > 0 && r->every_days <= 0) {
                l = parse_loc(x, path, "every", 0);
                parse_error_at(x, &l, "every %d days; expected a positive interval", r->every_days);
        }
        if (has_from > 0 && has_to > 0 && r->from_days > r->to_days) {
                l = parse_loc(x, path, "to", 0);
                parse_error_at(x, &l, "to (day %d) before from (day %d); expected from <= to",
                               r->to_days, r->from_days);
        }
}

static void do_slot_field(struct parse_ctx *x, void *sec, const char *path,
                          struct rules_reminder *r)
{
        const char *s = cfgx_str(sec, "slot_field");
        struct rules_loc l;
        const struct rules_field *fd;

        r->slot_field = RULES_NONE;
        if (!s)
                return;
        l = parse_loc(x, path, "slot_field", 0);
        r->slot_field = parse_field_ref(x, &l, s, RULES_FIELD_CHOICE, "field");
        if (r->slot_field < 0)
                return;
        fd = &x->fields[r->slot_field];
        for (size_t i = 0; i < fd->values.n; i++)
                if (rules_slot_find(x->set, fd->values.v[i]) < 0) {
                        parse_error_at(x, &l,
                                       "value '%s' of field '%s' names no slot; expected "
                                       "a slot NAME { window = ... } for each value",
                                       fd->values.v[i], s);
                        break;
                }
}

static void do_variants(struct parse_ctx *x, void *sec, const char *path, struct rules_reminder *r,
                        bool arms_given)
{
        size_t n = cfgx_nsec(sec, "variant");
        struct rules_variant *v = rules_arena_array(x->arena, n, sizeof(*v));
        uint32_t taken = arms_given ? r->arms : 0;

        if (!v)
                return;
        r->variants = v;
        for (size_t i = 0; i < n; i++) {
                void *vs = cfgx_sec(sec, "variant", i);
                const char *vn = cfgx_title(vs);
                char vpath[PARSE_PATH_MAX];
                struct rules_variant *g = &v[r->n_variants];

                scan_path_join(vpath, sizeof(vpath), path, "variant", vn);
                g->loc = parse_loc(x, vpath, NULL, -1);
                if (parse_name(x, &g->loc, "variant", vn) < 0)
                        continue;
                g->name = parse_dup(x, vn);
                if (!cfgx_nlist(vs, "arms")) {
                        parse_error_at(x, &g->loc,
                                       "variant '%s' without arms; expected arms = "
                                       "{ ... } naming who gets it",
                                       vn);
                        continue;
                }
                g->arms = parse_arms(x, vs, vpath, "arms");
                if (g->arms & taken) {
                        struct rules_loc l = parse_loc(x, vpath, "arms", 0);

                        parse_error_at(x, &l,
                                       "variant '%s' names an arm that already gets "
                                       "this reminder; expected each arm once",
                                       vn);
                }
                taken |= g->arms;
                parse_texts(x, vs, vpath, "text", &g->text);
                if (!g->text.n)
                        parse_error_at(x, &g->loc,
                                       "variant '%s' without text; expected text "
                                       "{ %s = \"...\" }",
                                       vn,
                                       x->set->settings.default_language
                                               ? x->set->settings.default_language
                                               : "es");
                r->n_variants++;
        }
        if (!arms_given) /* the reminder's own text goes to the arms no variant takes */
                r->arms = rules_arms_all(x->set) & ~taken;
}

static void do_reminder(struct parse_ctx *x, void *sec, struct rules_reminder *r)
{
        const char *s;
        char path[PARSE_PATH_MAX];
        struct rules_loc l;
        int v;

        if (!r->name)
                return;
        parse_path(path, "reminder", r->name);
        r->track = r->quiz = RULES_NONE;
        if ((s = cfgx_str(sec, "track"))) {
                l = parse_loc(x, path, "track", 0);
                r->track = parse_ref(x, &l, REF_TRACK, s);
        }
        do_anchor(x, sec, path, r);
        do_schedule(x, sec, path, r);
        r->window_start = RULES_DEFAULT_WINDOW_START;
        r->window_end = RULES_DEFAULT_WINDOW_END;
        if ((s = cfgx_str(sec, "window"))) {
                l = parse_loc(x, path, "window", 0);
                parse_window(x, &l, "window", s, &r->window_start, &r->window_end);
        }
        r->days = cfgx_nlist(sec, "days") ? 0 : ALL_DAYS;
        for (size_t i = 0; i < cfgx_nlist(sec, "days"); i++) {
                unsigned bit;

                l = parse_loc(x, path, "days", (int)i);
                if (parse_day_name(x, &l, cfgx_list(sec, "days", i), &bit) == 0)
                        r->days |= (uint8_t)(1u << bit);
        }
        do_slot_field(x, sec, path, r);
        {
                size_t n = cfgx_nlist(sec, "when");
                struct rules_condition *c = rules_arena_array(x->arena, n, sizeof(*c));

                for (size_t i = 0; c && i < n; i++) {
                        bool ok;

                        l = parse_loc(x, path, "when", (int)i);
                        do_condition(x, &l, cfgx_list(sec, "when", i), &c[r->n_conditions], &ok);
                        r->n_conditions += ok;
                }
                r->conditions = c;
        }
        r->arms = parse_arms(x, sec, path, "arms");
        r->catch_up = RULES_CATCH_UP_SKIP;
        if ((s = cfgx_str(sec, "catch_up"))) {
                l = parse_loc(x, path, "catch_up", 0);
                if (parse_enum(x, &l, "catch_up", s, catch_up_names, &v) == 0)
                        r->catch_up = (enum rules_catch_up)v;
        }
        r->during_quiz = RULES_DURING_QUIZ_WAIT;
        if ((s = cfgx_str(sec, "during_quiz"))) {
                l = parse_loc(x, path, "during_quiz", 0);
                if (parse_enum(x, &l, "during_quiz", s, during_quiz_names, &v) == 0)
                        r->during_quiz = (enum rules_during_quiz)v;
        }
        r->grace_minutes = x->set->settings.grace_minutes;
        if ((s = cfgx_str(sec, "grace"))) {
                l = parse_loc(x, path, "grace", 0);
                parse_minutes(x, &l, "grace", s, &r->grace_minutes);
        }
        if ((s = cfgx_str(sec, "quiz"))) {
                l = parse_loc(x, path, "quiz", 0);
                r->quiz = parse_ref(x, &l, REF_QUIZ, s);
        }
        parse_texts(x, sec, path, "text", &r->text);
        if (!r->text.n && r->quiz == RULES_NONE && !cfgx_str(sec, "quiz"))
                parse_error_at(x, &r->loc,
                               "reminder '%s' without text; expected text { %s = "
                               "\"...\" } or quiz = NAME",
                               r->name,
                               x->set->settings.default_language ? x->set->settings.default_language
                                                                 : "es");
        do_variants(x, sec, path, r, cfgx_nlist(sec, "arms") > 0);
}

void parse_pass_define(struct parse_ctx *x)
{
        size_t kt = 0, kr = 0;

        if (!x->tracks || !x->reminders)
                return;
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t j = 0; j < cfgx_nsec(f->cfg, "track"); j++)
                        do_track(x, cfgx_sec(f->cfg, "track", j), &x->tracks[kt++]);
        }
        parse_quizzes(x);
        for (size_t i = 0; i < x->n_files; i++) {
                struct parse_file *f = &x->files[i];

                if (!f->cfg)
                        continue;
                x->file = f;
                for (size_t j = 0; j < cfgx_nsec(f->cfg, "reminder"); j++)
                        do_reminder(x, cfgx_sec(f->cfg, "reminder", j), &x->reminders[kr++]);
        }
        parse_keywords(x);
        x->file = NULL;
}
