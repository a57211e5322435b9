/* puentectl rules simulate: one contact through the engine over a date range. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at/pdu.h"
#include "daemon/ctl-rules-sim.h"
#include "daemon/rules-files.h"
#include "rules/drive.h"
#include "rules/engine.h"
#include "rules/tz.h"

#define SIM_SPEC_MAX    1024 /* bytes of --contact */
#define SIM_REPLIES_MAX 1000 /* lines of a --replies file */
#define SIM_LINE_MAX    1024

struct sim {
        const struct rules_set *set;
        const struct rules_tz *tz; /* the contact's zone, for printing */
        unsigned messages, parts, ucs2;
        bool json;
};

static void usage(FILE *f, const char *prog)
{
        fprintf(f,
                "usage: %s rules simulate [--dir DIR] --contact 'FIELD=VALUE,...' --from DATE\n"
                "       --to DATE [--replies FILE] [--secret FILE]\n"
                "  --contact  fields of the contact: edd=2026-05-01,arm=treatment,lang=es,...\n"
                "             (lang is language; unset: enrol_clinic or the first clinic, the\n"
                "             default language; without arm=, the arm the trial assigns to\n"
                "             study_id=, made at random and printed when not given)\n"
                "  --from     enrolment date (YYYY-MM-DD), at 00:00 in the clinic's zone\n"
                "  --to       end date, exclusive\n"
                "  --replies  lines 'YYYY-MM-DD HH:MM TEXT': what the contact answers, local time\n"
                "  --secret   the trial's secret key file, instead of the rules' secret_key_file\n"
                "  --dir      rules directory (default %s)\n",
                prog, RULES_DEFAULT_DIR);
}

static struct rules_tz *load_zone(const char *name)
{
        const char *dir = getenv("TZDIR");
        char path[512];
        static uint8_t buf[RULES_TZ_FILE_MAX];
        struct rules_tz *tz = NULL;
        size_t n;
        FILE *f;

        if (!name || strstr(name, ".."))
                return NULL;
        snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : RULES_FILES_ZONEINFO, name);
        f = fopen(path, "rb");
        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        return rules_tz_parse(buf, n, &tz) < 0 ? NULL : tz;
}

/* FIELD=VALUE,... into values[] (copies in `store`, SIM_SPEC_MAX bytes); the arm by name,
 * RULES_NONE when not given (the trial assigns it). */
