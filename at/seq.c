/* The one sequencer that runs init sequences (constant step arrays) over an at_chat. */
#include "at/seq.h"

#include <errno.h>
#include <string.h>

static void step_start(struct at_seq *s);

void at_seq_init(struct at_seq *s, struct at_chat *chat, const uint64_t *now,
                 const unsigned *quirks, void *ctx, at_seq_done_fn done)
{
        memset(s, 0, sizeof(*s));
        s->chat = chat;
        s->now = now;
        s->quirks = quirks;
        s->ctx = ctx;
        s->done = done;
        s->wake_at = UINT64_MAX;
}

static void finish(struct at_seq *s, int r, const struct at_result *res)
{
        size_t step = s->i;
        s->running = false;
        s->cmd_id = 0;
        s->wake_at = UINT64_MAX;
        if (s->done)
                s->done(s, s->ctx, r, step, res);
}

/* Moves to step i+1; skips the alternatives of a chain that just succeeded. */
static void advance(struct at_seq *s, bool failed_next)
{
        s->i++;
        s->again = 0;
        s->waited = false;
        s->prev_next_failed = failed_next;
        if (!failed_next)
                while (s->i < s->n && s->steps[s->i].alt)
                        s->i++;
}

static void on_result(const struct at_result *r, void *userdata)
{
        struct at_seq *s = userdata;
        if (!s->running || r->id != s->cmd_id)
                return; /* aborted, or a run that was replaced */
        s->cmd_id = 0;
        const struct at_seq_step *st = &s->steps[s->i];
        int rc;
        unsigned gen = s->gen;
        s->delay_ms = 0;
        if (st->handler)
                rc = st->handler(s, s->ctx, r);
        else
                rc = r->status == AT_STATUS_OK ? 0 : -EIO;
        if (!s->running || s->gen != gen)
                return; /* the handler aborted or started another run */
        if (rc == -EAGAIN && ++s->again <= AT_SEQ_AGAIN_MAX) {
                if (s->delay_ms > 0) {
                        s->wake_at = *s->now + s->delay_ms;
                        return;
                }
                step_start(s);
                return;
        }
        if (rc == -EAGAIN)
                rc = -ETIMEDOUT; /* re-run too often: give up on the step */
        if (r->status == AT_STATUS_TIMEOUT) {
                /* A late answer would be taken for the next command's: whatever on_error
                 * says, the run ends and the caller recovers the channel. */
                finish(s, -ETIMEDOUT, r);
                return;
        }
        if (rc == 0) {
                advance(s, false);
        } else if (st->on_error == AT_SEQ_SKIP) {
                advance(s, false);
        } else if (st->on_error == AT_SEQ_NEXT && s->i + 1 < s->n && s->steps[s->i + 1].alt) {
                advance(s, true);
        } else {
                finish(s, rc, r);
                return;
        }
        step_start(s);
}

static bool step_applies(const struct at_seq *s, const struct at_seq_step *st)
{
        unsigned q = s->quirks ? *s->quirks : 0;
        if ((q & st->need) != st->need || (q & st->unless) != 0)
                return false;
        return !st->alt || s->prev_next_failed;
}

/* Starts the first applicable step from s->i on, or finishes the run. */
static void step_start(struct at_seq *s)
{
        char text[AT_CHAT_CMD_MAX + 1];
        for (;;) {
                if (s->i >= s->n) {
                        finish(s, 0, NULL);
                        return;
                }
                const struct at_seq_step *st = &s->steps[s->i];
                if (!step_applies(s, st)) {
                        /* A skipped alt keeps the chain going: the next alt may apply. */
                        bool keep = st->alt && s->prev_next_failed;
                        s->i++;
                        s->again = 0;
                        s->waited = false;
                        s->prev_next_failed = keep;
                        continue;
                }
                if (st->wait_ms > 0 && !s->waited) {
                        s->waited = true;
                        s->wake_at = *s->now + st->wait_ms;
                        return;
                }
                const char *cmd = st->cmd;
                if (!cmd) {
                        int r = st->build ? st->build(s->ctx, text, sizeof(text)) : -ENODATA;
                        if (r == -ENODATA) {
                                advance(s, false);
                                continue;
                        }
                        if (r < 0) {
                                finish(s, r, NULL);
                                return;
                        }
                        cmd = text;
                }
                struct at_chat_cmd c = {
                        .text = cmd,
                        .prefix = st->prefix,
                        .timeout_ms = st->timeout_ms,
                        .flags = st->flags,
                        .on_line = st->on_line,
                        .on_result = on_result,
                        .userdata = s,
                };
                unsigned id;
                int r = at_chat_send(s->chat, &c, *s->now, &id);
                if (r < 0) {
                        finish(s, r, NULL);
                        return;
                }
                /* at_chat_send() may complete nothing synchronously: the result always comes
                 * later, from feed or tick. */
                s->cmd_id = id;
                return;
        }
}

int at_seq_run(struct at_seq *s, const struct at_seq_step *steps, size_t n)
{
        if (!s || !steps || n == 0)
                return -EINVAL;
        s->gen++;
        s->steps = steps;
        s->n = n;
        s->i = 0;
        s->again = 0;
        s->waited = false;
        s->prev_next_failed = false;
        s->cmd_id = 0;
        s->wake_at = UINT64_MAX;
        s->running = true;
        step_start(s);
        return 0;
}

void at_seq_abort(struct at_seq *s)
{
        s->gen++;
        s->running = false;
        s->cmd_id = 0;
        s->wake_at = UINT64_MAX;
}

void at_seq_delay(struct at_seq *s, uint32_t ms)
{
        s->delay_ms = ms;
}

bool at_seq_running(const struct at_seq *s)
{
        return s->running;
}

void at_seq_tick(struct at_seq *s)
{
        if (s->running && s->cmd_id == 0 && s->wake_at != UINT64_MAX && *s->now >= s->wake_at) {
                s->wake_at = UINT64_MAX;
                step_start(s);
        }
}

uint64_t at_seq_next_deadline(const struct at_seq *s)
{
        return s->running && s->cmd_id == 0 ? s->wake_at : UINT64_MAX;
}
