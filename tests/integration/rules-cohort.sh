#!/usr/bin/env bash
# Issue 5: a cohort of six scripted beneficiaries (two arms from a sealed list, a quiz answered
# right, wrong and not at all, help, two opt-outs) runs the compressed programme of
# tests/integration/cohort/ end to end through puente-sim, puented and a faked clock
# (libfaketime) stepped to every instant `puentectl rules simulate` names for any of them and
# to each scripted reply. What every phone received must be what `rules simulate` says for
# that contact: the same texts, in the same order, sent in the same minute.
. "$(dirname "$0")/daemon-lib.bash"
fc_available || { echo "rules-cohort: SKIP: libfaketime not installed ($FAKETIME_LIB)"; exit 0; }
export PUENTE_T=$T PUENTE_SIM=$SIM PUENTE_CTL=$PUENTECTL PUENTE_DB=$DB PUENTE_SOCK=$SOCK
export PYTHONPATH=$PUENTE_SRC/tests/integration/cohort:$PYTHONPATH

# The first day, a little after midnight local time: everyone is enrolled on day 0 before
# its first window, as `rules simulate` enrols at 00:00 of --from.
fc_set "$(python3 -c 'import cohort; print(cohort.epoch(cohort.DAY0 + " 00:00"))')"
rules=$(python3 -c 'import cohort, os; print(cohort.prepare(os.environ["PUENTE_T"], os.environ["PUENTE_SRC"]))')
fc_cohort_start "$rules"

PD_PID=$pd_pid python3 - <<'PY' || fail "the cohort does not match rules simulate"
import os, sys, time
import cohort as co

t, db = os.environ["PUENTE_T"], os.environ["PUENTE_DB"]
rec = os.path.join(t, "rec.jsonl")
pid = int(os.environ.get("PD_PID", "0"))
alive = lambda: pid == 0 or os.path.exists("/proc/%d" % pid)
rules = os.path.join(t, "rules")

arms = co.arms(db)
for c in co.CONTACTS:
    if arms.get(c[0]) != c[3]:
        sys.exit("%s: arm %r in the store, the sealed list says %r" % (c[0], arms.get(c[0]), c[3]))
want, steps = {}, set()
for c in co.CONTACTS:
    times, msgs = co.simulate(os.environ["PUENTE_CTL"], rules, t, c, c[3])
    want[c[1]] = msgs
    steps |= times | {w for w, _ in c[4]}
replies = {}
for c in co.CONTACTS:
    for w, text in c[4]:
        replies.setdefault(w, []).append((c[1], text))

clock = co.Clock(t)
start = time.time()
for step in sorted(steps):
    at = co.epoch(step)
    clock.set(at)
    for phone, text in replies.get(step, []):
        co.sim_send(os.environ["PUENTE_SIM"], os.path.join(t, "ctl"), phone, text)
    co.wake(os.environ["PUENTE_SOCK"])

    def settled():
        got = co.received(rec)
        for phone, msgs in want.items():
            n_want = sum(1 for w, _ in msgs if w <= step)
            n_got = len(got.get(phone, []))
            if n_got != n_want:
                return "%s: %d of %d messages by %s" % (phone, n_got, n_want, step)
        due, n, busy, unhandled = co.due_by(db, at)
        if due or busy or unhandled:
            return "%d contacts still due, %d parts queued, %d replies unread" % (due, busy, unhandled)
        return True
    co.wait("step " + step, settled, 30, alive)

# Nothing more comes once the last step is done.
time.sleep(1)
got = co.received(rec)
bad = 0
for c in co.CONTACTS:
    g, w = got.get(c[1], []), want[c[1]]
    if g != w:
        bad += 1
        print("%s (%s, arm %s): received %d, simulate says %d" % (c[0], c[1], c[3], len(g), len(w)))
        for i in range(max(len(g), len(w))):
            a = g[i] if i < len(g) else None
            b = w[i] if i < len(w) else None
            print("  %s %r\n     want %r" % ("  " if a == b else "!!", a, b))
total = sum(len(v) for v in want.values())
print("rules-cohort: %d contacts, %d steps, %d messages (%s) in %.1f s; %d mismatching"
      % (len(co.CONTACTS), len(steps), total,
         ", ".join("%s %d" % (c[0], len(want[c[1]])) for c in co.CONTACTS),
         time.time() - start, bad))
sys.exit(1 if bad else 0)
PY
# Each reminder key settled once, whatever the steps did.
dups=$(q "SELECT count(*) FROM (SELECT payload->>'key' k, contact_id FROM events
	WHERE type = 'rules.reminder_queued' GROUP BY contact_id, k HAVING count(*) > 1)")
[ "$dups" = 0 ] || fail "$dups reminders queued twice"
puented_stop
