"""The cohort of tests/integration/rules-cohort.sh and harden-clockjump.sh, and what both do
with it: the contacts CSV and sealed list, `puentectl rules simulate` for each contact (what
it must receive, and when), a faked clock moved step by step, and puente-sim's record read
back per phone. Imported by the scripts' inline Python; not a test itself."""
import datetime
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
import zoneinfo

ZONE = zoneinfo.ZoneInfo("America/Mexico_City")  # the programme's (cohort/programa.conf)
DAY0 = "2026-03-02"                               # every contact's `inicio`
LAST = "2026-03-14"                               # the programme has ended by then

# study id, phone, name, arm (the sealed list), scripted replies (local "YYYY-MM-DD HH:MM", text)
CONTACTS = [
    ("C1", "+525520000101", "Ana", "a", [("2026-03-05 15:20", "2")]),          # quiz, right
    ("C2", "+525520000102", "Berta", "a", [("2026-03-05 15:10", "hola"),       # invalid,
                                           ("2026-03-05 15:30", "1")]),        # then wrong
    ("C3", "+525520000103", "Carmen", "a", []),                                # quiz times out
    ("C4", "+525520000104", "Dulce", "a", [("2026-03-06 12:00", "BAJA")]),     # opts out midway
    ("C5", "+525520000105", "Elena", "b", [("2026-03-04 12:00", "AYUDA")]),    # help
    ("C6", "+525520000106", "Flor", "b", [("2026-03-08 09:30", "BAJA")]),      # opts out later
]

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d)  (\S+)")
MESSAGE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d)  (reminder|reply)\b.*?\s(\d+) (gsm7|ucs2) (.*)$")


def epoch(local):
    """'YYYY-MM-DD HH:MM' in the programme's zone -> UTC seconds."""
    t = datetime.datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)
    return int(t.timestamp())


def local_minute(utc_seconds):
    t = datetime.datetime.fromtimestamp(utc_seconds, ZONE)
    return t.strftime("%Y-%m-%d %H:%M")


def prepare(t, src, day0=DAY0, settings=()):
    """The rules (with the sealed list's path), the list and the contacts CSV under t; day0
    is everyone's `inicio`; settings are (old, new) replacements in the rules' text."""
    rules = os.path.join(t, "rules")
    os.makedirs(rules, exist_ok=True)
    with open(os.path.join(t, "sealed.csv"), "w") as f:
        for c in CONTACTS:
            f.write("%s,%s\n" % (c[0], c[3]))
    text = open(os.path.join(src, "tests/integration/cohort/programa.conf")).read()
    with open(os.path.join(rules, "programa.conf"), "w") as f:
        text = text.replace("SEALED_LIST", os.path.join(t, "sealed.csv"))
        for old, new in settings:
            if old not in text:
                raise SystemExit("cohort: %r is not in programa.conf" % old)
            text = text.replace(old, new)
        f.write(text)
    with open(os.path.join(t, "contacts.csv"), "w") as f:
        f.write("study_id,phone,clinic,inicio,name\n")
        for c in CONTACTS:
            f.write("%s,%s,CS-PRUEBA,%s,%s\n" % (c[0], c[1], day0, c[2]))
    return rules


def simulate(puentectl, rules, t, contact, arm):
    """What `rules simulate` says this contact gets: (all event times, [(minute, text)])."""
    sid, phone, name, _, replies = contact
    rfile = os.path.join(t, "replies-%s" % sid)
    with open(rfile, "w") as f:
        for when, text in replies:
            f.write("%s %s\n" % (when, text))
    out = subprocess.run([puentectl, "rules", "simulate", "--dir", rules, "--contact",
                          "inicio=%s,arm=%s,name=%s,clinic=CS-PRUEBA" % (DAY0, arm, name),
                          "--from", DAY0, "--to", LAST, "--replies", rfile],
                         check=True, capture_output=True, text=True).stdout
    times, msgs = set(), []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            times.add(m.group(1))
        m = MESSAGE.match(line)
        if m:
            msgs.append((m.group(1), m.group(5)))
    return times, msgs


def received(rec):
    """phone -> [(local minute, text)] of whole messages, in the record's order."""
    got = {}
    if not os.path.exists(rec):
        return got
    for line in open(rec, encoding="utf-8"):
        r = json.loads(line)
        if r.get("event") != "message":
            continue
        when = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        utc = int(when.replace(tzinfo=datetime.timezone.utc).timestamp())
        got.setdefault(r["phone"], []).append((local_minute(utc), r["text"]))
    return got


class Clock:
    """The faked clock of the programs started with fc_run (daemon-lib.bash): an offset in
    seconds from the real clock, written atomically."""

    def __init__(self, t):
        self.path = os.path.join(t, "faketime")

    def set(self, utc_seconds):
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write("%+d\n" % (utc_seconds - int(time.time())))
        os.replace(tmp, self.path)


def wake(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"wake", sock)
    s.close()


def sim_send(sim, ctl, phone, text):
    subprocess.run([sim, "ctl", ctl, "send", phone, "m1", text], check=True, timeout=10,
                   capture_output=True)


def due_by(db, utc_seconds):
    """Contacts whose next due time is at or before utc_seconds, and contacts with state."""
    c = sqlite3.connect(db, timeout=10)
    try:
        due = c.execute("SELECT count(*) FROM rules_state WHERE next_due <= ?",
                        (utc_seconds,)).fetchone()[0]
        n = c.execute("SELECT count(*) FROM rules_state").fetchone()[0]
        busy = c.execute("SELECT count(*) FROM outgoing_parts WHERE state IN"
                         " ('queued','retry','sending')").fetchone()[0]
        unhandled = c.execute("SELECT count(*) FROM incoming WHERE complete = 1"
                              " AND handled = 0").fetchone()[0]
    finally:
        c.close()
    return due, n, busy, unhandled


def wait(what, cond, secs, alive):
    end = time.time() + secs
    while True:
        r = cond()
        if r is True:
            return
        if time.time() > end:
            raise SystemExit("timed out after %d s waiting for %s (%s)" % (secs, what, r))
        if not alive():
            raise SystemExit("puented died while waiting for %s" % what)
        time.sleep(0.1)


def arms(db):
    """study id -> arm as the store's rules.arm_assigned events say."""
    c = sqlite3.connect(db, timeout=10)
    try:
        rows = c.execute("SELECT c.study_id, e.payload FROM events e JOIN contacts c"
                         " ON c.id = e.contact_id WHERE e.type = 'rules.arm_assigned'").fetchall()
    finally:
        c.close()
    return {sid: json.loads(p).get("arm") for sid, p in rows}


def events(db, kind):
    """[(study id, payload dict, time)] of the store's events of that type, in order."""
    c = sqlite3.connect(db, timeout=10)
    try:
        rows = c.execute("SELECT c.study_id, e.payload, e.time FROM events e LEFT JOIN contacts c"
                         " ON c.id = e.contact_id WHERE e.type = ? ORDER BY e.seq",
                         (kind,)).fetchall()
    finally:
        c.close()
    return [(sid, json.loads(p), t) for sid, p, t in rows]
