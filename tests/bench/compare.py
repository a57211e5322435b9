#!/usr/bin/env python3
"""make bench, the side-by-side half: puented, gammu-smsd (files backend) and SMS Server Tools 3
smsd driven through the same puente-sim modems with the same messages. Measures wall time,
messages per second, CPU (the daemons' processes: every task's run time from
/proc/PID/task/*/schedstat, i.e. utime+stime) and peak RSS (VmHWM summed over the daemon's
processes), medians of several runs, the receive path, and each modem's busy share at a
realistic AT+CMGS latency. Prints a Markdown report (stdout and --out)."""

import argparse
import calendar
import collections
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PHONES = ["+52155123456%02d" % i for i in range(1, 6)]
GAMMU_TUNED = {"loopsleep": 0, "receivefrequency": 1, "commtimeout": 1}
SMSD_TUNED = {"delaytime": 1, "delaytime_mainprocess": 1}
MEM_MAPS_SHOWN = 12  # mappings listed by name in the memory table; the rest summed


def messages(n):
    """n unique (phone, text): GSM 7-bit, UCS-2 Spanish, 2-part GSM and 2-part UCS-2."""
    kinds = [
        lambda i: "Cita %d: mañana a las 9 en la clínica" % i,
        lambda i: "Recordatorio %d: " % i + "tome su medicamento con agua. " * 6,
        lambda i: "¿Cómo se siente hoy? Responda 1-5 (%d) ✓" % i,
        lambda i: "Aviso %d — " % i + "vacunación gratuita para niñas y niños. " * 3,
        lambda i: "Hola %d" % i,
    ]
    return [(PHONES[i % len(PHONES)], kinds[i % len(kinds)](i)) for i in range(n)]


def incoming(n):
    """n unique (sender, text) phones send: a quarter in 3 parts, UCS-2 and GSM 7-bit."""
    out = []
    for i in range(n):
        sender = "+525512%06d" % (40000 + i % 17)
        if i % 4 == 0:
            text = "Respuesta larga %d: " % i + "me siento bien, gracias por preguntar. " * 9
        elif i % 4 == 1:
            text = "Sí, asistiré %d ✓" % i
        else:
            text = "OK %d" % i
        out.append((sender, text))
    return out


# ---------------------------------------------------------------- processes and /proc

def tree(pid):
    """pid and every descendant alive now."""
    kids = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    s = f.read()
                ppid = int(s[s.rindex(")") + 2:].split()[1])
                kids[ppid].append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pids):
    """Run time of every thread of pids (schedstat, ns), plus their reaped children's."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            for t in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    total += int(f.read().split()[0]) / 1e9
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += (int(fields[13]) + int(fields[14])) / tick  # cutime, cstime
        except (OSError, ValueError):
            pass
    return total


def hwm_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def mem_parts(pid):
    """One process's resident set now, split as the kernel counts it (KiB): VmHWM, VmRSS,
    RssAnon (heap, stacks, library data written at relocation) and RssFile (pages of the
    program and its shared libraries mapped in; shared with any other process using them),
    and the resident KiB of each mapping, largest first."""
    out = {"maps": []}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(line.split()[1])
        per = collections.Counter()
        name = None
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                fields = line.split()
                if "-" in fields[0] and ":" not in fields[0]:
                    name = os.path.basename(fields[5]) if len(fields) > 5 else "[anonymous]"
                elif fields[0] == "Rss:":
                    per[name] += int(fields[1])
        out["maps"] = [(n, k) for n, k in per.most_common() if k > 0]
    except (OSError, ValueError, IndexError):
        pass
    return out


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stamp(iso):
    """The record's "2026-11-27T22:48:10.779Z" as ms since the epoch."""
    t = calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))
    return t * 1000 + int(iso[20:23])


SPAWNED = []  # every process started here, stopped at exit whatever happens


def spawn(args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.DEVNULL)
    p = subprocess.Popen(args, **kw)
    SPAWNED.append(p)
    return p


