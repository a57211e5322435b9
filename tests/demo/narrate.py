#!/usr/bin/env python3
"""The demo's narrator: turns what happened into one plain line per event, timestamped from
the start. Sources, polled twice a second: puente-sim's record (DIR/phones.jsonl: what each
phone received and sent, on which modem), the store (DIR/puente.db: the event log, the modems
table) and the upload target (DIR/central/). Nothing is invented: a line is printed only for
a record line, an event row, a modem state change or a batch file. When DIR/stop exists it
reads everything once more, prints the summary table per arm and exits.
Usage: narrate.py DIR START_EPOCH"""
import collections
import datetime
import glob
import gzip
import json
import os
import sqlite3
import sys
import time

d, start = sys.argv[1], float(sys.argv[2])
DB, REC, CENTRAL = os.path.join(d, "puente.db"), os.path.join(d, "phones.jsonl"), os.path.join(d, "central")
STAFF = {"+525512345601": "staff 1", "+525512345602": "staff 2"}


def fmt_phone(p):
    # +525520000101 -> +52 55 2000 0101
    if p.startswith("+52") and len(p) == 13:
        return "+52 %s %s %s" % (p[3:5], p[5:9], p[9:])
    return p


def stamp(t):
    s = max(0, int(t - start))
    return "%02d:%02d" % (s // 60, s % 60)


PENDING = []   # (time, order, text): held 1.5 s so lines from the three sources come in order


def say(t, text):
    PENDING.append((t, len(PENDING), text))


def flush(all_=False):
    PENDING.sort()
    now = time.time()
    while PENDING and (all_ or PENDING[0][0] < now - 1.5):
        t, _, text = PENDING.pop(0)
        print("%s  %s" % (stamp(t), text), flush=True)


def parse_time(iso):
    # puente-sim stamps records in UTC with milliseconds: 2026-11-27T22:34:34.097Z
    try:
        return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return time.time()


def short(text, n=60):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


SUPPRESSED = {"no_text": "its text needs a value the contact does not have (no_text)"}


class Narrator:
    def __init__(self):
        self.rec_pos = 0
        self.ev_seq = 0
        self.modem_state = {}
        self.batches = set()
        self.arm = {}        # contact id -> arm
        self.phone_of = {}   # contact id -> phone
        self.arm_by_phone = {}
        self.db = None
        self.failed_id = 0

    def q(self, sql, args=()):
        if self.db is None:
            if not os.path.exists(DB):
                return []
            self.db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=5)
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []

    def contact(self, cid):
        if cid not in self.phone_of:
            r = self.q("SELECT phone FROM contacts WHERE id = ?", (cid,))
            if r:
                self.phone_of[cid] = r[0][0]
        return self.phone_of.get(cid, "contact %s" % cid)

    def who(self, p):
        return STAFF.get(p, fmt_phone(p))

    def records(self):
        try:
            with open(REC, encoding="utf-8") as f:
                f.seek(self.rec_pos)
                while True:
                    line = f.readline()
                    if not line.endswith("\n"):
                        break
                    self.rec_pos = f.tell()
                    self.record(json.loads(line))
        except FileNotFoundError:
            pass

    def record(self, r):
        t = parse_time(r.get("time", ""))
        ev, p, m = r.get("event"), r.get("phone", ""), r.get("modem", "?")
        if ev == "message":
            arm = self.arm_by_phone.get(p)
            tail = " (%s)" % arm if arm else ""
            say(t, "%-3s -> %-17s %s%s" % (m, self.who(p), short(r.get("text", "")), tail))
        elif ev == "sent":
            say(t, "%-3s <- %-17s \"%s\"" % (m, self.who(p), short(r.get("text", ""))))
        elif ev == "undeliverable":
            say(t, "%-3s -> %-17s undeliverable" % (m, self.who(p)))

    def events(self):
        for seq, t, typ, cid, payload in self.q(
                "SELECT seq, time, type, contact_id, payload FROM events WHERE seq > ? ORDER BY seq",
                (self.ev_seq,)):
            self.ev_seq = seq
            try:
                p = json.loads(payload)
            except ValueError:
                p = {}
            self.event(t, typ, cid, p)

    def event(self, t, typ, cid, p):
        who = self.who(self.contact(cid)) if cid else ""
        if typ == "rules.arm_assigned" or (typ == "rules.enrolled" and p.get("arm")):
            if cid in self.arm:
                return
            self.arm[cid] = p.get("arm", "?")
            self.arm_by_phone[self.contact(cid)] = self.arm[cid]
            say(t, "enrolled %s in arm %s" % (who, self.arm[cid]))
        elif typ == "rules.loaded":
            say(t, "puented loaded the demo programme (rule set %s)" % str(p.get("rule_set", ""))[:12])
        elif typ == "rules.quiz_started":
            say(t, "quiz %s started for %s" % (p.get("quiz", "?"), who))
        elif typ == "rules.quiz_answer":
            # "right" is false for a question without a right answer too (a branch).
            say(t, "quiz answer from %s: %s%s" % (who, p.get("choice") or "not an option",
                                                  " (right)" if p.get("right") else ""))
        elif typ in ("rules.quiz_completed", "rules.quiz_ended"):
            say(t, "quiz %s done for %s: %s of %s right" % (p.get("quiz", "?"), who,
                                                           p.get("score"), p.get("total")))
        elif typ == "rules.opted_out":
            say(t, "opt-out honoured for %s: nothing more will be sent" % who)
        elif typ == "rules.withdrawn":
            say(t, "%s queued message(s) of %s withdrawn" % (p.get("messages"), who))
        elif typ == "rules.alert_escalated":
            say(t, "warning sign (%s) from %s forwarded to the clinic's staff" % (p.get("keyword", "?"), who))
        elif typ == "rules.reminder_queued":
            say(t, "reminder %s queued for %s" % (p.get("key") or p.get("reminder"), who))
        elif typ == "rules.reminder_suppressed" and p.get("reason") != "not_for_arm":
            say(t, "reminder %s for %s not sent: %s" % (p.get("key") or p.get("reminder"), who,
                                                      SUPPRESSED.get(p.get("reason"), p.get("reason"))))
        elif typ == "rules.keyword_matched":
            say(t, "keyword %s from %s" % (p.get("keyword", "?"), who))
        elif typ.startswith("staff."):
            say(t, "staff: %s %s" % (typ[6:], short(json.dumps(p), 70)))
        elif typ.startswith("upload."):
            say(t, "upload: %s %s" % (typ[7:], short(json.dumps(p), 70)))

    def failures(self):
        for pid, t, to, err in self.q(
                "SELECT p.id, p.updated, o.recipient, p.error FROM outgoing_parts p JOIN outgoing o "
                "ON o.id = p.message_id WHERE p.state IN ('failed', 'undeliverable') AND p.id > ? "
                "ORDER BY p.id", (self.failed_id,)):
            self.failed_id = pid
            say(t, "message to %s failed: %s" % (self.who(to), err or "no reason stored"))

    def modems(self):
        # "sending" and "ready" alternate with every message: only the changes a person
        # cares about are told (up, gone, back).
        for dev, state in self.q("SELECT device, state FROM modems"):
            name = os.path.basename(dev) or dev
            up = state in ("ready", "sending")
            old = self.modem_state.get(name)
            if old == up and state != "unplugged":
                continue
            if state == "unplugged" and old == "unplugged":
                continue
            if up:
                say(time.time(), "modem %s is %s" % (name, "ready" if old is None else "back and ready"))
                self.modem_state[name] = True
            elif state == "unplugged":
                say(time.time(), "modem %s unplugged: the other modem takes the queue" % name)
                self.modem_state[name] = "unplugged"

    def uploads(self):
        for path in sorted(glob.glob(os.path.join(CENTRAL, "**", "*.ndjson.gz"), recursive=True)):
            if path in self.batches:
                continue
            self.batches.add(path)
            try:
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    n = sum(1 for _ in f) - 1
            except (OSError, EOFError):
                self.batches.discard(path)
                continue
            say(os.path.getmtime(path), "anonymized batch uploaded: %s (%d event%s)"
                % (os.path.relpath(path, d), n, "" if n == 1 else "s"))

    def poll(self):
        self.modems()
        self.events()
        self.failures()
        self.records()
        self.uploads()
        flush()

    def summary(self):
        arms = collections.OrderedDict()
        def row(a):
            return arms.setdefault(a, collections.Counter())
        contacts = {cid: ph for cid, ph in self.q("SELECT id, phone FROM contacts")}
        for cid in contacts:
            row(self.arm.get(cid, "(no arm)"))["enrolled"] += 1
        for cid, state, n in self.q("SELECT o.contact_id, p.state, count(*) FROM outgoing o "
                                    "JOIN outgoing_parts p ON p.message_id = o.id "
                                    "WHERE o.contact_id IS NOT NULL GROUP BY 1, 2"):
            c = row(self.arm.get(cid, "(no arm)"))
            if state in ("sent", "delivered", "unknown"):
                c["sent"] += n
            if state == "delivered":
                c["delivered"] += n
        for cid, n in self.q("SELECT contact_id, count(*) FROM incoming "
                             "WHERE contact_id IS NOT NULL GROUP BY 1"):
            row(self.arm.get(cid, "(no arm)"))["replied"] += n
        for cid, typ, payload in self.q("SELECT contact_id, type, payload FROM events WHERE type IN "
                                        "('rules.quiz_completed', 'rules.quiz_ended', 'rules.opted_out')"):
            c = row(self.arm.get(cid, "(no arm)"))
            if typ == "rules.opted_out":
                c["opted out"] += 1
            else:
                p = json.loads(payload)
                c["quizzes"] += 1
                c["right"] += p.get("score") or 0
                c["wrong"] += (p.get("total") or 0) - (p.get("score") or 0)
        cols = ["enrolled", "sent", "delivered", "replied", "quizzes", "right", "wrong", "opted out"]
        print()
        print("Summary per arm, from the store: SMS parts sent and delivered to the arm's contacts,")
        print("messages they sent, quizzes finished and their scored answers right/wrong, opt-outs")
        print("%-12s" % "arm" + "".join("%11s" % c for c in cols))
        if not arms:
            print("(no contacts in the store)")
        for a, c in arms.items():
            print("%-12s" % a + "".join("%11d" % c[k] for k in cols))
        tot = self.q("SELECT count(*), sum(state = 'delivered') FROM outgoing_parts")
        if tot:
            print("all SMS parts in the store: %d, delivered %d" % (tot[0][0], tot[0][1] or 0))
        sys.stdout.flush()


n = Narrator()
while not os.path.exists(os.path.join(d, "stop")):
    n.poll()
    time.sleep(0.5)
n.poll()
flush(True)
n.summary()
