"""A small AT client for puente-sim's integration tests: opens a modem's pty raw, sends
commands, collects response lines up to the final result, waits for URCs, and drives the
control socket through `puente-sim ctl`. Every wait has a time-out so a test fails
instead of hanging."""

import json
import os
import select
import subprocess
import sys
import time
import termios
import tty

FINALS = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR", "NO CARRIER")
BOOT_LINES = ("RDY", "Call Ready", "SMS Ready")


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Modem:
    def __init__(self, path, timeout=5.0):
        self.path = path
        self.timeout = timeout
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd, termios.TCSANOW)  # keep what the modem said before we came
        self.buf = b""
        self.urcs = []

    def close(self):
        os.close(self.fd)

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.fd, data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            return False
        self.buf += chunk
        return True

    def read_until(self, token, timeout=None):
        """Reads until token (bytes) appears; returns what came before it, token included."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while token not in self.buf:
            if not self._fill(deadline):
                raise Fail("%s: no %r in time; got %r" % (self.path, token, self.buf))
        i = self.buf.index(token) + len(token)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def line(self, timeout=None):
        """Next non-empty line."""
        while True:
            raw = self.read_until(b"\r\n", timeout).decode("utf-8", "replace").strip("\r\n")
            if raw.strip():
                return raw.strip()

    def cmd(self, command, timeout=None):
        """Sends command; returns (info lines, final). Unsolicited lines seen meanwhile (a
        "+X:" line whose name is not the command's, or a bare boot line) go to self.urcs."""
        self.write(command + "\r")
        name = command[2:].split("=")[0].split("?")[0].upper()
        info = []
        while True:
            l = self.line(timeout)
            if l == command or l.startswith(command):  # echo
                continue
            if l.startswith(FINALS):
                return info, l
            prefix = l.split(":")[0] if ":" in l and l[0] in "+^" else None
            if (prefix and prefix != name and not name.startswith("+CMG")) or l in BOOT_LINES:
                self.urcs.append(l)
                if prefix in ("+CMT", "+CDS"):
                    self.urcs.append(self.line(timeout))
                continue
            info.append(l)

    def ok(self, command, timeout=None):
        info, final = self.cmd(command, timeout)
        check(final == "OK", "%s -> %s %s" % (command, info, final))
        return info

    def send_pdu(self, hexpdu, tpdu_len, timeout=None):
        """AT+CMGS in PDU mode; returns (info, final)."""
        self.write("AT+CMGS=%d\r" % tpdu_len)
        deadline = time.monotonic() + (timeout or self.timeout)
        while b">" not in self.buf and b"ERROR" not in self.buf:
            if not self._fill(deadline):
                raise Fail("%s: no prompt; got %r" % (self.path, self.buf))
        if b">" not in self.buf:  # refused before the prompt
            return [], self.line(timeout)
        self.read_until(b">", timeout)
        self.write(hexpdu + "\x1a")
        info = []
        while True:
            l = self.line(timeout)
            if l.startswith(FINALS):
                return info, l
            if l.startswith("+CMGS"):
                info.append(l)

    def urc(self, prefix, timeout=None):
        """Waits for an unsolicited line starting with prefix; returns it (and for +CMT/+CDS
        the PDU line too, as a tuple)."""
        for i, u in enumerate(self.urcs):
            if u.startswith(prefix):
                del self.urcs[i]
                if prefix in ("+CMT:", "+CDS:"):
                    return u, self.urcs.pop(i)
                return u
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            l = self.line(max(0.01, deadline - time.monotonic()))
            if l.startswith(prefix):
                if prefix in ("+CMT:", "+CDS:"):
                    return l, self.line(timeout)
                return l
            self.urcs.append(l)

    def silent(self, seconds):
        """True when nothing arrives for that long."""
        deadline = time.monotonic() + seconds
        n = len(self.buf)
        while self._fill(deadline):
            pass
        return len(self.buf) == n


def sim_binary():
    return os.path.join(os.environ["PUENTE_BUILD"], "puente-sim")


def ctl(sock, *words, expect_ok=True):
    p = subprocess.run([sim_binary(), "ctl", sock] + list(words), capture_output=True,
                       text=True, timeout=15)
    if expect_ok:
        check(p.returncode == 0, "ctl %s -> %s%s" % (" ".join(words), p.stdout, p.stderr))
    return p.returncode, p.stdout + p.stderr


def records(path, event=None):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for l in f:
            r = json.loads(l)
            if event is None or r["event"] == event:
                out.append(r)
    return out


def wait_records(path, event, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = records(path, event)
        if len(r) >= count:
            return r
        time.sleep(0.02)
    raise Fail("expected %d %s records in %s, got %r" % (count, event, path,
                                                          records(path, event)))


def wait_path(path, timeout=10.0, gone=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.lexists(path) != gone:
            return
        time.sleep(0.02)
    raise Fail("%s did not %s" % (path, "go away" if gone else "appear"))


def run(main):
    try:
        main()
    except Fail as e:
        import traceback
        traceback.print_exc()
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("all checks passed")


# ---- a minimal, independent TS 23.040 encoder/decoder for the tests (not the codec under
# test: a second implementation catches mistakes that one would share with itself) ----

GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def _pack7(septets, fill):
    bits = [0] * fill
    for s in septets:
        bits += [(s >> i) & 1 for i in range(7)]
    while len(bits) % 8:
        bits.append(0)
    return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


def _unpack7(data, count, skip_bits):
    bits = []
    for b in data:
        bits += [(b >> i) & 1 for i in range(8)]
    bits = bits[skip_bits:]
    return [sum(bits[i * 7 + j] << j for j in range(7)) for i in range(count)]


def _addr(number):
    toa = 0x91 if number.startswith("+") else 0x81
    digits = number.lstrip("+")
    d = digits + ("F" if len(digits) % 2 else "")
    bcd = "".join(d[i + 1] + d[i] for i in range(0, len(d), 2))
    return "%02X%02X%s" % (len(digits), toa, bcd)


def gsm7_ok(text):
    return all(c in GSM7 and c != "\x1b" for c in text)


def submit_pdus(text, to, srr=False, ref=7):
    """SMS-SUBMIT parts as (hex, tpdu_len), without SMSC (the "00" octet)."""
    seven = gsm7_ok(text)
    per, single = (153, 160) if seven else (67, 70)
    units = text if seven else text.encode("utf-16-be")
    n = len(units) if seven else len(units) // 2
    chunks = [text] if n <= single else [
        text[i:i + per] for i in range(0, len(text), per)] if seven else None
    if not seven:
        u = [units[i:i + 2] for i in range(0, len(units), 2)]
        chunks = [b"".join(u)] if n <= single else [
            b"".join(u[i:i + per]) for i in range(0, n, per)]
    out = []
    for k, chunk in enumerate(chunks):
        udh = b""
        if len(chunks) > 1:
            udh = bytes([5, 0, 3, ref & 0xFF, len(chunks), k + 1])
        fo = 0x01 | (0x40 if udh else 0) | (0x20 if srr else 0)
        if seven:
            sep = [GSM7.index(c) for c in chunk]
            fill = (7 - (len(udh) * 8) % 7) % 7 if udh else 0
            ud = udh + _pack7(sep, fill)
            udl = len(sep) + ((len(udh) * 8 + fill) // 7 if udh else 0)
            dcs = 0
        else:
            ud = udh + chunk
            udl = len(ud)
            dcs = 8
        tpdu = "%02X00%s00%02X%02X%s" % (fo, _addr(to), dcs, udl, ud.hex().upper())
        out.append(("00" + tpdu, len(tpdu) // 2))
    return out


def decode_deliver(hexpdu):
    """Returns dict(type, oa, text, concat=(ref,total,seq)|None, status, mr)."""
    b = bytes.fromhex(hexpdu)
    i = 1 + b[0]
    fo = b[i]
    i += 1
    mti = fo & 3
    if mti == 2:  # STATUS-REPORT
        mr = b[i]
        alen = b[i + 1]
        i += 3 + (alen + 1) // 2 + 14
        return {"type": "status-report", "mr": mr, "status": b[i]}
    alen, toa = b[i], b[i + 1]
    raw = b[i + 2:i + 2 + (alen + 1) // 2]
    i += 2 + (alen + 1) // 2
    if toa & 0x70 == 0x50:
        oa = "".join(GSM7[s] for s in _unpack7(raw, alen * 4 // 7, 0))
    else:
        oa = ("+" if toa & 0x70 == 0x10 else "") + "".join(
            "%X%X" % (x & 15, x >> 4) for x in raw).rstrip("F")[:alen]
    pid, dcs = b[i], b[i + 1]
    i += 2 + 7
    udl = b[i]
    ud = b[i + 1:]
    concat, hl = None, 0
    if fo & 0x40:
        hl = ud[0] + 1
        h = ud[1:hl]
        if h[0] == 0:
            concat = (h[2], h[3], h[4])
    if dcs & 0x0C == 0x08:
        text = ud[hl:udl].decode("utf-16-be")
    else:
        skip = (hl * 8 + 6) // 7
        text = "".join(GSM7[s] for s in _unpack7(ud, udl, 0)[skip:])
    return {"type": "deliver", "oa": oa, "text": text, "concat": concat}
