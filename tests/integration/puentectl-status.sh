#!/usr/bin/env bash
# puentectl status: no database, no daemon, a running daemon's snapshot (this shell's pid
# stands in for puented's), a dead pid, a stale snapshot, a stopped daemon, an unreadable one;
# the modem lines in plain words and the JSON form.
. "$(dirname "$0")/puentectl-lib.bash"

run 1 status
err_is "puentectl status: no database at $DB yet: puented has not run with this configuration"
run 2 status extra
err_is "puentectl status: unexpected argument 'extra' (try 'puentectl status --help')"
run 2 status --bogus
err_is "puentectl status: unknown option '--bogus' (try 'puentectl status --help')"

run 0 send --to 5512345678 "hola"
run 0 status
out_has "Daemon: NOT RUNNING (puented has never run with this database); queued messages wait until it starts"
out_has "Modems: none known yet"
out_has "Queue: 1 part waiting (1 new, 0 to retry), 0 sending"
out_has "Problems: none"
out_has "Incoming: 0 messages (0 not yet handled), 0 parts of unfinished messages"
run 0 status --json
json_check "j['daemon']['running'] is False and j['modems'] == [] and j['parts']['queued'] == 1"

now=$(date +%s)
today=$(date +%Y%m%d)
q "INSERT INTO modems (imei, iccid, maker, model, device, state, health, sent_day, sent_today,
   errors, first_seen, last_seen) VALUES ('861234567890123', '8952020000000000001', 'huawei',
   'E173', '/dev/ttyUSB2', 'ready', '', $today, 120, 3, $now, $now)" >/dev/null
snapshot() { # PID UPDATED [JSON]: writes the daemon.status setting
	local js=${3:-"{\"pid\":$1,\"updated\":$2,\"summary\":\"1 modem ready, 1 queued\",\"modems\":[{\"modem_id\":1,\"name\":\"861234567890123\",\"device\":\"/dev/ttyUSB2\",\"state\":\"ready\",\"health\":\"\",\"operator\":\"TELCEL\",\"rssi\":20,\"dbm\":-73,\"bars\":3,\"registration\":\"registered (home)\",\"sim\":\"ready\",\"last_error\":\"+CMS ERROR: 38 (network out of order)\",\"ready\":true,\"busy\":false,\"sent_today\":120,\"daily_limit\":500,\"send_rate\":6,\"recent_errors\":2}]}"}
	python3 - "$DB" "$js" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
with c:
    c.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('daemon.status', ?)", (sys.argv[2],))
PY
}

# a running daemon: every modem line from the snapshot
snapshot $$ "$now"
run 0 status
out_has "Daemon: running (pid $$): 1 modem ready, 1 queued"
out_has "Modem 1: huawei E173, IMEI 861234567890123"
out_has "  state:       ready"
out_has "  port:        /dev/ttyUSB2"
out_has "  network:     TELCEL, registered (home)"
out_has "  signal:      3 bars (-73 dBm)"
out_has "  SIM:         ready, ICCID 8952020000000000001"
out_has "  sent today:  120 of 500"
out_has "  errors:      2 in the last 15 minutes, 3 in total; last: +CMS ERROR: 38 (network out of order)"
run 0 status --json
json_check "j['daemon']['running'] and j['daemon']['pid'] == $$ and j['modems'][0]['operator'] == 'TELCEL' and j['modems'][0]['bars'] == 3 and j['modems'][0]['sent_today'] == 120 and j['modems'][0]['live']"

# a dead pid
sleep 0 & dead=$!
wait "$dead"
snapshot "$dead" "$now"
run 0 status
out_has "Daemon: NOT RUNNING (puented (pid $dead) is gone); queued messages wait until it starts"
# the store's mirror stands in for the snapshot, said to be the last record
out_has "  state:       ready (as last recorded; last seen "
out_has "  sent today:  120 of 500"
out_has "  errors:      3 in total"
run 0 status --json
json_check "not j['daemon']['running'] and 'gone' in j['daemon']['problem'] and not j['modems'][0]['live']"

# alive but silent for 10 minutes (hung)
snapshot $$ $((now - 600))
run 0 status
out_has "Daemon: NOT RUNNING (puented (pid $$) has not updated its status for "
# stopped cleanly: {"pid":0}
snapshot 0 0 '{"pid":0}'
run 0 status
out_has "Daemon: NOT RUNNING (puented stopped)"
snapshot 0 0 'not json'
run 0 status
out_has "Daemon: NOT RUNNING (its status record is unreadable)"

# no signal figure and no modem identity yet
snapshot $$ "$now" "{\"pid\":$$,\"updated\":$now,\"summary\":\"0 modems ready\",\"modems\":[{\"modem_id\":1,\"state\":\"network\",\"rssi\":99,\"dbm\":0,\"bars\":0,\"registration\":\"searching\",\"sim\":\"ready\",\"last_error\":\"\",\"recent_errors\":0}]}"
run 0 status
out_has "  state:       network"
out_has "  network:     no operator, searching"
out_has "  signal:      unknown"

# puented's part in flight ("sending") is left alone by puentectl opening the database
q "UPDATE outgoing_parts SET state = 'sending', modem_id = 1, attempts = 1 WHERE id = 1" >/dev/null
run 0 status
out_has "Queue: 0 parts waiting (0 new, 0 to retry), 1 sending"
run 0 send --to 5512345678 "otro"
[ "$(q "SELECT state FROM outgoing_parts WHERE id = 1")" = sending ] ||
	fail "puentectl settled the daemon's part in flight: $(q "SELECT state FROM outgoing_parts WHERE id = 1")"

# the daily limit comes from the configuration when the daemon does not say
cp "$CONF" "$T/limit.conf"
echo 'daily_limit = 250' >>"$T/limit.conf"
snapshot 0 0 '{"pid":0}'
"$CTL" --config "$T/limit.conf" status >"$T/out" 2>"$T/err" || fail "status with limit.conf"
out_has "  sent today:  120 of 250"

finish