class Sim:
    def __init__(self, build, d, modems, latency):
        self.d, self.ctl_path, self.rec = d, d + "/ctl", d + "/rec.jsonl"
        self.paths = ["%s/m%d" % (d, i + 1) for i in range(modems)]
        args = [build + "/puente-sim", "-s", self.ctl_path, "-r", self.rec, "-l", str(latency)]
        for i, p in enumerate(self.paths):
            args += ["-m", "m%d=%s" % (i + 1, p)]
        self.log = open(d + "/sim.log", "w")
        self.p = spawn(args, stderr=self.log)
        for _ in range(200):
            if os.path.exists(self.ctl_path) and all(os.path.exists(p) for p in self.paths):
                break
            if self.p.poll() is not None:
                raise SystemExit("puente-sim died: see " + d + "/sim.log")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.ctl_path)
        self.f = self.sock.makefile("rw", encoding="utf-8")
        self.pos, self.counts, self.parts = 0, collections.Counter(), []

    def cmd(self, line):
        self.f.write(line + "\n")
        self.f.flush()
        while True:
            a = self.f.readline()
            if not a or a.startswith("OK") or a.startswith("ERR"):
                break
        if not a.startswith("OK"):
            raise SystemExit("puente-sim ctl %r: %r" % (line, a))

    def poll(self):
        """Reads new record lines; counts events, keeps (time, modem) of each part."""
        try:
            with open(self.rec, encoding="utf-8") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind("\n") + 1
        self.pos += len(data[:end].encode("utf-8"))
        for line in data[:end].splitlines():
            r = json.loads(line)
            r["time"] = stamp(r["time"])
            self.counts[r["event"]] += 1
            if r["event"] == "part":
                self.parts.append((r["time"], r["modem"]))
            elif r["event"] == "message":
                self.last_message = r["time"]

    def close(self):
        self.sock.close()
        stop([self.p])
        self.log.close()


def wait_for(cond, cap):
    """Polls cond every 20 ms up to cap seconds; True if it held."""
    end = time.monotonic() + cap
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


# ---------------------------------------------------------------- the daemons

class Puented:
    name = "puented"

    def __init__(self, a, d, sim):
        self.a, self.d, self.sim = a, d, sim
        self.conf = d + "/puente.conf"
        self.db = d + "/puente.db"
        with open(self.conf, "w") as f:
            f.write('database = "%s"\nstate_directory = "%s"\nautodetect = false\n'
                    "daily_limit = 0\nsend_rate = 0\n" % (self.db, d))
            for p in sim.paths:
                f.write('modem "%s" { }\n' % p)

    def queue(self, msgs):
        # A store queued once per message list (puentectl send, one transaction a message)
        # is copied for each run: queuing is not the daemon's work.
        hist = getattr(self.a, "history_now", 0)
        key = os.path.join(self.a.tmp, "queued-%d-%d.db" % (len(msgs), hist))
        if not os.path.exists(key):
            q = tempfile.mkdtemp(dir=self.a.tmp)
            conf = q + "/puente.conf"
            with open(conf, "w") as f:
                f.write('database = "%s/puente.db"\nstate_directory = "%s"\nautodetect = false\n'
                        % (q, q))
            for to, text in msgs:
                subprocess.run([self.a.build + "/puentectl", "--config", conf, "send", "--to",
                                to, text], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            c = sqlite3.connect(q + "/puente.db")
            if hist:
                add_history(c, hist)
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            c.close()
            shutil.copy(q + "/puente.db", key)
        shutil.copy(key, self.db)

    def start(self):
        env = dict(os.environ)
        self.log = open(self.d + "/puented.log", "w")
        return [spawn([self.a.build + "/puented", "--config", self.conf], env=env,
                      stdout=self.log, stderr=self.log)]

    def ready(self):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=1)
            n = c.execute("SELECT count(*) FROM modems WHERE state IN ('ready','sending')") \
                .fetchone()[0]
            c.close()
            return n >= len(self.sim.paths)
        except sqlite3.Error:
            return False

    def received(self):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=1)
            n = c.execute("SELECT count(*) FROM incoming WHERE complete = 1").fetchone()[0]
            c.close()
            return n
        except sqlite3.Error:
            return 0


