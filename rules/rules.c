/* rules: lookups over a loaded rule set, and its destructor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/arena.h"
#include "rules/rules.h"

struct rules_set *rules_free(struct rules_set *set)
{
        if (!set)
                return NULL;
        rules_arena_free(set->arena);
        free(set);
        return NULL;
}

/* Each object array starts with its name pointer at a fixed offset; one search for all. */
static int find_named(const void *base, size_t n, size_t stride, size_t name_offset,
                      const char *name)
{
        if (!name)
                return -ENOENT;
        for (size_t i = 0; i < n; i++) {
                const char *const *p =
                        (const char *const *)((const char *)base + i * stride + name_offset);

                if (*p && strcmp(*p, name) == 0)
                        return (int)i;
        }
        return -ENOENT;
}

#define FIND(arr, n, type, member)                                                                 \
        find_named((arr), (n), sizeof(type), offsetof(type, member), name)

int rules_field_find(const struct rules_set *set, const char *name)
{
        return FIND(set->fields, set->n_fields, struct rules_field, name);
}

int rules_arm_find(const struct rules_set *set, const char *name)
{
        return FIND(set->trial.arms, set->trial.n_arms, struct rules_arm, name);
}

int rules_track_find(const struct rules_set *set, const char *name)
{
        return FIND(set->tracks, set->n_tracks, struct rules_track, name);
}

int rules_quiz_find(const struct rules_set *set, const char *name)
{
        return FIND(set->quizzes, set->n_quizzes, struct rules_quiz, name);
}

int rules_clinic_find(const struct rules_set *set, const char *name)
{
        return FIND(set->clinics, set->n_clinics, struct rules_clinic, id);
}

int rules_slot_find(const struct rules_set *set, const char *name)
{
        return FIND(set->slots, set->n_slots, struct rules_slot, name);
}

int rules_reminder_find(const struct rules_set *set, const char *name)
{
        return FIND(set->reminders, set->n_reminders, struct rules_reminder, name);
}

int rules_keyword_find(const struct rules_set *set, const char *name)
{
        return FIND(set->keywords, set->n_keywords, struct rules_keyword, name);
}

uint32_t rules_arms_all(const struct rules_set *set)
{
        size_t n = set->trial.present ? set->trial.n_arms : 1;

        return n >= RULES_ARMS_MAX ? RULES_ARM_ALL : ((uint32_t)1 << n) - 1;
}

static const struct rules_text *text_in(const struct rules_texts *texts, const char *lang)
{
        if (!lang)
                return NULL;
        for (size_t i = 0; i < texts->n; i++)
                if (strcmp(texts->v[i].lang, lang) == 0)
                        return &texts->v[i];
        return NULL;
}

const struct rules_text *rules_text_pick(const struct rules_set *set,
                                         const struct rules_texts *texts, const char *lang)
{
        const struct rules_text *t;

        if (!texts || texts->n == 0)
                return NULL;
        t = text_in(texts, lang);
        if (!t)
                t = text_in(texts, set->settings.fallback_language);
        if (!t)
                t = text_in(texts, set->settings.default_language);
        return t ? t : &texts->v[0];
}

static bool arm_in(uint32_t mask, int arm)
{
        return arm >= 0 && arm < RULES_ARMS_MAX && (mask & ((uint32_t)1 << arm));
}

const struct rules_texts *rules_reminder_texts_for_arm(const struct rules_reminder *reminder,
                                                       int arm)
{
        for (size_t i = 0; i < reminder->n_variants; i++)
                if (arm_in(reminder->variants[i].arms, arm))
                        return &reminder->variants[i].text;
        if (arm_in(reminder->arms, arm))
                return &reminder->text;
        return NULL;
}

bool rules_reminder_runs_for_arm(const struct rules_reminder *reminder, int arm)
{
        return rules_reminder_texts_for_arm(reminder, arm) != NULL;
}
