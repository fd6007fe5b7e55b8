#!/bin/sh
# install-deps.sh [build|all] — installs the Debian packages forksan needs to
# build (build) or to build and test (all, the default), only when one is missing (so `make demo` on a ready machine is fast
# and needs no network).  Run as root, or with sudo available.
set -e
BUILD_PACKAGES="gcc make libc6-dev pkg-config libelf-dev libdw-dev libcmocka-dev python3 libpython3.11-dev"
# Only the tests need these (SARIF schema validation, the HTML report in a
# real browser, the libuv/libevent scenarios, a program on jemalloc).
TEST_PACKAGES="python3-jsonschema chromium libuv1-dev libevent-dev libjemalloc2"
case "${1:-all}" in
    build) PACKAGES="$BUILD_PACKAGES" ;;
    *) PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES" ;;
esac
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "forksan: installing missing build dependencies:$missing"
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
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
