#!/usr/bin/env bash
# The short form of tests/crash.sh (make crash runs 100 rounds): 5 SIGKILLs at random moments
# while puented sends, receives, reloads and uploads, the first from a database of an older
# schema version; integrity_check after each, nothing lost at the end, the upload whole.
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
CRASH_ROUNDS=${CRASH_ROUNDS:-5} exec "$PUENTE_SRC/tests/crash.sh" "$PUENTE_BUILD"
