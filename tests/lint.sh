#!/usr/bin/env bash
# make lint: clang-tidy (checks in .clang-tidy) and cppcheck (suppressions in
# tests/cppcheck.supp) over the C files that ship or drive the tests: at/, rules/, daemon/
# and tests/sim/ (puente-sim); exits 1 on any finding. The cmocka tests, benchmarks and
# fuzz targets are left out by default: the analyzers do not know that a failed cmocka
# assertion leaves the test, so every fopen() before an assert_* reads as a leak
# (LINT_FILES="$(git ls-files 'tests/unit/*.c')" tests/lint.sh checks them anyway).
#   LINT_JOBS=N   parallel clang-tidy processes (default: the number of CPUs)
#   LINT_FILES="a.c b.c"  only these files
#   LINT_CACHE=DIR  where files found clean are remembered (default $B/lint-cache, B as
#                 given to make, else build); LINT_CACHE= turns the cache off
#
# Speed: clang-tidy's static analyzer is nearly all the time (about 1.5 s of CPU a file),
# so cppcheck runs alongside it, the largest files start first (the last job to end is a
# short one), and a file is not analysed again while nothing it reads has changed: the key
# is a hash of the tool's version, .clang-tidy, the flags, the file's name and its
# preprocessed text with comments (every header it includes, and its NOLINT comments).
# Only clean results are remembered; a file with findings is analysed on every run.
# shellcheck disable=SC2086,SC2011 # the flag and file lists split on purpose; no spaces in our paths
set -u

# One file (run by xargs below, from the top of the tree, with the LINT_* variables set):
# clang-tidy's findings into $LINT_OUT/<name>.tidy.
if [ "${1:-}" = --one ]; then
	f=$2
	res="$LINT_OUT/$(echo "$f" | tr / _).tidy"
	key=
	if [ -n "$LINT_CACHE_DIR" ]; then
		key=$({ printf '%s\n' "$LINT_KEY" "$f"; "$LINT_CPP" -E -C $LINT_FLAGS "$f" 2>&1; } |
			sha256sum | cut -c1-64)
		if [ -e "$LINT_CACHE_DIR/$key" ]; then
			touch "$LINT_CACHE_DIR/$key" # recently used: kept by the pruning below
			exit 0
		fi
	fi
	"$LINT_TIDY" --quiet "$f" -- $LINT_FLAGS >"$res" 2>/dev/null
	if [ -n "$key" ] && ! grep -qE '(warning|error): ' "$res"; then
		: >"$LINT_CACHE_DIR/$key"
	fi
	exit 0
fi

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 2
pkgs="libserialport sqlite3 libconfuse libsystemd libcurl json-c zlib nettle"
flags="-std=gnu11 -D_GNU_SOURCE -I. $(pkg-config --cflags $pkgs)"
tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || { echo "lint: clang-tidy missing (make deps)"; exit 2; }

command -v cppcheck >/dev/null || { echo "lint: cppcheck missing (make deps)"; exit 2; }
files=${LINT_FILES:-$(git ls-files 'at/*.c' 'rules/*.c' 'daemon/*.c' 'tests/sim/*.c')}
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d /tmp/puente-lint.XXXXXX)
trap 'rm -rf "$out"' EXIT
rc=0

# cppcheck: the whole tree at once (it follows calls across files), in the background
# while clang-tidy runs; the system headers are left out (-I. only) so it checks our
# code, not libc. One thread: the CPUs go to clang-tidy, which needs them far longer.
cppcheck -q --std=c11 -D_GNU_SOURCE -I. --enable=warning,portability,performance \
	--inline-suppr --suppressions-list=tests/cppcheck.supp --error-exitcode=1 \
	--template='{file}:{line}: {severity}: {message} [{id}]' \
	$files 2>"$out/cppcheck.txt" &
cppcheck_pid=$!

cache=${LINT_CACHE-${B:-build}/lint-cache}
cpp=$(command -v clang-14 || command -v clang) || cache=
if [ -n "$cache" ]; then
	mkdir -p "$cache" || cache=
	[ -n "$cache" ] && find "$cache" -type f -mtime +30 -delete 2>/dev/null
fi
key=$({ "$tidy" --version; cat .clang-tidy; echo "$flags"; } | sha256sum | cut -c1-64)

# clang-tidy: one process per file, $jobs at a time, largest first; only warnings count
# (notes follow them).
ls -S $files | LINT_OUT=$out LINT_CACHE_DIR=$cache LINT_KEY=$key LINT_CPP=${cpp:-} \
	LINT_FLAGS=$flags LINT_TIDY=$tidy xargs -P "$jobs" -n 1 "$self" --one
cat "$out"/*.tidy 2>/dev/null | grep -E '(warning|error): ' | sort -u >"$out/tidy.txt"
if [ -s "$out/tidy.txt" ]; then
	echo "clang-tidy findings:"; cat "$out/tidy.txt"; rc=1
fi
wait "$cppcheck_pid" || rc=1
if [ -s "$out/cppcheck.txt" ]; then
	echo "cppcheck findings:"; cat "$out/cppcheck.txt"; rc=1
fi
n=$(($(wc -l <"$out/tidy.txt") + $(grep -c ': ' "$out/cppcheck.txt" || true)))
echo "lint: $(printf '%s\n' $files | wc -l) files, $n findings"
exit $rc
