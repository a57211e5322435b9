# Sourced by the long runs, tests/crash.sh and tests/soak.sh: their common start (the daemon and
# nginx helpers, a work directory of their own, the clean-up on exit) and the upload checks.
#   . "$src/tests/longrun-lib.bash" BUILD NAME TMPDIR
# BUILD: the build directory ("" for $src/build); NAME: the run, naming its work directory
# TMPDIR/puente-NAME.XXXXXX. Needs $src (the repo root) set by the caller. Sets PUENTE_BUILD,
# PUENTE_SRC, T, DB, CONF, SOCK and the EXIT trap (nginx stopped, then dl_cleanup).
export PUENTE_BUILD=$(cd "${1:-$src/build}" && pwd) PUENTE_SRC=$src
. "$src/tests/integration/daemon-lib.bash"
. "$src/tests/integration/nginx-lib.bash"
# A long run keeps its files apart from the short tests' /tmp/puente-daemon-test.* (a sweep
# of those must not end it midway); dl_cleanup removes this directory instead.
rmdir "$T"
T=$(mktemp -d "$3/puente-$2.XXXXXX")
DB=$T/puente.db CONF=$T/puente.conf SOCK=$T/puented.sock
# dl_cleanup reads the status from $? (set +e: under errexit '(exit 1)' would end the trap)
trap 'rc=$?; set +e; nginx_stop; (exit $rc); dl_cleanup' EXIT

# The "Upload:" line of puentectl status, without its label.
up_status() { "$PUENTECTL" --config "$CONF" status 2>/dev/null | sed -n 's/^Upload: //p'; }
backlog0() { up_status | grep -q 'backlog 0 batches (0 events)'; }
# Every event of the store is in the batches the server received, the chain intact.
uploaded_all() {
	local v
	v=$(python3 "$src/docs/central/validate.py" "$T/www/up" 2>/dev/null) &&
		echo "$v" | grep -q "^$(q 'SELECT count(*) FROM events') events valid"
}
