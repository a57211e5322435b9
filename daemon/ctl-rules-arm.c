/* puentectl rules simulate: the arm a simulated contact gets, assigned as puented assigns it
 * at enrolment (daemon/rules-apply.c), and the study id it is assigned from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/ctl-rules-sim.h"
#include "rules/arms.h"

#define SIM_STUDY_BYTES (CTL_SIM_STUDY_ID_LEN / 2)
#define SIM_SEALED_MAX  (64 * 1024 * 1024) /* bytes of a sealed list */

/* A whole small file into a new buffer (NUL-terminated), at most max bytes. */
static int read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(max + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, max + 1, f);
        fclose(f);
        if (n > max) {
                free(buf);
                return -EFBIG;
        }
        buf[n] = '\0';
        *ret_buf = buf;
        *ret_len = n;
        return 0;
}

int ctl_sim_assign_arm(const struct rules_set *set, const char *const *values,
                       const char *secret_file, int *ret_arm, const char *prog)
{
        const struct rules_trial *t = &set->trial;
        const char *unit =
                t->unit == RULES_UNIT_CLINIC ? values[RULES_F_CLINIC] : values[RULES_F_STUDY_ID];
        const char *file = t->sealed_list_file ? t->sealed_list_file
                           : secret_file       ? secret_file
                                               : t->secret_key_file;
        char stratum[RULES_ARMS_STRATUM_MAX];
        char *buf = NULL;
        size_t len = 0;
        int arm = 0, r;

        r = rules_arms_stratum(set, values, stratum, sizeof(stratum));
        if (r == 0 && !unit)
                r = -EINVAL;
        if (r < 0) {
                fprintf(stderr, "%s: --contact: no %s to assign the arm from\n", prog,
                        !unit ? "clinic" : "stratum");
                return r;
        }
        r = file ? read_file(file, t->sealed_list_file ? SIM_SEALED_MAX : RULES_ARMS_SECRET_MAX,
                             &buf, &len)
                 : -ENOENT;
        if (r < 0) {
                fprintf(stderr,
                        "%s: the trial's %s %s cannot be read (%s); give arm=NAME in --contact%s\n",
                        prog, t->sealed_list_file ? "sealed list" : "secret key",
                        file ? file : "(none)", strerror(-r),
                        t->sealed_list_file ? "" : ", or --secret FILE");
                return r;
        }
        if (t->sealed_list_file) {
                struct rules_sealed *sealed = NULL;
                unsigned line = 0;

                r = rules_arms_sealed_parse(set, buf, len, &sealed, &line);
                if (r < 0)
                        fprintf(stderr, "%s: %s:%u: not a sealed list line (study_id,arm)\n", prog,
                                file, line);
                else if ((r = arm = rules_arms_sealed_lookup(sealed, unit)) < 0)
                        fprintf(stderr,
                                "%s: study id %s is not on the sealed list %s; give a "
                                "study_id= that is, or arm=NAME\n",
                                prog, unit, file);
                rules_arms_sealed_free(sealed);
        } else {
                r = rules_arms_assign(set, (const uint8_t *)buf, len, stratum, unit, &arm);
                if (r < 0)
                        fprintf(stderr, "%s: %s: the trial's secret key: %s (at least %d bytes)\n",
                                prog, file, strerror(-r), RULES_ARMS_SECRET_MIN);
        }
        if (buf)
                memset(buf, 0, len); /* the key: not left in freed memory */
        free(buf);
        if (r < 0)
                return r;
        printf("contact %s: arm %s (%s, stratum %s)\n", values[RULES_F_STUDY_ID], t->arms[arm].name,
               t->sealed_list_file ? "sealed list" : "keyed hash", stratum);
        *ret_arm = arm;
        return 0;
}

int ctl_sim_make_study_id(char out[static CTL_SIM_STUDY_ID_LEN + 1])
{
        uint8_t rnd[SIM_STUDY_BYTES];

        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return -EIO;
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(out + 2 * i, 3, "%02x", rnd[i]);
        return 0;
}
