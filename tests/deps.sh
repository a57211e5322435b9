#!/usr/bin/env bash
# Installs every build and test dependency on Debian 12 that is missing; does nothing when all is there.
set -euo pipefail
pkgs=(build-essential pkg-config clang-format clang-14 libclang-rt-14-dev
      libserialport-dev libsqlite3-dev sqlite3 libconfuse-dev libsystemd-dev libcmocka-dev
      libcurl4-openssl-dev libjson-c-dev zlib1g-dev nettle-dev openssl
      socat gammu-smsd smstools nginx-light python3 python3-jsonschema systemd man-db
      clang-tidy-14 cppcheck faketime valgrind postgresql)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
# Packages such as smstools and nginx start their own services on install; the tests
# start and stop every process they need, so keep the package scripts from starting any.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
fi
trap '[ $made_policy -eq 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
