/* puente-sim's entry point: options, the sd-event loop, signals and a clean shutdown that
 * leaves no pty symlink or socket behind. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

#define DEFAULT_SMSC "+5215550000000"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: puente-sim [OPTIONS]\n"
                "       puente-sim ctl SOCKET COMMAND [ARGS...]\n"
                "\n"
                "A simulated GSM network: modems on pseudo-terminals speaking TS 27.007/27.005\n"
                "in PDU mode, and phones that receive, record and answer SMS.\n"
                "\n"
                "  -c, --config FILE          modems, phones and rules (see docs/sim.md)\n"
                "  -m, --modem NAME=PATH[,KEY=VALUE...]\n"
                "                             a modem whose pty is linked at PATH; keys: dialect,\n"
                "                             number, imsi, iccid, imei, pin, smsc, latency, sm, "
                "me,\n"
                "                             ports (interfaces by number, e.g. diag:at:nmea;\n"
                "                             each linked at PATH-ifNN-port0)\n"
                "  -p, --phone NUMBER[,KEY=VALUE...]\n"
                "                             a phone; keys: name, sender, reachable, delay, "
                "reply\n"
                "  -r, --record FILE          append what phones receive as JSON lines\n"
                "  -s, --control SOCKET       the control socket (line protocol, see 'ctl help')\n"
                "  -S, --script FILE          timed control commands: 'SECONDS COMMAND' a line\n"
                "  -l, --latency MS[-MS]      network delay of each AT+CMGS (default 0)\n"
                "  -d, --report-delay MS      delay of delivery reports (default 0)\n"
                "  -b, --boot MS              time from power-on to the first answer (default 0)\n"
                "      --smsc NUMBER          service centre address (default %s)\n"
                "      --timezone QUARTERS    network time zone in quarter hours (default 0)\n"
                "      --seed N               random seed (latency ranges, garbage)\n"
                "      --dialects             list the modem dialects\n"
                "  -v, --verbose              log every AT command\n"
                "  -h, --help                 this text\n"
                "\n"
                "Example:\n"
                "  puente-sim -m m1=/run/puente-sim/m1 -m m2=/run/puente-sim/m2,dialect=huawei \\\n"
                "             -r /tmp/phones.jsonl -s /run/puente-sim/ctl\n"
                "  puente-sim ctl /run/puente-sim/ctl send +5215512345678 m1 HOLA\n",
                DEFAULT_SMSC);
}

enum { OPT_SMSC = 1000, OPT_TZ, OPT_SEED, OPT_DIALECTS };

static int parse_args(struct sim_net *net, int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "modem", required_argument, NULL, 'm' },
                { "phone", required_argument, NULL, 'p' },
                { "record", required_argument, NULL, 'r' },
                { "control", required_argument, NULL, 's' },
                { "script", required_argument, NULL, 'S' },
                { "latency", required_argument, NULL, 'l' },
                { "report-delay", required_argument, NULL, 'd' },
                { "boot", required_argument, NULL, 'b' },
                { "smsc", required_argument, NULL, OPT_SMSC },
                { "timezone", required_argument, NULL, OPT_TZ },
                { "seed", required_argument, NULL, OPT_SEED },
                { "dialects", no_argument, NULL, OPT_DIALECTS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, dummy;
        char *end;
        while ((c = getopt_long(argc, argv, "c:m:p:r:s:S:l:d:b:vh", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (sim_config_load(net, optarg) < 0)
                                return -EINVAL;
                        break;
                case 'm':
                        if (sim_config_modem_arg(net, optarg) < 0)
                                return -EINVAL;
                        break;
                case 'p':
                        if (sim_config_phone_arg(net, optarg) < 0)
                                return -EINVAL;
                        break;
                case 'r':
                        sim_strlcpy(net->record_path, sizeof(net->record_path), optarg);
                        break;
                case 's':
                        sim_strlcpy(net->ctl_path, sizeof(net->ctl_path), optarg);
                        break;
                case 'S':
                        sim_strlcpy(net->script_path, sizeof(net->script_path), optarg);
                        break;
                case 'l':
                        if (sim_parse_range_ms(optarg, &net->latency_min_ms, &net->latency_max_ms) <
                            0) {
                                log_error("--latency %s: expected MS or MIN-MAX", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'd':
                case 'b':
                        if (sim_parse_range_ms(optarg,
                                               c == 'd' ? &net->report_delay_ms : &net->boot_ms,
                                               &dummy) < 0) {
                                log_error("-%c %s: expected milliseconds", c, optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_SMSC:
                        sim_strlcpy(net->smsc, sizeof(net->smsc), optarg);
                        break;
                case OPT_TZ:
                        net->tz_quarters = (int)strtol(optarg, &end, 10);
                        if (*end || net->tz_quarters < -79 || net->tz_quarters > 79) {
                                log_error("--timezone %s: expected -79..79", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_SEED:
                        srand((unsigned)strtoul(optarg, NULL, 10));
                        break;
                case OPT_DIALECTS:
                        for (size_t i = 0; sim_dialect_at(i); i++)
                                printf("%-10s %s\n", sim_dialect_at(i)->name,
                                       sim_dialect_at(i)->summary);
                        exit(0);
                case 'v':
                        log_set_max_priority(LOG_DEBUG);
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind]);
                return -EINVAL;
        }
        if (net->n_modems == 0) {
                log_error("no modem: give --modem NAME=PATH or a config file (see --help)");
                return -EINVAL;
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct sim_net *net = userdata;
        log_info("signal %u: shutting down", si->ssi_signo);
        sd_event_exit(net->event, 0);
        return 0;
}

static void shutdown_net(struct sim_net *net)
{
        for (size_t i = 0; i < net->n_modems; i++) {
                sim_modem_unplug(&net->modems[i]);
                sim_buf_free(&net->modems[i].out);
                sim_buf_free(&net->modems[i].urcq);
                sim_buf_free(&net->modems[i].inq);
                free(net->modems[i].inbound);
        }
        sim_ctl_close(net);
        if (net->record)
                fclose(net->record);
        net->record = NULL;
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "ctl") == 0)
                return sim_ctl_client_main(argc - 2, argv + 2);

        static struct sim_net net; /* large: modems hold their storage */
        net.ctl_fd = -1;
        net.cnma_timeout_ms = SIM_CNMA_TIMEOUT_MS;
        sim_strlcpy(net.smsc, sizeof(net.smsc), DEFAULT_SMSC);
        log_setup("puente-sim", LOG_INFO);
        srand((unsigned)time(NULL));
        if (parse_args(&net, argc, argv) < 0)
                return 2;
        for (size_t i = 0; i < net.n_modems; i++)
                if (!net.modems[i].smsc[0])
                        sim_strlcpy(net.modems[i].smsc, sizeof(net.modems[i].smsc), net.smsc);

        int r = sd_event_default(&net.event);
        if (r < 0) {
                log_error("sd_event: %s", strerror(-r));
                return 1;
        }
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP); /* the terminal went away: clean up all the same */
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sd_event_add_signal(net.event, NULL, SIGTERM, on_signal, &net);
        sd_event_add_signal(net.event, NULL, SIGINT, on_signal, &net);
        sd_event_add_signal(net.event, NULL, SIGHUP, on_signal, &net);

        if (net.record_path[0]) {
                net.record = fopen(net.record_path, "ae");
                if (!net.record) {
                        log_error("%s: cannot open the record file: %m", net.record_path);
                        r = -errno;
                        goto out;
                }
        }
        if (net.ctl_path[0] && (r = sim_ctl_listen(&net)) < 0) {
                log_error("%s: cannot listen: %s", net.ctl_path, strerror(-r));
                goto out;
        }
        for (size_t i = 0; i < net.n_modems; i++) {
                r = sim_modem_plug(&net.modems[i]);
                if (r < 0) {
                        log_error("modem %s at %s: %s", net.modems[i].name, net.modems[i].link,
                                  strerror(-r));
                        goto out;
                }
        }
        if (net.script_path[0] && (r = sim_script_load(&net, net.script_path)) < 0)
                goto out;
        log_info("ready: %zu modem(s), %zu phone(s)", net.n_modems, net.n_phones);
        sd_notify(0, "READY=1");
        r = sd_event_loop(net.event);
out:
        shutdown_net(&net);
        sd_event_unref(net.event);
        return r < 0 ? 1 : 0;
}
