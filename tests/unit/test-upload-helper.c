/* The upload helper, puente-upload, and puented's side of it: the settings and result-line
 * protocol (round trips, every malformed line refused, the status words for each class), then
 * the helper as a child process against a real nginx: missing, crashing, printing garbage,
 * exiting non-zero, hanging past its time-out (killed), killed mid-transfer, and the uploader
 * freed mid-transfer: each a failed try with words naming the helper, the child reaped, and
 * nothing lost (the real helper then delivers every event once). Secrets go through the
 * helper's stdin only: never in its /proc/<pid>/cmdline or environ, and it holds no
 * descriptor of ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/upload-helper.h"
#include "daemon/upload-spawn.h"
#include "tests/unit/test-upload-harness.h"

#define SECRET_PASSWORD "s3cr3t-Pa55word-4-helper"
#define SECRET_TOKEN    "tok-9f8e7d6c5b4a-never-in-argv"

/* ---- the protocol ---- */

static void test_result_lines(void **state)
{
        static const struct {
                const char *line;
                int r;
                enum upload_helper_class class;
                int code;
                long status;
                const char *detail;
        } cases[] = {
                { "result ok 0 201 \n", 0, UPLOAD_HELPER_OK, 0, 201, "" },
                { "result ok 0 500 \n", 0, UPLOAD_HELPER_OK, 0, 500, "" },
                { "result connect 7 0 Failed to connect to 127.0.0.1 port 1\n", 0,
                  UPLOAD_HELPER_CONNECT, 7, 0, "Failed to connect to 127.0.0.1 port 1" },
                { "result server-cert 60 0 SSL certificate problem\n", 0, UPLOAD_HELPER_SERVER_CERT,
                  60, 0, "SSL certificate problem" },
                { "result local 0 0 settings line 2: unknown key \"x\"\n", 0, UPLOAD_HELPER_LOCAL,
                  0, 0, "settings line 2: unknown key \"x\"" },
                /* garbage */
                { .line = "", .r = -EBADMSG },
                { .line = "\n", .r = -EBADMSG },
                { .line = "hello world\n", .r = -EBADMSG },
                { .line = "result\n", .r = -EBADMSG },
                { .line = "result ok 0 201", .r = -EBADMSG }, /* no line break */
                { .line = "result ok 0 201 \nresult ok 0 201 \n", .r = -EBADMSG }, /* two lines */
                { .line = "result bogus 0 201 \n", .r = -EBADMSG },
                { .line = "result ok -1 201 \n", .r = -EBADMSG },
                { .line = "result ok 0 2011 \n", .r = -EBADMSG },
                { .line = "result ok 12345 0 \n", .r = -EBADMSG },
                { .line = "result ok 0 201\n", .r = -EBADMSG }, /* the space before the detail */
                { .line = "result ok 0 201 tab\there\n", .r = -EBADMSG },
                { .line = "RESULT ok 0 201 \n", .r = -EBADMSG },
                { .line = "result okay 0 201 \n", .r = -EBADMSG },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct upload_helper_result r = { .curl_code = -42 };
                int got = upload_helper_result_parse(cases[i].line, strlen(cases[i].line), &r);
                if (got != cases[i].r)
                        fail_msg("case %zu \"%s\": %d, expected %d", i, cases[i].line, got,
                                 cases[i].r);
                if (got < 0) {
                        assert_int_equal(r.curl_code, -42); /* untouched on error */
                        continue;
                }
                assert_int_equal(r.class, cases[i].class);
                assert_int_equal(r.curl_code, cases[i].code);
                assert_int_equal(r.http_status, cases[i].status);
                assert_string_equal(r.detail, cases[i].detail);
        }
        /* a NUL inside the line is garbage too */
        struct upload_helper_result r;
        assert_int_equal(upload_helper_result_parse("result ok 0 201 a\0b\n", 20, &r), -EBADMSG);
}

