/* Cutting the event log into batch files in the state directory, the positions in the
 * store's settings, and the small pure policies (see upload-internal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/store-upload.h"
#include "daemon/upload-internal.h"

#define SETTING_MAX 160
#define ROWS_MAX    BATCH_EVENTS_MAX

struct upload_row {
        int64_t seq, time, contact_id;
        bool clock_trusted;
        size_t type, json; /* offsets into the cutter's text */
};

unsigned upload_backoff(unsigned failures, unsigned first, unsigned max, double jitter)
{
        uint64_t d = first ? first : 1;

        for (unsigned i = 1; i < failures && d < max; i++)
                d *= 2;
        if (d > max)
                d = max;
        if (jitter < 0 || jitter >= 1)
                jitter = 0;
        unsigned out = (unsigned)((double)d * (0.75 + 0.25 * jitter));
        return out ? out : 1;
}

unsigned upload_wait_for_hours(int start, int end, int minute_of_day)
{
        const int day = 24 * 60;
        int m = ((minute_of_day % day) + day) % day;

        if (start == end)
                return 0;
        bool inside = start < end ? (m >= start && m < end) : (m >= start || m < end);
        if (inside)
                return 0;
        return (unsigned)((((start - m) % day) + day) % day) * 60;
}

int upload_batch_path(const char *dir, uint64_t batch, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%0*" PRIu64 ".ndjson.gz", dir, UPLOAD_BATCH_DIGITS, batch);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The next blank-separated number of a position setting: *s moves past it. -EBADMSG when
 * there is none, it overflows, or (unsigned) it has a sign. */
static int next_u64(const char **s, uint64_t *ret)
{
        const char *p = *s + strspn(*s, " ");
        char *end;

        if (*p < '0' || *p > '9')
                return -EBADMSG;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno == ERANGE) /* unsigned long long is 64 bits here */
                return -EBADMSG;
        *s = end;
        *ret = v;
        return 0;
}

static int next_i64(const char **s, int64_t *ret)
{
        const char *p = *s + strspn(*s, " ");
        char *end;

        if (!((*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9')))
                return -EBADMSG;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno == ERANGE)
                return -EBADMSG;
        *s = end;
        *ret = v;
        return 0;
}

int upload_position_read(struct store *store, struct upload_position *ret)
{
        struct upload_position p = { 0 };
        char buf[SETTING_MAX];
        const char *s;
        int r;

        memcpy(p.hash, BATCH_ZERO_HASH, BATCH_HASH_HEX + 1);
        r = store_setting_get(store, UPLOAD_SETTING_CUT, buf, sizeof(buf));
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0) { /* "CUT CUT_SEQ HASH" */
                s = buf;
                if (next_u64(&s, &p.cut) < 0 || next_i64(&s, &p.cut_seq) < 0)
                        return -EBADMSG;
                s += strspn(s, " ");
                if (strcspn(s, " \t\n") != BATCH_HASH_HEX)
                        return -EBADMSG;
                memcpy(p.hash, s, BATCH_HASH_HEX);
                p.hash[BATCH_HASH_HEX] = '\0';
        }
        r = store_setting_get(store, UPLOAD_SETTING_SENT, buf, sizeof(buf));
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0) { /* "SENT SENT_SEQ" */
                s = buf;
                if (next_u64(&s, &p.sent) < 0 || next_i64(&s, &p.sent_seq) < 0 || p.sent > p.cut ||
                    p.sent_seq > p.cut_seq)
                        return -EBADMSG;
        }
        *ret = p;
        return 0;
}

int upload_position_set_sent(struct store *store, uint64_t batch, int64_t last_seq)
{
        struct upload_position pos;
        char buf[64];

        /* Only forward: puentectl export --mark-sent may have gone past the daemon's PUT. */
        if (upload_position_read(store, &pos) == 0 && pos.sent >= batch)
                return 0;
        snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRId64, batch, last_seq);
        return store_setting_set(store, UPLOAD_SETTING_SENT, buf);
}

int upload_read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
        struct stat sb;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &sb) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        uint8_t *buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
        size_t got = 0;
        while (buf && got < (size_t)sb.st_size) {
                ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        break;
                }
                got += (size_t)n;
        }
        close(fd);
        if (!buf)
                return -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_len = got;
        return 0;
}

static int fsync_dir_of(const char *path)
{
        char dir[UPLOAD_NAME_MAX];
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 1;

        if (n >= sizeof(dir))
                return -ENAMETOOLONG;
        memcpy(dir, slash ? path : ".", n);
        dir[n] = '\0';
        if (n == 0)
                strcpy(dir, "/");
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int upload_write_durable(const char *path, const uint8_t *data, size_t len)
{
        char tmp[UPLOAD_NAME_MAX];
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, data + done, len - done);
                if (n < 0) {
                        r = -errno;
                        break;
                }
                done += (size_t)n;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return fsync_dir_of(path);
}

