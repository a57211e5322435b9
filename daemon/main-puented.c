/* puented, the SMS daemon: options, configuration, logging, then the manager's loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/ctl.h"
#include "daemon/log.h"
#include "daemon/manager.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: puented [--config FILE] [-v|--verbose]\n"
                "       puented --help | --version\n"
                "\n"
                "Puente's SMS daemon: drives the USB GSM modems, sends what the store queues\n"
                "and stores what arrives. Runs in the foreground (systemd Type=notify).\n"
                "\n"
                "  -c, --config FILE  configuration (default %s)\n"
                "  -v, --verbose      log debug messages (every state change and AT result)\n"
                "  -h, --help         show this help\n"
                "  -V, --version      show the version\n"
                "\n"
                "Signals: SIGTERM/SIGINT finish the AT command in flight and exit;\n"
                "SIGHUP reloads the configuration (see docs/puented.md).\n",
                CONFIG_DEFAULT_PATH);
}

/* Prints every configuration error as FILE:LINE: text (config.h collects them all). */
static void print_diag(const char *path, int r, const struct config_diag *d)
{
        if (d->count == 0) {
                fprintf(stderr, "puented: %s: %s\n", path ? path : CONFIG_DEFAULT_PATH,
                        strerror(-r));
                return;
        }
        for (unsigned i = 0; i < d->count && i < CONFIG_ERRORS_MAX; i++)
                fprintf(stderr, "%s\n", d->text[i]);
        if (d->count > CONFIG_ERRORS_MAX)
                fprintf(stderr, "puented: ... and %u more errors\n", d->count - CONFIG_ERRORS_MAX);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *config_path = NULL;
        bool verbose = false;
        int c;

        while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("puented %s\n", PUENTE_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "puented: unexpected argument '%s' (see --help)\n", argv[optind]);
                return 2;
        }

        log_setup("puented", verbose ? LOG_DEBUG : LOG_INFO);

        struct config *cfg = NULL;
        struct config_diag diag = { 0 };
        int r = config_load(config_path, &cfg, &diag);
        if (r < 0) {
                print_diag(config_path, r, &diag);
                return 1;
        }

        /* Before any thread or child: the upload helper's exit is an sd-event child source,
         * which needs SIGCHLD blocked (and the kernel then keeps the zombie for sd-event).
         * SIGTERM, SIGINT and SIGHUP too, so that one sent while the store opens and the
         * modems start (seconds on an SD card, or under valgrind) waits for the loop and
         * stops the daemon cleanly instead of killing it (daemon-killrounds under memcheck). */
        sigset_t early;
        sigemptyset(&early);
        sigaddset(&early, SIGCHLD);
        sigaddset(&early, SIGTERM);
        sigaddset(&early, SIGINT);
        sigaddset(&early, SIGHUP);
        sigprocmask(SIG_BLOCK, &early, NULL);

        struct manager *m = NULL;
        r = manager_new(cfg, config_path, verbose, &m); /* takes cfg */
        if (r < 0) {
                log_error("cannot start: %s", strerror(-r));
                return 1;
        }
        r = manager_run(m);
        manager_free(m);
        return r < 0 ? 1 : 0;
}