static void test_result_round_trip(void **state)
{
        for (int c = 0; c < UPLOAD_HELPER_CLASS_COUNT; c++) {
                struct upload_helper_result in = { .class = (enum upload_helper_class)c,
                                                   .curl_code = 35 + c,
                                                   .http_status = c ? 0 : 204 },
                                            out;
                char line[UPLOAD_HELPER_RESULT_MAX];
                snprintf(in.detail, sizeof(in.detail), "detail %d\twith\r\nbreaks \xc3\xa9", c);
                upload_helper_result_format(&in, line, sizeof(line));
                assert_int_equal(upload_helper_result_parse(line, strlen(line), &out), 0);
                assert_int_equal(out.class, in.class);
                assert_int_equal(out.curl_code, in.curl_code);
                assert_int_equal(out.http_status, in.http_status);
                char want[64];
                snprintf(want, sizeof(want), "detail %d with  breaks   ", c);
                assert_string_equal(out.detail, want);
        }
        /* the longest detail curl writes still makes one valid line */
        struct upload_helper_result in = { .class = UPLOAD_HELPER_FAILED,
                                           .curl_code = 9999,
                                           .http_status = 999 },
                                    out;
        char line[UPLOAD_HELPER_RESULT_MAX];
        memset(in.detail, 'x', sizeof(in.detail) - 1);
        in.detail[sizeof(in.detail) - 1] = '\0';
        upload_helper_result_format(&in, line, sizeof(line));
        assert_int_equal(upload_helper_result_parse(line, strlen(line), &out), 0);
        assert_string_equal(out.detail, in.detail);
}

static void test_settings_round_trip(void **state)
{
        struct upload_config c, back;
        char buf[UPLOAD_HELPER_SETTINGS_MAX], err[UPLOAD_ERROR_MAX];
        size_t len;

        for (int auth = UPLOAD_AUTH_NONE; auth <= UPLOAD_AUTH_S3; auth++) {
                upload_config_defaults(&c);
                snprintf(c.url, sizeof(c.url), "https://up.example.org/trial a/");
                c.auth = (enum upload_auth)auth;
                snprintf(c.token, sizeof(c.token), SECRET_TOKEN);
                snprintf(c.user, sizeof(c.user), "clinic 7");
                snprintf(c.password, sizeof(c.password), "%s", SECRET_PASSWORD " with spaces ");
                snprintf(c.client_cert, sizeof(c.client_cert), "/etc/puente/box.pem");
                snprintf(c.client_key, sizeof(c.client_key), "/etc/puente/box.key");
                snprintf(c.ca_file, sizeof(c.ca_file), "/etc/puente/ca.pem");
                snprintf(c.s3_region, sizeof(c.s3_region), "eu-west-1");
                c.timeout = 77;
                assert_int_equal(upload_helper_settings_write(&c, buf, sizeof(buf), &len), 0);
                assert_int_equal(len, strlen(buf));

                memset(&back, 0, sizeof(back));
                unsigned n = 0;
                int r = 0;
                for (char *save, *line = strtok_r(buf, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        r = upload_helper_settings_parse(&back, line, ++n, err);
                        if (r < 0)
                                fail_msg("line %u: %s", n, err);
                        if (r == 1)
                                break;
                }
                assert_int_equal(r, 1);
                assert_string_equal(back.url, c.url);
                assert_int_equal(back.auth, c.auth);
                assert_string_equal(back.token, c.token);
                assert_string_equal(back.user, c.user);
                assert_string_equal(back.password, c.password);
                assert_string_equal(back.client_cert, c.client_cert);
                assert_string_equal(back.client_key, c.client_key);
                assert_string_equal(back.ca_file, c.ca_file);
                assert_string_equal(back.s3_region, c.s3_region);
                assert_int_equal(back.timeout, 77);
        }
        /* a line break in a value could forge a key: refused */
        upload_config_defaults(&c);
        snprintf(c.url, sizeof(c.url), "https://x/");
        snprintf(c.password, sizeof(c.password), "pw\nurl https://evil/");
        assert_int_equal(upload_helper_settings_write(&c, buf, sizeof(buf), &len), -EINVAL);
        c.password[0] = '\0';
        assert_int_equal(upload_helper_settings_write(&c, buf, 40, &len), -ENOBUFS);
}

static void test_settings_errors(void **state)
{
        static const struct {
                unsigned line_no;
                const char *line, *err;
        } cases[] = {
                { 1, "puente-upload 2", "settings line 1: expected \"puente-upload 1\" first" },
                { 1, "url https://x/", "settings line 1: expected \"puente-upload 1\" first" },
                { 2, "url", "settings line 2: expected \"key value\", got \"url\"" },
                { 3, "colour blue", "settings line 3: unknown key \"colour blue\"" },
                { 4, "auth kerberos", "settings line 4: unknown auth \"kerberos\"" },
                { 5, "timeout 0", "settings line 5: timeout \"0\" is not 1..86400 seconds" },
                { 5, "timeout -5", "settings line 5: timeout \"-5\" is not 1..86400 seconds" },
                { 5, "timeout 12s", "settings line 5: timeout \"12s\" is not 1..86400 seconds" },
                { 5, "timeout 86401",
                  "settings line 5: timeout \"86401\" is not 1..86400 seconds" },
                { 6, "urlx https://x/", "settings line 6: unknown key \"urlx https://x/\"" },
        };
        struct upload_config c;
        char err[UPLOAD_ERROR_MAX];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                memset(&c, 0, sizeof(c));
                assert_int_equal(
                        upload_helper_settings_parse(&c, cases[i].line, cases[i].line_no, err),
                        -EBADMSG);
                assert_string_equal(err, cases[i].err);
        }
        /* one byte over a field's size */
        char line[UPLOAD_SECRET_MAX + 16];
        memset(&c, 0, sizeof(c));
        snprintf(line, sizeof(line), "password ");
        memset(line + 9, 'p', UPLOAD_SECRET_MAX);
        line[9 + UPLOAD_SECRET_MAX] = '\0';
        assert_int_equal(upload_helper_settings_parse(&c, line, 2, err), -EBADMSG);
        assert_string_equal(err, "settings line 2: password too long");
        line[9 + UPLOAD_SECRET_MAX - 1] = '\0';
        assert_int_equal(upload_helper_settings_parse(&c, line, 2, err), 0);
        assert_int_equal(strlen(c.password), UPLOAD_SECRET_MAX - 1);
        /* an empty value is allowed (no CA file) */
        assert_int_equal(upload_helper_settings_parse(&c, "ca_file ", 2, err), 0);
        assert_string_equal(c.ca_file, "");
}