def add_history(c, n):
    """What a box holds after months of work: n one-part messages sent before (9 in 10
    delivered, 1 in 50 of those undeliverable, the rest without a report), their reports, and
    n/2 messages received and handled, all older than the queued ones."""
    c.executescript("""
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %(n)d)
        INSERT INTO outgoing (recipient, text, encoding, part_count, concat_ref, created)
          SELECT '+5215512345' || printf('%%03d', i %% 500),
                 'Recordatorio ' || i || ': su cita de control es el martes a las 9', 'gsm7',
                 1, 0, 1600000000 + i * 60 FROM n;
        INSERT INTO outgoing_parts (message_id, seq, state, next_attempt, mr, sent_at, updated,
                                    report_status, reported_at, attempts)
          SELECT id, 1, CASE WHEN id %% 10 = 0 THEN 'sent' WHEN id %% 50 = 1
                             THEN 'undeliverable' ELSE 'delivered' END,
                 created, id %% 256, created, created + 30,
                 CASE WHEN id %% 10 = 0 THEN NULL WHEN id %% 50 = 1 THEN 65 ELSE 0 END,
                 CASE WHEN id %% 10 = 0 THEN NULL ELSE created + 30 END, 1
          FROM outgoing WHERE created >= 1600000000 AND created < 1700000000;
        INSERT INTO reports (mr, recipient, status, time, part_id)
          SELECT p.mr, o.recipient, p.report_status, p.reported_at, p.id
          FROM outgoing_parts p JOIN outgoing o ON o.id = p.message_id
          WHERE p.report_status IS NOT NULL;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %(n)d / 2)
        INSERT INTO incoming (sender, text, parts, complete, sc_time, received, handled)
          SELECT '+5215512345' || printf('%%03d', i %% 500), 'SI ' || i, 1, 1,
                 1600000000 + i * 120, 1600000000 + i * 120 + 5, 1 FROM n;
        COMMIT;
    """ % {"n": n})


class Gammu:
    """One gammu-smsd per modem (it drives one phone), each with its own outbox."""
    name = "gammu-smsd"

    def __init__(self, a, d, sim):
        self.a, self.d, self.sim = a, d, sim
        self.confs = []
        for i, p in enumerate(sim.paths):
            g = "%s/g%d" % (d, i + 1)
            for sub in ("inbox", "outbox", "sent", "error"):
                os.makedirs("%s/%s" % (g, sub))
            conf = g + "/gammu.conf"
            with open(conf, "w") as f:
                f.write("[gammu]\ndevice = %s\nconnection = at\n\n[smsd]\nservice = files\n"
                        "inboxpath = %s/inbox/\noutboxpath = %s/outbox/\nsentsmspath = %s/sent/\n"
                        "errorsmspath = %s/error/\ninboxformat = standard\ntransmitformat = auto\n"
                        "logfile = %s/smsd.log\ndebuglevel = 0\nstatusfrequency = 0\n"
                        "checksecurity = 0\ncheckbattery = 0\nchecksignal = 0\nphoneid = sim%d\n"
                        "pidfile = %s/pid\n" % (p, g, g, g, g, g, i + 1, g))
                for k, v in a.gammu.items():
                    f.write("%s = %s\n" % (k, v))
            self.confs.append((g, conf))

    def queue(self, msgs):
        # the outbox is split between the modems' processes, round robin
        for i, (to, text) in enumerate(msgs):
            g = self.confs[i % len(self.confs)][0]
            name = "%s/outbox/OUTA20260101_000000_%04d_%s_t.txt" % (g, i, to)
            with open(name, "wb") as f:
                f.write(b"\xfe\xff" + text.encode("utf-16-be"))  # BOM: UCS-2 read as is

    def start(self):
        return [spawn(["gammu-smsd", "-c", conf], stderr=subprocess.DEVNULL)
                for _, conf in self.confs]

    def received(self):
        # inboxformat standard: one file per part; a message is complete when all are there
        return sum(len(os.listdir(g + "/inbox")) for g, _ in self.confs)


