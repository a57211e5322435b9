/* Shared by the uploader's tests: a temporary state directory with a store full of synthetic
 * events (a simulated trial: contacts with phone numbers and texts that must never leave),
 * an nginx with WebDAV PUT on 127.0.0.1 in its own prefix (stopped by PID), the loop run
 * until the uploader is idle, and the check of what arrived: every event exactly once, the
 * chain unbroken, no phone number or text in any byte.
 *
 * Ownership: everything lives in a struct harness the test owns; h_cleanup() stops nginx and
 * removes the directory. Static functions only: each test binary includes it once. */
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>
#include <zlib.h>

#include "daemon/batch.h"
#include "daemon/store.h"
#include "daemon/upload-internal.h"
#include "daemon/upload.h"

#define H_CONTACTS   200
#define H_DEVICE     "box-test-1"
#define H_PATH_MAX   512
#define H_SECRET_TXT "Hola Maria recuerde su cita"
#define H_PHONE_FMT  "+52155%07u"

struct harness {
        char dir[96];
        char db[160];
        char www[160];
        struct store *store;
        sd_event *loop;
        pid_t nginx;
        int port, tls_port;
        int64_t contacts[H_CONTACTS];
        unsigned events;
        /* set before h_nginx_start(): the TLS server requires a client certificate signed by
         * this CA (ssl_verify_client on) */
        char client_ca[H_PATH_MAX];
};

static __attribute__((unused)) void h_path(const struct harness *h, char *buf, const char *rest)
{
        snprintf(buf, H_PATH_MAX, "%s/%s", h->dir, rest);
}

static __attribute__((unused)) int h_free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        close(fd);
        return ntohs(a.sin_port);
}

static __attribute__((unused)) int h_setup(struct harness *h, const char *name)
{
        char err[STORE_ERRMSG_MAX];

        memset(h, 0, sizeof(*h));
        /* the upload helper's exit is an sd-event child source (as in puented's main) */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        snprintf(h->dir, sizeof(h->dir), "/tmp/puente-test-%s-XXXXXX", name);
        if (!mkdtemp(h->dir))
                return -1;
        h_path(h, h->db, "puente.db");
        h_path(h, h->www, "www");
        mkdir(h->www, 0755);
        if (store_open(h->db, NULL, &h->store, err) < 0) {
                fprintf(stderr, "store_open: %s\n", err);
                return -1;
        }
        for (unsigned i = 0; i < H_CONTACTS; i++) {
                char study[32], phone[32];
                snprintf(study, sizeof(study), "STUDY-%04u", i + 1);
                snprintf(phone, sizeof(phone), H_PHONE_FMT, i + 1);
                if (store_contact_upsert(h->store, study, phone, "es", "clinic-1", NULL, 1790000000,
                                         &h->contacts[i]) < 0)
                        return -1;
        }
        if (sd_event_new(&h->loop) < 0)
                return -1;
        h->nginx = -1;
        return 0;
}

/* Appends n events of a simulated run: each type with its whitelisted keys, and keys that
 * must never pass (text, phone numbers), some of them smuggled into whitelisted keys. */
static const char *const h_types[] = {
        "rules.arm_assigned", "rules.quiz_completed",   "sms.sent",
        "sms.delivered",      "rules.inbound_received", "rules.opted_out",
        "modem.health",       "sms.undecodable",        "future.event",
        "sms.failed",         "rules.reminder_queued",
}; /* a count prime to H_CONTACTS, so that every contact sees every type */
#define H_TYPES (sizeof(h_types) / sizeof(h_types[0]))

/* Event k of the run (0, 1 ...): its type, its contact (an index) and the contact's arm. */
static __attribute__((unused)) const char *h_type_of(unsigned k)
{
        return h_types[k % H_TYPES];
}

static __attribute__((unused)) unsigned h_contact_of(unsigned k)
{
        return k % H_CONTACTS;
}