static void test_describe(void **state)
{
        static const struct {
                enum upload_helper_class class;
                long status;
                enum upload_auth auth;
                const char *detail, *words;
        } cases[] = {
                { UPLOAD_HELPER_OK, 500, UPLOAD_AUTH_NONE, "",
                  "server answered 500 (server error)" },
                { UPLOAD_HELPER_OK, 403, UPLOAD_AUTH_BASIC, "",
                  "server answered 403 (forbidden: check the server's rights)" },
                { UPLOAD_HELPER_OK, 401, UPLOAD_AUTH_BEARER, "",
                  "server answered 401 (not authorised: check token or user)" },
                { UPLOAD_HELPER_OK, 404, UPLOAD_AUTH_NONE, "",
                  "server answered 404 (no such place: check the url)" },
                { UPLOAD_HELPER_OK, 400, UPLOAD_AUTH_CERT, "",
                  "server answered 400 (refused: the server did not accept our client "
                  "certificate)" },
                { UPLOAD_HELPER_OK, 302, UPLOAD_AUTH_NONE, "", "server answered 302" },
                { UPLOAD_HELPER_RESOLVE, 0, UPLOAD_AUTH_NONE, "Could not resolve host: x",
                  "cannot resolve the server's name (DNS or no network): Could not resolve host: "
                  "x" },
                { UPLOAD_HELPER_CONNECT, 0, UPLOAD_AUTH_NONE, "refused",
                  "no connection to the server (refused or no route): refused" },
                { UPLOAD_HELPER_TIMEOUT, 0, UPLOAD_AUTH_NONE, "slow", "timed out after 9 s: slow" },
                { UPLOAD_HELPER_SERVER_CERT, 0, UPLOAD_AUTH_NONE, "bad CA",
                  "server certificate not trusted: bad CA" },
                { UPLOAD_HELPER_CLIENT_CERT, 0, UPLOAD_AUTH_CERT, "no key",
                  "client certificate or key unusable: no key" },
                { UPLOAD_HELPER_TLS, 0, UPLOAD_AUTH_NONE, "alert", "TLS failed: alert" },
                { UPLOAD_HELPER_CUT_OFF, 0, UPLOAD_AUTH_NONE, "reset",
                  "connection cut off: reset" },
                { UPLOAD_HELPER_FAILED, 0, UPLOAD_AUTH_NONE, "", "upload failed: no detail" },
                { UPLOAD_HELPER_LOCAL, 0, UPLOAD_AUTH_NONE, "cannot read batch",
                  "upload helper failed: cannot read batch" },
        };
        char buf[UPLOAD_ERROR_MAX];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct upload_helper_result r = { .class = cases[i].class,
                                                  .http_status = cases[i].status };
                snprintf(r.detail, sizeof(r.detail), "%s", cases[i].detail);
                upload_helper_describe(&r, cases[i].auth, 9, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].words);
                assert_int_equal(upload_helper_succeeded(&r), 0);
        }
        struct upload_helper_result ok = { .class = UPLOAD_HELPER_OK, .http_status = 201 };
        assert_true(upload_helper_succeeded(&ok));
        ok.http_status = 299;
        assert_true(upload_helper_succeeded(&ok));
        ok.class = UPLOAD_HELPER_FAILED;
        assert_false(upload_helper_succeeded(&ok));
}

