/* rules/parse-util: converters shared by the passes: texts, lists, arms, references. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/parse-internal.h"

const char *parse_dup(struct parse_ctx *x, const char *s)
{
        return s ? rules_arena_strdup(x->arena, s) : NULL;
}

size_t parse_count(struct parse_ctx *x, const char *section)
{
        size_t n = 0;

        for (size_t i = 0; i < x->n_files; i++)
                if (x->files[i].cfg)
                        n += cfgx_nsec(x->files[i].cfg, section);
        return n;
}

void parse_path(char *out, const char *section, const char *title)
{
        scan_path_join(out, PARSE_PATH_MAX, "", section, title);
}

void parse_texts(struct parse_ctx *x, void *sec, const char *path, const char *key,
                 struct rules_texts *ret)
{
        char tpath[PARSE_PATH_MAX];
        void *t = cfgx_nsec(sec, key) ? cfgx_sec(sec, key, 0) : NULL;
        struct rules_text *v;
        size_t n = 0;

        memset(ret, 0, sizeof(*ret));
        if (!t)
                return;
        scan_path_join(tpath, sizeof(tpath), path, key, NULL);
        for (size_t i = 0; parse_languages[i]; i++)
                n += cfgx_str(t, parse_languages[i]) != NULL;
        if (!n)
                return;
        v = rules_arena_array(x->arena, n, sizeof(*v));
        if (!v)
                return;
        n = 0;
        for (size_t i = 0; parse_languages[i]; i++) {
                const char *s = cfgx_str(t, parse_languages[i]);
                struct rules_text *tx;

                if (!s)
                        continue;
                tx = &v[n++];
                tx->lang = parse_languages[i];
                tx->loc = parse_loc(x, tpath, parse_languages[i], 0);
                if (strlen(s) > RULES_TEXT_MAX)
                        parse_error_at(x, &tx->loc, "text of %zu bytes; expected at most %d",
                                       strlen(s), RULES_TEXT_MAX);
                tx->text = parse_dup(x, s);
        }
        ret->v = v;
        ret->n = n;
}

void parse_strings(struct parse_ctx *x, void *sec, const char *path, const char *key, bool words,
                   struct rules_strings *ret)
{
        size_t n = cfgx_nlist(sec, key), k = 0;
        const char **v;

        memset(ret, 0, sizeof(*ret));
        if (!n)
                return;
        v = rules_arena_array(x->arena, n, sizeof(*v));
        if (!v)
                return;
        for (size_t i = 0; i < n; i++) {
                const char *s = cfgx_list(sec, key, i);
                struct rules_loc loc = parse_loc(x, path, key, (int)i);

                if (!words) {
                        v[k++] = parse_dup(x, s);
                        continue;
                }
                if (parse_word(x, &loc, s, &v[k]) < 0)
                        continue;
                /* "1" and "uno" are one answer once normalized: keep it once */
                bool dup = false;

                for (size_t j = 0; j < k && !dup; j++)
                        dup = strcmp(v[j], v[k]) == 0;
                if (!dup)
                        k++;
        }
        ret->v = v;
        ret->n = k;
}

/* Whether a file that failed to parse (and is already reported) declares `kind NAME`: then a
 * reference to it elsewhere is not one more error for the technician to chase. */
bool parse_declared_in_broken_file(struct parse_ctx *x, const char *kind, const char *name)
{
        for (size_t i = 0; name && i < x->n_files; i++) {
                const struct scan *sc = &x->files[i].scan;

                if (x->files[i].cfg)
                        continue;
                for (size_t k = 0; k < sc->n; k++)
                        if (sc->e[k].kind == SCAN_SECTION && strcmp(sc->e[k].key, kind) == 0 &&
                            strcmp(sc->e[k].title, name) == 0)
                                return true;
        }
        return false;
}

static const char *ref_name(struct parse_ctx *x, enum parse_ref_kind kind, size_t i, size_t *n)
{
        switch (kind) {
        case REF_TRACK:
                *n = x->set->n_tracks;
                return i < *n ? x->tracks[i].name : NULL;
        case REF_QUIZ:
                *n = x->set->n_quizzes;
                return i < *n ? x->quizzes[i].name : NULL;
        case REF_SLOT:
                *n = x->set->n_slots;
                return i < *n ? x->slots[i].name : NULL;
        case REF_ARM:
                *n = x->set->trial.n_arms;
                return i < *n ? x->arms[i].name : NULL;
        }
        *n = 0;
        return NULL;
}

int parse_ref(struct parse_ctx *x, const struct rules_loc *loc, enum parse_ref_kind kind,
              const char *name)
{
        static const char *const what[] = { "track", "quiz", "slot", "arm" };
        char list[400];
        size_t n = 0, len = 0;

        ref_name(x, kind, 0, &n);
        for (size_t i = 0; i < n; i++) {
                const char *s = ref_name(x, kind, i, &n);

                if (s && name && strcmp(s, name) == 0)
                        return (int)i;
        }
        if (parse_declared_in_broken_file(x, what[kind], name))
                return RULES_NONE;
        list[0] = '\0';
        for (size_t i = 0; i < n && len < sizeof(list); i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
                                        ref_name(x, kind, i, &n));
        if (n)
                parse_error_at(x, loc, "unknown %s '%s'; expected one of: %s", what[kind],
                               name ? name : "", list);
        else
                parse_error_at(x, loc, "unknown %s '%s'; no %s is declared", what[kind],
                               name ? name : "", what[kind]);
        return RULES_NONE;
}

uint32_t parse_arms(struct parse_ctx *x, void *sec, const char *path, const char *key)
{
        size_t n = cfgx_nlist(sec, key);
        uint32_t mask = 0;

        if (!n)
                return rules_arms_all(x->set);
        if (!x->set->trial.present) {
                struct rules_loc loc = parse_loc(x, path, key, -1);

                parse_error_at(x, &loc,
                               "%s given but no trial is declared; expected a "
                               "trial NAME { arm ... } section",
                               key);
                return rules_arms_all(x->set);
        }
        for (size_t i = 0; i < n; i++) {
                struct rules_loc loc = parse_loc(x, path, key, (int)i);
                int a = parse_ref(x, &loc, REF_ARM, cfgx_list(sec, key, i));

                if (a >= 0)
                        mask |= (uint32_t)1 << a;
        }
        return mask;
}

static const char *const type_names[] = { "text", "date", "number", "choice", "phone" };

int parse_field_ref(struct parse_ctx *x, const struct rules_loc *loc, const char *name, int type,
                    const char *what)
{
        char list[600];
        size_t len = 0;
        int f = name ? rules_field_find(x->set, name) : -ENOENT;

        if (f >= 0 && (type < 0 || x->fields[f].type == (enum rules_field_type)type))
                return f;
        if (f < 0 && parse_declared_in_broken_file(x, "field", name))
                return RULES_NONE;
        list[0] = '\0';
        for (size_t i = 0; i < x->set->n_fields && len < sizeof(list); i++)
                if (type < 0 || x->fields[i].type == (enum rules_field_type)type)
                        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                                len ? ", " : "", x->fields[i].name);
        if (f >= 0)
                parse_error_at(x, loc, "field '%s' is a %s, not a %s; expected a %s field: %s",
                               name, type_names[x->fields[f].type], type_names[type],
                               type_names[type], list);
        else
                parse_error_at(x, loc, "unknown %s '%s'; expected one of: %s", what,
                               name ? name : "", list);
        return RULES_NONE;
}