static __attribute__((unused)) const char *h_arm_of(unsigned contact)
{
        return contact % 2 ? "sms" : "control";
}

static __attribute__((unused)) int h_add_events(struct harness *h, unsigned n)
{
        for (unsigned i = 0; i < n; i++, h->events++) {
                unsigned k = h->events, c = h_contact_of(k);
                const char *type = h_type_of(k);
                char json[768], phone[32];
                snprintf(phone, sizeof(phone), H_PHONE_FMT, c + 1);
                snprintf(json, sizeof(json),
                         "{\"arm\":\"%s\",\"stratum\":\"%s%u\",\"message_id\":%u,\"part\":1,"
                         "\"parts\":1,\"reason\":\"refused\","
                         "\"modem_id\":1,\"category\":\"reply\",\"score\":%u,\"total\":4,"
                         "\"text\":\"%s\",\"phone\":\"%s\",\"keyword\":\"%s\","
                         "\"pdu\":\"0791%s\",\"state\":\"ready\",\"signal\":%u,"
                         "\"quiz\":\"knowledge\",\"value\":\"%s\",\"rule_set\":\"%064x\","
                         "\"messages\":%s}",
                         h_arm_of(c), k % 5 ? "s" : phone + 1, c % 3, k + 1, k % 4, H_SECRET_TXT,
                         phone, k % 5 ? "stop" : phone, phone + 1, k % 31, H_SECRET_TXT, 0xabcu,
                         k % 7 ? "1" : "5215512345678");
                struct store_event ev = {
                        .time = 1790000000 + k,
                        .clock_trusted = k % 10 != 0,
                        .type = type,
                        .contact_id = strcmp(type, "modem.health") ? h->contacts[c] : 0,
                        .json = json,
                };
                if (store_event_append(h->store, &ev, NULL) < 0)
                        return -1;
        }
        return 0;
}

static __attribute__((unused)) int h_nginx_start(struct harness *h, const char *tls_cert,
                                                 const char *tls_key)
{
        char conf[H_PATH_MAX], text[16384], tls[3072] = "", verify[H_PATH_MAX + 64] = "";
        FILE *f;

        if (!h->port)
                h->port = h_free_port();
        if (tls_cert && !h->tls_port)
                h->tls_port = h_free_port();
        mkdir(strcat(strcpy(conf, h->dir), "/nginx"), 0755);
        mkdir(strcat(strcpy(conf, h->dir), "/nginx/tmp"), 0755);
        if (h->client_ca[0])
                snprintf(verify, sizeof(verify),
                         " ssl_client_certificate %s; ssl_verify_client on;", h->client_ca);
        if (tls_cert)
                snprintf(tls, sizeof(tls),
                         "server { listen 127.0.0.1:%d ssl; root %s;"
                         " ssl_certificate %s; ssl_certificate_key %s;%s"
                         " location /up/ { dav_methods PUT; create_full_put_path on; } }",
                         h->tls_port, h->www, tls_cert, tls_key, verify);
        snprintf(text, sizeof(text),
                 "%s worker_processes 1; pid %s/nginx/nginx.pid; error_log %s/nginx/error.log;\n"
                 "events { worker_connections 64; }\n"
                 "http { access_log %s/nginx/access.log;\n"
                 " client_body_temp_path %s/nginx/tmp/body; proxy_temp_path %s/nginx/tmp/proxy;\n"
                 " fastcgi_temp_path %s/nginx/tmp/fcgi; uwsgi_temp_path %s/nginx/tmp/uwsgi;\n"
                 " scgi_temp_path %s/nginx/tmp/scgi; client_max_body_size 64m;\n"
                 " server { listen 127.0.0.1:%d; root %s;\n"
                 "  location /up/ { dav_methods PUT; create_full_put_path on;"
                 " dav_access user:rw group:r all:r; }\n"
                 "  location /forbidden/ { return 403; }\n"
                 "  location /broken/ { return 500; } }\n"
                 " %s }\n",
                 geteuid() == 0 ? "user root root;" : "", h->dir, h->dir, h->dir, h->dir, h->dir,
                 h->dir, h->dir, h->dir, h->port, h->www, tls);
        h_path(h, conf, "nginx/nginx.conf");
        f = fopen(conf, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                return -1;
        char prefix[H_PATH_MAX], errlog[H_PATH_MAX];
        h_path(h, prefix, "nginx/");
        h_path(h, errlog, "nginx/error.log");
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM); /* dies with a test that failed midway */
                execlp("nginx", "nginx", "-p", prefix, "-c", conf, "-e", errlog, "-g",
                       "daemon off; master_process on;", (char *)NULL);
                _exit(127);
        }
        h->nginx = pid;
        /* ready when it accepts connections */
        for (int i = 0; i < 100; i++) {
                struct sockaddr_in a = { .sin_family = AF_INET,
                                         .sin_port = htons((uint16_t)h->port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
                close(fd);
                if (ok)
                        return 0;
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        h->nginx = -1;
                        fprintf(stderr, "nginx exited; see %s\n", errlog);
                        return -1;
                }
                usleep(50 * 1000);
        }
        return -1;
}

