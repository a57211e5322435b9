#!/usr/bin/env python3
"""A stand-in for the kernel and udev, for tests/integration/hotplug-udev.sh, run inside a
private mount and network namespace (unshare --mount --net) with tmpfs over /sys and /run:
it writes the sysfs files sd-device reads for a USB serial modem (systemd 252,
src/libsystemd/sd-device: the `uevent` of every device on the way up, the `subsystem` links,
the idVendor/idProduct/bInterfaceNumber attributes, /sys/class/tty links), udev's database
entry that marks a tty initialized (/run/udev/data/cMAJOR:MINOR, without which an
enumeration skips a device with a device number), and sends udev's netlink messages for
"add" and "remove" to NETLINK_KOBJECT_UEVENT group 2 in libudev's format.

    fakeudev.py init
    fakeudev.py usb PORT VID:PID IFACE=TTY=DEVNAME... [--send]   e.g. 1-1 1e0e:9001 2=ttyUSB2=/dev/x/ttyUSB2
                (ttyUSBn: usb-serial, a port device between interface and tty; ttyACMn: cdc-acm)
    fakeudev.py platform TTY DEVNAME [--send]                     a tty with no USB parent
    fakeudev.py remove PORT|TTY [--send]                          a USB device and its ttys, or a platform tty
    fakeudev.py virtual COUNT                                     ttys with no parent device (tty0..)
    fakeudev.py flood [MAX]                                       "change" messages until a listener drops some
    fakeudev.py drops                                             messages udev's listeners dropped so far
    fakeudev.py can-send                                          exit 0 if udev's group takes our messages

It refuses to write unless /sys and /run are tmpfs mounts (the namespace's, never the
host's). Our own code, written from the formats as systemd 252 reads them."""

import os
import shutil
import socket
import struct
import sys
import time

SYS = "/sys"
RUN_UDEV = "/run/udev"
PCI = "/devices/pci0000:00/0000:00:14.0"  # an xHCI controller
USB_BUS = PCI + "/usb1"
PLATFORM = "/devices/platform/serial8250/tty"
NETLINK_KOBJECT_UEVENT = 15
UDEV_GROUP = 2  # MONITOR_GROUP_UDEV: what udevd broadcasts after its rules ran
UDEV_MONITOR_MAGIC = 0xFEEDCAFE
HEADER = struct.Struct("=8sIIIIIIII")  # monitor_netlink_header: prefix, magic, sizes, hashes
TTYUSB_MAJOR, TTYACM_MAJOR, USB_DEVICE_MAJOR, TTYS_MAJOR, TTYS_MINOR0 = 188, 166, 189, 4, 64


class Usage(Exception):
    pass


