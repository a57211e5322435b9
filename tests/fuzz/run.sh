#!/usr/bin/env bash
# Builds each tests/fuzz/fuzz-NAME.c with clang's libFuzzer (plus ASan and UBSan) against
# the cores' sources, and runs it for SECONDS (default 60) from the seed corpus in
# tests/fuzz/corpus/NAME, keeping what it finds in build/fuzz/corpus-NAME.
# Usage: tests/fuzz/run.sh [SECONDS] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
cc=${FUZZCC:-clang-14}
out=build/fuzz
mkdir -p "$out"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz-*.c; do n=${f#tests/fuzz/fuzz-}; names+=("${n%.c}"); done
fi
# Every target gets the at/ core; tests/fuzz/fuzz-NAME.sources adds more (globs allowed,
# e.g. "rules/*.c daemon/config*.c").
srcs=(at/*.c)
libs="libconfuse json-c nettle zlib"
summary=()
for n in "${names[@]}"; do
	bin=$out/fuzz-$n
	extra=()
	if [ -f "tests/fuzz/fuzz-$n.sources" ]; then
		read -r -a words <"tests/fuzz/fuzz-$n.sources"
		for w in "${words[@]}"; do
			for f in $w; do extra+=("$f"); done
		done
	fi
	$cc -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(pkg-config --cflags $libs) \
		-o "$bin" "tests/fuzz/fuzz-$n.c" "${srcs[@]}" "${extra[@]}" \
		$(pkg-config --libs $libs) -lm
	corpus=$out/corpus-$n
	mkdir -p "$corpus" "$out/crashes-$n"
	seeds=()
	[ -d "tests/fuzz/corpus/$n" ] && seeds+=("tests/fuzz/corpus/$n")
	log=$out/fuzz-$n.log
	echo "== fuzz-$n for ${secs}s (log $log)"
	rc=0
	"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/crashes-$n/" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo '?')
	line="fuzz-$n: ${secs}s, $execs executions, coverage $cov edges, exit $rc"
	echo "$line"; summary+=("$line")
	[ $rc -eq 0 ] || { tail -n 30 "$log"; }
done
printf '%s\n' "${summary[@]}"
