/* puentectl export: the upload batches written to a directory (a USB stick) for clinics
 * whose box never sees the network. The prototype belongs in daemon/ctl.h with the other
 * subcommands; it waits here until the owner of ctl.h and main-puentectl.c takes it.
 *
 * Ownership: as every subcommand (daemon/ctl.h). */
#pragma once

#include "daemon/ctl.h"

/* puentectl export --to DIR [--mark-sent]: cuts what is pending, copies every batch not yet
 * confirmed to DIR/<device>/<batch>.ndjson.gz (durably), and with --mark-sent records them
 * as delivered and removes them from the state directory. Returns a CTL_EXIT_* status. */
int ctl_export(const struct ctl_context *ctx, int argc, char **argv);
