/* puentectl: global options, then one subcommand from the table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ctl.h"
#include "daemon/ctl-contacts.h"
#include "daemon/ctl-export.h"

/* Later subcommands (status, send, contacts, rules, export) add a line here. */
static const struct ctl_command ctl_commands[] = {
        { "send", "queue a text message for a phone number and wake the daemon", ctl_send },
        { "status", "modems, queue, incoming messages and whether the daemon runs", ctl_status },
        { "outbox", "list queued and sent messages, newest first", ctl_outbox },
        { "inbox", "list received messages, newest first", ctl_inbox },
        { "pdu", "encode text into SMS-SUBMIT PDUs, decode PDUs to JSON", ctl_pdu },
        { "rules", "check the rule files (check), preview a contact's messages (simulate)",
          ctl_rules },
        { "contacts", "import, export or change contacts (CSV)", ctl_contacts },
        { "export", "write the upload batches to a directory (a USB stick)", ctl_export },
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: puentectl [--config FILE] COMMAND [ARGS...]\n"
                   "       puentectl --help | --version\n"
                   "\n"
                   "Options:\n"
                   "  -c, --config FILE  configuration file (default "
                   "/etc/puente/puente.conf)\n"
                   "  -h, --help         show this help\n"
                   "  -V, --version      show the version\n"
                   "\n"
                   "Commands:\n");
        for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
                fprintf(f, "  %-10s %s\n", ctl_commands[i].name, ctl_commands[i].summary);
        fprintf(f, "\nRun 'puentectl COMMAND --help' for a command's own options.\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        struct ctl_context ctx = { .prog = "puentectl" };
        int c;

        opterr = 0; /* our own messages, naming the option */
        /* "+": stop at the command, whose options are its own. */
        while ((c = getopt_long(argc, argv, "+:c:hV", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        ctx.config_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return CTL_EXIT_OK;
                case 'V':
                        printf("puentectl %s\n", PUENTE_VERSION);
                        return CTL_EXIT_OK;
                case ':':
                        fprintf(stderr, "puentectl: option '%s' needs an argument\n",
                                argv[optind - 1]);
                        return CTL_EXIT_USAGE;
                default:
                        fprintf(stderr, "puentectl: unknown option '%s' (try 'puentectl --help')\n",
                                argv[optind - 1]);
                        return CTL_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "puentectl: no command given (try 'puentectl --help')\n");
                return CTL_EXIT_USAGE;
        }
        for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
                if (strcmp(argv[optind], ctl_commands[i].name) == 0) {
                        int sub_argc = argc - optind;

                        optind = 0; /* glibc: a full reset for the command's getopt */
                        return ctl_commands[i].run(&ctx, sub_argc, argv + (argc - sub_argc));
                }
        fprintf(stderr, "puentectl: unknown command '%s' (try 'puentectl --help')\n", argv[optind]);
        return CTL_EXIT_USAGE;
}
