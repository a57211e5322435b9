/* Speed of puente-sim: messages per second one modem accepts with zero latency, driven as a
 * host drives it (AT+CMGS, wait for the prompt, PDU and Ctrl-Z, wait for OK), with the
 * phone record on. Starts the built puente-sim ($PUENTE_SIM, else build/puente-sim). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "at/pdu.h"

#define BENCH_MESSAGES   20000
#define BENCH_WARMUP     200
#define BENCH_WAIT_MS    5000
#define BENCH_TARGET_PPS 2000 /* 10x the daemon's 200 parts/s per modem */

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads until `token` has been seen; returns 0 or -ETIMEDOUT / -EIO. */
static int wait_for(int fd, const char *token, char *buf, size_t cap)
{
        size_t len = 0, tlen = strlen(token);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, BENCH_WAIT_MS);
                if (r <= 0)
                        return -ETIMEDOUT;
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n <= 0)
                        return -EIO;
                len += (size_t)n;
                buf[len] = '\0';
                if (len >= tlen && memmem(buf, len, token, tlen))
                        return 0;
                if (strstr(buf, "ERROR"))
                        return -EIO;
                if (len > cap / 2) { /* keep the tail where the token may be split */
                        memmove(buf, buf + len - tlen, tlen);
                        len = tlen;
                }
        }
}

static int command(int fd, const char *cmd, const char *want, char *buf, size_t cap)
{
        if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
                return -EIO;
        return wait_for(fd, want, buf, cap);
}

int main(void)
{
        const char *sim = getenv("PUENTE_SIM") ? getenv("PUENTE_SIM") : "build/puente-sim";
        if (access(sim, X_OK) != 0) {
                printf("bench-sim: SKIPPED, no %s (run make first, or set PUENTE_SIM)\n", sim);
                return 0;
        }
        char dir[] = "/tmp/puente-bench-sim.XXXXXX";
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        char link[128], rec[128], modem_arg[160];
        snprintf(link, sizeof(link), "%s/b1", dir);
        snprintf(rec, sizeof(rec), "%s/rec.jsonl", dir);
        snprintf(modem_arg, sizeof(modem_arg), "b1=%s", link);

        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDERR_FILENO);
                execl(sim, sim, "-m", modem_arg, "-r", rec, (char *)NULL);
                _exit(127);
        }
        int fd = -1;
        for (int i = 0; i < 200 && fd < 0; i++) {
                fd = open(link, O_RDWR | O_NOCTTY);
                if (fd < 0)
                        usleep(10000);
        }
        int rc = 1;
        char buf[4096];
        if (fd < 0) {
                fprintf(stderr, "bench-sim: %s never appeared\n", link);
                goto out;
        }
        struct termios tio;
        tcgetattr(fd, &tio);
        cfmakeraw(&tio);
        tcsetattr(fd, TCSANOW, &tio);
        /* like any host: "AT" until the modem has booted and answers */
        bool up = false;
        for (int i = 0; i < 50 && !up; i++) {
                if (write(fd, "AT\r", 3) != 3)
                        break;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) > 0) {
                        usleep(10000);
                        up = read(fd, buf, sizeof(buf)) > 0;
                }
        }
        if (!up || command(fd, "ATE0\r", "OK\r\n", buf, sizeof(buf)) < 0 ||
            command(fd, "AT+CMGF=0\r", "OK\r\n", buf, sizeof(buf)) < 0) {
                fprintf(stderr, "bench-sim: modem does not answer\n");
                goto out;
        }

        struct sms_submit_opts opts = { .msg_class = -1 };
        struct sms_part part;
        if (sms_submit_encode("Recordatorio: su cita es el lunes a las 9 en la clinica",
                              "+5215512345678", &opts, &part, 1, NULL) != 1) {
                fprintf(stderr, "bench-sim: cannot encode the PDU\n");
                goto out;
        }
        char cmgs[32], pdu[2 * SMS_PDU_MAX + 2];
        snprintf(cmgs, sizeof(cmgs), "AT+CMGS=%zu\r", part.tpdu_len);
        sms_hex_encode(part.pdu, part.len, pdu);
        strcat(pdu, "\x1a");

        double t0 = 0;
        for (int i = 0; i < BENCH_WARMUP + BENCH_MESSAGES; i++) {
                if (i == BENCH_WARMUP)
                        t0 = now_s();
                if (command(fd, cmgs, "> ", buf, sizeof(buf)) < 0 ||
                    command(fd, pdu, "OK\r\n", buf, sizeof(buf)) < 0) {
                        fprintf(stderr, "bench-sim: message %d failed: %s\n", i, buf);
                        goto out;
                }
        }
        double secs = now_s() - t0;
        double pps = BENCH_MESSAGES / secs;
        printf("bench-sim: %d single-part AT+CMGS in %.3f s = %.0f messages/s per modem "
               "(target >= %d, %s)\n",
               BENCH_MESSAGES, secs, pps, BENCH_TARGET_PPS,
               pps >= BENCH_TARGET_PPS ? "met" : "MISSED");
        rc = 0;
out:
        if (fd >= 0)
                close(fd);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        unlink(rec);
        rmdir(dir);
        return rc;
}
