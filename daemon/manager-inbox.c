/* The inbox pass: complete incoming messages not yet handled go to the rules, oldest first,
 * and are marked handled after them, unless the rules failed for a reason that may pass
 * (docs/puented.md, "Incoming messages"). */
#include "daemon/manager-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/store.h"

bool manager_inbox_transient(int err)
{
        switch (err) {
        case -EBUSY: /* SQLITE_BUSY/LOCKED: puentectl holds the write lock */
        case -EAGAIN:
        case -EINTR:
        case -ENOSPC: /* the disk or max_page_count is full: staff free room */
        case -EDQUOT:
        case -ENOMEM:
        case -EIO:
        case -EROFS: /* a file system remounted read-only after an error, until fixed */
        case -ETIMEDOUT:
                return true;
        default:
                return false;
        }
}

uint64_t manager_inbox_backoff(uint64_t current_ms)
{
        if (current_ms < MANAGER_INBOX_RETRY_MIN_MS)
                return MANAGER_INBOX_RETRY_MIN_MS;
        if (current_ms >= MANAGER_INBOX_RETRY_MAX_MS / 2)
                return MANAGER_INBOX_RETRY_MAX_MS;
        return current_ms * 2;
}

struct inbox_batch {
        int64_t id[MANAGER_INBOX_BATCH], contact[MANAGER_INBOX_BATCH];
        char sender[MANAGER_INBOX_BATCH][STORE_NUMBER_MAX];
        char *text[MANAGER_INBOX_BATCH];
        unsigned n;
};

static int inbox_collect(const struct store_incoming *in, void *userdata)
{
        struct inbox_batch *b = userdata;
        if (b->n >= MANAGER_INBOX_BATCH)
                return 1;
        char *t = strdup(in->text ? in->text : "");
        if (!t)
                return -ENOMEM;
        b->id[b->n] = in->id;
        b->contact[b->n] = in->contact_id;
        snprintf(b->sender[b->n], sizeof(b->sender[b->n]), "%s", in->sender);
        b->text[b->n++] = t;
        return 0;
}

int manager_inbox_pass(struct store *s, int64_t now, manager_inbox_fn fn, void *userdata,
                       bool *ret_more)
{
        struct inbox_batch b = { .n = 0 };
        int handled = 0, r;

        r = store_inbox_unhandled(s, MANAGER_INBOX_BATCH, inbox_collect, &b);
        if (r < 0) {
                log_warning("inbox: %s", store_errmsg(s));
                goto out;
        }
        for (unsigned i = 0; i < b.n; i++) { /* listed oldest first */
                struct manager_inbox_msg msg = {
                        .id = b.id[i],
                        .contact_id = b.contact[i],
                        .now = now,
                        .sender = b.sender[i],
                        .text = b.text[i],
                };
                /* What the rules do for this message (replies queued, a quiz scored, state
                 * saved) and its mark "handled" are one transaction: a failure or a crash
                 * half way undoes all of it, and the next pass does it once (before, a reply
                 * queued ahead of a failure went out again at the retry). */
                bool batch = store_batch_begin(s) == 0;
                r = fn(&msg, userdata);
                if (manager_inbox_transient(r)) {
                        if (batch)
                                store_batch_rollback(s);
                        goto out; /* this one and the later ones wait for the next pass */
                }
                if (r < 0 && r != -ENOENT) {
                        log_warning("rules: message %lld: %s (not tried again)", (long long)msg.id,
                                    strerror(-r));
                        if (batch) { /* what it did before failing goes; the mark stays */
                                store_batch_rollback(s);
                                batch = store_batch_begin(s) == 0;
                        }
                }
                r = store_incoming_mark_handled(s, msg.id);
                if (r == 0 && batch)
                        r = store_batch_commit(s);
                else if (batch)
                        store_batch_rollback(s);
                if (r < 0) {
                        log_warning("inbox: %s", store_errmsg(s));
                        goto out;
                }
                handled++;
        }
        r = handled;
        *ret_more = b.n == MANAGER_INBOX_BATCH;
out:
        for (unsigned i = 0; i < b.n; i++)
                free(b.text[i]);
        return r;
}
