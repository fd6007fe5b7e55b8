#!/bin/sh
# tests/realworld/install.sh — installs the real programs `make realworld`
# runs under forksan (CPython's own test suite, PostgreSQL 15 with pgbench,
# Redis, nginx, curl), only when one is missing; `apt-get update` first.
# Run as root, or with sudo available.
set -e
PACKAGES="libpython3.11-testsuite redis-server redis-tools postgresql-15 postgresql-contrib curl procps"
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# nginx: any of the Debian flavours will do.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    if apt-cache show nginx-light >/dev/null 2>&1; then
        missing="$missing nginx-light"
    else
        missing="$missing nginx"
    fi
fi
[ -z "$missing" ] && exit 0
echo "forksan: installing missing real-world test packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "forksan: not root and no sudo: run as root: apt-get update && apt-get install -y$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# Packaged services must not start (or stay) running on their default ports:
# the harness starts its own instances.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 0755 /usr/sbin/policy-rc.d
    policy=1
fi
status=0
$SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends $missing || status=$?
[ -n "$policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit $status