static __attribute__((unused)) void h_nginx_stop(struct harness *h)
{
        if (h->nginx <= 0)
                return;
        kill(h->nginx, SIGTERM);
        waitpid(h->nginx, NULL, 0);
        h->nginx = -1;
}

static __attribute__((unused)) void h_cleanup(struct harness *h)
{
        char cmd[H_PATH_MAX + 16];

        h_nginx_stop(h);
        store_close(h->store);
        sd_event_unref(h->loop);
        if (!getenv("PUENTE_KEEP_TMP")) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", h->dir);
        }
}

/* The built puente-upload: in $PUENTE_BUILD (tests/run-tests.sh), else one directory above
 * this binary (BUILD/tests/test-upload-x, BUILD/bench/bench-upload). */
static __attribute__((unused)) void h_helper(char *buf, size_t size)
{
        static const char name[] = "/puente-upload";
        char exe[H_PATH_MAX] = "";
        const char *dir = getenv("PUENTE_BUILD");

        if (!dir || !*dir) {
                ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
                exe[n > 0 ? n : 0] = '\0';
                for (int i = 0; i < 2 && strrchr(exe, '/'); i++)
                        *strrchr(exe, '/') = '\0';
                dir = exe;
        }
        size_t len = strlen(dir);
        if (len + sizeof(name) > size) {
                buf[0] = '\0'; /* the spawn then says "not found" */
                return;
        }
        memcpy(buf, dir, len);
        memcpy(buf + len, name, sizeof(name));
}

static __attribute__((unused)) void h_config(const struct harness *h, struct upload_config *c,
                                             const char *url)
{
        upload_config_defaults(c);
        snprintf(c->state_directory, sizeof(c->state_directory), "%s", h->dir);
        snprintf(c->device, sizeof(c->device), "%s", H_DEVICE);
        if (url)
                snprintf(c->url, sizeof(c->url), "%s", url);
        c->batch_events = 1000;
        c->retry_first = 1;
        c->backoff_max = 1;
        c->timeout = 5;
        h_helper(c->helper, sizeof(c->helper));
}

/* Runs the loop until the uploader is idle or `seconds` pass; true when idle. */
static __attribute__((unused)) bool h_run_until_idle(struct harness *h, struct upload *u,
                                                     unsigned seconds)
{
        time_t end = time(NULL) + seconds;
        while (time(NULL) < end) {
                if (upload_idle(u))
                        return true;
                sd_event_run(h->loop, 100 * 1000);
        }
        return upload_idle(u);
}

/* Runs the loop for `ms` milliseconds whatever happens. */
static __attribute__((unused)) void h_run_for(struct harness *h, unsigned ms)
{
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                if (el >= (long)ms)
                        return;
                sd_event_run(h->loop, (uint64_t)(ms - el) * 1000);
        }
}

