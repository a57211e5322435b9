/* Reassembly of concatenated SMS: groups of parts keyed by sender and reference, bounded. */
#include "at/concat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A group's part array starts this small and doubles up to its announced total, so a
 * claim of 255 parts costs nothing until the parts actually arrive. */
#define CONCAT_PARTS_INITIAL 4

/* What keeps parts of different messages apart (TS 23.040 9.2.3.24.1: the reference is
 * only unique per originator, and the 8- and 16-bit IEs are separate number spaces). */
struct concat_key {
        enum sms_type type;
        char sender[SMS_ADDR_MAX];
        uint8_t ton;
        bool ref16;
        uint16_t ref;
        uint8_t total;
};

struct concat_part {
        uint8_t seq;
        uint64_t tag;
        uint32_t hash; /* of the content, to tell a retransmission from a reused reference */
        enum sms_type type;
        struct sms_time scts;
        enum sms_charset charset;
        int msg_class;
        size_t len;
        char data[]; /* len octets + NUL */
};

struct concat_group {
        struct concat_group *prev, *next; /* creation order: head is the oldest */
        struct concat_key key;
        uint64_t first_ms, last_ms;
        size_t nparts, cap;
        struct concat_part **parts; /* ascending seq */
        size_t bytes;               /* everything this group accounts for */
};

struct concat_recent {
        bool used;
        struct concat_key key;
        uint64_t done_ms;
        uint32_t hash[SMS_PARTS_MAX]; /* by seq - 1 */
};

struct sms_concat_table {
        size_t max_groups, max_bytes;
        uint64_t dup_window_ms;
        sms_concat_emit_fn emit;
        void *userdata;
        struct concat_group *head, *tail;
        size_t ngroups, bytes;
        bool busy; /* inside the emit callback */
        size_t recent_next;
        struct concat_recent recent[SMS_CONCAT_RECENT_MAX];
};

/* The smallest allowed cap must hold a new group with one full-size part, so making room
 * always ends. */
_Static_assert(SMS_CONCAT_BYTES_MIN >= sizeof(struct concat_group) +
                                               CONCAT_PARTS_INITIAL * sizeof(void *) +
                                               sizeof(struct concat_part) + SMS_TEXT_MAX,
               "SMS_CONCAT_BYTES_MIN too small for one part");

static uint32_t concat_hash(const char *data, size_t len)
{
        uint32_t h = 2166136261u; /* FNV-1a */

        for (size_t i = 0; i < len; i++) {
                h ^= (uint8_t)data[i];
                h *= 16777619u;
        }
        return h;
}

static bool key_equal(const struct concat_key *a, const struct concat_key *b)
{
        return a->type == b->type && a->ton == b->ton && a->ref16 == b->ref16 && a->ref == b->ref &&
               a->total == b->total && strcmp(a->sender, b->sender) == 0;
}

/* TS 23.040 9.2.3.24.1: an IE with a zero count, or a sequence of zero or beyond the count,
 * is ignored; a count of one is a message that is whole by itself. */
static bool part_is_concatenated(const struct sms_pdu *p)
{
        return p->concat.present && p->concat.total > 1 && p->concat.seq >= 1 &&
               p->concat.seq <= p->concat.total;
}

/* The bytes a part carries: decoded text, or the raw user data of 8-bit parts. */
static void part_content(const struct sms_pdu *p, const char **ret_data, size_t *ret_len)
{
        if (p->charset == SMS_CHARSET_8BIT) {
                *ret_data = (const char *)p->ud;
                *ret_len = p->ud_len < SMS_UD_MAX ? p->ud_len : SMS_UD_MAX;
        } else {
                *ret_data = p->text;
                *ret_len = strnlen(p->text, SMS_TEXT_MAX - 1);
        }
}

static size_t part_cost(size_t len)
{
        return sizeof(struct concat_part) + len + 1;
}

static struct concat_part *part_new(const struct sms_pdu *p, uint64_t tag)
{
        const char *data;
        size_t len;
        struct concat_part *cp;

        part_content(p, &data, &len);
        cp = malloc(part_cost(len));
        if (!cp)
                return NULL;
        cp->seq = part_is_concatenated(p) ? p->concat.seq : 1;
        cp->tag = tag;
        cp->hash = concat_hash(data, len);
        cp->type = p->type;
        cp->scts = p->scts;
        cp->charset = p->charset;
        cp->msg_class = p->msg_class;
        cp->len = len;
        memcpy(cp->data, data, len);
        cp->data[len] = '\0';
        return cp;
}

