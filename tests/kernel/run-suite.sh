#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-suite.sh [--bindir DIR] - the kernel test suite, run on the host.
#
# Builds the test programs (or takes them from DIR, e.g. a meson build
# directory), boots Debian's kernel once under QEMU with hbmem.ko loaded
# (run-in-guest.sh), runs every test program in the guest and prints one
# line per test and a summary. Exit status: 0 all passed, 1 a failure
# (including a WARN/BUG/Oops/panic or hang of the guest), 77 when QEMU or
# the kernel image cannot be had.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=workdir.sh
. "$HERE/workdir.sh"
WORKROOT=$(hbmem_work_root "$SRCROOT")
PROGRAMS="test_dma_heap test_hbmem_ctl test_drm_prime test_v4l2_dmabuf test_ioctl_storm test_module_unload"
bindir=

while [ $# -gt 0 ]; do
	case "$1" in
	--bindir) bindir=$2; shift 2 ;;
	*) echo "usage: run-suite.sh [--bindir DIR]" >&2; exit 2 ;;
	esac
done

start=$(date +%s)
mkdir -p "$WORKROOT/bin"
WORKROOT=$(cd "$WORKROOT" && pwd)
out=$WORKROOT/bin
# No stale programs from an earlier run: what is not built now is skipped.
for p in $PROGRAMS; do rm -f "$out/$p"; done

if [ -n "$bindir" ]; then
	# The guest sees the host's / but has its own /tmp: copy the programs.
	for p in $PROGRAMS; do
		[ -x "$bindir/$p" ] && cp "$bindir/$p" "$out/$p"
	done
else
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
	   ! { command -v gcc && pkg-config --exists libdrm libv4l2; } >/dev/null 2>&1; then
		echo "run-suite: installing build dependencies" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			gcc libc6-dev pkg-config libdrm-dev libv4l-dev >/dev/null
	fi
	cflags="-O2 -g -Wall -Wextra -I$SRCROOT/include/uapi -I$HERE"
	for p in $PROGRAMS; do
		libs=
		case $p in
		test_drm_prime|test_module_unload) libs=$(pkg-config --cflags --libs libdrm 2>/dev/null) || { echo "SKIP $p: no libdrm"; continue; } ;;
		test_v4l2_dmabuf) libs=$(pkg-config --cflags --libs libv4l2 2>/dev/null) || { echo "SKIP $p: no libv4l2"; continue; } ;;
		esac
		# shellcheck disable=SC2086
		gcc $cflags -o "$out/$p" "$HERE/$p.c" "$HERE/ktest.c" $libs ||
			{ echo "FAIL $p: does not build"; exit 1; }
	done
fi

cp "$HERE/guest-suite.sh" "$out/guest-suite.sh"
"$HERE/run-in-guest.sh" --timeout "${HBMEM_SUITE_TIMEOUT:-1200}" \
	-- "$out/guest-suite.sh" "$out"
rc=$?
echo "run-suite: finished in $(( $(date +%s) - start ))s with status $rc" >&2
case $rc in
0) exit 0 ;;
77) echo "run-suite: SKIP: QEMU or the kernel image is not available" >&2; exit 77 ;;
*) exit 1 ;;
esac