class Smstools:
    """One smsd for every modem (it forks a process per device)."""
    name = "smsd"

    def __init__(self, a, d, sim):
        self.a, self.d, self.sim = a, d, sim
        for sub in ("outgoing", "checked", "incoming", "failed", "sent", "spool"):
            os.makedirs("%s/%s" % (d, sub))
        devs = ["GSM%d" % (i + 1) for i in range(len(sim.paths))]
        with open(d + "/smsd.conf", "w") as f:
            f.write("devices = %s\nlogfile = %s/smsd.log\nloglevel = 3\noutgoing = %s/outgoing\n"
                    "checked = %s/checked\nincoming = %s/incoming\nfailed = %s/failed\n"
                    "sent = %s/sent\ndecode_unicode_text = yes\nincoming_utf8 = yes\n"
                    "internal_combine = yes\n" % (",".join(devs), d, d, d, d, d, d))
            for k, v in a.smsd.items():
                f.write("%s = %s\n" % (k, v))
            for dev, p in zip(devs, sim.paths):
                f.write("\n[%s]\ndevice = %s\nincoming = yes\npin = ignore\n"
                        "cs_convert_optical = no\n" % (dev, p))

    def queue(self, msgs):
        # written aside and moved in, so smsd never reads a half-written file
        for i, (to, text) in enumerate(msgs):
            tmp = "%s/spool/m%04d" % (self.d, i)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("To: %s\nAlphabet: UTF\n\n%s" % (to.lstrip("+"), text))
            os.rename(tmp, "%s/outgoing/m%04d" % (self.d, i))

    def start(self):
        d = self.d
        return [spawn(["smsd", "-t", "-c", d + "/smsd.conf", "-p", d + "/smsd.pid",
                       "-i", d + "/smsd.working"], stderr=subprocess.DEVNULL)]

    def received(self):
        return sum(1 for n in os.listdir(self.d + "/incoming") if n.startswith("GSM"))


DAEMONS = {"puented": Puented, "gammu-smsd": Gammu, "smsd": Smstools}


def measure(procs):
    pids = [q for p in procs for q in tree(p.pid)]
    return cpu_seconds(pids), hwm_kib(pids)


# ---------------------------------------------------------------- the three runs

def run_send(a, kind, modems, msgs, cap):
    d = tempfile.mkdtemp(prefix="%s-send%d-" % (kind, modems), dir=a.tmp)
    sim = Sim(a.build, d, modems, 0)
    daemon = DAEMONS[kind](a, d, sim)
    daemon.queue(msgs)
    t0 = time.monotonic()
    wall0 = time.time()
    procs = daemon.start()
    n = len(msgs)

    def done():
        sim.poll()
        return sim.counts["message"] >= n
    complete = wait_for(done, cap)
    t1 = time.monotonic()
    cpu, hwm = measure(procs)
    mem = mem_parts(procs[0].pid) if kind == "puented" else None
    stop(procs)
    sim.poll()
    got = sim.counts["message"]
    parts = sim.counts["part"]
    first = min(t for t, _ in sim.parts) / 1000 if sim.parts else wall0
    last = sim.last_message / 1000 if got else time.time()
    sim.close()
    if not a.keep:
        shutil.rmtree(d, ignore_errors=True)
    window = max(1e-3, last - first)
    return {"wall": t1 - t0 if complete else float("nan"), "got": got, "parts": parts,
            "msg_s": got / window, "parts_s_modem": parts / window / modems,
            "cpu_1000": cpu * 1000 / max(1, got), "cpu_part_ms": cpu * 1000 / max(1, parts),
            "rss_mib": hwm / 1024, "complete": complete, "startup": first - wall0, "mem": mem}


