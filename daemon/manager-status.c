/* The daemon's status: STATUS= for systemd and the daemon.status snapshot in the store that
 * puentectl status reads (per-modem operator, signal, registration, SIM, last error), and the
 * full disk, which the snapshot cannot tell: marked outside the store (daemon/disk.h), watched
 * at every status write, and once space returns the modems' storage is read again. */
#include "daemon/manager-internal.h"
#include "daemon/rules-runner.h"
#include "daemon/upload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/disk.h"
#include "daemon/log.h"
#include "daemon/store.h"

#define SUMMARY_MAX 256
/* While the disk is full the modems are listed again at most this often: with a page limit
 * (store max_pages) the filesystem shows room although the store refuses, and each try reads
 * every kept message. */
#define DISK_RECHECK_MS 15000

static void add_str(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *modem_json(struct manager *m, struct modem *md,
                                      const struct bank_time *bt)
{
        struct json_object *o = json_object_new_object();
        const struct at_modem *core = modem_core(md);
        const struct at_modem_info *in = core ? at_modem_info(core) : NULL;
        struct bank_modem_info bi;

        add_str(o, "name", modem_name(md));
        add_str(o, "device", modem_path(md));
        add_int(o, "modem_id", modem_store_id(md));
        add_str(o, "imei", modem_imei(md));
        add_str(o, "state", modem_state_word(md));
        add_str(o, "health", modem_health(md));
        if (in) {
                add_str(o, "iccid", in->iccid);
                add_str(o, "operator", in->oper);
                add_int(o, "rssi", in->rssi);
                add_int(o, "dbm", in->dbm);
                add_int(o, "bars", in->bars);
                add_str(o, "registration", in->reg_text);
                add_str(o, "sim", in->sim_text);
                add_str(o, "last_error", in->last_error);
                add_str(o, "model", in->model);
        }
        if (bank_modem_info(m->bank, md, bt, &bi) == 0) {
                json_object_object_add(o, "ready", json_object_new_boolean(bi.ready));
                json_object_object_add(o, "busy", json_object_new_boolean(bi.busy));
                add_int(o, "sent_today", bi.sent_today);
                add_int(o, "daily_limit", bi.daily_limit);
                add_int(o, "send_rate", bi.send_rate);
                add_int(o, "recent_errors", bi.recent_errors);
        }
        return o;
}

int manager_status_json(struct manager *m, char *buf, size_t size, char *summary,
                        size_t summary_size)
{
        struct store_status st;
        struct bank_time bt;
        unsigned ready = 0, down = 0, queued = 0;

        bank_time_now(&bt);
        if (store_status_open(m->store, &st) == 0)
                queued = st.parts[STORE_PART_QUEUED] + st.parts[STORE_PART_RETRY] +
                         st.parts[STORE_PART_SENDING];
        struct json_object *root = json_object_new_object();
        struct json_object *arr = json_object_new_array();
        if (!root || !arr) {
                json_object_put(root);
                json_object_put(arr);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < m->n_modems; i++) {
                struct modem *md = m->modems[i];
                if (modem_life(md) == MODEM_LIFE_REJECTED)
                        continue;
                const struct at_modem *core = modem_core(md);
                enum at_modem_state s = core ? at_modem_state(core) : AT_MODEM_FAILED;
                if (modem_life(md) == MODEM_LIFE_OPEN &&
                    (s == AT_MODEM_READY || s == AT_MODEM_SENDING))
                        ready++;
                else if (modem_life(md) != MODEM_LIFE_OPEN || s == AT_MODEM_FAILED)
                        down++;
                json_object_array_add(arr, modem_json(m, md, &bt));
        }
        /* "2 modems ready, 14 queued, last upload 3 min ago" (issue 4's example) */
        struct upload_status us = { .enabled = false };
        char upl[64] = "";
        if (m->upload) {
                upload_status(m->upload, &us);
                upload_summary(&us, time(NULL), upl, sizeof(upl));
        }
        snprintf(summary, summary_size, "%s%u modem%s ready, %u queued%s%.0u%s%s%s%s%s",
                 m->stopping ? "stopping: " : "", ready, ready == 1 ? "" : "s", queued,
                 down ? ", " : "", down, down ? " down" : "", upl[0] ? ", " : "", upl,
                 m->disk_full ? "; " : "", m->disk_full ? DISK_FULL_TEXT : "");
        add_int(root, "pid", getpid());
        add_int(root, "updated", time(NULL));
        add_str(root, "summary", summary);
        if (m->rules)
                add_str(root, "rules", rules_runner_status(m->rules));
        if (m->upload) {
                char line[256];
                upload_status_line(&us, time(NULL), line, sizeof(line));
                add_str(root, "upload", line);
        }
        json_object_object_add(root, "disk_full", json_object_new_boolean(m->disk_full));
        add_int(root, "queued", queued);
        add_int(root, "modems_ready", ready);
        json_object_object_add(root, "modems", arr);
        const char *js = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        size_t n = strlen(js);
        int r = 0;
        if (n >= size)
                r = -ENOBUFS;
        else
                memcpy(buf, js, n + 1);
        json_object_put(root);
        return r;
}

static void disk_enter(struct manager *m, const char *why)
{
        m->disk_recheck_ms = manager_now_ms(m) + DISK_RECHECK_MS;
        if (m->disk_full)
                return;
        m->disk_full = true;
        log_warning("%s (%s)", DISK_FULL_TEXT, why);
        int r = disk_mark(m->config->state_directory, true);
        if (r < 0)
                log_warning("%s/%s: %s", m->config->state_directory, DISK_MARK_NAME, strerror(-r));
}

void manager_store_full(void *userdata)
{
        disk_enter(userdata, "a received message could not be stored");
}

/* Space is back (or seems so): leave the condition and read what the modems kept. If the
 * store refuses again, manager_store_full() enters it again. */
static void disk_leave(struct manager *m)
{
        m->disk_full = false;
        int r = disk_mark(m->config->state_directory, false);
        if (r < 0)
                log_warning("%s/%s: %s", m->config->state_directory, DISK_MARK_NAME, strerror(-r));
        log_notice("the disk has room again: reading the messages kept on the modems");
        for (unsigned i = 0; i < m->n_modems; i++)
                modem_relist(m->modems[i]);
}

void manager_status_write(struct manager *m)
{
        static char js[MANAGER_STATUS_MAX];
        char summary[SUMMARY_MAX];
        bool low = disk_low(m->config->database);
        if (low)
                disk_enter(m, "less than " DISK_FREE_MIN_TEXT " free for the database");
        int r = manager_status_json(m, js, sizeof(js), summary, sizeof(summary));
        if (r < 0) {
                log_warning("status snapshot: %s", strerror(-r));
                return;
        }
        sd_notifyf(0, "STATUS=%s", summary);
        r = store_setting_set(m->store, MANAGER_STATUS_KEY, js);
        if (r < 0 && !(r == -ENOSPC && m->disk_full))
                log_warning("store: %s", store_errmsg(m->store));
        if (r == -ENOSPC)
                disk_enter(m, store_errmsg(m->store));
        else if (m->disk_full && !low && manager_now_ms(m) >= m->disk_recheck_ms)
                disk_leave(m);
        else if (!m->disk_full)
                disk_mark(m->config->state_directory, false); /* one left by a killed daemon */
}