/* Batch files are named by number; anything else in the directory is not ours to count. */
static bool batch_name(const char *name, uint64_t *ret)
{
        char *end;
        if (strlen(name) != UPLOAD_BATCH_DIGITS + strlen(".ndjson.gz"))
                return false;
        uint64_t v = strtoull(name, &end, 10);
        if (end != name + UPLOAD_BATCH_DIGITS || strcmp(end, ".ndjson.gz") != 0)
                return false;
        *ret = v;
        return true;
}

uint64_t upload_backlog_bytes(const char *dir)
{
        DIR *d = opendir(dir);
        uint64_t total = 0, n;
        struct dirent *e;
        struct stat sb;

        if (!d)
                return 0;
        while ((e = readdir(d)))
                if (batch_name(e->d_name, &n) && fstatat(dirfd(d), e->d_name, &sb, 0) == 0)
                        total += (uint64_t)sb.st_size;
        closedir(d);
        return total;
}

void upload_prune(const char *dir, uint64_t sent)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        uint64_t n;

        if (!d)
                return;
        while ((e = readdir(d)))
                if (batch_name(e->d_name, &n) && n <= sent)
                        unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
}

int upload_cutter_init(struct upload_cutter *c, struct store *store,
                       const struct upload_config *cfg, char *errmsg)
{
        char key_path[CONFIG_PATH_MAX + 32], perr[PSEUDO_ERRMSG_MAX];
        int r;

        memset(c, 0, sizeof(*c));
        c->store = store;
        c->batch_events = cfg->batch_events ? cfg->batch_events : UPLOAD_DEFAULT_EVENTS;
        if (c->batch_events > BATCH_EVENTS_MAX)
                c->batch_events = BATCH_EVENTS_MAX;
        c->disk_budget = cfg->disk_budget;
        batch_init(&c->batch);
        if (snprintf(c->dir, sizeof(c->dir), "%s/%s", cfg->state_directory, UPLOAD_DIR) >=
            (int)sizeof(c->dir)) {
                snprintf(errmsg, UPLOAD_ERROR_MAX, "state directory path too long");
                return -ENAMETOOLONG;
        }
        if (mkdir(c->dir, 0750) < 0 && errno != EEXIST) {
                r = -errno;
                snprintf(errmsg, UPLOAD_ERROR_MAX, "%.200s: cannot create: %s", c->dir,
                         strerror(-r));
                return r;
        }
        if (cfg->device[0]) {
                memcpy(c->device, cfg->device, sizeof(c->device));
        } else if (gethostname(c->device, sizeof(c->device)) < 0) {
                strcpy(c->device, "puente");
        }
        c->device[sizeof(c->device) - 1] = '\0';
        if (!batch_device_valid(c->device)) {
                snprintf(errmsg, UPLOAD_ERROR_MAX,
                         "device id \"%s\" is not 1..63 of A-Z a-z 0-9 . _ -", c->device);
                return -EINVAL;
        }
        if (cfg->key_file[0])
                snprintf(key_path, sizeof(key_path), "%s", cfg->key_file);
        else
                snprintf(key_path, sizeof(key_path), "%s/%s", cfg->state_directory,
                         PSEUDO_KEY_FILE);
        r = pseudo_key_load(key_path, &c->key, NULL, perr);
        if (r < 0) {
                snprintf(errmsg, UPLOAD_ERROR_MAX, "pseudonym key: %.200s", perr);
                return r;
        }
        r = pseudo_key_id(&c->key, c->key_id);
        c->cache = calloc(UPLOAD_PSEUDO_CACHE, sizeof(*c->cache));
        c->rows = calloc(c->batch_events, sizeof(*c->rows));
        if (r < 0 || !c->cache || !c->rows) {
                snprintf(errmsg, UPLOAD_ERROR_MAX, "out of memory");
                upload_cutter_done(c);
                return -ENOMEM;
        }
        return 0;
}

void upload_cutter_done(struct upload_cutter *c)
{
        batch_free(&c->batch);
        free(c->cache);
        free(c->rows);
        free(c->text);
        pseudo_key_wipe(&c->key);
        c->cache = NULL;
        c->rows = NULL;
        c->text = NULL;
}