def run_recv(a, kind, modems, msgs, cap):
    d = tempfile.mkdtemp(prefix="%s-recv%d-" % (kind, modems), dir=a.tmp)
    sim = Sim(a.build, d, modems, 0)
    daemon = DAEMONS[kind](a, d, sim)
    procs = daemon.start()
    if kind == "puented":
        wait_for(daemon.ready, 30)
    time.sleep(a.settle)  # the peers say nothing when they are ready: give them time
    cpu0, _ = measure(procs)
    t0 = time.monotonic()
    for i, (sender, text) in enumerate(msgs):
        sim.cmd("send %s m%d %s" % (sender, 1 + i % modems, text))
    sim.poll()
    # gammu-smsd keeps a file per part, the others a file or row per message
    want = sim.counts["sent"] if kind != "gammu-smsd" else sum(
        3 if t.startswith("Respuesta larga") else 1 for _, t in msgs)
    complete = wait_for(lambda: daemon.received() >= want, cap)
    t1 = time.monotonic()
    cpu1, hwm = measure(procs)
    got = daemon.received()
    stop(procs)
    sim.close()
    if not a.keep:
        shutil.rmtree(d, ignore_errors=True)
    return {"wall": t1 - t0 if complete else float("nan"), "got": got, "want": want,
            "cpu_msg_ms": (cpu1 - cpu0) * 1000 / len(msgs), "rss_mib": hwm / 1024,
            "complete": complete}


def run_busy(a, kind, modems, msgs, latency_ms, cap):
    d = tempfile.mkdtemp(prefix="%s-busy%d-" % (kind, modems), dir=a.tmp)
    sim = Sim(a.build, d, modems, latency_ms)
    daemon = DAEMONS[kind](a, d, sim)
    daemon.queue(msgs)
    procs = daemon.start()

    def done():
        sim.poll()
        return sim.counts["message"] >= len(msgs)
    complete = wait_for(done, cap)
    stop(procs)
    sim.poll()
    sim.close()
    if not a.keep:
        shutil.rmtree(d, ignore_errors=True)
    return dict(busy_share(sim.parts, latency_ms / 1000, modems), complete=complete,
                got=sim.counts["message"])


def busy_share(parts, lat, modems):
    """Each part holds its modem from the moment its PDU reached the simulator (the record's
    time) for the fixed latency; work is queued from the first part until the last part was
    taken. Share of that window each modem spent busy."""
    if not parts:
        return {"min": 0.0, "mean": 0.0, "window": 0.0}
    t0 = min(t for t, _ in parts) / 1000
    t_end = max(t for t, _ in parts) / 1000
    window = max(lat, t_end - t0)
    shares = []
    for m in ["m%d" % (i + 1) for i in range(modems)]:
        busy = sum(max(0.0, min(t / 1000 + lat, t_end) - t / 1000)
                   for t, mm in parts if mm == m)
        shares.append(min(1.0, busy / (t_end - t0)) if t_end > t0 else 1.0)
    return {"min": min(shares), "mean": statistics.mean(shares), "window": window}


# ---------------------------------------------------------------- report

def med(rows, key):
    vals = [r[key] for r in rows if r[key] == r[key]]
    return statistics.median(vals) if vals else float("nan")


def fmt(v, digits=2):
    if v != v:
        return "—"
    return ("%%.%df" % digits) % v


def machine():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        except OSError:
            return ""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    load = open("/proc/loadavg").read().split()[:3]
    gammu = out(["gammu-smsd", "--version"]).splitlines()[:1]
    smsd = out(["smsd", "-V"]).splitlines()[:1]
    gcc = out(["gcc", "--version"]).splitlines()[:1]
    return ["- CPU: %s, %d cores; load average at start %s" % (cpu, os.cpu_count(), " ".join(load)),
            "- kernel: %s %s" % (platform.system(), platform.release()),
            "- gcc: %s" % (gcc[0] if gcc else "?"),
            "- gammu-smsd: %s" % (gammu[0] if gammu else "not installed"),
            "- smsd: %s" % (smsd[0].split(",")[0] if smsd else "not installed"),
            "- puented: %s" % out(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                                   "describe", "--always", "--dirty"]).strip()]


