/* puentectl rules check [DIR]: every error of a rules directory at once, as
 * FILE:LINE:COLUMN: what, and what was expected; nothing is applied. `rules simulate` is
 * daemon/ctl-rules-sim.c's; this file dispatches to it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/ctl-rules-sim.h"
#include "daemon/ctl.h"
#include "daemon/rules-files.h"
#include "rules/parse.h"

static int rules_usage(FILE *f, int status)
{
        fprintf(f, "Usage: puentectl rules check [--quiet] [DIR]\n"
                   "       puentectl rules simulate --contact SPEC --from DATE --to DATE ...\n"
                   "       (puentectl rules simulate --help for its options)\n"
                   "\n"
                   "check reads every DIR/*.conf (default: rules_directory of the configuration,\n"
                   "else " RULES_DEFAULT_DIR ") in name order and reports every error and\n"
                   "warning as FILE:LINE:COLUMN: what, and what was expected. Warnings (a text\n"
                   "of more than one part, or needing UCS-2) do not fail the check.\n"
                   "  -q, --quiet   errors only, no warnings and no summary\n"
                   "\n"
                   "Exit status: 0 the rules load, 1 errors (nothing applied), 2 usage.\n");
        return status;
}

/* The directory: given, else the configuration's, else the default. */
static void rules_dir(const struct ctl_context *ctx, const char *given, char *out, size_t size)
{
        struct config *c = NULL;

        if (given) {
                snprintf(out, size, "%s", given);
                return;
        }
        snprintf(out, size, "%s", RULES_DEFAULT_DIR);
        if (config_load(ctx->config_path, &c, NULL) == 0 && c->rules_directory[0])
                snprintf(out, size, "%s", c->rules_directory);
        config_free(c);
}

static int rules_check(const struct ctl_context *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct rules_parse_opts popts = { .zone_exists = rules_files_zone_exists };
        struct rules_files files;
        struct rules_diags diags = { 0 };
        struct rules_set *set = NULL;
        char dir[CONFIG_PATH_MAX], line[RULES_DIAG_FILE_MAX + RULES_DIAG_TEXT_MAX + 32];
        bool quiet = false;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        return rules_usage(stdout, CTL_EXIT_OK);
                default:
                        fprintf(stderr,
                                "%s rules check: unknown option '%s' (try 'puentectl "
                                "rules --help')\n",
                                ctx->prog, argv[optind - 1]);
                        return CTL_EXIT_USAGE;
                }
        }
        if (argc - optind > 1) {
                fprintf(stderr, "%s rules check: one directory at most\n", ctx->prog);
                return CTL_EXIT_USAGE;
        }
        rules_dir(ctx, optind < argc ? argv[optind] : NULL, dir, sizeof(dir));
        r = rules_files_read(dir, &files);
        if (r < 0) {
                fprintf(stderr, "%s rules check: %s\n", ctx->prog, files.error);
                return CTL_EXIT_FAIL;
        }
        if (files.n == 0) {
                fprintf(stderr, "%s rules check: %s: no .conf files\n", ctx->prog, dir);
                rules_files_free(&files);
                return CTL_EXIT_FAIL;
        }
        r = rules_parse(files.src, files.n, &popts, &diags, &set);
        for (size_t i = 0; i < diags.n; i++) {
                if (quiet && diags.v[i].warning)
                        continue;
                rules_diag_format(&diags.v[i], line, sizeof(line));
                printf("%s\n", line);
        }
        if (diags.n_errors + diags.n_warnings > diags.n)
                printf("(%zu more messages not shown)\n",
                       diags.n_errors + diags.n_warnings - diags.n);
        if (r == 0 && !quiet)
                printf("%s: %zu files, %zu reminders, %zu quizzes, %zu keywords, %zu arms; rule "
                       "set %.12s; OK, %zu warning%s\n",
                       dir, files.n, set->n_reminders, set->n_quizzes, set->n_keywords,
                       set->trial.present ? set->trial.n_arms : (size_t)0, set->hash_hex,
                       diags.n_warnings, diags.n_warnings == 1 ? "" : "s");
        else if (r == -EBADMSG)
                printf("%s: %zu error%s, %zu warning%s; nothing applied\n", dir, diags.n_errors,
                       diags.n_errors == 1 ? "" : "s", diags.n_warnings,
                       diags.n_warnings == 1 ? "" : "s");
        else if (r < 0)
                fprintf(stderr, "%s rules check: %s\n", ctx->prog, strerror(-r));
        rules_free(set);
        rules_diags_free(&diags);
        rules_files_free(&files);
        return r == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_rules(const struct ctl_context *ctx, int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return rules_usage(argc < 2 ? stderr : stdout,
                                   argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK);
        if (strcmp(argv[1], "check") == 0)
                return rules_check(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "simulate") == 0)
                return ctl_rules_simulate(ctx, argc - 1, argv + 1);
        fprintf(stderr, "%s rules: unknown command '%s' (try 'puentectl rules --help')\n",
                ctx->prog, argv[1]);
        return CTL_EXIT_USAGE;
}