def murmur2(data, seed=0):
    """MurmurHash2, 32 bits (Austin Appleby's public-domain algorithm; systemd's copy reads
    the 4-byte blocks in host order, little-endian here)."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (seed ^ len(data)) & mask
    n4 = len(data) // 4 * 4
    for i in range(0, n4, 4):
        k = struct.unpack_from("<I", data, i)[0]
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    rest = data[n4:]
    if len(rest) >= 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if rest:
        h ^= rest[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h


def bloom64(tag):
    h = murmur2(tag.encode())
    bits = 0
    for shift in (0, 6, 12, 18):
        bits |= 1 << ((h >> shift) & 63)
    return bits


def message(props, tags=()):
    """udev's netlink message: the header (hashes big-endian, as the monitor's BPF filter
    loads them; sizes in host order) and the NUL-terminated KEY=VALUE properties."""
    body = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in props)
    devtype = dict(props).get("DEVTYPE")
    bloom = 0
    for t in tags:
        bloom |= bloom64(t)
    head = HEADER.pack(
        b"libudev\0", socket.htonl(UDEV_MONITOR_MAGIC), HEADER.size, HEADER.size, len(body),
        socket.htonl(murmur2(dict(props)["SUBSYSTEM"].encode())),
        socket.htonl(murmur2(devtype.encode())) if devtype else 0,
        socket.htonl(bloom >> 32), socket.htonl(bloom & 0xFFFFFFFF))
    return head + body


def fstype(path):
    t = None
    for line in open("/proc/self/mountinfo"):
        left, right = line.split(" - ", 1)
        if left.split()[4] == path:
            t = right.split()[0]  # the last mount over the path wins
    return t


def check_namespace():
    for p in (SYS, "/run"):
        if fstype(p) != "tmpfs":
            raise Usage("%s is %s, not a tmpfs: run me in the test's namespace only" % (p, fstype(p)))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def rel(src_devpath, dst):
    """The relative link from the sysfs directory src_devpath to /sys + dst."""
    return os.path.relpath(SYS + dst, SYS + src_devpath)


def device(devpath, subsystem, uevent):
    """A sysfs device directory: its uevent (KEY=VALUE lines, as the kernel writes them) and
    its `subsystem` link (sd-device takes the link's last component)."""
    write(SYS + devpath + "/uevent", "".join("%s=%s\n" % kv for kv in uevent))
    link(SYS + devpath + "/subsystem", rel(devpath, ("/class/" if subsystem == "tty" else "/bus/") + subsystem))


def seqnum():
    path = RUN_UDEV + "/fake-seqnum"
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    write(path, "%d\n" % n)
    return n


def send(action, devpath, subsystem, uevent, extra=(), tags=()):
    props = [("ACTION", action), ("DEVPATH", devpath), ("SUBSYSTEM", subsystem)]
    for k, v in uevent:
        props.append((k, "/dev/" + v if k == "DEVNAME" and not v.startswith("/") else v))
    props += [("SEQNUM", str(seqnum())), ("USEC_INITIALIZED", str(int(time.monotonic() * 1e6)))]
    props += list(extra)
    if tags:
        props.append(("TAGS", ":" + ":".join(tags) + ":"))
        props.append(("CURRENT_TAGS", ":" + ":".join(tags) + ":"))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
    try:
        s.bind((0, 0))
        try:
            s.sendto(message(props, tags), (0, UDEV_GROUP))
        except ConnectionRefusedError:
            pass  # nobody listening on the group: as udevd, not an error
    finally:
        s.close()


def read_uevent(devpath):
    out = []
    for line in open(SYS + devpath + "/uevent"):
        k, _, v = line.rstrip("\n").partition("=")
        out.append((k, v))
    return out


def tty_db(major, minor, props):
    """udev's database entry: its presence (and I:, the initialization time) is what makes
    sd_device_get_is_initialized() say yes; E: lines are the properties rules added."""
    write("%s/data/c%d:%d" % (RUN_UDEV, major, minor),
          "I:%d\n" % int(time.monotonic() * 1e6) + "".join("E:%s=%s\n" % kv for kv in props) +
          "G:systemd\nQ:systemd\nV:1\n")


def cmd_init(args):
    for d in ("/devices", "/class/tty", "/bus/usb/devices", "/bus/usb-serial/devices"):
        os.makedirs(SYS + d, exist_ok=True)
    os.makedirs(RUN_UDEV + "/data", exist_ok=True)
    # sd_device_monitor_new() joins udev's group only where udev runs (this file) or /dev
    # is a devtmpfs; the test's namespace says udev runs.
    write(RUN_UDEV + "/control", "")
    write(SYS + PCI + "/uevent", "DRIVER=xhci_hcd\nPCI_CLASS=C0330\n")
    link(SYS + PCI + "/subsystem", rel(PCI, "/bus/pci"))


def parse_ifaces(specs):
    out = []
    for spec in specs:
        parts = spec.split("=", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].startswith("/dev/"):
            raise Usage("bad interface %r: want NUMBER=TTY=/dev/NAME" % spec)
        out.append((int(parts[0]), parts[1], parts[2]))
    return out


def cmd_usb(args):
    send_now = "--send" in args
    args = [a for a in args if a != "--send"]
    if len(args) < 3 or args[1].count(":") != 1:
        raise Usage("usb PORT VID:PID IFACE=TTY=DEVNAME... [--send]")
    port, (vid, pid), ifaces = args[0], args[1].split(":"), parse_ifaces(args[2:])
    devnum = int(port.split("-")[-1].split(".")[-1]) + 1
    usb = USB_BUS + "/" + port
    events = []
    ue = [("MAJOR", str(USB_DEVICE_MAJOR)), ("MINOR", str(devnum - 1)),
          ("DEVNAME", "bus/usb/001/%03d" % devnum), ("DEVTYPE", "usb_device"), ("DRIVER", "usb"),
          ("PRODUCT", "%x/%x/318" % (int(vid, 16), int(pid, 16))), ("TYPE", "0/0/0"),
          ("BUSNUM", "001"), ("DEVNUM", "%03d" % devnum)]
    device(usb, "usb", ue)
    write(SYS + usb + "/idVendor", vid + "\n")
    write(SYS + usb + "/idProduct", pid + "\n")
    write(SYS + usb + "/serial", "PUENTE%s\n" % port)
    link(SYS + "/bus/usb/devices/" + port, rel("/bus/usb/devices", usb))
    events.append((usb, "usb", ue, ()))
    for num, tty, devname in ifaces:
        intf = "%s/%s:1.%d" % (usb, port, num)
        iue = [("DEVTYPE", "usb_interface"), ("DRIVER", "cdc_acm" if tty.startswith("ttyACM") else "option"),
               ("PRODUCT", "%x/%x/318" % (int(vid, 16), int(pid, 16))), ("INTERFACE", "255/255/255")]
        device(intf, "usb", iue)
        write(SYS + intf + "/bInterfaceNumber", "%02x\n" % num)
        link(SYS + "/bus/usb/devices/%s:1.%d" % (port, num), rel("/bus/usb/devices", intf))
        events.append((intf, "usb", iue, ()))
        if tty.startswith("ttyACM"):  # cdc-acm: the tty right below the interface
            parent, major, minor = intf, TTYACM_MAJOR, int(tty[len("ttyACM"):])
        else:  # usb-serial (option, ttyUSB): the port device, then its tty below it
            parent, major = intf + "/" + tty, TTYUSB_MAJOR
            minor = int(tty[len("ttyUSB"):]) if tty.startswith("ttyUSB") else 0
            device(parent, "usb-serial", [("DRIVER", "option1")])
            link(SYS + "/bus/usb-serial/devices/" + tty, rel("/bus/usb-serial/devices", parent))
            events.append((parent, "usb-serial", [("DRIVER", "option1")], ()))
        tue = [("MAJOR", str(major)), ("MINOR", str(minor)), ("DEVNAME", devname[len("/dev/"):])]
        node = parent + "/tty/" + tty
        device(node, "tty", tue)
        write(SYS + node + "/dev", "%d:%d\n" % (major, minor))
        link(SYS + node + "/device", rel(node, parent))  # what serial.c walks up from
        link(SYS + "/class/tty/" + tty, rel("/class/tty", node))
        props = [("ID_VENDOR_ID", vid), ("ID_MODEL_ID", pid), ("ID_USB_INTERFACE_NUM", "%02x" % num),
                 ("ID_BUS", "usb")]
        tty_db(major, minor, props)
        events.append((node, "tty", tue, props))
    if send_now:  # in the kernel's order: the device, its interfaces, their ports and ttys
        for devpath, subsystem, uevent, extra in events:
            send("add", devpath, subsystem, uevent, extra, ("systemd",) if subsystem == "tty" else ())


def cmd_platform(args):
    send_now = "--send" in args
    args = [a for a in args if a != "--send"]
    if len(args) != 2 or not args[1].startswith("/dev/"):
        raise Usage("platform TTY /dev/NAME [--send]")
    tty, devname = args
    minor = TTYS_MINOR0 + int(tty[len("ttyS"):] or 0)
    node = PLATFORM + "/" + tty
    ue = [("MAJOR", str(TTYS_MAJOR)), ("MINOR", str(minor)), ("DEVNAME", devname[len("/dev/"):])]
    device(node, "tty", ue)
    parent = os.path.dirname(PLATFORM)
    device(parent, "platform", [("DRIVER", "serial8250"), ("MODALIAS", "platform:serial8250")])
    link(SYS + node + "/device", rel(node, parent))
    link(SYS + "/class/tty/" + tty, rel("/class/tty", node))
    tty_db(TTYS_MAJOR, minor, [])
    if send_now:
        send("add", node, "tty", ue, (), ("systemd",))


def collect(devpath):
    """Every device at or below devpath, deepest first (the kernel's order of removal)."""
    found = []
    for root, dirs, files in os.walk(SYS + devpath):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        if "uevent" in files:
            found.append(root[len(SYS):])
    return sorted(found, key=lambda p: -p.count("/"))


def cmd_remove(args):
    send_now = "--send" in args
    args = [a for a in args if a != "--send"]
    if len(args) != 1:
        raise Usage("remove PORT|TTY [--send]")
    top = USB_BUS + "/" + args[0] if "-" in args[0] else PLATFORM + "/" + args[0]
    if not os.path.isdir(SYS + top):
        raise Usage("remove: no device %s" % top)
    gone = []
    for devpath in collect(top):
        subsystem = os.path.basename(os.readlink(SYS + devpath + "/subsystem"))
        gone.append((devpath, subsystem, read_uevent(devpath)))
    shutil.rmtree(SYS + top)
    for d in ("/class/tty", "/bus/usb/devices", "/bus/usb-serial/devices"):
        for name in os.listdir(SYS + d):
            if not os.path.exists(os.path.join(SYS + d, name)):
                os.unlink(os.path.join(SYS + d, name))  # its device went
    for devpath, subsystem, uevent in gone:
        ue = dict(uevent)
        if subsystem == "tty":
            db = "%s/data/c%s:%s" % (RUN_UDEV, ue["MAJOR"], ue["MINOR"])
            if os.path.exists(db):
                os.unlink(db)
        if send_now:  # udev sends "remove" once the node and sysfs are gone
            send("remove", devpath, subsystem, uevent, (), ("systemd",) if subsystem == "tty" else ())


def cmd_virtual(args):
    """COUNT virtual consoles (/sys/devices/virtual/tty/ttyN, 4:N): what a real box has
    besides its modems (tty0..tty63), for the rescan's cost. Never reported as modems."""
    if len(args) != 1 or not args[0].isdigit():
        raise Usage("virtual COUNT")
    for n in range(int(args[0])):
        node = "/devices/virtual/tty/tty%d" % n
        device(node, "tty", [("MAJOR", "4"), ("MINOR", str(n)), ("DEVNAME", "tty%d" % n)])
        write(SYS + node + "/dev", "4:%d\n" % n)
        link(SYS + "/class/tty/tty%d" % n, rel("/class/tty", node))
        tty_db(4, n, [])


def netlink_drops():
    """Messages dropped so far by the sockets listening on udev's group (/proc/net/netlink:
    protocol, groups in hex, the drop counter in the 9th column): the kernel counts each
    message that did not fit a full receive buffer."""
    total = 0
    with open("/proc/net/netlink") as f:
        next(f)
        for line in f:
            c = line.split()
            if int(c[1]) == NETLINK_KOBJECT_UEVENT and int(c[3], 16) & UDEV_GROUP:
                total += int(c[8])
    return total


def cmd_flood(args):
    """Sends udev "change" messages for a tty, in rounds of 100, until some listener's
    receive buffer overflows (its reader stopped: SIGSTOP) or MAX were sent; prints the
    count and the drops. Exits 1 if nothing was dropped."""
    limit = int(args[0]) if args and args[0].isdigit() else 100000
    before = netlink_drops()
    props = [("ACTION", "change"), ("DEVPATH", "/devices/virtual/tty/flood"), ("SUBSYSTEM", "tty"),
             ("DEVNAME", "/dev/flood"), ("SEQNUM", str(seqnum()))]
    msg = message(props, ("systemd",))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
    sent = 0
    try:
        s.bind((0, 0))
        while sent < limit and netlink_drops() == before:
            for _ in range(100):
                try:
                    s.sendto(msg, (0, UDEV_GROUP))
                except ConnectionRefusedError:
                    pass
                sent += 1
    finally:
        s.close()
    dropped = netlink_drops() - before
    print("flood: %d messages sent, %d dropped" % (sent, dropped))
    return 0 if dropped else 1


def cmd_drops(args):
    print(netlink_drops())


def cmd_can_send(args):
    """Whether this namespace lets us multicast on the uevent family (root's CAP_NET_ADMIN)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
    try:
        s.bind((0, 0))
        s.sendto(message([("ACTION", "change"), ("DEVPATH", "/devices/none"), ("SUBSYSTEM", "none")]),
                 (0, UDEV_GROUP))
    except ConnectionRefusedError:
        pass
    finally:
        s.close()


COMMANDS = {"can-send": cmd_can_send, "init": cmd_init, "usb": cmd_usb, "platform": cmd_platform,
            "remove": cmd_remove, "virtual": cmd_virtual, "flood": cmd_flood, "drops": cmd_drops}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] != "can-send":
            check_namespace()
        return COMMANDS[argv[1]](argv[2:]) or 0
    except Usage as e:
        print("fakeudev: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
