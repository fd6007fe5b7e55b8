#!/bin/sh
# install-pythons.sh — the CPython builds of Debian's newer suite (sid) that
# no Debian 12 package provides (3.14 and 3.15 today), for the Python scenarios:
# their .debs fetched with apt-get download from a private package list and
# unpacked into a cache outside the clone ($FORKSAN_PYTHONS, by default
# /var/cache/forksan-pythons), once per machine.  Each interpreter runs
# through its own suite's dynamic loader, by a wrapper script
# $FORKSAN_PYTHONS/python3.N that the scenarios use.  Best effort: without
# the network it says so and the scenarios skip those versions.
set -e
cache="${FORKSAN_PYTHONS:-/var/cache/forksan-pythons}"
minors="14 15"
need=""
for minor in $minors; do
    [ -x "$cache/python3.$minor" ] || need="${need:+$need }$minor"
done
[ -z "$need" ] && exit 0
echo "forksan: fetching CPython 3.$need (minor versions) from Debian sid into $cache"
mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial"
echo "deb http://deb.debian.org/debian sid main" > "$cache/apt/sources.list"
touch "$cache/apt/status"
apt_opts="-o Dir::Etc::SourceList=$cache/apt/sources.list -o Dir::Etc::SourceParts=/dev/null \
  -o Dir::State::Lists=$cache/apt/lists -o Dir::Cache::Archives=$cache/apt/archives \
  -o Dir::State::Status=$cache/apt/status -o Debug::NoLocking=1"
# shellcheck disable=SC2086
if ! apt-get $apt_opts update -q >/dev/null 2>&1; then
    echo "forksan: cannot reach Debian sid's package list: the CPython 3.$need scenarios will be skipped" >&2
    exit 0
fi
for minor in $need; do
    root="$cache/root3$minor"
    debs="$cache/debs3$minor"
    rm -rf "$root" "$debs" && mkdir -p "$root" "$debs"
    # The interpreter, its headers (make pyoffsets) and what its binaries link.
    # shellcheck disable=SC2086
    (cd "$debs" && apt-get $apt_opts download -q \
        python3.$minor python3.$minor-minimal libpython3.$minor libpython3.$minor-minimal \
        libpython3.$minor-stdlib libpython3.$minor-dev libc6 libgcc-s1 libbz2-1.0 libexpat1 libffi8 \
        liblzma5 libncursesw6 libreadline8t64 libsqlite3-0 libssl3t64 libtinfo6 libuuid1 libzstd1 zlib1g \
        media-types libdb5.3t64 >/dev/null 2>&1) || {
        echo "forksan: cannot download CPython 3.$minor from Debian sid: its scenarios will be skipped" >&2
        continue
    }
    for deb in "$debs"/*.deb; do
        dpkg -x "$deb" "$root"
    done
    printf '#!/bin/sh\nexec %s/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path %s/usr/lib/x86_64-linux-gnu %s/usr/bin/python3.%s "$@"\n' \
        "$root" "$root" "$root" "$minor" > "$cache/python3.$minor"
    chmod 0755 "$cache/python3.$minor"
    "$cache/python3.$minor" -c 'import sys; print("forksan: CPython", sys.version.split()[0], "ready")'
done
