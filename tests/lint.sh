#!/usr/bin/env bash
# make lint: clang-tidy (checks in .clang-tidy) and cppcheck (suppressions in
# tests/cppcheck.supp) over the C files that ship or drive the tests: at/, rules/, daemon/
# and tests/sim/ (puente-sim); exits 1 on any finding. The cmocka tests, benchmarks and
# fuzz targets are left out by default: the analyzers do not know that a failed cmocka
# assertion leaves the test, so every fopen() before an assert_* reads as a leak
# (LINT_FILES="$(git ls-files 'tests/unit/*.c')" tests/lint.sh checks them anyway).
#   LINT_JOBS=N  parallel clang-tidy processes (default 2)
#   LINT_FILES="a.c b.c"  only these files
set -u
cd "$(dirname "$0")/.." || exit 2
pkgs="libserialport sqlite3 libconfuse libsystemd libcurl json-c zlib libcrypto"
flags="-std=gnu11 -D_GNU_SOURCE -I. $(pkg-config --cflags $pkgs)"
tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || { echo "lint: clang-tidy missing (make deps)"; exit 2; }
command -v cppcheck >/dev/null || { echo "lint: cppcheck missing (make deps)"; exit 2; }
files=${LINT_FILES:-$(git ls-files 'at/*.c' 'rules/*.c' 'daemon/*.c' 'tests/sim/*.c')}
out=$(mktemp -d /tmp/puente-lint.XXXXXX)
trap 'rm -rf "$out"' EXIT
rc=0
# clang-tidy: one process per file, LINT_JOBS at a time; only warnings count (notes follow them).
printf '%s\n' $files | xargs -P "${LINT_JOBS:-2}" -I{} sh -c \
	"$tidy --quiet {} -- $flags >\"$out/\$(echo {} | tr / _).tidy\" 2>/dev/null || true"
cat "$out"/*.tidy 2>/dev/null | grep -E '(warning|error): ' | sort -u >"$out/tidy.txt"
if [ -s "$out/tidy.txt" ]; then
	echo "clang-tidy findings:"; cat "$out/tidy.txt"; rc=1
fi
# cppcheck: the whole tree at once (it follows calls across files); the system headers are
# left out (-I. only) so it checks our code, not libc.
cppcheck -q --std=c11 -D_GNU_SOURCE -I. --enable=warning,portability,performance \
	--inline-suppr --suppressions-list=tests/cppcheck.supp --error-exitcode=1 \
	-j "${LINT_JOBS:-2}" --template='{file}:{line}: {severity}: {message} [{id}]' \
	$files 2>"$out/cppcheck.txt" || rc=1
if [ -s "$out/cppcheck.txt" ]; then
	echo "cppcheck findings:"; cat "$out/cppcheck.txt"; rc=1
fi
n=$(($(wc -l <"$out/tidy.txt") + $(grep -c ': ' "$out/cppcheck.txt" || true)))
echo "lint: $(printf '%s\n' $files | wc -l) files, $n findings"
exit $rc
