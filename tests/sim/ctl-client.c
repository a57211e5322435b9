/* `puente-sim ctl SOCKET COMMAND...`: sends one control command and prints the answer;
 * exit status 0 for "OK", 1 for "ERR", a refused connection or no answer, 2 for bad usage. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/sim/sim.h"

#define CTL_CLIENT_WAIT_S 10

/* ---- the client: puente-sim ctl SOCKET COMMAND... ---- */

int sim_ctl_client_main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: puente-sim ctl SOCKET COMMAND [ARGS...] (try 'help')\n");
                return 2;
        }
        char line[SIM_CTL_LINE_MAX] = "";
        size_t k = 0;
        for (int i = 1; i < argc; i++)
                k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%s", i > 1 ? " " : "",
                                      argv[i]);
        if (k + 2 >= sizeof(line)) {
                fprintf(stderr, "puente-sim ctl: command longer than %d bytes\n",
                        SIM_CTL_LINE_MAX - 2);
                return 2;
        }
        line[k++] = '\n';
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        sim_strlcpy(sa.sun_path, sizeof(sa.sun_path), argv[0]);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "puente-sim ctl: cannot connect to %s: %m\n", argv[0]);
                return 1;
        }
        if (write(fd, line, k) != (ssize_t)k) {
                fprintf(stderr, "puente-sim ctl: write: %m\n");
                close(fd);
                return 1;
        }
        char buf[SIM_CTL_LINE_MAX * 4];
        size_t len = 0;
        int rc = 1;
        while (len < sizeof(buf) - 1) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, CTL_CLIENT_WAIT_S * 1000) <= 0) {
                        fprintf(stderr, "puente-sim ctl: no answer in %d s\n", CTL_CLIENT_WAIT_S);
                        break;
                }
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
                /* the answer ends with a line starting "OK" or "ERR" */
                char *last = len >= 2 ? buf + len - 2 : buf;
                if (buf[len - 1] != '\n')
                        continue;
                while (last > buf && last[-1] != '\n')
                        last--;
                if (strncmp(last, "OK", 2) == 0 || strncmp(last, "ERR", 3) == 0) {
                        rc = strncmp(last, "OK", 2) == 0 ? 0 : 1;
                        break;
                }
        }
        fwrite(buf, 1, len, rc == 0 ? stdout : stderr);
        close(fd);
        return rc;
}