/* ---- the helper as a child process ---- */

static char url_buf[256];

static const char *url(const struct harness *h, const char *path)
{
        snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d/%s", h->port, path);
        return url_buf;
}

/* A fake helper: a shell script in the test's directory. */
static void fake_helper(const struct harness *h, const char *name, const char *body, char *path)
{
        h_path(h, path, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "#!/bin/sh\n%s\n", body);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, 0755), 0);
}

static void set_helper(struct upload_config *c, const char *path)
{
        assert_true(strlen(path) < sizeof(c->helper));
        memcpy(c->helper, path, strlen(path) + 1);
}

/* Runs the loop until the status's last error holds `words` or `seconds` pass. */
static bool run_until_error(struct harness *h, struct upload *u, const char *words,
                            unsigned seconds)
{
        struct upload_status st;
        time_t end = time(NULL) + seconds;

        do {
                sd_event_run(h->loop, 100 * 1000);
                upload_status(u, &st);
                if (strstr(st.last_error, words))
                        return true;
        } while (time(NULL) < end);
        fprintf(stderr, "last error \"%s\", expected \"%s\"\n", st.last_error, words);
        return false;
}

/* Runs the loop until a helper runs; its PID. */
static pid_t run_until_helper(struct harness *h, struct upload *u, unsigned seconds)
{
        time_t end = time(NULL) + seconds;
        pid_t pid;

        while ((pid = upload_helper_pid(u)) == 0 && time(NULL) < end)
                sd_event_run(h->loop, 100 * 1000);
        return pid;
}

/* Whether a process is gone for good (reaped: not even a zombie). */
static bool reaped(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        return access(path, F_OK) < 0;
}

/* The failed try left everything waiting; the real helper then delivers it all. */
static void check_nothing_lost(struct harness *h, struct upload *u, const char *prefix)
{
        struct upload_config c;
        struct upload_status st;

        upload_status(u, &st);
        assert_int_equal(st.batches_sent, 0);
        assert_true(st.failures >= 1);
        assert_true(st.backlog_events >= (int64_t)h->events);
        upload_free(u);

        h_config(h, &c, url(h, prefix));
        assert_int_equal(upload_new(h->loop, h->store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(h, u, 30));
        assert_int_equal(h_check_uploaded(h, prefix, h->events, NULL), 1);
        upload_status(u, &st);
        assert_string_equal(st.last_error, "");
        upload_free(u);
}

/* Helpers that do not work: each a clear, named error; nothing lost. */
static void test_helper_broken(void **state)
{
        static const struct {
                const char *name, *script, *words;
        } cases[] = {
                { "missing", NULL, "missing: not found" },
                { "garbage", "echo 'hello, I am not puente-upload'",
                  "garbage, not a result line: \"hello, I am not puente-upload.\"" },
                { "silent", "exit 0", "printed no result" },
                { "status", "echo 'result ok 0 201 '; exit 3", "exited with status 3" },
                { "segv", "kill -SEGV $$", "killed by signal 11" },
                { "local", "echo 'result local 0 0 cannot read batch x: No such file'; exit 1",
                  "local: cannot read batch x: No such file" },
                { "chatty", "echo 'result ok 0 201 '; echo 'result ok 0 201 '",
                  "garbage, not a result line" },
                { "class", "echo 'result failed 3 0 URL malformed'",
                  "upload failed: URL malformed" },
        };
        char path[H_PATH_MAX], prefix[64];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct harness h;
                struct upload_config c;
                struct upload *u;

                assert_int_equal(h_setup(&h, "upload-broken"), 0);
                assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
                assert_int_equal(h_add_events(&h, 300), 0);
                snprintf(prefix, sizeof(prefix), "up/broken-%zu", i);
                h_config(&h, &c, url(&h, prefix));
                if (cases[i].script)
                        fake_helper(&h, cases[i].name, cases[i].script, path);
                else
                        h_path(&h, path, cases[i].name);
                set_helper(&c, path);
                assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
                upload_kick(u, true);
                if (!run_until_error(&h, u, cases[i].words, 20))
                        fail_msg("case %s", cases[i].name);
                struct upload_status st;
                upload_status(u, &st);
                /* the words name the helper, unless it did its work and curl failed */
                if (strcmp(cases[i].name, "class") != 0) {
                        assert_non_null(strstr(st.last_error, "upload helper "));
                        assert_non_null(strstr(st.last_error, path));
                }
                check_nothing_lost(&h, u, prefix);
                h_cleanup(&h);
        }
}

