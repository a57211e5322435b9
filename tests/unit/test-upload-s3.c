/* The uploader's S3 mode (AWS Signature Version 4 by libcurl) against a local S3-like endpoint
 * that verifies every signature (tests/integration/upload-s3-server.py: canonical request,
 * string to sign, signing-key chain, checked against the AWS documentation's examples):
 * batches arrive, each event once, chained; a wrong secret or access key is refused with 403
 * and a clear status, and nothing is lost: the right credentials then deliver everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/test-upload-harness.h"

#define S3_KEY_ID  "AKIAPUENTETEST000001"
#define S3_SECRET  "pUeNtE/TeSt+sEcReT/0123456789abcdefGHIJ"
#define S3_REGION  "eu-west-1"
#define S3_PREFIX  "puente-trial-2027/dav" /* path-style: bucket, then the prefix */
#define S3_WAIT_MS 15000                   /* python3 starting on a loaded machine */

struct s3 {
        pid_t pid;
        int port;
        char log[H_PATH_MAX];
};

static int s3_start(const struct harness *h, struct s3 *s)
{
        const char *src = getenv("PUENTE_SRC") ? getenv("PUENTE_SRC") : ".";
        char script[H_PATH_MAX], port_file[H_PATH_MAX];

        snprintf(script, sizeof(script), "%s/tests/integration/upload-s3-server.py", src);
        h_path(h, port_file, "s3.port");
        h_path(h, s->log, "s3.log");
        s->pid = fork();
        if (s->pid < 0)
                return -1;
        if (s->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM); /* dies with a test that failed midway */
                int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd >= 0)
                        dup2(fd, 2);
                execlp("python3", "python3", script, h->www, port_file, S3_KEY_ID, S3_SECRET,
                       S3_REGION, (char *)NULL);
                _exit(127);
        }
        for (int waited = 0; waited < S3_WAIT_MS; waited += 50) {
                FILE *f = fopen(port_file, "r");
                if (f) {
                        int ok = fscanf(f, "%d", &s->port) == 1;
                        fclose(f);
                        if (ok)
                                return 0;
                }
                if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
                        fprintf(stderr, "the S3 endpoint exited; see %s\n", s->log);
                        s->pid = -1;
                        return -1;
                }
                usleep(50 * 1000);
        }
        return -1;
}

static void s3_stop(struct s3 *s)
{
        if (s->pid > 0) {
                kill(s->pid, SIGTERM);
                waitpid(s->pid, NULL, 0);
        }
        s->pid = -1;
}

/* How many requests the endpoint refused, from its log. */
static unsigned s3_refused(const struct s3 *s, const char *code)
{
        char line[1024];
        unsigned n = 0;
        FILE *f = fopen(s->log, "r");

        while (f && fgets(line, sizeof(line), f))
                n += strstr(line, "refused") && strstr(line, code);
        if (f)
                fclose(f);
        return n;
}

static void s3_config(const struct harness *h, const struct s3 *s, struct upload_config *c,
                      const char *key_id, const char *secret)
{
        char url[128];

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/" S3_PREFIX, s->port);
        h_config(h, c, url);
        c->auth = UPLOAD_AUTH_S3;
        snprintf(c->user, sizeof(c->user), "%s", key_id);
        snprintf(c->password, sizeof(c->password), "%s", secret);
        snprintf(c->s3_region, sizeof(c->s3_region), "%s", S3_REGION);
}

/* Credentials the endpoint refuses: 403 in plain words, nothing sent, the batches kept. */
static void expect_refused(struct harness *h, const struct s3 *s, const char *key_id,
                           const char *secret, const char *code)
{
        struct upload_config c;
        struct upload_status st;
        struct upload *u;
        unsigned before = s3_refused(s, code);

        s3_config(h, s, &c, key_id, secret);
        assert_int_equal(upload_new(h->loop, h->store, &c, &u), 0);
        upload_status(u, &st);
        uint64_t sent = st.batches_sent;
        upload_kick(u, true);
        for (int i = 0; i < 100 && s3_refused(s, code) == before; i++)
                h_run_for(h, 100);
        h_run_for(h, 200);
        upload_status(u, &st);
        if (!strstr(st.last_error, "server answered 403"))
                fail_msg("%s: \"%s\"", code, st.last_error);
        assert_true(s3_refused(s, code) > before);
        assert_int_equal(st.batches_sent, sent);
        assert_true(st.backlog_batches >= 1);
        assert_true(st.backlog_events >= 1);
        upload_free(u);
}

static void deliver(struct harness *h, const struct s3 *s, unsigned events, int batches)
{
        struct upload_config c;
        struct upload_status st;
        struct upload *u;

        s3_config(h, s, &c, S3_KEY_ID, S3_SECRET);
        assert_int_equal(upload_new(h->loop, h->store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(h, u, 60));
        upload_status(u, &st);
        assert_string_equal(st.last_error, "");
        assert_int_equal(st.backlog_events, 0);
        assert_int_equal(h_check_uploaded(h, S3_PREFIX, events, NULL), batches);
        upload_free(u);
}

static void test_s3_sigv4(void **state)
{
        struct harness h;
        struct s3 s = { .pid = -1 };

        assert_int_equal(h_setup(&h, "upload-s3"), 0);
        assert_int_equal(s3_start(&h, &s), 0);
        assert_int_equal(h_add_events(&h, 2500), 0);
        deliver(&h, &s, 2500, 3);
        assert_int_equal(s3_refused(&s, ""), 0); /* every PUT was signed right */

        assert_int_equal(h_add_events(&h, 1200), 0);
        expect_refused(&h, &s, S3_KEY_ID, "not-the-secret", "SignatureDoesNotMatch");
        expect_refused(&h, &s, "AKIAUNKNOWN000000000", S3_SECRET, "InvalidAccessKeyId");
        deliver(&h, &s, 3700, 5); /* nothing lost, nothing twice */
        s3_stop(&s);
        h_cleanup(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s3_sigv4),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
