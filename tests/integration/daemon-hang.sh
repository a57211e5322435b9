#!/usr/bin/env bash
# A hung modem (puente-sim "hang": it stops answering) is recovered through the core's ladder
# once it answers again: the store shows "recovering" meanwhile, the other modem carries the
# queue, nothing is lost or duplicated, and the recovered modem is used again.
. "$(dirname "$0")/daemon-lib.bash"
PUENTE_SEND_TIMEOUT=3

phones=(+525512345621 +525512345622)
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2" -l 20)
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2
id1=$(q "SELECT id FROM modems WHERE device = '$T/m1'")
state1() { q "SELECT state FROM modems WHERE id = $id1"; }

simctl hang m1 >/dev/null
make_messages 30 "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
not_ready1() { case "$(state1)" in recovering | probe | failed) return 0 ;; esac; return 1; }
wait_until 20 "m1 seen as hung" not_ready1
echo "m1 while hung: $(state1) ($(q "SELECT health FROM modems WHERE id = $id1"))"
wait_until 40 "m2 sending the queue" parts_settled
simctl unhang m1 >/dev/null
ready1() { case "$(state1)" in ready | sending) return 0 ;; esac; return 1; }
wait_until 60 "m1 recovered" ready1
echo "m1 recovered"

# m2 slower now: the bank prefers the modem with fewer recent errors, and at 20 ms a send m2
# took each message before puentectl queued the next, so m1 was never needed.
simctl latency m2 300 >/dev/null
make_messages 20 "$T/msgs2" "${phones[@]}"
sed -i 's/\t/\tafter recovery: /' "$T/msgs2"
queue_file "$T/msgs2"
wait_until 40 "second batch sent" parts_settled
cat "$T/msgs" "$T/msgs2" >"$T/all"
q "SELECT state, count(*) FROM outgoing_parts GROUP BY state"
unknown=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('unknown', 'failed')")
[ "$unknown" = 0 ] || fail "$unknown parts unknown or failed (none was written to the hung modem)"
check_exactly_once "$T/all"
used=$(q "SELECT count(*) FROM outgoing_parts p JOIN outgoing o ON o.id = p.message_id
          WHERE p.modem_id = $id1 AND o.text LIKE 'after recovery:%'")
[ "$used" -gt 0 ] || fail "m1 not used after its recovery"
puented_stop
echo "daemon-hang: ok"