/* A helper that never answers is killed after its time-out plus the grace, and reaped. */
static void test_helper_hangs(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        char path[H_PATH_MAX], words[64];

        assert_int_equal(h_setup(&h, "upload-hang"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 400), 0);
        h_config(&h, &c, url(&h, "up/hang"));
        c.timeout = 1;
        fake_helper(&h, "hang", "exec sleep 120", path);
        set_helper(&c, path);
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        pid_t pid = run_until_helper(&h, u, 10);
        assert_true(pid > 0);
        time_t t0 = time(NULL);
        snprintf(words, sizeof(words), "no answer after %u s, killed", 1 + UPLOAD_SPAWN_GRACE_S);
        assert_true(run_until_error(&h, u, words, 30));
        assert_true(time(NULL) - t0 >= UPLOAD_SPAWN_GRACE_S); /* not before its time */
        assert_true(reaped(pid));
        check_nothing_lost(&h, u, "up/hang");
        h_cleanup(&h);
}

/* A listener that never accepts: the real helper connects and waits for an answer. */
static int silent_listener(int *ret_port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static size_t read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, size - 1);
        close(fd);
        assert_true(n >= 0);
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' '; /* arguments and variables are NUL-separated */
        buf[n] = '\0';
        return (size_t)n;
}

/* The real helper mid-transfer: its command line and environment carry no secret, it holds
 * none of our descriptors (not even one we left without close-on-exec), and killing it is a
 * failed try; the uploader freed mid-transfer kills and reaps it. */
static void test_helper_secrets_and_kills(void **state)
{
        static const enum upload_auth auths[] = { UPLOAD_AUTH_BASIC, UPLOAD_AUTH_BEARER,
                                                  UPLOAD_AUTH_S3 };
        struct harness h;
        struct upload_config c;
        struct upload *u;
        char bad[128], buf[65536];
        int port = 0;

        assert_int_equal(h_setup(&h, "upload-secret"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 500), 0);
        int listener = silent_listener(&port);
        assert_true(listener >= 0);
        int leaked = open(h.db, O_RDONLY); /* no O_CLOEXEC on purpose */
        assert_true(leaked >= 0);
        snprintf(bad, sizeof(bad), "http://127.0.0.1:%d/up", port);

        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
                h_config(&h, &c, bad);
                c.auth = auths[i];
                snprintf(c.user, sizeof(c.user), "clinic-7");
                snprintf(c.password, sizeof(c.password), SECRET_PASSWORD);
                snprintf(c.token, sizeof(c.token), SECRET_TOKEN);
                assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
                upload_kick(u, true);
                pid_t pid = run_until_helper(&h, u, 10);
                assert_true(pid > 0);
                /* posix_spawn returns once the exec has swapped the memory, a moment before
                 * the kernel has set the new command line: wait for it */
                for (int tries = 0; tries < 200 && read_proc(pid, "cmdline", buf, sizeof(buf)) == 0;
                     tries++)
                        usleep(10 * 1000);
                assert_non_null(strstr(buf, "puente-upload"));
                assert_non_null(strstr(buf, H_DEVICE "/0000000001.ndjson.gz"));
                assert_null(strstr(buf, SECRET_PASSWORD));
                assert_null(strstr(buf, SECRET_TOKEN));
                read_proc(pid, "environ", buf, sizeof(buf));
                assert_null(strstr(buf, SECRET_PASSWORD));
                assert_null(strstr(buf, SECRET_TOKEN));
                /* its descriptors: stdin/stdout (our socket), stderr, curl's own; none of
                 * the test's files (the store, nginx's logs are all in h.dir) */
                char fddir[64];
                snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)pid);
                DIR *d = opendir(fddir);
                assert_non_null(d);
                for (struct dirent *e; (e = readdir(d));) {
                        char link[H_PATH_MAX + 64], target[H_PATH_MAX] = "";
                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(link, sizeof(link), "%s/%s", fddir, e->d_name);
                        ssize_t n = readlink(link, target, sizeof(target) - 1);
                        target[n > 0 ? n : 0] = '\0';
                        if (strstr(target, h.dir))
                                fail_msg("the helper holds fd %s: %s", e->d_name, target);
                }
                closedir(d);

                if (i == 0) {
                        /* killed mid-transfer: a failed try naming the signal */
                        assert_int_equal(kill(pid, SIGKILL), 0);
                        assert_true(run_until_error(&h, u, "killed by signal 9", 10));
                        assert_true(reaped(pid));
                        struct upload_status st;
                        upload_status(u, &st);
                        assert_non_null(strstr(st.last_error, "upload helper "));
                        assert_int_equal(st.batches_sent, 0);
                }
                /* freed mid-transfer (puented's SIGTERM): killed and reaped at once */
                if (i == 0)
                        pid = run_until_helper(&h, u, 10); /* the retry, after 1 s */
                assert_true(pid > 0);
                upload_free(u);
                assert_true(reaped(pid));
        }
        close(leaked);
        close(listener);
        /* nothing was lost by any of it */
        h_config(&h, &c, url(&h, "up/secret"));
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 30));
        assert_int_equal(h_check_uploaded(&h, "up/secret", h.events, NULL), 1);
        upload_free(u);
        h_cleanup(&h);
}

