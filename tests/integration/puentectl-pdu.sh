#!/usr/bin/env bash
# puentectl pdu: encode/decode round trips (Spanish, emoji, multipart, options), known PDUs,
# and the exit codes and messages for bad usage and bad input. Needs $PUENTE_BUILD, python3.
set -u
ctl=${PUENTE_BUILD:?}/puentectl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run EXPECTED_STATUS ARGS...: runs puentectl, keeps stdout/stderr in $tmp/out, $tmp/err.
run() {
	local want=$1; shift
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || fail "puentectl $*: exit $got, want $want; stderr: $(cat "$tmp/err")"
}
# err_has TEXT: stderr of the last run contains TEXT.
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(cat "$tmp/err")"; }

# check PYTHON_EXPR: evaluated with `env` (the environment), `lines` (stdout lines parsed as JSON, one object each)
# and `raw` (stdout text); a false result or bad JSON fails with the expression shown.
check() {
	python3 - "$1" "$tmp/out" <<'PY' || fail "check failed: $1"
import json, os, sys
env = os.environ
expr, path = sys.argv[1], sys.argv[2]
raw = open(path, encoding="utf-8").read()
lines = [json.loads(l) for l in raw.splitlines() if l.startswith("{")]
ok = eval("(" + expr + "\n)")
if not ok:
    print("output was:", raw, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# roundtrip TEXT ENCODING PARTS [ENCODE OPTIONS...]: encode, check each line's format and
# TPDU length, decode each part (as MO, and guessing), join the texts and compare.
roundtrip() {
	local text=$1 enc=$2 nparts=$3; shift 3
	run 0 pdu encode "$@" --to +525512345678 "$text"
	cp "$tmp/out" "$tmp/enc"
	local n
	n=$(wc -l <"$tmp/enc")
	[ "$n" -eq "$nparts" ] || fail "'$text': $n parts, want $nparts"
	err_has "$nparts part"
	err_has "$enc"
	local hexes=()
	while read -r len hex; do
		python3 -c '
import sys
n, h = int(sys.argv[1]), sys.argv[2]
smsc = int(h[:2], 16) + 1
assert len(h) % 2 == 0 and all(c in "0123456789ABCDEF" for c in h), "not upper-case hex"
assert n == len(h) // 2 - smsc, "tpdu length %d, pdu has %d octets after the SMSC" % (n, len(h) // 2 - smsc)
' "$len" "$hex" || fail "'$text': bad line '$len $hex'"
		hexes+=("$hex")
	done <"$tmp/enc"
	for mode in --mo guess; do
		if [ "$mode" = guess ]; then run 0 pdu decode "${hexes[@]}"; else run 0 pdu decode --mo "${hexes[@]}"; fi
		TEXT=$text ENC=$enc N=$nparts check '
len(lines) == int(env["N"])
and "".join(l["text"] for l in lines) == env["TEXT"]
and all(l["type"] == "submit" and l["direction"] == "mo" for l in lines)
and all(l["encoding"] == env["ENC"] for l in lines)
and all(l["destination"] == {"number": "+525512345678", "type": "international", "npi": 1} for l in lines)
and [l["arg"] for l in lines] == list(range(1, len(lines) + 1))'
	done
}

# --- global options and the command table -------------------------------------------------
run 0 --version; grep -q '^puentectl ' "$tmp/out" || fail "--version prints 'puentectl VERSION'"
run 0 --help; grep -q 'pdu' "$tmp/out" || fail "--help lists the pdu command"
run 0 --config /nonexistent/puente.conf --help
run 2; err_has "no command given"
run 2 frobnicate; err_has "unknown command 'frobnicate'"
run 2 --bogus pdu; err_has "unknown option '--bogus'"
run 2 --config; err_has "needs an argument"
run 0 pdu --help; grep -q 'tpdu_len' "$tmp/out" || fail "pdu --help documents the output"
run 2 pdu; err_has "expected 'encode' or 'decode'"
run 2 pdu transcode; err_has "unknown subcommand 'transcode'"

# --- encode: usage errors -----------------------------------------------------------------
run 2 pdu encode hola; err_has "--to NUMBER is required"
run 2 pdu encode --to +525512345678; err_has "expected one TEXT argument, got 0"
run 2 pdu encode --to +525512345678 hola mundo; err_has "got 2"
run 2 pdu encode --class 4 --to +525512345678 hola; err_has "--class '4'"
run 2 pdu encode --validity 0 --to +525512345678 hola; err_has "--validity '0'"
run 2 pdu encode --validity 10m --to +525512345678 hola; err_has "--validity '10m'"
run 2 pdu encode --ref 300 --to +525512345678 hola; err_has "needs --ref16"
run 2 pdu encode --frob --to +525512345678 hola; err_has "unknown option '--frob'"
run 2 pdu encode --to; err_has "needs an argument"
run 1 pdu encode --to 55-12ab hola; err_has "cannot encode: "; err_has "55-12ab"
run 1 pdu encode --smsc abc --to 5512345678 hola; err_has "SMSC"
run 1 pdu encode --to 5512345678 "$(printf 'bad \xff utf-8')"; err_has "cannot encode: "

# --- round trips -------------------------------------------------------------------------
roundtrip "Hola, su cita es mañana a las 10:00. ¿Confirma? Responda SI o NO." gsm7 1
roundtrip "¿Cuándo es mi cita? Gracias, clínica Puente" ucs2 1
roundtrip "Recordatorio 💊 tome su medicina 😀 👍🏽" ucs2 1
roundtrip "Precio: 50€ {promo} [válido] ~hoy~ | ^_^ \\ fin" ucs2 1
long=$(python3 -c 'print(("Estimada paciente, le recordamos su cita de control prenatal. " * 7).strip())')
roundtrip "$long" gsm7 3
roundtrip "$long" gsm7 3 --ref16 --ref 4242
emoji_long=$(python3 -c 'print("Salud 😀 " * 30)')
roundtrip "$emoji_long" ucs2 5

# Transliteration folds á í ó ú to GSM 7-bit and keeps é ñ ¿ ¡ that it has.
run 0 pdu encode --translit --to +525512345678 "¿Cuándo? ¡Mañana! Está en la clínica, José"
err_has "transliterated"
err_has "gsm7"
run 0 pdu decode --mo "$(cut -d' ' -f2 "$tmp/out")"
check 'lines[0]["text"] == "¿Cuando? ¡Mañana! Esta en la clinica, José" and lines[0]["encoding"] == "gsm7"'

# Multipart parts share one reference and count 1..N.
run 0 pdu encode --ref16 --ref 4242 --to +525512345678 "$long"
mapfile -t hexes < <(cut -d' ' -f2 "$tmp/out")
run 0 pdu decode "${hexes[@]}"
check '[l["concatenation"] for l in lines] == [{"reference": 4242, "reference_bits": 16, "total": 3, "sequence": s} for s in (1, 2, 3)] and all(l["udh_length"] == 7 for l in lines)'
run 0 pdu encode --ref 7 --to +525512345678 "$long"
mapfile -t hexes < <(cut -d' ' -f2 "$tmp/out")
run 0 pdu decode "${hexes[2]}"
check 'lines[0]["concatenation"] == {"reference": 7, "reference_bits": 8, "total": 3, "sequence": 3} and lines[0]["udh_length"] == 6'

# Options land in the PDU.
run 0 pdu encode --smsc +5255100000 --report --validity 1440 --class 1 --to 5512345678 "hola"
head -c 2 "$tmp/out" | grep -q . || fail "no output"
run 0 pdu decode "$(cut -d' ' -f2 "$tmp/out")"
check '(lambda l: l["smsc"]["number"] == "+5255100000" and l["status_report_request"] is True and l["validity"] == {"format": "relative", "minutes": 1440} and l["class"] == 1 and l["destination"]["number"] == "5512345678" and l["destination"]["type"] == "unknown")(lines[0])'
# Without an SMSC the PDU starts with 00 and the TPDU length excludes it.
run 0 pdu encode --to +525512345678 hola
check 'raw.split()[1].startswith("00") and int(raw.split()[0]) == len(raw.split()[1]) // 2 - 1'
# TEXT "-" reads stdin.
printf 'desde stdin\n' | "$ctl" pdu encode --to +525512345678 - >"$tmp/out" 2>"$tmp/err" || fail "encode from stdin"
run 0 pdu decode --mo "$(cut -d' ' -f2 "$tmp/out")"
check 'lines[0]["text"] == "desde stdin"'

# --- known PDUs ---------------------------------------------------------------------------
# The widely published SMS-DELIVER "How are you?" from +31641600986 via SMSC +31624000000.
run 0 pdu decode 07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07
check '(lambda l: l["type"] == "deliver" and l["direction"] == "mt" and l["direction_guessed"] is True and l["smsc"] == {"number": "+31624000000", "type": "international", "npi": 1} and l["originator"]["number"] == "+31641600986" and l["scts"] == "2002-08-26T19:37:41+00:00" and l["text"] == "How are you?" and l["encoding"] == "gsm7" and l["class"] is None and l["concatenation"] is None)(lines[0])'
# Alphanumeric sender "TELCEL" packed by hand (D4 22 73 58 64 02, 11 semi-octets), SCTS
# 2026-11-27 15:30:45 -06:00; as GSM 7-bit "Hola", as 8-bit data (DCS 04), as class 1 (DCS 11).
telcel=00040BD0D42273586402
run 0 pdu decode ${telcel}00006211725103544A04C8373B0C ${telcel}00046211725103544A030102FF ${telcel}00116211725103544A04C8373B0C
check 'all(l["originator"] == {"number": "TELCEL", "type": "alphanumeric", "npi": 0} and l["scts"] == "2026-11-27T15:30:45-06:00" for l in lines)'
check '[(l["encoding"], l["class"], l.get("text"), l.get("data")) for l in lines] == [("gsm7", None, "Hola", None), ("8bit", None, None, "0102FF"), ("gsm7", 1, "Hola", None)]'
# Status reports built by hand (TS 23.040 9.2.2.3): MR 42 to +525512345678, SCTS
# 2026-11-27 10:00:00 -06:00 (TZ octet 4A: 24 quarters, sign bit set), discharged 5 s later.
sr=00062A0C912555214365876211720100004A6211720100504A
run 0 pdu decode --mt ${sr}00 ${sr}20 ${sr}41
check '[(l["status"], l["status_class"]) for l in lines] == [(0, "delivered"), (32, "trying"), (65, "failed")]'
check 'all(l["type"] == "status-report" and l["mr"] == 42 and l["recipient"]["number"] == "+525512345678" and l["scts"] == "2026-11-27T10:00:00-06:00" and l["discharge_time"] == "2026-11-27T10:00:05-06:00" and l["direction_guessed"] is False for l in lines)'
# --pretty is still one valid JSON document per input.
run 0 pdu decode --pretty ${sr}00
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" || fail "--pretty output is not JSON"

# --- bad input ----------------------------------------------------------------------------
run 1 pdu decode zz; err_has "argument 1:"; err_has "hex"
run 1 pdu decode 07911326040000F0040B9113466100; err_has "argument 1:"
# Others are still decoded, in order, and the bad one is named by its position.
run 1 pdu decode ${sr}00 0791GG ${sr}41
err_has "argument 2:"
check '[l["arg"] for l in lines] == [1, 3]'
[ "$(grep -c . "$tmp/err")" -eq 1 ] || fail "one message per bad argument: $(cat "$tmp/err")"
# A DELIVER forced as MO is not an SMS-SUBMIT; a SUBMIT forced as MT is refused.
run 0 pdu encode --to +525512345678 hola
submit=$(cut -d' ' -f2 "$tmp/out")
run 1 pdu decode --mt "$submit"; err_has "argument 1:"
run 2 pdu decode --mt --mo "$submit"; err_has "only one of --mt and --mo"
run 2 pdu decode; err_has "no HEX argument"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "puentectl-pdu: all checks passed"