static int keep_text(struct upload_cutter *c, const char *s, size_t *ret_off)
{
        size_t n = strlen(s) + 1;
        if (c->text_len + n > c->text_cap) {
                size_t cap = c->text_cap ? c->text_cap : 64 * 1024;
                while (cap < c->text_len + n)
                        cap *= 2;
                char *p = realloc(c->text, cap);
                if (!p)
                        return -ENOMEM;
                c->text = p;
                c->text_cap = cap;
        }
        memcpy(c->text + c->text_len, s, n);
        *ret_off = c->text_len;
        c->text_len += n;
        return 0;
}

static int copy_row(const struct store_event_row *ev, void *userdata)
{
        struct upload_cutter *c = userdata;
        struct upload_row *row = &c->rows[c->n_rows];

        *row = (struct upload_row){ .seq = ev->seq,
                                    .time = ev->time,
                                    .contact_id = ev->contact_id,
                                    .clock_trusted = ev->clock_trusted };
        int r = keep_text(c, ev->type, &row->type);
        if (r == 0)
                r = keep_text(c, ev->json ? ev->json : "{}", &row->json);
        if (r < 0)
                return r;
        c->n_rows++;
        return 0;
}

/* The pseudonym of a contact, from the cache or made now. A contact the store no longer
 * knows (or with no study id) gets none: the event still goes, without a subject. */
static const char *pseudonym(struct upload_cutter *c, int64_t contact_id)
{
        struct upload_pseudo_slot *slot =
                &c->cache[(uint64_t)contact_id * 0x9E3779B97F4A7C15ull % UPLOAD_PSEUDO_CACHE];
        char study[STORE_IDENT_MAX];

        if (contact_id <= 0)
                return NULL;
        if (slot->contact_id == contact_id)
                return slot->pseudo;
        if (store_contact_study_id(c->store, contact_id, study, sizeof(study)) < 0 ||
            pseudo_of(&c->key, study, slot->pseudo) < 0) {
                slot->contact_id = 0;
                return NULL;
        }
        slot->contact_id = contact_id;
        return slot->pseudo;
}

static int lock_dir(const char *dir)
{
        char path[UPLOAD_NAME_MAX];
        snprintf(path, sizeof(path), "%s/.lock", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int cut_locked(struct upload_cutter *c, bool partial, bool *ret_cut)
{
        struct upload_position pos;
        char path[UPLOAD_NAME_MAX], hash[BATCH_HASH_HEX + 1], setting[SETTING_MAX];
        uint8_t *gz = NULL;
        size_t gz_len = 0;
        int r;

        /* Read under the lock: another process may have cut since we last looked. */
        r = upload_position_read(c->store, &pos);
        if (r < 0)
                return r;
        c->n_rows = 0;
        c->text_len = 0;
        r = store_events_after(c->store, pos.cut_seq, c->batch_events, copy_row, c);
        if (r < 0)
                return r;
        if (c->n_rows == 0 || (!partial && c->n_rows < c->batch_events)) {
                *ret_cut = false;
                return 0;
        }
        if (c->disk_budget && upload_backlog_bytes(c->dir) >= c->disk_budget)
                return -ENOSPC;
        batch_reset(&c->batch);
        for (unsigned i = 0; i < c->n_rows; i++) {
                const struct upload_row *row = &c->rows[i];
                struct batch_event ev = {
                        .seq = row->seq,
                        .time = row->time,
                        .clock_trusted = row->clock_trusted,
                        .type = c->text + row->type,
                        .subject = pseudonym(c, row->contact_id),
                        .json = c->text + row->json,
                };
                r = batch_add(&c->batch, &ev);
                if (r < 0)
                        return r;
        }
        struct batch_header h = { .device = c->device,
                                  .batch = pos.cut + 1,
                                  .prev_sha256 = pos.hash,
                                  .key_id = c->key_id };
        r = batch_finish(&c->batch, &h, &gz, &gz_len, hash);
        if (r < 0)
                return r;
        r = upload_batch_path(c->dir, pos.cut + 1, path, sizeof(path));
        if (r == 0)
                r = upload_write_durable(path, gz, gz_len);
        free(gz);
        if (r < 0)
                return r;
        snprintf(setting, sizeof(setting), "%" PRIu64 " %" PRId64 " %s", pos.cut + 1,
                 c->batch.last_seq, hash);
        r = store_setting_set(c->store, UPLOAD_SETTING_CUT, setting);
        if (r < 0)
                return r;
        *ret_cut = true;
        return 0;
}

int upload_cut_one(struct upload_cutter *c, bool partial, bool *ret_cut)
{
        bool cut = false;
        int fd = lock_dir(c->dir), r;

        if (fd < 0)
                return fd;
        r = cut_locked(c, partial, &cut);
        close(fd);
        if (r == 0)
                *ret_cut = cut;
        return r;
}
