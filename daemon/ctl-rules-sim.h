/* puentectl rules simulate: the timeline one contact would receive, from the rule files and
 * the same engine the daemon runs (rules/drive.h), with parts, encoding and a total SMS count
 * (daemon/ctl-rules-sim.c). Called by `puentectl rules` (daemon/ctl-rules.c) for
 * "simulate"; argv[0] is "simulate". Returns a CTL_EXIT_* status. */
#pragma once

#include "daemon/ctl.h"

int ctl_rules_simulate(const struct ctl_context *ctx, int argc, char **argv);
