/* puentectl export --to DIR: the upload batches copied to a directory (see ctl-export.h and
 * docs/upload.md "Export to a USB stick"). */
#include "daemon/ctl-export.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/batch.h"
#include "daemon/config.h"
#include "daemon/ctl-common.h"
#include "daemon/upload-internal.h"
#include "daemon/upload.h"

#define EXPORT_LOCK_TRIES 10 /* seconds to wait for a daemon that is cutting a batch */

static const char cmd[] = "export";

static int usage(void)
{
        fprintf(stderr, "usage: puentectl export --to DIR [--mark-sent]\n");
        return CTL_EXIT_USAGE;
}

/* Cuts every pending event into batches (the daemon may hold the lock for a moment). */
static int cut_all(struct upload_cutter *c)
{
        for (int tries = 0;;) {
                bool cut = false;
                int r = upload_cut_one(c, true, &cut);
                if (r == -EAGAIN && ++tries < EXPORT_LOCK_TRIES) {
                        sleep(1);
                        continue;
                }
                if (r < 0)
                        return r;
                if (!cut)
                        return 0;
        }
}

static int copy_batch(const struct upload_cutter *c, const char *to_dir, uint64_t batch,
                      struct batch_info *ret_info)
{
        char src[UPLOAD_NAME_MAX], dst[UPLOAD_NAME_MAX + 64];
        uint8_t *data;
        size_t len;
        int r;

        /* Each failure is reported, then its errno returned as such: ctl_fail() returns
         * its status argument, but the analyzer does not follow the variadic call. */
        r = upload_batch_path(c->dir, batch, src, sizeof(src));
        if (r < 0) {
                ctl_fail(r, cmd, "batch %" PRIu64 " in %s: %s", batch, c->dir, strerror(-r));
                return r;
        }
        r = upload_read_file(src, &data, &len);
        if (r < 0) {
                ctl_fail(r, cmd, "%s: %s", src, strerror(-r));
                return r;
        }
        if (batch_peek_header(data, len, ret_info) < 0 || ret_info->batch != batch) {
                free(data);
                ctl_fail(-EBADMSG, cmd, "%s: not batch %" PRIu64, src, batch);
                return -EBADMSG;
        }
        r = upload_batch_path(to_dir, batch, dst, sizeof(dst));
        if (r == 0)
                r = upload_write_durable(dst, data, len);
        free(data);
        if (r < 0) {
                ctl_fail(r, cmd, "%s: cannot write: %s", dst, strerror(-r));
                return r;
        }
        return 0;
}

static int export_to(struct ctl_env *env, const char *to, bool mark_sent)
{
        struct upload_config cfg;
        struct upload_cutter c;
        struct upload_position pos;
        char err[UPLOAD_ERROR_MAX], dir[CONFIG_PATH_MAX + BATCH_DEVICE_MAX + 2];
        unsigned long long events = 0;
        int64_t last_seq = 0;
        int r;

        upload_config_from(env->config, &cfg);
        r = upload_cutter_init(&c, env->store, &cfg, err);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAIL, cmd, "%s", err);
        r = cut_all(&c);
        if (r == -ENOSPC)
                fprintf(stderr, "puentectl export: the disk budget stops new batches; exporting "
                                "what is cut (run again with --mark-sent to make room)\n");
        else if (r < 0) {
                upload_cutter_done(&c);
                return ctl_fail(CTL_EXIT_FAIL, cmd, "cannot cut batches: %s",
                                r == -EAGAIN ? "the daemon holds the lock" : strerror(-r));
        }
        r = upload_position_read(env->store, &pos);
        if (r < 0) {
                upload_cutter_done(&c);
                return ctl_fail(CTL_EXIT_FAIL, cmd, "upload positions unreadable: %s",
                                strerror(-r));
        }
        snprintf(dir, sizeof(dir), "%s/%s", to, c.device);
        if ((mkdir(to, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
                int e = errno;
                upload_cutter_done(&c);
                return ctl_fail(CTL_EXIT_FAIL, cmd, "%s: cannot create: %s", dir, strerror(e));
        }
        for (uint64_t b = pos.sent + 1; b <= pos.cut; b++) {
                struct batch_info info;
                if (copy_batch(&c, dir, b, &info) < 0) {
                        upload_cutter_done(&c);
                        return CTL_EXIT_FAIL;
                }
                events += info.events;
                last_seq = info.last_seq;
        }
        if (mark_sent && pos.cut > pos.sent) {
                r = upload_position_set_sent(env->store, pos.cut, last_seq);
                if (r < 0) {
                        upload_cutter_done(&c);
                        return ctl_fail(CTL_EXIT_FAIL, cmd, "exported, but not recorded: %s",
                                        store_errmsg(env->store));
                }
                upload_prune(c.dir, pos.cut);
        }
        printf("exported %" PRIu64 " batches (%llu events) to %s%s\n", pos.cut - pos.sent, events,
               dir, mark_sent ? "; marked as delivered" : "");
        upload_cutter_done(&c);
        return CTL_EXIT_OK;
}

int ctl_export(const struct ctl_context *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
                { "to", required_argument, NULL, 't' },
                { "mark-sent", no_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *to = NULL;
        bool mark_sent = false;
        struct ctl_env env = { 0 };
        int c, status;

        optind = 0;
        while ((c = getopt_long(argc, argv, "t:mh", opts, NULL)) != -1) {
                if (c == 't')
                        to = optarg;
                else if (c == 'm')
                        mark_sent = true;
                else
                        return usage();
        }
        if (!to || optind != argc)
                return usage();
        status = ctl_env_open(ctx, cmd, false, &env);
        if (status != CTL_EXIT_OK)
                return status;
        status = export_to(&env, to, mark_sent);
        ctl_env_close(&env);
        return status;
}
