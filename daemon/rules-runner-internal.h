/* daemon/rules-runner-internal: what rules-runner.c and rules-apply.c share. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/rules-runner.h"
#include "rules/arms.h"
#include "rules/engine.h"
#include "rules/schedule.h"

#define RUNNER_RECENT_MAX 64 /* sends per contact looked at for the caps */

struct rules_runner {
        sd_event *ev;
        struct sd_event_source *timer;
        struct store *store;
        const struct config *config;
        struct rules_runner_opts opts;
        /* the running set and what goes with it */
        struct rules_set *set;
        struct rules_tz **zones; /* per clinic */
        struct rules_tz *default_tz;
        struct rules_engine_env env;
        uint8_t secret[RULES_RUNNER_SECRET_MAX];
        size_t secret_len;
        struct rules_sealed *sealed;
        struct rules_schedule *index;
        struct rules_result res;
        bool clock_trusted;
        bool queued; /* this run queued something: call on_queued */
        /* Contacts not yet enrolled may wait (rules_runner_run); and when it last found none */
        bool enrol_check;
        int64_t enrol_checked_at;
        /* the wall and monotonic clocks at the last arming, to see a jump (0: not yet) */
        int64_t clock_wall_us;
        uint64_t clock_mono_us;
        char status[RULES_RUNNER_WHY_MAX];
};

/* One contact through the engine at now (enrolling it first when it has no state), or its
 * inbound message when text is not NULL. Stores the result, logs the events, updates the
 * index. */
int runner_contact(struct rules_runner *r, int64_t contact_id, const char *text, int64_t now);

/* An opt-in from an unknown number: the new contact's id, -ENOENT when it is none. */
int runner_unknown(struct rules_runner *r, const char *phone, const char *text, int64_t now,
                   int64_t *ret_id);
