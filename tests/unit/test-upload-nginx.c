/* The uploader against a real nginx (Debian's, WebDAV PUT with create_full_put_path) on
 * 127.0.0.1: 10,000 events of a simulated run arrive exactly once, chained, without a phone
 * number or a text, and valid against docs/schema/event-v1.json; nginx stopped mid-run and
 * started again: the backlog arrives; 500, 403, a server that never answers, one that cuts
 * the body off, and a certificate from an unknown CA: each a clear status, nothing lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <sys/prctl.h>

#include <cmocka.h>

#include "tests/unit/test-upload-harness.h"

static char url_buf[256];

static const char *url(const struct harness *h, const char *path)
{
        snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d/%s", h->port, path);
        return url_buf;
}

/* Validates the uploaded batches with docs/central/validate.py (JSON Schema, chain, each
 * event once): the central team's own check, run on our bytes. */
static void validate_with_schema(const struct harness *h, const char *prefix)
{
        const char *src = getenv("PUENTE_SRC");
        char cmd[2048];

        snprintf(cmd, sizeof(cmd), "python3 %s/docs/central/validate.py %s/%s", src ? src : ".",
                 h->www, prefix);
        assert_int_equal(system(cmd), 0);
}

/* What docs/central/arms.sql must say about the first n events of the simulated run,
 * worked out here from the run's definition, as CSV. */
static void expected_arms(unsigned n, char *buf, size_t size)
{
        static const char *const arms[] = { "control", "sms" };
        int off = snprintf(buf, size,
                           "arm,enrolled,sent,delivered,failed,replied,quiz_score,opted_out\n");
        for (unsigned a = 0; a < 2; a++) {
                unsigned char enrolled[H_CONTACTS] = { 0 }, replied[H_CONTACTS] = { 0 },
                              out[H_CONTACTS] = { 0 };
                unsigned n_enrolled = 0, sent = 0, delivered = 0, failed = 0, n_replied = 0,
                         n_out = 0;
                double score = 0;
                unsigned scores = 0;
                for (unsigned k = 0; k < n; k++) {
                        unsigned c = h_contact_of(k);
                        const char *t = h_type_of(k);
                        if (strcmp(h_arm_of(c), arms[a]) != 0)
                                continue;
                        if (!strcmp(t, "rules.arm_assigned") && !enrolled[c]++)
                                n_enrolled++;
                        sent += !strcmp(t, "sms.sent");
                        delivered += !strcmp(t, "sms.delivered");
                        failed += !strcmp(t, "sms.failed");
                        if (!strcmp(t, "rules.inbound_received"))
                                n_replied += !replied[c]++;
                        if (!strcmp(t, "rules.quiz_completed")) {
                                score += k % 4; /* as h_add_events writes it */
                                scores++;
                        }
                        if (!strcmp(t, "rules.opted_out") && !out[c]++)
                                n_out++;
                }
                char q[32];
                snprintf(q, sizeof(q), "%.15g", round(score / scores * 1000) / 1000);
                if (!strchr(q, '.'))
                        strcat(q, ".0"); /* SQLite's ROUND gives a REAL, Python prints 2.0 */
                off += snprintf(buf + off, size - (size_t)off, "%s,%u,%u,%u,%u,%u,%s,%u\n", arms[a],
                                n_enrolled, sent, delivered, failed, n_replied, q, n_out);
        }
}

/* Loads the uploaded batches with docs/central/load.py and runs docs/central/arms.sql. */
static void check_central_query(const struct harness *h, const char *prefix, unsigned n)
{
        const char *src = getenv("PUENTE_SRC") ? getenv("PUENTE_SRC") : ".";
        char cmd[2048], want[1024], got[1024] = "";
        snprintf(cmd, sizeof(cmd),
                 "python3 %s/docs/central/load.py %s/%s %s/central.sqlite %s/docs/central/arms.sql",
                 src, h->www, prefix, h->dir, src);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        size_t len = fread(got, 1, sizeof(got) - 1, p);
        got[len] = '\0';
        assert_int_equal(pclose(p), 0);
        expected_arms(n, want, sizeof(want));
        assert_string_equal(got, want);
}