static int parse_contact(const struct rules_set *set, const char *spec, char *store,
                         const char **values, int *ret_arm, const char *prog)
{
        char *save = NULL;
        size_t len = strlen(spec);
        int arm = RULES_NONE;

        if (len >= SIM_SPEC_MAX) {
                fprintf(stderr, "%s: --contact is longer than %d bytes\n", prog, SIM_SPEC_MAX);
                return -EINVAL;
        }
        memcpy(store, spec, len + 1);
        for (char *kv = strtok_r(store, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                const char *key = kv;
                int f;

                if (!eq) {
                        fprintf(stderr, "%s: --contact: '%s' is not FIELD=VALUE\n", prog, kv);
                        return -EINVAL;
                }
                *eq = '\0';
                if (strcmp(key, "lang") == 0)
                        key = "language";
                if (strcmp(key, "arm") == 0) {
                        arm = rules_arm_find(set, eq + 1);
                        if (arm < 0) {
                                fprintf(stderr, "%s: --contact: no arm '%s' in the trial\n", prog,
                                        eq + 1);
                                return -EINVAL;
                        }
                }
                f = rules_field_find(set, key);
                if (f < 0) {
                        fprintf(stderr, "%s: --contact: no field '%s' in the rules\n", prog, key);
                        return -EINVAL;
                }
                if (set->fields[f].type == RULES_FIELD_DATE) {
                        int64_t d;

                        if (rules_date_parse(eq + 1, &d) < 0) {
                                fprintf(stderr,
                                        "%s: --contact: %s=%s is not a date "
                                        "(YYYY-MM-DD or DD/MM/YYYY)\n",
                                        prog, key, eq + 1);
                                return -EINVAL;
                        }
                        rules_date_format(d, eq + 1); /* same length: stored YYYY-MM-DD */
                }
                values[f] = eq + 1;
        }
        *ret_arm = arm;
        return 0;
}

static void print_time(const struct sim *s, int64_t utc, char *buf, size_t size)
{
        int64_t local = rules_tz_to_local(s->tz, utc);
        int64_t day = rules_floor_div(local, RULES_DAY_SECONDS);
        int m = (int)((local - day * RULES_DAY_SECONDS) / 60);
        char date[11];

        rules_date_format(day, date);
        snprintf(buf, size, "%s %02d:%02d", date, m / 60, m % 60);
}

static const char *object_name(const struct rules_set *set, const struct rules_action *a)
{
        if (a->reminder >= 0)
                return set->reminders[a->reminder].name;
        if (a->quiz >= 0)
                return set->quizzes[a->quiz].name;
        if (a->keyword >= 0)
                return set->keywords[a->keyword].name;
        if (a->kind == RULES_ACT_FIELD_SET && a->field >= 0)
                return set->fields[a->field].name;
        if (a->kind == RULES_ACT_TRACK_SWITCH)
                return a->track_to >= 0 ? set->tracks[a->track_to].name : "(end)";
        return "";
}

static void on_result(void *userdata, int64_t now, const struct rules_result *res)
{
        struct sim *s = userdata;

        for (size_t i = 0; i < res->n_actions; i++) {
                const struct rules_action *a = &res->actions[i];
                char when[32];

                print_time(s, now, when, sizeof(when));
                if (a->text) {
                        struct sms_text_info info = { 0 };
                        bool ok = sms_text_analyze(a->text, s->set->settings.translit, &info) == 0;

                        s->messages++;
                        s->parts += ok ? (unsigned)info.parts : 0;
                        s->ucs2 += ok && info.charset == SMS_CHARSET_UCS2;
                        printf("%s  %-10s %-22s %u %-4s %s%s\n", when,
                               a->kind == RULES_ACT_REMINDER ? "reminder"
                               : a->kind == RULES_ACT_ALERT  ? "alert"
                                                             : "reply",
                               a->kind == RULES_ACT_REMINDER ? a->key : object_name(s->set, a),
                               ok ? (unsigned)info.parts : 0,
                               ok ? sms_charset_name(info.charset) : "?",
                               a->kind == RULES_ACT_ALERT ? "to " : "",
                               a->kind == RULES_ACT_ALERT ? a->to : a->text);
                        continue;
                }
                switch (a->kind) {
                case RULES_ACT_SUPPRESSED:
                        printf("%s  %-10s %-22s (%s)\n", when, "skipped", a->key,
                               rules_suppress_name(a->reason));
                        break;
                case RULES_ACT_INBOUND:
                        printf("%s  %-10s %s\n", when, "received",
                               rules_inbound_category_name(a->category));
                        break;
                case RULES_ACT_REMINDER:
                        break; /* a quiz-only reminder: the quiz lines follow */
                default:
                        printf("%s  %-10s %s%s%s\n", when, rules_act_name(a->kind),
                               object_name(s->set, a), a->value ? " " : "",
                               a->value ? a->value : "");
                }
        }
}

/* Two digits 0..max at p. */
static int two_digits(const char *p, int max)
{
        int v;

        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
                return -1;
        v = (p[0] - '0') * 10 + (p[1] - '0');
        return v <= max ? v : -1;
}

/* "YYYY-MM-DD HH:MM TEXT": the local minute (days * 1440 + minutes) and where TEXT starts. */
static int parse_reply_line(const char *line, int64_t *ret_minute, size_t *ret_text)
{
        const char *sp = strchr(line, ' ');
        char date[11];
        int64_t d;
        int hh, mm;
        size_t i;

        if (!sp || sp - line > 10)
                return -EBADMSG;
        memcpy(date, line, (size_t)(sp - line));
        date[sp - line] = '\0';
        i = (size_t)(sp - line) + 1;
        if (rules_date_parse(date, &d) < 0 || line[i + 2] != ':' ||
            (hh = two_digits(line + i, 23)) < 0 || (mm = two_digits(line + i + 3, 59)) < 0 ||
            (line[i + 5] != ' ' && line[i + 5] != '\0'))
                return -EBADMSG;
        i += 5;
        while (line[i] == ' ')
                i++;
        *ret_minute = d * RULES_DAY_MINUTES + hh * 60 + mm;
        *ret_text = i;
        return 0;
}

/* "YYYY-MM-DD HH:MM TEXT" lines; # comments and blank lines skipped. */
static int read_replies(const char *path, const struct rules_tz *tz, struct rules_drive_reply *out,
                        char **texts, size_t *ret_n, const char *prog)
{
        FILE *f = fopen(path, "r");
        char line[SIM_LINE_MAX];
        unsigned ln = 0;
        size_t n = 0;
        int r = 0;

        if (!f) {
                fprintf(stderr, "%s: %s: %m\n", prog, path);
                return -errno;
        }
        while (fgets(line, sizeof(line), f)) {
                int64_t minute;
                size_t used;

                ln++;
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                if (parse_reply_line(line, &minute, &used) < 0 || n >= SIM_REPLIES_MAX) {
                        fprintf(stderr, "%s: %s:%u: expected 'YYYY-MM-DD HH:MM TEXT'\n", prog, path,
                                ln);
                        r = -EBADMSG;
                        break;
                }
                out[n].at = rules_tz_to_utc(tz, minute * 60);
                if (n > 0 && out[n].at < out[n - 1].at) {
                        fprintf(stderr, "%s: %s:%u: replies must be in time order\n", prog, path,
                                ln);
                        r = -EBADMSG;
                        break;
                }
                texts[n] = strdup(line + used);
                if (!texts[n]) {
                        r = -ENOMEM;
                        break;
                }
                out[n].text = texts[n];
                n++;
        }
        fclose(f);
        if (r < 0) {
                /* nothing half-read: the caller frees only what it is told about */
                while (n > 0)
                        free(texts[--n]);
                return r;
        }
        *ret_n = n;
        return 0;
}

struct sim_args {
        const char *dir, *contact, *from, *to, *replies, *secret;
};

static int parse_args(int argc, char **argv, struct sim_args *a, const char *prog)
{
        static const struct option opts[] = {
                { "dir", required_argument, NULL, 'd' },
                { "contact", required_argument, NULL, 'c' },
                { "from", required_argument, NULL, 'f' },
                { "to", required_argument, NULL, 't' },
                { "replies", required_argument, NULL, 'r' },
                { "secret", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        a->dir = optarg;
                        break;
                case 'c':
                        a->contact = optarg;
                        break;
                case 'f':
                        a->from = optarg;
                        break;
                case 't':
                        a->to = optarg;
                        break;
                case 'r':
                        a->replies = optarg;
                        break;
                case 's':
                        a->secret = optarg;
                        break;
                case 'h':
                        usage(stdout, prog);
                        return 1;
                default:
                        usage(stderr, prog);
                        return -EINVAL;
                }
        }
        if (optind < argc || !a->contact || !a->from || !a->to) {
                usage(stderr, prog);
                return -EINVAL;
        }
        return 0;
}

static int load(const char *dir, struct rules_set **ret_set, const char *prog)
{
        struct rules_files files = { 0 };
        struct rules_diags diags = { 0 };
        struct rules_parse_opts opts = { .zone_exists = rules_files_zone_exists };
        int r = rules_files_read(dir, &files);

        if (r < 0) {
                fprintf(stderr, "%s: %s\n", prog, files.error);
                return r;
        }
        r = rules_parse(files.src, files.n, &opts, &diags, ret_set);
        for (size_t i = 0; r < 0 && i < diags.n; i++) {
                char buf[RULES_DIAG_TEXT_MAX + RULES_DIAG_FILE_MAX + 32];

                if (diags.v[i].warning)
                        continue;
                rules_diag_format(&diags.v[i], buf, sizeof(buf));
                fprintf(stderr, "%s\n", buf);
        }
        if (r < 0)
                fprintf(stderr, "%s: %s: the rules have errors (puentectl rules check)\n", prog,
                        dir);
        rules_diags_free(&diags);
        rules_files_free(&files);
        return r;
}

int ctl_rules_simulate(const struct ctl_context *ctx, int argc, char **argv)
{
        struct sim_args a = { .dir = RULES_DEFAULT_DIR };
        struct rules_set *set = NULL;
        struct rules_tz **zones = NULL, *deftz = NULL;
        struct rules_drive *d = NULL;
        static struct rules_drive_reply replies[SIM_REPLIES_MAX];
        static char *texts[SIM_REPLIES_MAX];
        static char spec[SIM_SPEC_MAX];
        char study_id[CTL_SIM_STUDY_ID_LEN + 1];
        size_t n_replies = 0;
        const char **values = NULL;
        int64_t from, to;
        struct sim s = { 0 };
        struct rules_engine_env env = { 0 };
        int arm = 0, r, ret = CTL_EXIT_FAIL;

        r = parse_args(argc, argv, &a, ctx->prog);
        if (r != 0)
                return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
        if (rules_date_parse(a.from, &from) < 0 || rules_date_parse(a.to, &to) < 0 || to <= from) {
                fprintf(stderr, "%s: --from and --to are dates YYYY-MM-DD, --from before --to\n",
                        ctx->prog);
                return CTL_EXIT_USAGE;
        }
        if (load(a.dir, &set, ctx->prog) < 0)
                return CTL_EXIT_FAIL;
        zones = calloc(set->n_clinics + 1,
                       sizeof(struct rules_tz *)); /* a type: lint reads *zones as sizeof(A*) */
        values = calloc(set->n_fields, sizeof(*values));
        if (!zones || !values)
                goto out;
        deftz = load_zone(set->settings.timezone);
        for (size_t i = 0; i < set->n_clinics; i++)
                zones[i] = set->clinics[i].timezone ? load_zone(set->clinics[i].timezone) : NULL;
        if (parse_contact(set, a.contact, spec, values, &arm, ctx->prog) < 0) {
                ret = CTL_EXIT_USAGE;
                goto out;
        }
        if (!values[RULES_F_PHONE])
                values[RULES_F_PHONE] = "+520000000000";
        if (!values[RULES_F_LANGUAGE])
                values[RULES_F_LANGUAGE] = set->settings.default_language;
        if (!values[RULES_F_CLINIC] && set->settings.enrol_clinic)
                values[RULES_F_CLINIC] = set->settings.enrol_clinic;
        if (!values[RULES_F_CLINIC] && set->n_clinics)
                values[RULES_F_CLINIC] = set->clinics[0].id;
        /* The enrolment date is the day of --from: the engine derives it, as in puented. */
        if (!values[RULES_F_STUDY_ID] && (!set->trial.present || arm >= 0))
                values[RULES_F_STUDY_ID] = "SIM-0001"; /* not assigned from: any will do */
        if (!values[RULES_F_STUDY_ID]) {
                if (ctl_sim_make_study_id(study_id) < 0) {
                        fprintf(stderr, "%s: no random study id: %m\n", ctx->prog);
                        goto out;
                }
                values[RULES_F_STUDY_ID] = study_id;
        }
        if (!set->trial.present)
                arm = 0;
        else if (arm < 0 && ctl_sim_assign_arm(set, values, a.secret, &arm, ctx->prog) < 0)
                goto out;
        {
                int ci = rules_clinic_find(set, values[RULES_F_CLINIC]);

                env = (struct rules_engine_env){ .set = set,
                                                 .clinic_tz = (const struct rules_tz *const *)zones,
                                                 .default_tz = deftz };
                s.set = set;
                s.tz = ci >= 0 && zones[ci] ? zones[ci] : deftz;
                if (a.replies &&
                    read_replies(a.replies, s.tz, replies, texts, &n_replies, ctx->prog) < 0)
                        goto out;
                r = rules_drive_new(&env, values, arm,
                                    rules_tz_to_utc(s.tz, from * RULES_DAY_SECONDS), &d);
                if (r < 0) {
                        fprintf(stderr, "%s: the contact enters no track (%s)\n", ctx->prog,
                                "a start track's anchor field is missing");
                        goto out;
                }
                r = rules_drive_run(d, rules_tz_to_utc(s.tz, to * RULES_DAY_SECONDS), replies,
                                    n_replies, on_result, &s);
                if (r < 0) {
                        fprintf(stderr, "%s: simulation stopped: %s\n", ctx->prog, strerror(-r));
                        goto out;
                }
        }
        printf("total: %u messages, %u SMS parts (%u in UCS-2); rule set %.12s\n", s.messages,
               s.parts, s.ucs2, set->hash_hex);
        ret = CTL_EXIT_OK;
out:
        rules_drive_free(d);
        for (size_t i = 0; zones && i < set->n_clinics; i++)
                rules_tz_free(zones[i]);
        for (size_t i = 0; i < n_replies; i++)
                free(texts[i]);
        free(zones);
        free(values);
        rules_tz_free(deftz);
        rules_free(set);
        return ret;
}
