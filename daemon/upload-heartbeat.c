/* The daily heartbeat SMS (docs/upload.md "Disk budget, status, heartbeat"): while no upload
 * has succeeded for heartbeat_days, one SMS a day with counts only goes to the central
 * team's number through the ordinary outbox, and an event records it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/upload.h"

/* Whether the last heartbeat (Unix seconds in the setting) is a day or more before now. A
 * clock set back by more than a day (a box without an RTC started in the past, then fixed)
 * does not hold the heartbeat back for as long as it jumped. */
static bool day_passed(struct store *store, int64_t now)
{
        char buf[32];
        char *end;

        if (store_setting_get(store, UPLOAD_SETTING_HEARTBEAT, buf, sizeof(buf)) < 0)
                return true; /* never sent (or unreadable: one more SMS beats none) */
        long long last = strtoll(buf, &end, 10);
        if (end == buf)
                return true;
        return now >= last + UPLOAD_HEARTBEAT_EVERY_S || now <= last - UPLOAD_HEARTBEAT_EVERY_S;
}

int upload_heartbeat_step(struct store *store, const struct upload_status *st, const char *number,
                          int64_t now, int64_t *ret_message_id)
{
        char text[UPLOAD_HEARTBEAT_MAX], stamp[32], json[256];
        int64_t id = 0;
        int r;

        if (!number || !*number || !st->heartbeat_due || !day_passed(store, now))
                return 0;
        /* Recorded before queueing: a crash in between loses that day's SMS, never sends two. */
        snprintf(stamp, sizeof(stamp), "%" PRId64, now);
        r = store_setting_set(store, UPLOAD_SETTING_HEARTBEAT, stamp);
        if (r < 0)
                return r;
        upload_heartbeat_text(st, text);
        r = store_queue_message(store,
                                &(struct store_outgoing_new){
                                        .recipient = number,
                                        .text = text,
                                        .encoding = STORE_ENC_GSM7, /* ASCII, one part */
                                        .part_count = 1,
                                        .priority = UPLOAD_HEARTBEAT_PRIORITY,
                                },
                                now, &id);
        if (r < 0)
                return r;
        snprintf(json, sizeof(json),
                 "{\"message_id\":%" PRId64 ",\"days\":%u,\"backlog_events\":%" PRId64
                 ",\"backlog_batches\":%" PRIu64 ",\"disk_near\":%s}",
                 id, st->days_since_ok, st->backlog_events, st->backlog_batches,
                 st->disk_near ? "true" : "false");
        r = store_event_append(store,
                               &(struct store_event){ .time = now,
                                                      .clock_trusted = store_clock_trusted(store),
                                                      .type = UPLOAD_HEARTBEAT_EVENT,
                                                      .json = json },
                               NULL);
        if (r < 0)
                return r;
        if (ret_message_id)
                *ret_message_id = id;
        return 1;
}
