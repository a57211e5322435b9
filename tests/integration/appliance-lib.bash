# Shared by tests/integration/appliance-*.sh (sourced; not a test itself): `make install` of
# the programs already built in $PUENTE_BUILD into a private DESTDIR, without rebuilding them
# (-o: another helper's edit in the shared tree must not recompile into this build dir).
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"

fail() { echo "FAIL: $*"; exit 1; }

# appl_install DESTDIR [MAKE-VARIABLES...]
appl_install() {
	local dest=$1
	shift
	local old=()
	for p in "$PUENTE_BUILD"/puented "$PUENTE_BUILD"/puentectl "$PUENTE_BUILD"/puente-sim; do
		[ -x "$p" ] || fail "$p is not built"
		old+=(-o "$p")
	done
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PUENTE_SRC" "${old[@]}" \
		B="$PUENTE_BUILD" DESTDIR="$dest" "$@" install >"$dest.install.log" 2>&1 ||
		{ cat "$dest.install.log"; fail "make install DESTDIR=$dest $*"; }
}
