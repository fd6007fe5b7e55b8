#!/bin/sh
# install-deps.sh [build|all|realworld] — installs the Debian packages
# forksan needs, only when one is missing (so `make demo` on a ready machine
# is fast and needs no network):
#   build      what the build needs (make deps, make demo)
#   all        ... and the tests (the default; make check runs it)
#   realworld  the real programs `make realworld` runs under forksan:
#              CPython's own test suite, PostgreSQL 15 with pgbench, Redis,
#              nginx (make check runs it too, for the quick subset)
# Run as root, or with sudo available; `apt-get update` comes first.
set -e
BUILD_PACKAGES="gcc make libc6-dev pkg-config libelf-dev libdw-dev libunwind-dev libcmocka-dev python3 libpython3.11-dev libcapstone-dev"
# Only the tests need these (SARIF schema validation, the HTML report in a
# real browser, the libuv/libevent scenarios, a program on jemalloc, the
# fuzz targets: clang with libFuzzer).
TEST_PACKAGES="python3-jsonschema python3-zmq python3-grpcio python3-numpy chromium libuv1-dev libevent-dev libjemalloc2 clang libclang-rt-14-dev valgrind strace"
REALWORLD_PACKAGES="libpython3.11-testsuite redis-server redis-tools postgresql-15 postgresql-contrib curl procps"
mode="${1:-all}"
case "$mode" in
    build) PACKAGES="$BUILD_PACKAGES" ;;
    realworld) PACKAGES="$REALWORLD_PACKAGES" ;;
    *) PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES" ;;
esac
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# nginx: any of Debian's flavours will do.
if [ "$mode" = realworld ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    if apt-cache show nginx-light >/dev/null 2>&1; then
        missing="$missing nginx-light"
    else
        missing="$missing nginx"
    fi
fi
# The Python scenarios also run on CPython 3.10, 3.12 and 3.13 when pyenv
# builds of them are present: no Debian 12 package provides them, so they
# are not installed here; the scenarios say which versions they skip.
if [ "$mode" = all ]; then
    sh "$(dirname "$0")/install-pythons.sh" || true
    for minor in 10 12 13; do
        ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.$minor.*/bin/python3.$minor >/dev/null 2>&1 ||
            echo "forksan: no pyenv build of CPython 3.$minor: its Python scenarios will be skipped (pyenv install 3.$minor)"
    done
fi
[ -z "$missing" ] && exit 0
echo "forksan: installing missing packages ($mode):$missing"
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
# The servers' packages must not start (or keep running) their services on
# the default ports: the real-world harness starts its own instances.
policy=""
if [ "$mode" = realworld ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 0755 /usr/sbin/policy-rc.d
    policy=1
fi
status=0
$SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends $missing || status=$?
[ -n "$policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit $status