static void key_from_part(const struct sms_pdu *p, struct concat_key *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->type = p->type;
        memcpy(ret->sender, p->addr.number, sizeof(ret->sender));
        ret->sender[sizeof(ret->sender) - 1] = '\0';
        ret->ton = (uint8_t)p->addr.ton;
        ret->ref16 = p->concat.ref16;
        ret->ref = p->concat.ref;
        ret->total = p->concat.total;
}

/* Builds the caller's message from parts (ascending seq) in one allocation. */
static struct sms_concat_message *message_build(enum sms_concat_reason reason,
                                                const struct concat_key *key, bool concatenated,
                                                struct concat_part *const *parts, size_t n,
                                                uint64_t first_ms, uint64_t last_ms)
{
        struct sms_concat_message *m;
        size_t text_len = 0, off = 0;
        char *text;

        for (size_t i = 0; i < n; i++)
                text_len += parts[i]->len;
        m = calloc(1, sizeof(*m) + n * sizeof(struct sms_concat_piece) + text_len + 1);
        if (!m)
                return NULL;
        m->pieces = (struct sms_concat_piece *)(m + 1);
        text = (char *)(m->pieces + n);
        for (size_t i = 0; i < n; i++) {
                m->pieces[i] = (struct sms_concat_piece){
                        .seq = parts[i]->seq,
                        .tag = parts[i]->tag,
                        .offset = off,
                        .len = parts[i]->len,
                };
                memcpy(text + off, parts[i]->data, parts[i]->len);
                off += parts[i]->len;
        }
        text[off] = '\0';
        m->reason = reason;
        m->type = n > 0 ? parts[0]->type : key->type;
        memcpy(m->sender.number, key->sender, sizeof(m->sender.number));
        m->sender.ton = (enum sms_ton)key->ton;
        if (n > 0) {
                m->scts = parts[0]->scts;
                m->charset = parts[0]->charset;
                m->msg_class = parts[0]->msg_class;
        } else {
                m->msg_class = -1;
        }
        m->concatenated = concatenated;
        m->ref16 = concatenated && key->ref16;
        m->ref = concatenated ? key->ref : 0;
        m->total = concatenated ? key->total : 1;
        m->received = (unsigned)n;
        m->first_ms = first_ms;
        m->last_ms = last_ms;
        m->text_len = text_len;
        m->text = text;
        return m;
}

static void emit(struct sms_concat_table *t, struct sms_concat_message *m)
{
        t->busy = true;
        t->emit(m, t->userdata);
        t->busy = false;
}

static void group_unlink(struct sms_concat_table *t, struct concat_group *g)
{
        if (g->prev)
                g->prev->next = g->next;
        else
                t->head = g->next;
        if (g->next)
                g->next->prev = g->prev;
        else
                t->tail = g->prev;
        t->ngroups--;
        t->bytes -= g->bytes;
}

static void group_free(struct concat_group *g)
{
        for (size_t i = 0; i < g->nparts; i++)
                free(g->parts[i]);
        free(g->parts);
        free(g);
}

/* Unlinks g, emits what it holds with the given reason and frees it. Returns 0, or
 * -ENOMEM when the message could not be built (the group is dropped all the same: memory
 * must not grow because the caller is short of it). */
static int group_drop(struct sms_concat_table *t, struct concat_group *g,
                      enum sms_concat_reason reason)
{
        struct sms_concat_message *m;

        group_unlink(t, g);
        m = message_build(reason, &g->key, true, g->parts, g->nparts, g->first_ms, g->last_ms);
        group_free(g);
        if (!m)
                return -ENOMEM;
        emit(t, m);
        return 0;
}

static void recent_remember(struct sms_concat_table *t, const struct concat_group *g,
                            uint64_t now_ms)
{
        struct concat_recent *r = &t->recent[t->recent_next];

        t->recent_next = (t->recent_next + 1) % SMS_CONCAT_RECENT_MAX;
        memset(r, 0, sizeof(*r));
        r->used = true;
        r->key = g->key;
        r->done_ms = now_ms;
        for (size_t i = 0; i < g->nparts; i++)
                r->hash[g->parts[i]->seq - 1] = g->parts[i]->hash;
}

static bool recent_has(const struct sms_concat_table *t, const struct concat_key *key, uint8_t seq,
                       uint32_t hash, uint64_t now_ms)
{
        for (size_t i = 0; i < SMS_CONCAT_RECENT_MAX; i++) {
                const struct concat_recent *r = &t->recent[i];

                if (!r->used || !key_equal(&r->key, key) || r->hash[seq - 1] != hash)
                        continue;
                /* A clock that went backwards counts as "just now". */
                if (now_ms < r->done_ms || now_ms - r->done_ms < t->dup_window_ms)
                        return true;
        }
        return false;
}