def send_table(res, kinds, modem_counts, n):
    lines = ["| daemon | modems | wall s | msg/s | parts/s per modem | CPU s per 1,000 msg | "
             "CPU ms per part | peak RSS MiB | delivered |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in modem_counts:
        rows = {k: res[(k, m)] for k in kinds if res.get((k, m))}
        best = {"msg_s": max(med(r, "msg_s") for r in rows.values()),
                "cpu_1000": min(med(r, "cpu_1000") for r in rows.values()),
                "rss_mib": min(med(r, "rss_mib") for r in rows.values())}
        walls = [med(r, "wall") for r in rows.values() if med(r, "wall") == med(r, "wall")]
        best["wall"] = min(walls) if walls else float("nan")
        for k, r in rows.items():
            def cell(key, digits, lower_better):
                v = med(r, key)
                ratio = (v / best[key] if lower_better else best[key] / v) if v and v == v else 0
                return "%s (%s×)" % (fmt(v, digits), fmt(ratio, 1)) if ratio else fmt(v, digits)
            lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                k, m, cell("wall", 1, True), cell("msg_s", 1, False),
                fmt(med(r, "parts_s_modem"), 1), cell("cpu_1000", 2, True),
                fmt(med(r, "cpu_part_ms"), 3), cell("rss_mib", 1, True),
                "%d/%d%s" % (min(x["got"] for x in r), n,
                             "" if all(x["complete"] for x in r) else " in the cap")))
    return lines