static void test_ten_thousand_events(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        struct upload_status st;
        size_t bytes = 0;

        assert_int_equal(h_setup(&h, "upload-10k"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 10000), 0);
        h_config(&h, &c, url(&h, "up/trial-a"));
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 60));
        assert_int_equal(h_check_uploaded(&h, "up/trial-a", 10000, &bytes), 10);
        upload_status(u, &st);
        assert_int_equal(st.batches_sent, 10);
        assert_int_equal(st.backlog_batches, 0);
        assert_int_equal(st.backlog_events, 0);
        assert_int_equal(st.backlog_bytes, 0); /* confirmed batches are removed */
        assert_string_equal(st.last_error, "");
        assert_true(st.last_ok > 0);
        assert_string_equal(st.device, H_DEVICE);
        assert_false(st.heartbeat_due);
        assert_int_equal(st.days_since_ok, 0);
        printf("# 10000 events: %zu bytes on the wire, %.1f bytes per event\n", bytes,
               (double)bytes / 10000);
        validate_with_schema(&h, "up/trial-a");
        check_central_query(&h, "up/trial-a", 10000);
        upload_free(u);
        h_cleanup(&h);
}

static void test_outage_and_restart(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        struct upload_status st;

        assert_int_equal(h_setup(&h, "upload-outage"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 2500), 0);
        h_config(&h, &c, url(&h, "up/trial-b"));
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 30));

        h_nginx_stop(&h); /* the clinic goes offline */
        assert_int_equal(h_add_events(&h, 3500), 0);
        upload_kick(u, true);
        h_run_for(&h, 2500);
        upload_status(u, &st);
        assert_false(upload_idle(u));
        assert_true(st.failures >= 1);
        assert_non_null(strstr(st.last_error, "no connection to the server"));
        assert_true(st.backlog_events >= 3500);

        /* the daemon restarts during the outage: the position is in the store */
        upload_free(u);
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 30));
        assert_true(h_check_uploaded(&h, "up/trial-b", 6000, NULL) > 0);
        upload_status(u, &st);
        assert_int_equal(st.backlog_events, 0);
        assert_string_equal(st.last_error, "");
        upload_free(u);
        h_cleanup(&h);
}