/* The secrets do reach the helper, on its stdin: a fake helper keeps what it read. */
static void test_helper_stdin(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        char path[H_PATH_MAX], script[H_PATH_MAX * 3], got[H_PATH_MAX], *text = NULL;
        size_t len;

        assert_int_equal(h_setup(&h, "upload-stdin"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 200), 0);
        h_path(&h, got, "stdin.txt");
        snprintf(script, sizeof(script),
                 "cat > '%s'; printf '%%s\\n' \"$*\" > '%s.args'; echo 'result ok 0 503 '", got,
                 got);
        fake_helper(&h, "keep", script, path);
        h_config(&h, &c, url(&h, "up/stdin"));
        c.auth = UPLOAD_AUTH_BASIC;
        snprintf(c.user, sizeof(c.user), "clinic-7");
        snprintf(c.password, sizeof(c.password), SECRET_PASSWORD);
        set_helper(&c, path);
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(run_until_error(&h, u, "server answered 503 (server error)", 20));
        assert_int_equal(upload_read_file(got, (uint8_t **)&text, &len), 0);
        text = realloc(text, len + 1);
        text[len] = '\0';
        char want[1024];
        snprintf(want, sizeof(want),
                 "puente-upload 1\nurl %s\ntoken \nuser clinic-7\npassword " SECRET_PASSWORD
                 "\nclient_cert \nclient_key \nca_file \ns3_region \nauth basic\ntimeout 5\nend\n",
                 c.url);
        assert_string_equal(text, want);
        free(text);
        strcat(got, ".args");
        assert_int_equal(upload_read_file(got, (uint8_t **)&text, &len), 0);
        text = realloc(text, len + 1);
        text[len] = '\0';
        char args[H_PATH_MAX * 2];
        snprintf(args, sizeof(args),
                 "%s/upload/0000000001.ndjson.gz " H_DEVICE "/0000000001.ndjson.gz\n", h.dir);
        assert_string_equal(text, args);
        free(text);
        check_nothing_lost(&h, u, "up/stdin");
        h_cleanup(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_result_lines),
                cmocka_unit_test(test_result_round_trip),
                cmocka_unit_test(test_settings_round_trip),
                cmocka_unit_test(test_settings_errors),
                cmocka_unit_test(test_describe),
                cmocka_unit_test(test_helper_broken),
                cmocka_unit_test(test_helper_hangs),
                cmocka_unit_test(test_helper_secrets_and_kills),
                cmocka_unit_test(test_helper_stdin),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