def mem_table(mem):
    """puented's resident set at the end of the last 4-modem send (docs/benchmarks.md)."""
    if not mem or "VmRSS" not in mem:
        return []
    def mib(kib):
        return "%.1f" % (kib / 1024)
    out = ["### puented's resident set at the end of the last 4-modem send", "",
           "VmHWM %s MiB, VmRSS %s MiB = RssAnon %s + RssFile %s MiB. Largest mappings:" % (
               mib(mem.get("VmHWM", 0)), mib(mem["VmRSS"]), mib(mem.get("RssAnon", 0)),
               mib(mem.get("RssFile", 0))), "", "| mapping | resident MiB |", "|---|---|"]
    shown = mem["maps"][:MEM_MAPS_SHOWN]
    out += ["| %s | %s |" % (n, mib(k)) for n, k in shown]
    rest = mem["maps"][MEM_MAPS_SHOWN:]
    if rest:
        out.append("| %d others | %s |" % (len(rest), mib(sum(k for _, k in rest))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="directory holding puented, puentectl, puente-sim")
    ap.add_argument("--quick", action="store_true", help="short run (BENCH_QUICK=1)")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--recv-runs", type=int, default=1, help="runs of the receive path")
    ap.add_argument("--out", help="also write the report here")
    ap.add_argument("--only", default="puented,gammu-smsd,smsd")
    ap.add_argument("--keep", action="store_true", help="keep the temp directories")
    ap.add_argument("--skip", default="", help="comma list of send,recv,busy to skip")
    ap.add_argument("--history", type=int, default=0,
                    help="also send through puented on a store already holding this many parts")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.gammu, a.smsd = GAMMU_TUNED, SMSD_TUNED
    a.settle = 3.0
    q = a.quick
    runs = a.runs or (1 if q else 3)
    n_send, n_recv, n_busy = (200, 60, 16) if q else (1000, 200, 24)
    cap_send = 25 if q else 30
    skip = set(a.skip.split(",")) - {""}
    kinds = [k for k in a.only.split(",") if k in DAEMONS]
    kinds = [k for k in kinds if k == "puented" or shutil.which(k)]
    a.tmp = tempfile.mkdtemp(prefix="puente-bench-")
    os.environ.setdefault("LANG", "C.UTF-8")
    report = ["## Side by side (%s)" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), ""]
    report += machine() + [""]
    try:
        if "send" not in skip:
            msgs = messages(n_send)
            res = {}
            for m in (1, 4):
                for r in range(runs):
                    for k in kinds:
                        x = run_send(a, k, m, msgs, cap_send)
                        res.setdefault((k, m), []).append(x)
                        print("send %s %d modem(s) run %d: %s" % (k, m, r + 1, json.dumps(
                            {kk: round(v, 4) if isinstance(v, float) else v
                             for kk, v in x.items() if kk != "mem"})), file=sys.stderr,
                              flush=True)
            report += ["### Sending %d messages (%d parts; GSM 7-bit, UCS-2 Spanish, a "
                       "quarter... see below), zero latency, median of %d run(s)" %
                       (n_send, max(x["parts"] for v in res.values() for x in v), runs), ""]
            report[-2] = report[-2].replace(" a quarter... see below", " 2 in 5 in 2 parts")
            report += send_table(res, kinds, (1, 4), n_send) + [""]
            if ("puented", 4) in res:
                report += mem_table(res[("puented", 4)][-1]["mem"]) + [""]
            if a.history and "puented" in kinds:
                a.history_now = a.history
                hres = {}
                for m in (1, 4):
                    for r in range(runs):
                        x = run_send(a, "puented", m, msgs, cap_send)
                        hres.setdefault(("puented", m), []).append(x)
                        print("send puented %d modem(s) on history run %d: cpu %.4f ms/part" %
                              (m, r + 1, x["cpu_part_ms"]), file=sys.stderr, flush=True)
                a.history_now = 0
                report += ["### The same through puented on a store that already holds %d parts "
                           "sent, their reports and %d messages received" %
                           (a.history, a.history // 2), ""]
                report += send_table(hres, ["puented"], (1, 4), n_send) + [""]
        if "recv" not in skip:
            msgs = incoming(n_recv)
            res = {}
            for m in (1, 4):
                for r in range(a.recv_runs):
                    for k in kinds:
                        x = run_recv(a, k, m, msgs, cap_send)
                        res.setdefault((k, m), []).append(x)
                        print("recv %s %d: %s" % (k, m, x), file=sys.stderr, flush=True)
            report += ["### Receiving %d messages (a quarter in 3 parts), zero latency, "
                       "median of %d run(s)" % (n_recv, a.recv_runs), "",
                       "| daemon | modems | stored in s | CPU ms per message | peak RSS MiB | stored |",
                       "|---|---|---|---|---|---|"]
            for m in (1, 4):
                for k in kinds:
                    r = res[(k, m)]
                    report.append("| %s | %d | %s | %s | %s | %d/%d%s |" % (
                        k, m, fmt(med(r, "wall"), 2), fmt(med(r, "cpu_msg_ms"), 3),
                        fmt(med(r, "rss_mib"), 1), min(x["got"] for x in r), r[0]["want"],
                        "" if all(x["complete"] for x in r) else " in the cap"))
            report.append("")
        if "busy" not in skip:
            lat = 3000
            msgs = messages(n_busy)
            report += ["### Modem busy share at %d ms per AT+CMGS, 4 modems, %d messages" %
                       (lat, n_busy), "",
                       "| daemon | lowest modem | mean | window s | delivered |", "|---|---|---|---|---|"]
            for k in kinds:
                x = run_busy(a, k, 4, msgs, lat, 40 if q else 60)
                print("busy %s: %s" % (k, x), file=sys.stderr, flush=True)
                report.append("| %s | %.1f%% | %.1f%% | %.1f | %d/%d |" % (
                    k, 100 * x["min"], 100 * x["mean"], x["window"], x["got"], n_busy))
            report.append("")
    finally:
        stop([p for p in SPAWNED if p.poll() is None])
        if not a.keep:
            shutil.rmtree(a.tmp, ignore_errors=True)
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
