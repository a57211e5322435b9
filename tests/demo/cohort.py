#!/usr/bin/env python3
"""Writes the demo's world into DIR: puente-sim's configuration (two modems, 30 beneficiaries,
two staff phones, auto-replies), the timed scenario (what the phones text and when a modem is
unplugged), the contacts CSV for `puentectl contacts import`, and puented's puente.conf.

Every number is fake: +52 55 2000 01NN for beneficiaries, the demo clinic's staff numbers of
etc/rules.d.demo/00-ajustes.conf for staff. Usage: cohort.py DIR RULES_DIR UPLOAD_URL SCALE
(SCALE < 1 shortens the scenario for the smoke test)."""
import datetime
import os
import sys

out, rules_dir, upload_url, scale = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
N = 30            # beneficiaries
N_CSV = 20        # enrolled by the clinic's CSV; the other 10 text ALTA themselves
STAFF = ["+525512345601", "+525512345602"]   # CS-TLALPAN's staff in etc/rules.d.demo
PHONE = "+52552000%04d"


def phone(i):
    return PHONE % (100 + i)


today = datetime.date.today()


def edd_for(i):
    # Day zero of the pregnancy track is edd - 40 weeks and the weekly reminders start at
    # week 8, so edd = today + 32 weeks (less 0..4 days) puts a contact in week 8 today: her
    # first weekly reminder is due the moment she is enrolled. Not later than week 8: a
    # caught-up week 8 would be rendered with today's week number (the two texts would read
    # alike), which a newcomer would take for a duplicate.
    return today + datetime.timedelta(weeks=32) - datetime.timedelta(days=i % 5)


def t(sec):
    return "%.1f" % (sec * scale)


# --- puente-sim configuration
with open(os.path.join(out, "sim.conf"), "w") as f:
    f.write('latency = "300-900"\nreport-delay = 500\n')
    for m in ("m1", "m2"):
        f.write('modem %s {\n\tpath = "%s/dev/%s"\n\tnumber = "+5255000000%s"\n}\n'
                % (m, out, m, m[1:].zfill(2)))
    for i in range(1, N + 1):
        f.write('phone b%02d {\n\tnumber = "%s"\n' % (i, phone(i)))
        # The savings quiz (etc/rules.d.demo/40-finanzas.conf): odd phones answer right
        # (2, the bank), even phones wrong (1, the mattress); nobody has a savings goal.
        f.write('\trule { match = "*mas seguro guardar*" reply = "%s" delay = 1500 }\n'
                % ("2" if i % 2 else "1"))
        f.write('\trule { match = "*meta de ahorro*" reply = "2" delay = 1500 }\n')
        f.write('}\n')
    for k, s in enumerate(STAFF, 1):
        f.write('phone staff%d {\n\tnumber = "%s"\n}\n' % (k, s))

# --- the scenario: what the phones do, and the unplugged modem
lines = []
for i in range(N_CSV + 1, N + 1):       # enrolment by SMS, one every 1.5 s
    d = edd_for(i)
    lines.append((4 + 1.5 * (i - N_CSV - 1), "send %s m%d ALTA %s"
                  % (phone(i), 1 + i % 2, d.strftime("%d/%m/%Y"))))
# What the enrolled phones do. The SMS enrolees (21..30) ask for the savings quiz (treatment
# arm only: the control arm's request is answered as the programme says) and one opts out.
# The warning sign comes from a contact of the clinic's list: it has a clinic, whose staff
# the alert goes to (an SMS enrolee has none).
for k, i in enumerate((21, 22, 23, 24, 25, 26)):
    lines.append((22 + k, "send %s m2 AHORRO" % phone(i)))
lines.append((32, "unplug m1"))
lines.append((36, "send %s m2 SANGRADO" % phone(9)))
lines.append((40, "send %s m2 BAJA" % phone(28)))
lines.append((44, "send %s m2 ESTADO" % STAFF[0]))
lines.append((58, "replug m1"))
with open(os.path.join(out, "scenario.txt"), "w") as f:
    f.write("# seconds  command (puente-sim script, docs/sim.md)\n")
    for sec, cmd in sorted(lines):
        f.write("%s %s\n" % (t(sec), cmd))

# --- the clinic's list (CSV, puentectl contacts import)
with open(os.path.join(out, "contacts.csv"), "w") as f:
    f.write("study_id,phone,clinic,edd,paridad,name\n")
    names = ["Ana", "Berta", "Carmen", "Dulce", "Elena", "Fabiola", "Gloria", "Hilda", "Irma",
             "Juana", "Karla", "Lupe", "Maria", "Norma", "Olga", "Paty", "Rosa", "Sofia",
             "Tere", "Vero"]
    for i in range(1, N_CSV + 1):
        f.write("DEMO%03d,%s,CS-TLALPAN,%s,%s,%s\n" % (i, phone(i), edd_for(i).isoformat(),
                "primeriza" if i % 2 else "multipara", names[i - 1]))

# --- puented's configuration
with open(os.path.join(out, "puente.conf"), "w") as f:
    f.write("""# make demo: puented against puente-sim (tests/demo/cohort.py writes this)
database = "{o}/puente.db"
state_directory = "{o}"
rules_directory = "{r}"
autodetect = false
country = "MX"
send_rate = 60
daily_limit = 0
modem m1 {{ device = "{o}/dev/m1" }}
modem m2 {{ device = "{o}/dev/m2" }}
clinic CS-TLALPAN {{ staff = {{ "{s0}", "{s1}" }} }}
upload {{
	url = "{u}"
	device = "demo-box"
	batch_interval = 10s
	interval = 1m
}}
""".format(o=out, r=rules_dir, u=upload_url, s0=STAFF[0], s1=STAFF[1]))
