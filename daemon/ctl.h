/* puentectl, the technician's tool: the subcommand interface. Each subcommand lives in its
 * own daemon/ctl-NAME.c and is listed in the table of daemon/main-puentectl.c.
 *
 * Ownership: the context and argv are borrowed for the call. A subcommand prints its
 * results on stdout and its messages on stderr itself, and returns an exit status. */
#pragma once

#ifndef PUENTE_VERSION
#define PUENTE_VERSION "0.1.0"
#endif

#define CTL_EXIT_OK    0 /* done */
#define CTL_EXIT_FAIL  1 /* the work failed (bad input data, daemon unreachable...) */
#define CTL_EXIT_USAGE 2 /* unknown subcommand or option, missing or bad argument */

struct ctl_context {
        const char *prog;        /* "puentectl", for messages */
        const char *config_path; /* --config FILE, NULL for the default; for later subcommands */
};

struct ctl_command {
        const char *name;
        const char *summary; /* one line for puentectl --help */
        /* argv[0] is the subcommand's name; options follow. Returns a CTL_EXIT_* status. */
        int (*run)(const struct ctl_context *ctx, int argc, char **argv);
};

/* puentectl pdu encode|decode: the PDU codec from the command line (daemon/ctl-pdu.c). */
int ctl_pdu(const struct ctl_context *ctx, int argc, char **argv);
/* puentectl send / status / outbox / inbox: the store and the daemon (daemon/ctl-send.c,
 * ctl-status.c, ctl-list.c). */
int ctl_send(const struct ctl_context *ctx, int argc, char **argv);
int ctl_status(const struct ctl_context *ctx, int argc, char **argv);
int ctl_outbox(const struct ctl_context *ctx, int argc, char **argv);
int ctl_inbox(const struct ctl_context *ctx, int argc, char **argv);
/* puentectl rules check: the rule files' errors at once (daemon/ctl-rules.c). */
int ctl_rules(const struct ctl_context *ctx, int argc, char **argv);