/* A failing server leaves every batch waiting; the right server then gets them all. */
static void expect_failure_then_recover(struct harness *h, const char *bad_url, const char *words,
                                        unsigned run_ms)
{
        struct upload_config c;
        struct upload *u;
        struct upload_status st;

        h_config(h, &c, bad_url);
        c.timeout = 2;
        assert_int_equal(upload_new(h->loop, h->store, &c, &u), 0);
        upload_status(u, &st);
        uint64_t sent_before = st.batches_sent;
        upload_kick(u, true);
        h_run_for(h, run_ms);
        upload_status(u, &st);
        if (!strstr(st.last_error, words))
                fail_msg("expected \"%s\" in \"%s\"", words, st.last_error);
        assert_int_equal(st.batches_sent, sent_before);
        assert_true(st.backlog_batches >= 1);
        char line[512];
        upload_status_line(&st, time(NULL), line, sizeof(line));
        assert_non_null(strstr(line, words));
        upload_free(u);

        h_config(h, &c, url(h, "up/trial-c"));
        assert_int_equal(upload_new(h->loop, h->store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(h, u, 30));
        assert_true(h_check_uploaded(h, "up/trial-c", h->events, NULL) > 0);
        upload_free(u);
}

static void test_server_errors(void **state)
{
        struct harness h;

        assert_int_equal(h_setup(&h, "upload-errors"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 1500), 0);
        expect_failure_then_recover(&h, url(&h, "broken/x"), "server answered 500", 1500);
        assert_int_equal(h_add_events(&h, 700), 0);
        expect_failure_then_recover(&h, url(&h, "forbidden/x"), "server answered 403", 1500);
        h_cleanup(&h);
}

/* A listener that never accepts: the connection is made (the kernel's backlog) and no answer
 * ever comes. */
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

/* A child that reads each request's head and answers 200 with a body cut short. */
static pid_t cutoff_server(int fd)
{
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion in the test must not leave us */
        for (;;) {
                int c = accept(fd, NULL, NULL);
                char buf[4096];
                if (c < 0)
                        _exit(0);
                if (read(c, buf, sizeof(buf)) > 0) {
                        static const char resp[] =
                                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nok";
                        if (write(c, resp, sizeof(resp) - 1) < 0)
                                _exit(1);
                }
                close(c);
        }
}

static void test_slow_and_cut_off(void **state)
{
        struct harness h;
        char bad[128];
        int port, fd;

        assert_int_equal(h_setup(&h, "upload-slow"), 0);
        assert_int_equal(h_nginx_start(&h, NULL, NULL), 0);
        assert_int_equal(h_add_events(&h, 1200), 0);

        fd = silent_listener(&port);
        assert_true(fd >= 0);
        snprintf(bad, sizeof(bad), "http://127.0.0.1:%d/up", port);
        expect_failure_then_recover(&h, bad, "timed out", 3000);
        close(fd);

        fd = silent_listener(&port);
        pid_t pid = cutoff_server(fd);
        assert_true(pid > 0);
        snprintf(bad, sizeof(bad), "http://127.0.0.1:%d/up", port);
        assert_int_equal(h_add_events(&h, 300), 0);
        expect_failure_then_recover(&h, bad, "connection cut off", 1500);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        close(fd);
        h_cleanup(&h);
}

static int run(const char *cmd)
{
        int r = system(cmd);
        if (r != 0)
                fprintf(stderr, "failed (%d): %s\n", r, cmd);
        return r;
}

/* A CA and a server certificate for 127.0.0.1 made with the openssl tool; a second CA that
 * signed nothing stands for "the system's CAs" (which never know our test CA either). */
static void make_certs(const struct harness *h)
{
        char cmd[4096];
        snprintf(cmd, sizeof(cmd),
                 "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca"
                 " -keyout ca.key -out ca.pem 2>/dev/null &&"
                 " openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca"
                 " -keyout other.key -out other.pem 2>/dev/null &&"
                 " openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1"
                 " -keyout srv.key -out srv.csr 2>/dev/null &&"
                 " printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext &&"
                 " openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
                 " -days 2 -extfile san.ext -out srv.pem 2>/dev/null",
                 h->dir);
        assert_int_equal(run(cmd), 0);
}

static void test_tls_unknown_ca(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        struct upload_status st;
        char cert[H_PATH_MAX], key[H_PATH_MAX];

        assert_int_equal(h_setup(&h, "upload-tls"), 0);
        make_certs(&h);
        h_path(&h, cert, "srv.pem");
        h_path(&h, key, "srv.key");
        assert_int_equal(h_nginx_start(&h, cert, key), 0);
        assert_int_equal(h_add_events(&h, 1000), 0);

        char https[128];
        snprintf(https, sizeof(https), "https://127.0.0.1:%d/up/trial-tls", h.tls_port);
        const char *cas[] = { "other.pem", "" }; /* a CA that signed nothing; the system's */
        for (size_t i = 0; i < 2; i++) {
                h_config(&h, &c, https);
                if (*cas[i])
                        h_path(&h, c.ca_file, cas[i]);
                assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
                upload_kick(u, true);
                h_run_for(&h, 1500);
                upload_status(u, &st);
                if (!strstr(st.last_error, "certificate not trusted"))
                        fail_msg("CA %s: \"%s\"", cas[i], st.last_error);
                assert_int_equal(st.batches_sent, 0);
                upload_free(u);
        }
        h_config(&h, &c, https);
        h_path(&h, c.ca_file, "ca.pem");
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 30));
        assert_int_equal(h_check_uploaded(&h, "up/trial-tls", 1000, NULL), 1);
        upload_free(u);
        h_cleanup(&h);
}