static __attribute__((unused)) int h_gunzip(const char *path, char **ret, size_t *ret_len)
{
        gzFile g = gzopen(path, "rb");
        size_t cap = 1 << 20, len = 0;
        char *buf = malloc(cap);
        int n;

        if (!g || !buf)
                return -1;
        while ((n = gzread(g, buf + len, (unsigned)(cap - len))) > 0) {
                len += (size_t)n;
                if (len == cap)
                        buf = realloc(buf, cap *= 2);
        }
        gzclose(g);
        if (n < 0)
                return -1;
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* Checks what arrived under <www>/<prefix>/<device>: batches 1..n present and chained, each
 * event 1..expected exactly once, no phone number or text. Returns the number of batches or
 * -1 (with the reason on stderr). *ret_bytes gets the compressed bytes. */
static __attribute__((unused)) int h_check_uploaded(const struct harness *h, const char *prefix,
                                                    unsigned expected, size_t *ret_bytes)
{
        char dir[H_PATH_MAX], path[H_PATH_MAX + 32], prev[BATCH_HASH_HEX + 1] = BATCH_ZERO_HASH;
        unsigned char *seen = calloc(expected + 2, 1);
        size_t bytes = 0;
        int batches = 0;

        snprintf(dir, sizeof(dir), "%s/%s/%s", h->www, prefix, H_DEVICE);
        for (unsigned b = 1;; b++) {
                snprintf(path, sizeof(path), "%s/%010u.ndjson.gz", dir, b);
                uint8_t *raw;
                size_t raw_len;
                if (upload_read_file(path, &raw, &raw_len) < 0)
                        break;
                char hash[BATCH_HASH_HEX + 1];
                batch_sha256_hex(raw, raw_len, hash);
                bytes += raw_len;
                free(raw);
                char *text;
                size_t len;
                if (h_gunzip(path, &text, &len) < 0) {
                        fprintf(stderr, "%s: not gzip\n", path);
                        return -1;
                }
                text[len < 1 ? 0 : len - 1] = '\0';
                bool leak = strstr(text, "Maria") || strstr(text, "cita") ||
                            strstr(text, "STUDY-") || strstr(text, "5215512345678");
                for (unsigned c = 1; c <= H_CONTACTS && !leak; c++) {
                        char phone[32];
                        snprintf(phone, sizeof(phone), H_PHONE_FMT, c);
                        leak = strstr(text, phone + 1) != NULL; /* the digits, with or without + */
                }
                if (leak) {
                        fprintf(stderr, "%s: a phone number, study id or text leaked\n", path);
                        return -1;
                }
                char *save, *line = strtok_r(text, "\n", &save);
                struct json_object *head = json_tokener_parse(line), *v;
                if (!head || !json_object_object_get_ex(head, "prev_sha256", &v) ||
                    strcmp(json_object_get_string(v), prev) != 0) {
                        fprintf(stderr, "%s: chain broken (expected prev %s)\n", path, prev);
                        return -1;
                }
                json_object_put(head);
                memcpy(prev, hash, sizeof(prev));
                while ((line = strtok_r(NULL, "\n", &save))) {
                        struct json_object *o = json_tokener_parse(line);
                        if (!o || !json_object_object_get_ex(o, "seq", &v)) {
                                fprintf(stderr, "%s: bad line %s\n", path, line);
                                return -1;
                        }
                        int64_t seq = json_object_get_int64(v);
                        if (seq < 1 || seq > expected || seen[seq]++) {
                                fprintf(stderr, "%s: event %lld out of range or twice\n", path,
                                        (long long)seq);
                                return -1;
                        }
                        json_object_put(o);
                }
                free(text);
                batches++;
        }
        for (unsigned s = 1; s <= expected; s++)
                if (!seen[s]) {
                        fprintf(stderr, "event %u missing\n", s);
                        return -1;
                }
        free(seen);
        if (ret_bytes)
                *ret_bytes = bytes;
        return batches;
}
