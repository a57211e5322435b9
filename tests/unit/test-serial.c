/* Tests for daemon/serial on real pseudo-terminals, a socat pair and fake sysfs trees. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/serial.h"

#define IO_TIMEOUT_MS  2000
#define FAKE_FILES_MAX 8 /* sysfs attributes a fake tree may hold, table end included */

/* Reads exactly len bytes from a non-blocking fd within IO_TIMEOUT_MS. */
static void read_exact(int fd, char *buf, size_t len)
{
        size_t got = 0;

        while (got < len) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t n;

                assert_int_equal(poll(&pfd, 1, IO_TIMEOUT_MS), 1);
                n = read(fd, buf + got, len - got);
                if (n < 0 && errno == EAGAIN)
                        continue;
                assert_true(n > 0);
                got += (size_t)n;
        }
}

static void write_all(int fd, const char *buf, size_t len)
{
        assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* Bytes both ways through an opened port and the other end; raw mode keeps \r and \n. */
static void check_both_ways(int port_fd, int peer_fd)
{
        static const char at[] = "AT+CMGF=0\r", ok[] = "\r\nOK\r\n\x1a\x03";
        char buf[64];

        write_all(peer_fd, at, sizeof(at) - 1);
        read_exact(port_fd, buf, sizeof(at) - 1);
        assert_memory_equal(buf, at, sizeof(at) - 1);
        write_all(port_fd, ok, sizeof(ok) - 1);
        read_exact(peer_fd, buf, sizeof(ok) - 1);
        assert_memory_equal(buf, ok, sizeof(ok) - 1);
        /* Nothing more: no echo came back, and an empty read does not block. */
        assert_int_equal(read(port_fd, buf, sizeof(buf)), -1);
        assert_int_equal(errno, EAGAIN);
}

static void test_pty_by_slave_path(void **state)
{
        int master, slave;
        char name[PATH_MAX], err[SERIAL_ERR_MAX] = "";
        struct serial_port *p = NULL;
        const struct serial_info *info;
        struct termios tio;

        assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
        close(slave); /* only the port keeps the slave open */
        assert_int_equal(serial_open(name, NULL, &p, err, sizeof(err)), 0);
        assert_non_null(p);
        assert_string_equal(serial_path(p), name);
        info = serial_get_info(p);
        assert_true(info->via_termios); /* libserialport 0.1.1 refuses ptys */
        assert_false(info->usb);
        assert_int_equal(info->interface, -1);
        assert_string_equal(info->real_path, name);
        assert_true(fcntl(serial_fd(p), F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(serial_fd(p), F_GETFD) & FD_CLOEXEC);
        assert_int_equal(tcgetattr(serial_fd(p), &tio), 0);
        assert_int_equal(cfgetospeed(&tio), B115200);
        assert_int_equal(tio.c_cflag & CSIZE, CS8);
        assert_int_equal(tio.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0);
        assert_int_equal(tio.c_lflag & (ICANON | ECHO), 0);
        check_both_ways(serial_fd(p), master);
        assert_null(serial_close(p));
        close(master);
}

static void test_pty_settings(void **state)
{
        static const struct {
                unsigned baud;
                speed_t speed;
                bool rtscts;
        } cases[] = {
                { 9600, B9600, false },
                { 115200, B115200, true },
                { 460800, B460800, false },
                { 921600, B921600, true },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct serial_params prm = { .baud = cases[i].baud, .rtscts = cases[i].rtscts };
                struct serial_port *p = NULL;
                struct termios tio;
                int master, slave;
                char name[PATH_MAX];

                assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
                close(slave);
                assert_int_equal(serial_open(name, &prm, &p, NULL, 0), 0);
                assert_int_equal(tcgetattr(serial_fd(p), &tio), 0);
                assert_int_equal(cfgetospeed(&tio), cases[i].speed);
                assert_int_equal(cfgetispeed(&tio), cases[i].speed);
                assert_int_equal(!!(tio.c_cflag & CRTSCTS), cases[i].rtscts);
                serial_close(p);
                close(master);
        }
}

static void test_symlink_keeps_given_path(void **state)
{
        char dir[] = "/tmp/test-serial-XXXXXX", link[PATH_MAX], name[PATH_MAX];
        struct serial_port *p = NULL;
        int master, slave;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
        close(slave);
        snprintf(link, sizeof(link), "%s/usb-Quectel_EC25-if02-port0", dir);
        assert_int_equal(symlink(name, link), 0);
        assert_int_equal(serial_open(link, NULL, &p, NULL, 0), 0);
        assert_string_equal(serial_path(p), link);
        assert_string_equal(serial_get_info(p)->real_path, name);
        check_both_ways(serial_fd(p), master);
        serial_close(p);
        close(master);
        unlink(link);
        rmdir(dir);
}

static void test_errors(void **state)
{
        char file[] = "/tmp/test-serial-file-XXXXXX", err[SERIAL_ERR_MAX];
        int fd = mkstemp(file), master, slave;
        char name[PATH_MAX];
        struct serial_port *p = NULL;
        struct serial_params bad = { .baud = 12345 };

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(serial_open("/dev/ttyNOPE42", NULL, &p, err, sizeof(err)), -ENOENT);
        assert_null(p);
        assert_non_null(strstr(err, "/dev/ttyNOPE42"));
        assert_int_equal(serial_open(file, NULL, &p, err, sizeof(err)), -ENOTTY);
        assert_null(p);
        assert_non_null(strstr(err, file));
        assert_non_null(strstr(err, "not a terminal"));
        assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
        assert_int_equal(serial_open(name, &bad, &p, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, name));
        assert_non_null(strstr(err, "12345"));
        assert_int_equal(serial_open("", NULL, &p, err, sizeof(err)), -EINVAL);
        assert_int_equal(serial_open(NULL, NULL, &p, NULL, 0), -EINVAL);
        assert_null(p);
        assert_null(serial_close(NULL));
        close(master);
        close(slave);
        unlink(file);
}

static bool wait_for_path(const char *path)
{
        for (int i = 0; i < 100; i++) {
                if (access(path, F_OK) == 0)
                        return true;
                usleep(50 * 1000);
        }
        return false;
}

/* Stops a child we started: SIGTERM, then SIGKILL if it lingers, so a test never hangs. */
static void stop_child(pid_t pid)
{
        int status;

        kill(pid, SIGTERM);
        for (int i = 0; i < 40; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return;
                usleep(50 * 1000);
        }
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* socat makes the kind of pty ser2net-like setups and hand tests use. */
static void test_socat_pty(void **state)
{
        char dir[] = "/tmp/test-serial-socat-XXXXXX", a[PATH_MAX], b[PATH_MAX], pa[PATH_MAX + 32],
             pb[PATH_MAX + 32];
        struct serial_port *p = NULL;
        struct termios tio;
        pid_t pid;
        int peer;

        if (access("/usr/bin/socat", X_OK) != 0) {
                print_message("socat not installed\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        snprintf(a, sizeof(a), "%s/a", dir);
        snprintf(b, sizeof(b), "%s/b", dir);
        snprintf(pa, sizeof(pa), "pty,raw,echo=0,link=%s", a);
        snprintf(pb, sizeof(pb), "pty,raw,echo=0,link=%s", b);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl("/usr/bin/socat", "socat", pa, pb, (char *)NULL);
                _exit(127);
        }
        assert_true(wait_for_path(a) && wait_for_path(b));
        assert_int_equal(serial_open(a, NULL, &p, NULL, 0), 0);
        assert_true(serial_get_info(p)->via_termios);
        peer = open(b, O_RDWR | O_NOCTTY | O_NONBLOCK);
        assert_true(peer >= 0);
        assert_int_equal(tcgetattr(peer, &tio), 0);
        cfmakeraw(&tio);
        assert_int_equal(tcsetattr(peer, TCSANOW, &tio), 0);
        check_both_ways(serial_fd(p), peer);
        serial_close(p);
        close(peer);
        stop_child(pid);
        rmdir(dir);
}

/* Fake sysfs trees shaped like the kernel's for the drivers modems use. */
struct fake_tree {
        const char *name;
        const char *tty;
        const char *dirs[6];                  /* relative to the root, created in order */
        const char *files[FAKE_FILES_MAX][2]; /* path, content */
        const char *device_target;            /* class/tty/<tty>/device -> (absolute under root) */
        int ret, interface;
        bool usb;
        uint16_t vid, pid;
        const char *manufacturer, *product, *serial;
};

static const struct fake_tree fake_trees[] = {
        { "option ttyUSB (Huawei E3372 interface 2)",
          "ttyUSB2",
          { "devices/pci0/usb1/1-1/1-1:1.2/ttyUSB2" },
          { { "devices/pci0/usb1/1-1/idVendor", "12d1\n" },
            { "devices/pci0/usb1/1-1/idProduct", "1506\n" },
            { "devices/pci0/usb1/1-1/manufacturer", "HUAWEI_MOBILE\n" },
            { "devices/pci0/usb1/1-1/product", "HUAWEI_MOBILE\n" },
            { "devices/pci0/usb1/1-1/1-1:1.2/bInterfaceNumber", "02\n" } },
          "devices/pci0/usb1/1-1/1-1:1.2/ttyUSB2",
          0,
          2,
          true,
          0x12d1,
          0x1506,
          "HUAWEI_MOBILE",
          "HUAWEI_MOBILE",
          "" },
        { "cdc_acm ttyACM (SIMCom SIM7600 interface 0a)",
          "ttyACM0",
          { "devices/pci0/usb1/1-2/1-2:1.10" },
          { { "devices/pci0/usb1/1-2/idVendor", "1e0e\n" },
            { "devices/pci0/usb1/1-2/idProduct", "9001\n" },
            { "devices/pci0/usb1/1-2/manufacturer", "SimTech, Incorporated\n" },
            { "devices/pci0/usb1/1-2/product", "SimTech, Incorporated\n" },
            { "devices/pci0/usb1/1-2/serial", "0123456789ABCDEF\n" },
            { "devices/pci0/usb1/1-2/1-2:1.10/bInterfaceNumber", "0a\n" } },
          "devices/pci0/usb1/1-2/1-2:1.10",
          0,
          10,
          true,
          0x1e0e,
          0x9001,
          "SimTech, Incorporated",
          "SimTech, Incorporated",
          "0123456789ABCDEF" },
        { "on-board 8250 UART",
          "ttyS0",
          { "devices/platform/serial8250" },
          { { NULL } },
          "devices/platform/serial8250",
          0,
          -1,
          false,
          0,
          0,
          "",
          "",
          "" },
        { "pty: no device link",
          "pts3",
          { "class/tty/pts3" },
          { { NULL } },
          NULL,
          -ENOENT,
          -1,
          false,
          0,
          0,
          "",
          "",
          "" },
};

static void write_file(const char *path, const char *content)
{
        FILE *f = fopen(path, "w");

        if (!f)
                print_message("cannot create %s: %s\n", path, strerror(errno));

        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void test_sysfs_usb(void **state)
{
        for (size_t i = 0; i < sizeof(fake_trees) / sizeof(fake_trees[0]); i++) {
                const struct fake_tree *ft = &fake_trees[i];
                char root[] = "/tmp/test-serial-sysfs-XXXXXX", path[PATH_MAX * 2],
                     target[PATH_MAX * 2], cmd[PATH_MAX + 16];
                struct serial_info info = { .interface = -1 };

                print_message("sysfs: %s\n", ft->name);
                assert_non_null(mkdtemp(root));
                for (size_t d = 0; d < 6 && ft->dirs[d]; d++) {
                        snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s", root, ft->dirs[d]);
                        assert_int_equal(system(cmd), 0);
                }
                for (size_t f = 0; f < FAKE_FILES_MAX && ft->files[f][0]; f++) {
                        snprintf(path, sizeof(path), "%s/%s", root, ft->files[f][0]);
                        write_file(path, ft->files[f][1]);
                }
                snprintf(cmd, sizeof(cmd), "mkdir -p %s/class/tty/%s", root, ft->tty);
                assert_int_equal(system(cmd), 0);
                if (ft->device_target) {
                        snprintf(path, sizeof(path), "%s/class/tty/%s/device", root, ft->tty);
                        snprintf(target, sizeof(target), "%s/%s", root, ft->device_target);
                        assert_int_equal(symlink(target, path), 0);
                }
                assert_int_equal(serial_sysfs_usb(root, ft->tty, &info), ft->ret);
                assert_int_equal(info.interface, ft->interface);
                assert_int_equal(info.usb, ft->usb);
                assert_int_equal(info.vid, ft->vid);
                assert_int_equal(info.pid, ft->pid);
                assert_string_equal(info.manufacturer, ft->manufacturer);
                assert_string_equal(info.product, ft->product);
                assert_string_equal(info.serial, ft->serial);
                snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
                assert_int_equal(system(cmd), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pty_by_slave_path),
                cmocka_unit_test(test_pty_settings),
                cmocka_unit_test(test_symlink_keeps_given_path),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_socat_pty),
                cmocka_unit_test(test_sysfs_usb),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
