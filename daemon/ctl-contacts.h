/* puentectl contacts import FILE.csv | export | set: the contact list from a spreadsheet, back
 * to one, and one contact's fields (daemon/ctl-contacts.c). To be listed in the subcommand
 * table of daemon/main-puentectl.c. Returns a CTL_EXIT_* status. */
#pragma once

#include "daemon/ctl.h"

int ctl_contacts(const struct ctl_context *ctx, int argc, char **argv);
