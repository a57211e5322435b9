#!/usr/bin/env bash
# Issue 9: the wall clock jumps hours forward, back and forward again while puented runs
# the cohort programme (tests/integration/cohort/, a cap of 1 message a day): no reminder is
# sent twice, one still inside its window when the clock lands goes (late), one whose window
# the jump passed is skipped and logged (rules.reminder_suppressed, reason missed), every
# jump is logged (rules.clock_jumped), at most one message a day reaches a phone, and the
# queue settles. puente-sim runs under the same faked clock (libfaketime), so the network's
# time agrees with ours and scheduling is not held.
. "$(dirname "$0")/daemon-lib.bash"
fc_available || { echo "harden-clockjump: SKIP: libfaketime not installed ($FAKETIME_LIB)"; exit 0; }
export PUENTE_T=$T PUENTE_DB=$DB PUENTE_SOCK=$SOCK
export PYTHONPATH=$PUENTE_SRC/tests/integration/cohort:$PYTHONPATH

# Enrolled on day 5 at 06:00 (the programme began on day 0: what came before enrolment is
# suppressed as such, not sent). Day 5 holds `cita` 08:00-09:00 for everyone and `consejo`
# 10:00-12:00 for arm a (C1..C4), grace 2 hours, never past the window's end.
at() { python3 -c 'import cohort, sys; print(cohort.epoch(sys.argv[1]))' "$1"; }
fc_set "$(at "2026-03-07 06:00")"
python3 -c 'import cohort, os
cohort.prepare(os.environ["PUENTE_T"], os.environ["PUENTE_SRC"],
               settings=[("max_per_day = 0", "max_per_day = 1")])' >/dev/null
fc_cohort_start "$T/rules"

messages() { record_count message; }
n_events() { q "SELECT count(*) FROM events WHERE type = '$1'"; }
# settled_at LOCAL N: nobody due by then, nothing queued or unread, N messages recorded.
settled_at() {
	local due
	due=$(q "SELECT count(*) FROM rules_state WHERE next_due <= $(at "$1")")
	[ "$due" = 0 ] && parts_settled && [ "$(messages)" = "$2" ] &&
		[ "$(q "SELECT count(*) FROM incoming WHERE complete = 1 AND handled = 0")" = 0 ]
}
# jump LOCAL: the clock jumps there; a wake makes the runner look at once (without one it
# looks within RULES_RUNNER_TIMER_CAP_S = 60 s, test-rules-runner-clock checks that).
jump() { fc_set "$(at "$1")"; dl_wake; }
wait_until 30 "enrolment settled" settled_at "2026-03-07 06:00" 0

jump "2026-03-07 11:00" # +5 h: cita's window (08-09) passed, consejo's (10-12) still open
wait_until 30 "consejo sent late to arm a" settled_at "2026-03-07 11:00" 4
jump "2026-03-07 07:00" # -4 h: both windows are ahead again, and both settled
sleep 2
wait_until 30 "nothing more after the jump back" settled_at "2026-03-07 07:00" 4
jump "2026-03-07 10:30" # +3.5 h, inside consejo's window again: still nothing
sleep 2
wait_until 30 "nothing more inside the window again" settled_at "2026-03-07 10:30" 4
jump "2026-03-09 11:30" # +49 h: day 7's consejo, 1.5 h late, inside its grace
wait_until 30 "day 7's consejo sent" settled_at "2026-03-09 11:30" 8

python3 - <<'PY' || fail "the jumps were not handled as they should"
import collections, datetime, json, os, sys
import cohort as co
t, db = os.environ["PUENTE_T"], os.environ["PUENTE_DB"]
problems = []
arm = {c[0]: c[3] for c in co.CONTACTS}
queued = collections.Counter((sid, p.get("key")) for sid, p, _ in co.events(db, "rules.reminder_queued"))
for (sid, key), n in queued.items():
    if n > 1:
        problems.append("%s: %s queued %d times" % (sid, key, n))
want_sent = {(c[0], k) for c in co.CONTACTS if c[3] == "a" for k in ("consejo#2", "consejo#3")}
if set(queued) != want_sent:
    problems.append("queued %s, expected %s" % (sorted(set(queued)), sorted(want_sent)))
missed = collections.Counter((sid, p.get("key")) for sid, p, _ in co.events(db, "rules.reminder_suppressed")
                             if p.get("reason") == "missed")
want_missed = {(c[0], "cita#0") for c in co.CONTACTS}
if set(missed) != want_missed or any(n != 1 for n in missed.values()):
    problems.append("missed %s, expected each of %s once" % (dict(missed), sorted(want_missed)))
jumps = [p.get("seconds") for _, p, _ in co.events(db, "rules.clock_jumped")]
signs = [1 if s > 0 else -1 for s in jumps]
if signs != [1, -1, 1, 1] or abs(jumps[0] - 5 * 3600) > 30 or abs(jumps[1] + 4 * 3600) > 30:
    problems.append("clock jumps logged: %s (expected +5 h, -4 h, +3.5 h, +49 h)" % jumps)
got = co.received(os.path.join(t, "rec.jsonl"))
per_day = collections.Counter((phone, when[:10]) for phone, msgs in got.items() for when, _ in msgs)
for (phone, day), n in per_day.items():
    if n > 1:
        problems.append("%s got %d messages on %s (cap 1)" % (phone, n, day))
sent = sorted(when for msgs in got.values() for when, _ in msgs)
if any(not ("2026-03-07 11:00" <= w < "2026-03-07 11:02" or "2026-03-09 11:30" <= w < "2026-03-09 11:32")
       for w in sent):
    problems.append("send times %s: expected at the landings 03-07 11:00 and 03-09 11:30" % sent)
for p in problems:
    print("  " + p)
print("harden-clockjump: jumps %s s logged; %d reminders sent once each (%d late inside the"
      " window), %d skipped as missed; %d problems"
      % (jumps, sum(queued.values()), len(sent), sum(missed.values()), len(problems)))
sys.exit(1 if problems else 0)
PY
puented_stop
