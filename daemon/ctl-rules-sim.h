/* puentectl rules simulate: the timeline one contact would receive, from the rule files and
 * the same engine the daemon runs (rules/drive.h), with parts, encoding and a total SMS count
 * (daemon/ctl-rules-sim.c). Called by `puentectl rules` (daemon/ctl-rules.c) for
 * "simulate"; argv[0] is "simulate". Returns a CTL_EXIT_* status. */
#pragma once

#include "daemon/ctl.h"
#include "rules/rules.h"

#define CTL_SIM_STUDY_ID_LEN 16 /* hex digits of a made study id, as puented makes them */

int ctl_rules_simulate(const struct ctl_context *ctx, int argc, char **argv);

/* daemon/ctl-rules-arm.c. The arm the trial gives a contact (values: set->n_fields entries),
 * as puented assigns it at enrolment: from the evaluator's sealed list, or the keyed hash of
 * the study id (the clinic id for a trial by clinic) in its stratum under the secret key
 * (secret_file, else the trial's secret_key_file). Prints "contact ID: arm NAME (...)" on
 * stdout; on failure says why on stderr (prefixed by prog) and returns a negative errno. */
int ctl_sim_assign_arm(const struct rules_set *set, const char *const *values,
                       const char *secret_file, int *ret_arm, const char *prog);

/* A random study id, CTL_SIM_STUDY_ID_LEN hex digits. 0 or -EIO. */
int ctl_sim_make_study_id(char out[static CTL_SIM_STUDY_ID_LEN + 1]);