/* Client certificates for the mutual-TLS server: one signed by the test CA (for TLS client
 * authentication) and one from a CA the server does not know. */
static void make_client_certs(const struct harness *h)
{
        char cmd[4096];
        snprintf(cmd, sizeof(cmd),
                 "cd %s && printf 'extendedKeyUsage=clientAuth\\n' > client.ext &&"
                 " openssl req -newkey rsa:2048 -nodes -subj /CN=box-test-1"
                 " -keyout client.key -out client.csr 2>/dev/null &&"
                 " openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
                 " -days 2 -extfile client.ext -out client.pem 2>/dev/null &&"
                 " openssl req -newkey rsa:2048 -nodes -subj /CN=intruder"
                 " -keyout stranger.key -out stranger.csr 2>/dev/null &&"
                 " openssl x509 -req -in stranger.csr -CA other.pem -CAkey other.key"
                 " -CAcreateserial -days 2 -extfile client.ext -out stranger.pem 2>/dev/null",
                 h->dir);
        assert_int_equal(run(cmd), 0);
}

/* nginx with ssl_verify_client on: no client certificate, or one from an unknown CA, is a
 * clear status and loses nothing; the box's certificate (auth = "cert") delivers it all. */
static void test_tls_client_cert(void **state)
{
        static const struct {
                const char *cert, *key, *words;
        } refused[] = {
                { NULL, NULL, "client certificate" },
                { "stranger.pem", "stranger.key", "client certificate" },
                { "client.pem", "missing.key", "client certificate or key unusable" },
        };
        struct harness h;
        struct upload_config c;
        struct upload *u;
        struct upload_status st;
        char cert[H_PATH_MAX], key[H_PATH_MAX], https[128];

        assert_int_equal(h_setup(&h, "upload-mtls"), 0);
        make_certs(&h);
        make_client_certs(&h);
        h_path(&h, cert, "srv.pem");
        h_path(&h, key, "srv.key");
        h_path(&h, h.client_ca, "ca.pem");
        assert_int_equal(h_nginx_start(&h, cert, key), 0);
        assert_int_equal(h_add_events(&h, 1500), 0);
        snprintf(https, sizeof(https), "https://127.0.0.1:%d/up/trial-mtls", h.tls_port);

        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                h_config(&h, &c, https);
                h_path(&h, c.ca_file, "ca.pem");
                if (refused[i].cert) {
                        c.auth = UPLOAD_AUTH_CERT;
                        h_path(&h, c.client_cert, refused[i].cert);
                        h_path(&h, c.client_key, refused[i].key);
                }
                assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
                upload_kick(u, true);
                h_run_for(&h, 1500);
                upload_status(u, &st);
                if (!strstr(st.last_error, refused[i].words))
                        fail_msg("case %zu: expected \"%s\" in \"%s\"", i, refused[i].words,
                                 st.last_error);
                assert_int_equal(st.batches_sent, 0);
                assert_true(st.backlog_events >= 1500);
                upload_free(u);
        }
        h_config(&h, &c, https);
        h_path(&h, c.ca_file, "ca.pem");
        c.auth = UPLOAD_AUTH_CERT;
        h_path(&h, c.client_cert, "client.pem");
        h_path(&h, c.client_key, "client.key");
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        assert_true(h_run_until_idle(&h, u, 30));
        upload_status(u, &st);
        assert_string_equal(st.last_error, "");
        assert_int_equal(h_check_uploaded(&h, "up/trial-mtls", 1500, NULL), 2);
        upload_free(u);
        h_cleanup(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ten_thousand_events),
                cmocka_unit_test(test_outage_and_restart),
                cmocka_unit_test(test_server_errors),
                cmocka_unit_test(test_slow_and_cut_off),
                cmocka_unit_test(test_tls_unknown_ca),
                cmocka_unit_test(test_tls_client_cert),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