static struct concat_group *group_find(struct sms_concat_table *t, const struct concat_key *key)
{
        for (struct concat_group *g = t->head; g; g = g->next)
                if (key_equal(&g->key, key))
                        return g;
        return NULL;
}

/* Index of seq in g->parts, or where it would go (then *ret_found is false). */
static size_t group_search(const struct concat_group *g, uint8_t seq, bool *ret_found)
{
        size_t lo = 0, hi = g->nparts;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (g->parts[mid]->seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_found = lo < g->nparts && g->parts[lo]->seq == seq;
        return lo;
}

/* Bytes that adding a part of len octets costs: to g, or to a new group when g is NULL. */
static size_t add_cost(const struct concat_group *g, size_t len, size_t *ret_newcap)
{
        size_t cost = part_cost(len);

        if (!g) {
                *ret_newcap = CONCAT_PARTS_INITIAL;
                return cost + sizeof(struct concat_group) + CONCAT_PARTS_INITIAL * sizeof(void *);
        }
        *ret_newcap = g->cap;
        if (g->nparts == g->cap) {
                *ret_newcap = g->cap * 2 < g->key.total ? g->cap * 2 : g->key.total;
                cost += (*ret_newcap - g->cap) * sizeof(void *);
        }
        return cost;
}

/* Evicts the oldest groups until a part of len octets fits. g, the group it joins, goes
 * last; if it has to go, *g becomes NULL and the part starts a new group. */
static void make_room(struct sms_concat_table *t, struct concat_group **g, size_t len,
                      size_t *ret_cost, size_t *ret_newcap)
{
        for (;;) {
                size_t cost = add_cost(*g, len, ret_newcap);
                struct concat_group *victim;

                if (t->bytes + cost <= t->max_bytes && (*g || t->ngroups < t->max_groups)) {
                        *ret_cost = cost;
                        return;
                }
                if (t->head && t->head != *g) {
                        victim = t->head;
                } else if (*g && (*g)->next) {
                        victim = (*g)->next;
                } else if (*g) {
                        victim = *g;
                        *g = NULL;
                } else {
                        /* Empty table: SMS_CONCAT_BYTES_MIN guarantees the part fits. */
                        *ret_cost = cost;
                        return;
                }
                (void)group_drop(t, victim, SMS_CONCAT_EVICTED);
        }
}

static int feed_single(struct sms_concat_table *t, const struct sms_pdu *p, uint64_t tag,
                       uint64_t now_ms)
{
        struct concat_key key;
        struct concat_part *cp = part_new(p, tag);
        struct sms_concat_message *m;

        if (!cp)
                return -ENOMEM;
        key_from_part(p, &key);
        m = message_build(SMS_CONCAT_COMPLETE, &key, false, &cp, 1, now_ms, now_ms);
        free(cp);
        if (!m)
                return -ENOMEM;
        emit(t, m);
        return SMS_CONCAT_DONE;
}

/* Stores cp in g (a new group when NULL) at index pos, growing the array to newcap. */
static int group_insert(struct sms_concat_table *t, struct concat_group **g,
                        const struct concat_key *key, struct concat_part *cp, size_t pos,
                        size_t newcap, size_t cost, uint64_t now_ms)
{
        struct concat_group *grp = *g;

        if (!grp) {
                grp = calloc(1, sizeof(*grp));
                if (!grp)
                        return -ENOMEM;
                grp->parts = calloc(newcap, sizeof(struct concat_part *));
                if (!grp->parts) {
                        free(grp);
                        return -ENOMEM;
                }
                grp->key = *key;
                grp->cap = newcap;
                grp->first_ms = now_ms;
                grp->prev = t->tail;
                if (t->tail)
                        t->tail->next = grp;
                else
                        t->head = grp;
                t->tail = grp;
                t->ngroups++;
                *g = grp;
        } else if (newcap > grp->cap) {
                struct concat_part **np =
                        realloc(grp->parts, newcap * sizeof(struct concat_part *));

                if (!np)
                        return -ENOMEM;
                grp->parts = np;
                grp->cap = newcap;
        }
        memmove(grp->parts + pos + 1, grp->parts + pos,
                (grp->nparts - pos) * sizeof(struct concat_part *));
        grp->parts[pos] = cp;
        grp->nparts++;
        grp->last_ms = now_ms;
        grp->bytes += cost;
        t->bytes += cost;
        return 0;
}

int sms_concat_feed(struct sms_concat_table *t, const struct sms_pdu *part, uint64_t tag,
                    uint64_t now_ms)
{
        struct concat_key key;
        struct concat_group *g;
        struct concat_part *cp;
        const char *data;
        size_t len, pos = 0, cost, newcap;
        bool found = false;
        uint32_t hash;
        int r;

        if (!t || !part)
                return -EINVAL;
        if (t->busy)
                return -EBUSY;
        if (!part_is_concatenated(part))
                return feed_single(t, part, tag, now_ms);

        key_from_part(part, &key);
        part_content(part, &data, &len);
        hash = concat_hash(data, len);
        if (recent_has(t, &key, part->concat.seq, hash, now_ms))
                return SMS_CONCAT_DUPLICATE;

        g = group_find(t, &key);
        if (g) {
                pos = group_search(g, part->concat.seq, &found);
                if (found && g->parts[pos]->hash == hash)
                        return SMS_CONCAT_DUPLICATE;
                if (found) {
                        (void)group_drop(t, g, SMS_CONCAT_SUPERSEDED);
                        g = NULL;
                }
        }

        make_room(t, &g, len, &cost, &newcap);
        if (g)
                pos = group_search(g, part->concat.seq, &found);
        else
                pos = 0;
        cp = part_new(part, tag);
        if (!cp)
                return -ENOMEM;
        r = group_insert(t, &g, &key, cp, pos, newcap, cost, now_ms);
        if (r < 0) {
                free(cp);
                return r;
        }
        if (g->nparts < g->key.total)
                return SMS_CONCAT_HELD;

        recent_remember(t, g, now_ms);
        r = group_drop(t, g, SMS_CONCAT_COMPLETE);
        return r < 0 ? r : SMS_CONCAT_DONE;
}

int sms_concat_expire(struct sms_concat_table *t, uint64_t now_ms, uint64_t max_age_ms)
{
        struct concat_group *g, *next;
        int n = 0, r = 0;

        if (!t)
                return -EINVAL;
        if (t->busy)
                return -EBUSY;
        for (g = t->head; g; g = next) {
                uint64_t age = now_ms > g->first_ms ? now_ms - g->first_ms : 0;

                next = g->next;
                if (age < max_age_ms)
                        continue;
                if (group_drop(t, g, SMS_CONCAT_TIMED_OUT) < 0)
                        r = -ENOMEM;
                n++;
        }
        return r < 0 ? r : n;
}

int sms_concat_oldest(const struct sms_concat_table *t, uint64_t *ret_ms)
{
        uint64_t oldest = UINT64_MAX;

        if (!t || !t->head)
                return -ENOENT;
        /* Creation order is arrival order unless the caller's clock stepped back. */
        for (const struct concat_group *g = t->head; g; g = g->next)
                if (g->first_ms < oldest)
                        oldest = g->first_ms;
        *ret_ms = oldest;
        return 0;
}

size_t sms_concat_groups(const struct sms_concat_table *t)
{
        return t ? t->ngroups : 0;
}

size_t sms_concat_bytes(const struct sms_concat_table *t)
{
        return t ? t->bytes : 0;
}

int sms_concat_new(const struct sms_concat_limits *limits, sms_concat_emit_fn emit_fn,
                   void *userdata, struct sms_concat_table **ret_table)
{
        struct sms_concat_table *t;
        struct sms_concat_limits l = { 0 };

        if (!emit_fn || !ret_table)
                return -EINVAL;
        if (limits)
                l = *limits;
        if (l.max_bytes != 0 && l.max_bytes < SMS_CONCAT_BYTES_MIN)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->max_groups = l.max_groups ? l.max_groups : SMS_CONCAT_GROUPS_DEFAULT;
        t->max_bytes = l.max_bytes ? l.max_bytes : SMS_CONCAT_BYTES_DEFAULT;
        t->dup_window_ms = l.dup_window_ms ? l.dup_window_ms : SMS_CONCAT_DUP_WINDOW_DEFAULT;
        t->emit = emit_fn;
        t->userdata = userdata;
        *ret_table = t;
        return 0;
}

struct sms_concat_table *sms_concat_free(struct sms_concat_table *t)
{
        struct concat_group *g, *next;

        if (!t)
                return NULL;
        for (g = t->head; g; g = next) {
                next = g->next;
                group_free(g);
        }
        free(t);
        return NULL;
}

struct sms_concat_message *sms_concat_message_free(struct sms_concat_message *msg)
{
        free(msg); /* one allocation: pieces and text live behind the struct */
        return NULL;
}

const char *sms_concat_reason_name(enum sms_concat_reason r)
{
        switch (r) {
        case SMS_CONCAT_COMPLETE:
                return "complete";
        case SMS_CONCAT_TIMED_OUT:
                return "timed-out";
        case SMS_CONCAT_EVICTED:
                return "evicted";
        case SMS_CONCAT_SUPERSEDED:
                return "superseded";
        }
        return "unknown";
}
